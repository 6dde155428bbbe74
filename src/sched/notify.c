/* The "notify" job: one alert to one channel, one attempt per run
 * (retries are the job machinery's backoff). The channel is the
 * configuration's [notify.NAME], or else the tenant's stored channel of that
 * name (made through the API). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "notify/notify.h"
#include "sched/sched_int.h"
#include "store/store_notify.h"

/* The tenant's stored channel name: its type (in row) and parameters. */
static aclm_status stored_channel(struct sched__ctx *c, const char *name,
				  struct store_notify_channel *row, json_t **params,
				  struct aclm_err *err)
{
	aclm_status st = store_notify_channel_get(c->store, c->inv.tenant_id, name, row, err);

	if (st == ACLM_ERR_NOTFOUND)
		return aclm_err_set(err, ACLM_ERR_CONFIG,
				    "notify.%s: no such channel (no [notify.%s], none stored)", name,
				    name);
	if (st != ACLM_OK)
		return st;
	*params = NULL;
	return aclm_json_parse(row->params != NULL ? row->params : "{}",
			       row->params != NULL ? strlen(row->params) : 2, STORE_NOTIFY_PARAMS_MAX,
			       "stored channel parameters", params, err);
}

aclm_status sched__notify_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			      struct aclm_err *err)
{
	const char *channel = aclm_json_str(j->payload, "channel");
	int64_t alert_id = aclm_json_int(j->payload, "alert_id", 0);
	struct store_alert *a = NULL;
	struct store_notify_channel row = { 0 };
	struct notify_channel ch = { 0 };
	json_t *params = NULL;
	char event[64], id[64];
	aclm_status st;

	*result = NULL;
	if (channel == NULL || alert_id <= 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "notify job without alert or channel");
	st = store_alert_get(c->store, c->inv.tenant_id, alert_id, &a, err);
	if (st != ACLM_OK)
		goto out;
	/* [notify.NAME] of the configuration first, else a stored channel */
	st = notify_config_channel(c->cfg, channel, &ch, &params, err);
	if (st == ACLM_ERR_NOTFOUND) {
		aclm_err_clear(err);
		st = stored_channel(c, channel, &row, &params, err);
		ch = (struct notify_channel){ .name = channel, .type = row.type, .params = params };
	}
	if (st != ACLM_OK)
		goto out;
	snprintf(event, sizeof(event), "alert.%s", a->kind);
	/* Stable per alert and tenant: a receiver drops a repeated delivery. */
	snprintf(id, sizeof(id), "aclm-alert-%lld-%lld", (long long)c->inv.tenant_id,
		 (long long)a->id);
	{
		struct notify_message m = {
			.event = event, .severity = a->severity, .tenant = c->tenant,
			.subject = a->message, .text = a->message, .data = a->detail,
			.at = a->created_at, .id = id,
		};

		st = notify_send(&ch, &m, NULL, err);
	}
	if (st == ACLM_OK)
		*result = json_pack("{s:I, s:s}", "alert_id", (json_int_t)a->id, "channel", channel);
out:
	json_decref(params);
	store_notify_channel_clear(&row);
	store_alert_free(a);
	return st;
}
