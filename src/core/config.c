/* INI configuration with layered overrides (inih parses the file). */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "core/buf.h"

#define CONFIG_MAX_FILE (1024 * 1024)

#define CONFIG_MAX_NAMED 1024 /* values in named sections ([notify.ops] url = ...) */

struct config_value {
	char *v[ACLM_CFG_LAYERS];
	int line;              /* of the file layer's value */
};

/* One key of one named section: "notify.ops" + the registry's "notify.*" key. */
struct config_named {
	char *section;
	long idx;
	struct config_value val;
};

struct aclm_config {
	size_t nkeys;
	struct config_value *values; /* parallel to aclm_config_keys */
	struct config_named *named;  /* in file order */
	size_t nnamed;
	char *file;                  /* the last file loaded, for aclm_config_where */
};

aclm_status aclm_config_new(struct aclm_config **out)
{
	struct aclm_config *cfg = calloc(1, sizeof(*cfg));

	*out = NULL;
	if (cfg == NULL)
		return ACLM_ERR_NOMEM;
	while (aclm_config_keys[cfg->nkeys].section != NULL)
		cfg->nkeys++;
	cfg->values = calloc(cfg->nkeys, sizeof(*cfg->values));
	if (cfg->values == NULL) {
		free(cfg);
		return ACLM_ERR_NOMEM;
	}
	*out = cfg;
	return ACLM_OK;
}

static void value_free(struct config_value *v)
{
	for (int l = 0; l < ACLM_CFG_LAYERS; l++)
		free(v->v[l]);
}

void aclm_config_free(struct aclm_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nkeys; i++)
		value_free(&cfg->values[i]);
	for (size_t i = 0; i < cfg->nnamed; i++) {
		value_free(&cfg->named[i].val);
		free(cfg->named[i].section);
	}
	free(cfg->named);
	free(cfg->values);
	free(cfg->file);
	free(cfg);
}

/* The registry entry of section/key: an exact match, or for "cls.NAME" the
 * class entry "cls.*". */
static long key_index(const char *section, const char *key)
{
	const char *dot = strchr(section, '.');
	size_t clen = dot != NULL ? (size_t)(dot - section) : 0;

	for (long i = 0; aclm_config_keys[i].section != NULL; i++) {
		const char *ks = aclm_config_keys[i].section;

		if (strcmp(aclm_config_keys[i].key, key) != 0)
			continue;
		if (strcmp(ks, section) == 0)
			return i;
		if (dot != NULL && dot[1] != '\0' && strncmp(ks, section, clen) == 0 &&
		    strcmp(ks + clen, ".*") == 0)
			return i;
	}
	return -1;
}

static bool is_class(long idx)
{
	const char *s = aclm_config_keys[idx].section;
	size_t n = strlen(s);

	return n >= 2 && strcmp(s + n - 2, ".*") == 0;
}

/* The value slot of section/key (idx from key_index); a named section's
 * slot is created when create, else NULL when absent. */
static struct config_value *slot(struct aclm_config *cfg, const char *section, long idx,
				 bool create)
{
	struct config_named *grown;

	if (!is_class(idx))
		return &cfg->values[idx];
	for (size_t i = 0; i < cfg->nnamed; i++)
		if (cfg->named[i].idx == idx && strcmp(cfg->named[i].section, section) == 0)
			return &cfg->named[i].val;
	if (!create || cfg->nnamed >= CONFIG_MAX_NAMED)
		return NULL;
	grown = realloc(cfg->named, (cfg->nnamed + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	cfg->named = grown;
	memset(&grown[cfg->nnamed], 0, sizeof(*grown));
	grown[cfg->nnamed].section = strdup(section);
	if (grown[cfg->nnamed].section == NULL)
		return NULL;
	grown[cfg->nnamed].idx = idx;
	return &grown[cfg->nnamed++].val;
}

bool aclm_config_choice(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; p != NULL && *p != '\0';) {
		const char *bar = strchr(p, '|');
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p = bar != NULL ? bar + 1 : NULL;
	}
	return false;
}

/* Checks v against the key's type; the message says what is wrong. */
static aclm_status value_check(const struct aclm_config_key *k, const char *v, char *why,
			       size_t whylen)
{
	char *end;
	long n;

	switch (k->type) {
	case ACLM_CFG_STRING:
		return ACLM_OK;
	case ACLM_CFG_ENUM:
		if (aclm_config_choice(k->choices, v))
			return ACLM_OK;
		snprintf(why, whylen, "[%s] %s: \"%s\" is not one of %s", k->section, k->key, v,
			 k->choices);
		return ACLM_ERR_CONFIG;
	case ACLM_CFG_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno == 0 && end != v && *end == '\0' && n >= k->min && n <= k->max)
			return ACLM_OK;
		snprintf(why, whylen, "[%s] %s: \"%s\" is not an integer in %ld..%ld", k->section,
			 k->key, v, k->min, k->max);
		return ACLM_ERR_CONFIG;
	}
	return ACLM_ERR_INTERNAL;
}

static aclm_status set_layer(struct aclm_config *cfg, const char *section, long idx, int layer,
			     const char *v, int line, char *why, size_t whylen)
{
	aclm_status st = value_check(&aclm_config_keys[idx], v, why, whylen);
	struct config_value *val;
	char *copy;

	if (st != ACLM_OK)
		return st;
	val = slot(cfg, section, idx, true);
	copy = strdup(v);
	if (copy == NULL || val == NULL) {
		free(copy);
		snprintf(why, whylen, val == NULL && copy != NULL
					      ? "more than %d keys in named sections"
					      : "out of memory", CONFIG_MAX_NAMED);
		return val == NULL && copy != NULL ? ACLM_ERR_CONFIG : ACLM_ERR_NOMEM;
	}
	free(val->v[layer]);
	val->v[layer] = copy;
	if (layer == ACLM_CFG_FILE)
		val->line = line;
	return ACLM_OK;
}

struct ini_ctx {
	struct aclm_config *cfg;
	const char *text;      /* what is left to read */
	int line;              /* lines handed to inih so far */
	char why[300];
};

/* inih's stream reader over a string: one line per call, counted, so each
 * value knows its line (Debian's inih has no INI_HANDLER_LINENO). */
static char *config_read_line(char *str, int num, void *stream)
{
	struct ini_ctx *ctx = stream;
	const char *nl;
	size_t n;

	if (ctx->text == NULL || *ctx->text == '\0' || num < 2)
		return NULL;
	nl = strchr(ctx->text, '\n');
	n = nl != NULL ? (size_t)(nl - ctx->text) + 1 : strlen(ctx->text);
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, ctx->text, n);
	str[n] = '\0';
	ctx->text += n;
	ctx->line++;
	return str;
}

static int config_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;
	long idx;

	if (name == NULL) /* a section header alone: checked when keys arrive */
		return 1;
	idx = key_index(section, name);
	if (idx < 0) {
		snprintf(ctx->why, sizeof(ctx->why), "unknown key [%s] %s", section, name);
		return 0;
	}
	return set_layer(ctx->cfg, section, idx, ACLM_CFG_FILE, value, ctx->line, ctx->why,
			 sizeof(ctx->why)) == ACLM_OK;
}

aclm_status aclm_config_load_string(struct aclm_config *cfg, const char *text, const char *name,
				    struct aclm_err *err)
{
	struct ini_ctx ctx = { .cfg = cfg, .text = text };
	int line = ini_parse_stream(config_read_line, &ctx, config_ini_entry, &ctx);
	char *copy = strdup(name);

	if (copy != NULL) {
		free(cfg->file);
		cfg->file = copy;
	}
	if (line == 0)
		return ACLM_OK;
	if (line < 0)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", name);
	if (ctx.why[0] == '\0')
		snprintf(ctx.why, sizeof(ctx.why), "syntax error (expected [section] or key = value)");
	return aclm_err_set(err, ACLM_ERR_CONFIG, "%s:%d: %s", name, line, ctx.why);
}

aclm_status aclm_config_load_file(struct aclm_config *cfg, const char *path, bool must_exist,
				  struct aclm_err *err)
{
	struct aclm_buf b;
	aclm_status st;

	aclm_buf_init(&b, CONFIG_MAX_FILE);
	st = aclm_buf_read_file(&b, path, err);
	if (st == ACLM_ERR_NOTFOUND && !must_exist) {
		aclm_err_clear(err);
		st = ACLM_OK;
		goto out;
	}
	if (st != ACLM_OK)
		goto out;
	if (memchr(b.data, '\0', b.len) != NULL) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "%s: contains NUL bytes", path);
		goto out;
	}
	st = aclm_config_load_string(cfg, (const char *)b.data, path, err);
out:
	aclm_buf_free(&b);
	return st;
}

void aclm_config_env_name(const char *section, const char *key, char *out, size_t outlen)
{
	size_t n = (size_t)snprintf(out, outlen, "ACLM_%s_%s", section, key);

	for (size_t i = 0; i < n && i < outlen; i++)
		out[i] = isalnum((unsigned char)out[i]) ? (char)toupper((unsigned char)out[i]) : '_';
}

static aclm_status env_one(struct aclm_config *cfg, const char *section, long idx,
			   struct aclm_err *err)
{
	const struct aclm_config_key *k = &aclm_config_keys[idx];
	char name[192], why[300];
	const char *v;

	aclm_config_env_name(section, k->key, name, sizeof(name));
	v = getenv(name);
	if (v == NULL && k->env_alias != NULL) {
		v = getenv(k->env_alias);
		snprintf(name, sizeof(name), "%s", k->env_alias);
	}
	if (v == NULL)
		return ACLM_OK;
	if (set_layer(cfg, section, idx, ACLM_CFG_ENV, v, 0, why, sizeof(why)) != ACLM_OK)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "environment %s: %s", name, why);
	return ACLM_OK;
}

/* Every key of one named section: "notify.ops" with class entries "notify.*". */
static aclm_status env_instance(struct aclm_config *cfg, const char *section, struct aclm_err *err)
{
	size_t clen = (size_t)(strchr(section, '.') - section) + 1; /* "notify." */
	aclm_status st = ACLM_OK;

	for (long k = 0; st == ACLM_OK && aclm_config_keys[k].section != NULL; k++)
		if (is_class(k) && strncmp(aclm_config_keys[k].section, section, clen) == 0)
			st = env_one(cfg, section, k, err);
	return st;
}

/* Fixed keys, then every key of every named section the file opened
 * (ACLM_NOTIFY_OPS_URL for [notify.ops] url). */
aclm_status aclm_config_load_env(struct aclm_config *cfg, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	char section[128];
	const char *inst;

	for (size_t i = 0; st == ACLM_OK && i < cfg->nkeys; i++)
		if (!is_class((long)i))
			st = env_one(cfg, aclm_config_keys[i].section, (long)i, err);
	/* copied: env_one may grow cfg->named under inst */
	for (size_t i = 0; st == ACLM_OK && (inst = aclm_config_instance(cfg, "", i)) != NULL; i++) {
		snprintf(section, sizeof(section), "%s", inst);
		st = env_instance(cfg, section, err);
	}
	return st;
}

aclm_status aclm_config_set_flag(struct aclm_config *cfg, const char *section, const char *key,
				 const char *value, struct aclm_err *err)
{
	long idx = key_index(section, key);
	char why[300];

	if (idx < 0)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "unknown key [%s] %s", section, key);
	if (set_layer(cfg, section, idx, ACLM_CFG_FLAG, value, 0, why, sizeof(why)) != ACLM_OK)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "%s", why);
	return ACLM_OK;
}

static int effective_layer(const struct config_value *v)
{
	for (int l = ACLM_CFG_LAYERS - 1; l > ACLM_CFG_DEFAULT; l--)
		if (v != NULL && v->v[l] != NULL)
			return l;
	return ACLM_CFG_DEFAULT;
}

/* The slot of section/key for reading (NULL: only the default applies). */
static const struct config_value *lookup(const struct aclm_config *cfg, const char *section,
					 const char *key, long *idx)
{
	*idx = key_index(section, key);
	if (*idx < 0)
		return NULL;
	return slot((struct aclm_config *)cfg, section, *idx, false);
}

const char *aclm_config_get(const struct aclm_config *cfg, const char *section, const char *key)
{
	long idx;
	const struct config_value *v = lookup(cfg, section, key, &idx);
	int l = effective_layer(v);

	if (idx < 0)
		return NULL;
	return l == ACLM_CFG_DEFAULT ? aclm_config_keys[idx].def : v->v[l];
}

long aclm_config_get_int(const struct aclm_config *cfg, const char *section, const char *key)
{
	const char *v = aclm_config_get(cfg, section, key);

	return v != NULL ? strtol(v, NULL, 10) : 0;
}

enum aclm_config_origin aclm_config_origin(const struct aclm_config *cfg, const char *section,
					   const char *key)
{
	long idx;

	return (enum aclm_config_origin)effective_layer(lookup(cfg, section, key, &idx));
}

const char *aclm_config_instance(const struct aclm_config *cfg, const char *cls, size_t i)
{
	size_t clen = strlen(cls), seen = 0;

	for (size_t n = 0; n < cfg->nnamed; n++) {
		const char *s = cfg->named[n].section;
		bool first = true;

		if (clen > 0 && (strncmp(s, cls, clen) != 0 || s[clen] != '.'))
			continue;
		for (size_t m = 0; m < n && first; m++)
			first = strcmp(cfg->named[m].section, s) != 0;
		if (first && seen++ == i)
			return clen > 0 ? s + clen + 1 : s;
	}
	return NULL;
}

void aclm_config_where(const struct aclm_config *cfg, const char *section, const char *key,
		       char *out, size_t outlen)
{
	long idx;
	const struct config_value *v = lookup(cfg, section, key, &idx);
	char env[192];

	switch (effective_layer(v)) {
	case ACLM_CFG_FILE:
		snprintf(out, outlen, "%s:%d", cfg->file != NULL ? cfg->file : "config", v->line);
		break;
	case ACLM_CFG_ENV:
		aclm_config_env_name(section, key, env, sizeof(env));
		snprintf(out, outlen, "environment %s", env);
		break;
	case ACLM_CFG_FLAG:
		snprintf(out, outlen, "flag");
		break;
	default:
		snprintf(out, outlen, "default");
		break;
	}
}

const char *aclm_config_origin_name(enum aclm_config_origin o)
{
	static const char *const names[] = { "default", "file", "environment", "flag" };

	return (unsigned)o < ACLM_CFG_LAYERS ? names[o] : "unknown";
}
