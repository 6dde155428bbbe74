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
	/* aclm serve */
	{ "server", "listen", ACLM_CFG_STRING, "127.0.0.1:8443", NULL, 0, 0, NULL,
	  "HTTPS address of the API (ADDR:PORT, [V6]:PORT)" },
	{ "server", "tls_cert", ACLM_CFG_STRING, NULL, NULL, 0, 0, NULL,
	  "serving certificate chain (PEM); empty: one from aclm's own CA" },
	{ "server", "tls_key", ACLM_CFG_STRING, NULL, NULL, 0, 0, NULL,
	  "its private key (PEM file, 0600)" },
	{ "server", "workers", ACLM_CFG_INT, "4", NULL, 1, 64, NULL, "HTTP worker threads" },
	{ "server", "admin", ACLM_CFG_STRING, "admin", NULL, 0, 0, NULL,
	  "name of the admin user created at first start" },
	{ "metrics", "per_certificate", ACLM_CFG_ENUM, "on", "on|off", 0, 0, NULL,
	  "per-certificate expiry gauges on /metrics (off for very large inventories)" },
	{ "sched", "workers", ACLM_CFG_INT, "2", NULL, 1, 64, NULL, "job worker threads" },
	{ "sched", "lease_s", ACLM_CFG_INT, "300", NULL, 2, 86400, NULL,
	  "seconds a claimed job is held before another worker may take it over" },
	{ "sched", "tick_s", ACLM_CFG_INT, "60", NULL, 1, 86400, NULL,
	  "seconds between planner passes (renewals, alerts, scans)" },
	{ NULL, NULL, 0, NULL, NULL, 0, 0, NULL, NULL },
};
