#include "edge_tls_shims.h"
