/* adk_moments: placeholder, being written. */
#ifndef ADK_MOMENTS_H
#define ADK_MOMENTS_H
#endif
