/* SQLite backend of the notify area (store/store_notify.h). Placeholder until the
 * area lands. */
#include "store/sqlite_int.h"
#include "store/store_notify.h"

const struct store_notify_ops store__sqlite_notify_ops = { 0 };
