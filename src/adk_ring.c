/* adk_ring: placeholder, being written. */
#include "adk_ring.h"
