/* adk_sweep: placeholder, being written. */
#include "adk_sweep.h"
