/* adk_prov: placeholder, being written. */
#include "adk_prov.h"
