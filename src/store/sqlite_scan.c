/* SQLite backend of the scan area (store/store_scan.h). Placeholder until the
 * area lands. */
#include "store/sqlite_int.h"
#include "store/store_scan.h"

const struct store_scan_ops store__sqlite_scan_ops = { 0 };
