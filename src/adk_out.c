/* adk_out: placeholder, being written. */
#include "adk_out.h"
