/* adk_ring: placeholder, being written. */
#ifndef ADK_RING_H
#define ADK_RING_H
#endif
