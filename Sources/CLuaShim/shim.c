#include "ccm_shim.h"
