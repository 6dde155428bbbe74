/* store/: the notify area (rows, backend ops, store_* calls). Placeholder until
 * the area lands: its owner replaces this file. */
#ifndef ACLM_STORE_NOTIFY_H
#define ACLM_STORE_NOTIFY_H

#include "store/store.h"

struct store_notify_ops {
	int placeholder_;
};

#endif
