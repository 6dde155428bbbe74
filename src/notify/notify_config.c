/* notify/: channels from the configuration file ([notify.NAME] sections),
 * and their check with the file and line of the offending key. */
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/json.h"
#include "notify/notify_int.h"

aclm_status notify_config_channel(const struct aclm_config *cfg, const char *name,
				  struct notify_channel *ch, json_t **params, struct aclm_err *err)
{
	char section[160];
	const char *inst = NULL;
	json_t *p = NULL;
	aclm_status st = ACLM_OK;

	*params = NULL;
	memset(ch, 0, sizeof(*ch));
	for (size_t i = 0; (inst = aclm_config_instance(cfg, "notify", i)) != NULL; i++)
		if (strcmp(inst, name) == 0)
			break;
	if (inst == NULL)
		return aclm_err_set(err, ACLM_ERR_NOTFOUND, "notify.%s: no such section in the "
				    "configuration", name);
	snprintf(section, sizeof(section), "notify.%s", inst);
	p = json_object();
	if (p == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	/* Only keys set somewhere (file, environment, flag): defaults would
	 * add parameters the type does not take. */
	for (size_t k = 0; st == ACLM_OK && aclm_config_keys[k].section != NULL; k++) {
		const struct aclm_config_key *key = &aclm_config_keys[k];
		const char *v;

		if (strcmp(key->section, "notify.*") != 0 || strcmp(key->key, "type") == 0 ||
		    aclm_config_origin(cfg, section, key->key) == ACLM_CFG_DEFAULT)
			continue;
		v = aclm_config_get(cfg, section, key->key);
		if (v != NULL && aclm_json_set_str(p, key->key, v) != 0)
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	if (st != ACLM_OK) {
		json_decref(p);
		return st;
	}
	ch->name = inst;
	ch->type = aclm_config_get(cfg, section, "type");
	ch->params = p;
	*params = p;
	return ACLM_OK;
}

/* "notify.NAME: KEY: ..." -> KEY into out, or "type" when the message has
 * no key. */
static void notify_err_key(const char *msg, char *out, size_t outlen)
{
	const char *k = strstr(msg, ": ");
	const char *end = k != NULL ? strstr(k + 2, ": ") : NULL;

	if (end == NULL || (size_t)(end - k - 2) >= outlen) {
		snprintf(out, outlen, "type");
		return;
	}
	snprintf(out, outlen, "%.*s", (int)(end - k - 2), k + 2);
}

aclm_status notify_config_check(const struct aclm_config *cfg, struct aclm_err *err)
{
	struct notify_channel ch;
	json_t *params = NULL;
	const char *inst;
	char section[160], key[64], where[256];
	aclm_status st = ACLM_OK;

	for (size_t i = 0; st == ACLM_OK && (inst = aclm_config_instance(cfg, "notify", i)) != NULL;
	     i++) {
		st = notify_config_channel(cfg, inst, &ch, &params, err);
		if (st == ACLM_OK)
			st = notify_check(&ch, err);
		json_decref(params);
		params = NULL;
		if (st == ACLM_OK || err == NULL)
			continue;
		snprintf(section, sizeof(section), "notify.%s", inst);
		notify_err_key(err->msg, key, sizeof(key));
		aclm_config_where(cfg, section, key, where, sizeof(where));
		/* A missing key has no line: point at the section's type. */
		if (strcmp(where, "default") == 0)
			aclm_config_where(cfg, section, "type", where, sizeof(where));
		if (strcmp(where, "default") != 0)
			aclm_err_prefix(err, "%s", where);
	}
	return st;
}
