/* SQLite backend of the deploy area (store/store_deploy.h). Placeholder until the
 * area lands. */
#include "store/sqlite_int.h"
#include "store/store_deploy.h"

const struct store_deploy_ops store__sqlite_deploy_ops = { 0 };
