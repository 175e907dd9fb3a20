/* adk_moments: placeholder, being written. */
#include "adk_moments.h"
