/* inventory/ internals shared by its files. */
#ifndef ACLM_INVENTORY_INT_H
#define ACLM_INVENTORY_INT_H

#include "inventory/inventory.h"

/* The key id of a row (key_id column), or of a key imported after it,
 * found by the public key's hash spki (ids derive from the public key, so a
 * later key import needs no row rewrite); NULL when the keystore has none. */
const char *inventory__key_id(const struct inventory *inv, const char *key_id, const char *spki,
			      char buf[KEYSTORE_ID_MAX]);

#endif
