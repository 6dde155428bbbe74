/* api/h_channels: /api/v1/channels: the alert channels stored for the
 * caller's tenant (origin "api"; the scheduler's notify jobs use them when
 * the configuration has no [notify.NAME] of that name), and a test send.
 * Parameters are checked with notify_check; secrets only as file paths:
 * inline passwords, secrets and tokens are refused before anything else. */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "notify/notify.h"
#include "store/store_notify.h"

#define PARAMS_MAX 32
#define PARAM_VALUE_MAX 2048

static json_t *channel_json(const struct store_notify_channel *c)
{
	json_t *params = NULL, *o;
	struct aclm_err err = { 0 };

	if (c->params != NULL &&
	    aclm_json_parse(c->params, strlen(c->params), STORE_NOTIFY_PARAMS_MAX, "params",
			    &params, &err) != ACLM_OK)
		params = NULL;
	o = json_pack("{s:s, s:s, s:o, s:s}", "name", c->name, "type", c->type, "params",
		      params != NULL ? params : json_object(), "origin", c->origin);
	if (o != NULL && (api__json_time(o, "created_at", c->created_at) != 0 ||
			  api__json_time(o, "updated_at", c->updated_at) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* type and params of a body, checked as the scheduler will use them. */
static bool channel_body(struct api__req *r, json_t *body, const char *name,
			 struct store_notify_channel *row, struct aclm_err *err)
{
	const char *type = aclm_json_str(body, "type");
	json_t *params = json_object_get(body, "params"), *v;
	struct notify_channel ch = { .name = name, .type = type, .params = params };
	const char *k;

	(void)r;
	if (type == NULL || strlen(type) >= STORE_NOTIFY_TYPE_MAX) {
		aclm_err_set(err, ACLM_ERR_INVALID, "type: one of %s", notify_types);
		return false;
	}
	if (!json_is_object(params) || json_object_size(params) > PARAMS_MAX) {
		aclm_err_set(err, ACLM_ERR_INVALID, "params: an object of at most %d strings",
			     PARAMS_MAX);
		return false;
	}
	json_object_foreach(params, k, v) {
		if (api__secret_inline(k)) {
			aclm_err_set(err, ACLM_ERR_INVALID,
				     "params: %s: secrets are given as files (e.g. password_file, "
				     "secret_file), never inline", k);
			return false;
		}
		if (!json_is_string(v) || json_string_length(v) > PARAM_VALUE_MAX) {
			aclm_err_set(err, ACLM_ERR_INVALID, "params: %s: a string of at most %d bytes",
				     k, PARAM_VALUE_MAX);
			return false;
		}
	}
	if (notify_check(&ch, err) != ACLM_OK) {
		err->code = ACLM_ERR_INVALID;
		return false;
	}
	row->tenant_id = r->p.tenant_id;
	snprintf(row->name, sizeof(row->name), "%s", name);
	snprintf(row->type, sizeof(row->type), "%s", type);
	snprintf(row->origin, sizeof(row->origin), "api");
	row->params = aclm_json_dump_compact(params);
	if (row->params == NULL || strlen(row->params) > STORE_NOTIFY_PARAMS_MAX) {
		aclm_err_set(err, ACLM_ERR_TOOBIG, "params: too large");
		return false;
	}
	return true;
}

static aclm_status list_row(const struct store_notify_channel *c, void *arg)
{
	struct api__idpage *pg = arg;

	return api__idpage_full(pg) ? ACLM_OK : api__idpage_add(pg, c->id, channel_json(c));
}

/* In id order; the cursor is the last channel's id (rows show no id). */
void api__h_channel_list(struct api__req *r)
{
	struct api__idpage pg;
	struct aclm_err err = { 0 };
	aclm_status st;

	if (!api__idpage_begin(r, &pg))
		return;
	st = store_notify_channel_page(r->w->store, r->p.tenant_id, pg.after_id, pg.limit + 1,
				       list_row, &pg, &err);
	api__idpage_reply(r, &pg, st, &err);
}

/* The stored row again, as answered after a write. */
static void reply_row(struct api__req *r, int status, const char *name)
{
	struct store_notify_channel c = { 0 };
	struct aclm_err err = { 0 };
	json_t *o;

	if (store_notify_channel_get(r->w->store, r->p.tenant_id, name, &c, &err) != ACLM_OK) {
		api__problem_absent(r, &err, "channel");
		return;
	}
	o = channel_json(&c);
	if (o == NULL)
		api__problem(r, 500, "internal", "out of memory");
	else
		api__reply_json(r, status, o);
	store_notify_channel_clear(&c);
}

void api__h_channel_create(struct api__req *r)
{
	struct store_notify_channel row = { 0 };
	const struct aclm_config *cfg = r->w->srv->o.cfg;
	struct aclm_err err = { 0 };
	json_t *body = api__body_json(r);
	const char *name = aclm_json_str(body, "name");
	char section[96];
	int64_t id = 0;

	if (body == NULL)
		return;
	if (!api__name_ok(name)) {
		api__problem(r, 400, "invalid", "name: 1 to %d of A-Z a-z 0-9 . _ - @", API__NAME_MAX);
		goto out;
	}
	snprintf(section, sizeof(section), "notify.%s", name);
	/* The configuration's channel of that name would win at delivery. */
	if (cfg != NULL && aclm_config_get(cfg, section, "type") != NULL) {
		api__problem(r, 409, "exists", "channel %s is [notify.%s] of the configuration",
			     name, name);
		goto out;
	}
	if (!channel_body(r, body, name, &row, &err) ||
	    store_notify_channel_add(r->w->store, &row, r->now, &id, &err) != ACLM_OK ||
	    api__audit(r, "channel.create", name, NULL, &err) != ACLM_OK) {
		api__problem_err(r, &err);
		goto out;
	}
	reply_row(r, 201, name);
out:
	store_notify_channel_clear(&row);
	json_decref(body);
}

/* The {name} of the path, spelled as a stored channel can be. */
static bool path_name(struct api__req *r)
{
	if (api__name_ok(r->params[0]))
		return true;
	api__problem(r, 404, "not-found", "no such channel");
	return false;
}

void api__h_channel_get(struct api__req *r)
{
	if (path_name(r))
		reply_row(r, 200, r->params[0]);
}

void api__h_channel_update(struct api__req *r)
{
	struct store_notify_channel row = { 0 }, old = { 0 };
	struct aclm_err err = { 0 };
	json_t *body = NULL;

	if (!path_name(r))
		return;
	/* Absent (or another tenant's) before the body is judged: a probe
	 * learns nothing from the validation message. */
	if (store_notify_channel_get(r->w->store, r->p.tenant_id, r->params[0], &old, &err) !=
	    ACLM_OK) {
		api__problem_absent(r, &err, "channel");
		return;
	}
	body = api__body_json(r);
	if (body == NULL)
		goto out;
	if (!channel_body(r, body, r->params[0], &row, &err) ||
	    store_notify_channel_update(r->w->store, &row, r->now, &err) != ACLM_OK ||
	    api__audit(r, "channel.update", r->params[0], NULL, &err) != ACLM_OK) {
		api__problem_absent(r, &err, "channel");
		goto out;
	}
	reply_row(r, 200, r->params[0]);
out:
	store_notify_channel_clear(&row);
	store_notify_channel_clear(&old);
	json_decref(body);
}

void api__h_channel_delete(struct api__req *r)
{
	struct aclm_err err = { 0 };

	if (!path_name(r))
		return;
	if (store_notify_channel_delete(r->w->store, r->p.tenant_id, r->params[0], "api", &err) !=
		    ACLM_OK ||
	    api__audit(r, "channel.delete", r->params[0], NULL, &err) != ACLM_OK) {
		api__problem_absent(r, &err, "channel");
		return;
	}
	api__reply_empty(r, 204);
}

/* One "test" message, one attempt, as a notify job would send it. */
void api__h_channel_test(struct api__req *r)
{
	struct store_notify_channel c = { 0 };
	struct aclm_err err = { 0 };
	json_t *params = NULL, *detail = NULL;
	char id[80];

	if (!path_name(r))
		return;
	if (store_notify_channel_get(r->w->store, r->p.tenant_id, r->params[0], &c, &err) !=
	    ACLM_OK) {
		api__problem_absent(r, &err, "channel");
		return;
	}
	snprintf(id, sizeof(id), "aclm-test-%lld-%lld", (long long)r->p.tenant_id,
		 (long long)r->now);
	if (aclm_json_parse(c.params != NULL ? c.params : "{}", c.params != NULL ? strlen(c.params) : 2,
			    STORE_NOTIFY_PARAMS_MAX, "params", &params, &err) != ACLM_OK) {
		api__problem_err(r, &err);
		goto out;
	}
	{
		struct notify_channel ch = { .name = c.name, .type = c.type, .params = params };
		struct notify_message m = {
			.event = "test", .severity = "info", .tenant = r->p.tenant,
			.subject = "aclm test message",
			.text = "A test message from aclm: this channel works.", .at = r->now, .id = id,
		};
		aclm_status st = notify_send(&ch, &m, NULL, &err);

		detail = json_pack("{s:b, s:s?}", "delivered", st == ACLM_OK, "error",
				   st == ACLM_OK ? NULL : err.msg);
		if (api__audit(r, "channel.test", c.name, detail, &err) != ACLM_OK)
			api__problem_err(r, &err);
		else if (st == ACLM_OK)
			api__reply_json(r, 200, json_pack("{s:s, s:b}", "channel", c.name, "delivered",
							  true));
		else
			api__problem(r, 502, "delivery-failed", "%s", json_string_value(
						json_object_get(detail, "error")));
	}
out:
	json_decref(params);
	json_decref(detail);
	store_notify_channel_clear(&c);
}
