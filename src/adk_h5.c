/* adk_h5: placeholder, being written. */
#include "adk_h5.h"
