#include "edge_ca_shims.h"
