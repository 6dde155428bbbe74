/* store/: the deploy area (rows, backend ops, store_* calls). Placeholder until
 * the area lands: its owner replaces this file. */
#ifndef ACLM_STORE_DEPLOY_H
#define ACLM_STORE_DEPLOY_H

#include "store/store.h"

struct store_deploy_ops {
	int placeholder_;
};

#endif
