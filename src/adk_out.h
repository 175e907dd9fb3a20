/* adk_out: placeholder, being written. */
#ifndef ADK_OUT_H
#define ADK_OUT_H
#endif
