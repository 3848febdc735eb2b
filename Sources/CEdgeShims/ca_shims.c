#include "edge_ca_shims.h"

GENERAL_NAMES *edge_ca_general_names_new(void) { return sk_GENERAL_NAME_new_null(); }
int edge_ca_general_names_push(GENERAL_NAMES *names, GENERAL_NAME *name) { return sk_GENERAL_NAME_push(names, name); }
int edge_ca_general_names_count(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
GENERAL_NAME *edge_ca_general_names_at(const GENERAL_NAMES *names, int index) { return sk_GENERAL_NAME_value(names, index); }
long edge_ca_bio_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
void edge_ca_openssl_free(void *pointer) { OPENSSL_free(pointer); }
