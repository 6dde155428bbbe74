/* SQLite backend of the sched area (store/store_sched.h). Placeholder until the
 * area lands. */
#include "store/sqlite_int.h"
#include "store/store_sched.h"

const struct store_sched_ops store__sqlite_sched_ops = { 0 };
