/* adk_key: placeholder, being written. */
#ifndef ADK_KEY_H
#define ADK_KEY_H
#endif
