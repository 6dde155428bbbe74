/* Configuration: an INI file (aclm.conf in the state directory, or --config),
 * every key overridable by an environment variable ACLM_SECTION_KEY and by a
 * flag. Precedence: flag > environment > file > default. Only keys declared
 * in the registry (config_keys.c) exist; an unknown key in the file is an
 * error naming file and line. */
#ifndef ACLM_CORE_CONFIG_H
#define ACLM_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

enum aclm_config_type { ACLM_CFG_STRING, ACLM_CFG_INT, ACLM_CFG_ENUM };

struct aclm_config_key {
	const char *section;
	const char *key;
	enum aclm_config_type type;
	const char *def;       /* default value, may be NULL */
	const char *choices;   /* ACLM_CFG_ENUM: "a|b|c" */
	long min, max;         /* ACLM_CFG_INT bounds */
	const char *env_alias; /* extra environment name, e.g. "ACLM_DB" */
	const char *help;
};

/* The registry: every configuration key aclm knows, terminated by a zeroed entry. */
extern const struct aclm_config_key aclm_config_keys[];

enum aclm_config_origin { ACLM_CFG_DEFAULT = 0, ACLM_CFG_FILE, ACLM_CFG_ENV, ACLM_CFG_FLAG, ACLM_CFG_LAYERS };

struct aclm_config;

aclm_status aclm_config_new(struct aclm_config **out);
void aclm_config_free(struct aclm_config *cfg);

/* Parses INI text; `name` is used in error messages ("aclm.conf:12: ..."). */
aclm_status aclm_config_load_string(struct aclm_config *cfg, const char *text, const char *name,
				    struct aclm_err *err);
/* Loads a file; a missing file is an error only when must_exist. */
aclm_status aclm_config_load_file(struct aclm_config *cfg, const char *path, bool must_exist,
				  struct aclm_err *err);
/* Reads ACLM_SECTION_KEY (and aliases) from the environment. */
aclm_status aclm_config_load_env(struct aclm_config *cfg, struct aclm_err *err);
/* Sets a value from a command-line flag. */
aclm_status aclm_config_set_flag(struct aclm_config *cfg, const char *section, const char *key,
				 const char *value, struct aclm_err *err);

/* The effective value (highest layer that has one), or NULL. */
const char *aclm_config_get(const struct aclm_config *cfg, const char *section, const char *key);
long aclm_config_get_int(const struct aclm_config *cfg, const char *section, const char *key);
enum aclm_config_origin aclm_config_origin(const struct aclm_config *cfg, const char *section,
					   const char *key);
const char *aclm_config_origin_name(enum aclm_config_origin o);

/* Named sections: [notify.ops] is the instance "ops" of the class
 * "notify"; the registry declares a class's keys once, with section
 * "notify.*". aclm_config_get(cfg, "notify.ops", "url") reads an instance
 * key; an instance exists once the file names it (its environment
 * overrides are then ACLM_NOTIFY_OPS_URL and so on). */
/* The i-th instance name of cls (file order), or NULL past the last. */
const char *aclm_config_instance(const struct aclm_config *cfg, const char *cls, size_t i);

/* Where the effective value came from, for error messages: "PATH:LINE",
 * "environment ACLM_X_Y", "flag" or "default". */
void aclm_config_where(const struct aclm_config *cfg, const char *section, const char *key,
		       char *out, size_t outlen);

/* True when word is one of choices, "a|b|c" (the ENUM format, also used
 * for --format lists and option tables). */
bool aclm_config_choice(const char *choices, const char *word);

/* "ACLM_STORE_DB" for ("store", "db"); writes into out. */
void aclm_config_env_name(const char *section, const char *key, char *out, size_t outlen);

#endif
