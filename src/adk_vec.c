/* adk_vec: placeholder, being written. */
#include "adk_vec.h"
