/* adk_key: placeholder, being written. */
#include "adk_key.h"
