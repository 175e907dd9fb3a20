/* adk_h5: placeholder, being written. */
#ifndef ADK_H5_H
#define ADK_H5_H
#endif
