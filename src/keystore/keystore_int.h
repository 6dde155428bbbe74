/* keystore/ internals shared by its files. */
#ifndef ACLM_KEYSTORE_INT_H
#define ACLM_KEYSTORE_INT_H

#include <stdbool.h>

#include "keystore/keystore.h"

struct keystore {
	struct store *store;
	char *home;
	unsigned char master[32];
	bool master_loaded;
};

aclm_status keystore__master_load(struct keystore *ks, struct aclm_err *err);

#endif
