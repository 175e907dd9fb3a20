/* adk_prov: placeholder, being written. */
#ifndef ADK_PROV_H
#define ADK_PROV_H
#endif
