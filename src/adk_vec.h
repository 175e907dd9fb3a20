/* adk_vec: placeholder, being written. */
#ifndef ADK_VEC_H
#define ADK_VEC_H
#endif
