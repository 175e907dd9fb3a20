/* adk_sweep: placeholder, being written. */
#ifndef ADK_SWEEP_H
#define ADK_SWEEP_H
#endif
