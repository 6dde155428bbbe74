/* store/: the sched area (rows, backend ops, store_* calls). Placeholder until
 * the area lands: its owner replaces this file. */
#ifndef ACLM_STORE_SCHED_H
#define ACLM_STORE_SCHED_H

#include "store/store.h"

struct store_sched_ops {
	int placeholder_;
};

#endif
