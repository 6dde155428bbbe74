/* The registry of configuration keys. Adding a key = one line here. */
#include "core/config.h"

const struct aclm_config_key aclm_config_keys[] = {
	{ "core", "tenant", ACLM_CFG_STRING, "default", NULL, 0, 0, "ACLM_TENANT",
	  "tenant that commands act on" },
	{ "store", "db", ACLM_CFG_STRING, "sqlite:aclm.db", NULL, 0, 0, "ACLM_DB",
	  "database URL; sqlite:PATH (relative to the state directory)" },
	{ "store", "busy_timeout_ms", ACLM_CFG_INT, "5000", NULL, 0, 600000, NULL,
	  "how long a writer waits for a lock before failing" },
	{ "log", "level", ACLM_CFG_ENUM, "warn", "error|warn|info|debug", 0, 0, NULL,
	  "log verbosity" },
	{ "log", "format", ACLM_CFG_ENUM, "text", "text|json", 0, 0, NULL, "log line format" },
	{ "import", "max_file_bytes", ACLM_CFG_INT, "16777216", NULL, 1024, 1073741824, NULL,
	  "largest file `cert import` reads" },
	{ NULL, NULL, 0, NULL, NULL, 0, 0, NULL, NULL },
};
