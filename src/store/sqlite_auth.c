/* SQLite backend of the auth area (store/store_auth.h). Placeholder until the
 * area lands. */
#include "store/sqlite_int.h"
#include "store/store_auth.h"

const struct store_auth_ops store__sqlite_auth_ops = { 0 };
