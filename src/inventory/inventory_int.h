/* inventory/ internals shared by its files. */
#ifndef ACLM_INVENTORY_INT_H
#define ACLM_INVENTORY_INT_H

#include "inventory/inventory.h"

/* The key id of a row (key_id column), or of a key imported after it,
 * found by the public key's hash spki (ids derive from the public key, so a
 * later key import needs no row rewrite); NULL when the keystore has none. */
const char *inventory__key_id(const struct inventory *inv, const char *key_id, const char *spki,
			      char buf[KEYSTORE_ID_MAX]);

/* The row's stored JSON is in the form the store writes, so that
 * inventory_cert_json_write copies it instead of parsing it. */
bool inventory__cert_text_spliceable(const struct store_cert_text *t);

#endif
