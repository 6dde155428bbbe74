/* store/: the scan area (rows, backend ops, store_* calls). Placeholder until
 * the area lands: its owner replaces this file. */
#ifndef ACLM_STORE_SCAN_H
#define ACLM_STORE_SCAN_H

#include "store/store.h"

struct store_scan_ops {
	int placeholder_;
};

#endif
