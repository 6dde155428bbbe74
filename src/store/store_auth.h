/* store/: the auth area (rows, backend ops, store_* calls). Placeholder until
 * the area lands: its owner replaces this file. */
#ifndef ACLM_STORE_AUTH_H
#define ACLM_STORE_AUTH_H

#include "store/store.h"

struct store_auth_ops {
	int placeholder_;
};

#endif
