/* The "notify" job: one alert to one [notify.NAME] channel, one attempt
 * per run (retries are the job machinery's backoff). */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "notify/notify.h"
#include "sched/sched_int.h"

aclm_status sched__notify_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			      struct aclm_err *err)
{
	const char *channel = aclm_json_str(j->payload, "channel");
	int64_t alert_id = aclm_json_int(j->payload, "alert_id", 0);
	struct store_alert *a = NULL;
	json_t *params = NULL;
	char section[160], event[64], id[64];
	aclm_status st;

	*result = NULL;
	if (channel == NULL || alert_id <= 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "notify job without alert or channel");
	st = store_alert_get(c->store, c->inv.tenant_id, alert_id, &a, err);
	if (st != ACLM_OK)
		goto out;
	snprintf(section, sizeof(section), "notify.%s", channel);
	params = sched__channel_params(c->cfg, channel);
	if (params == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(event, sizeof(event), "alert.%s", a->kind);
	/* Stable per alert and tenant: a receiver drops a repeated delivery. */
	snprintf(id, sizeof(id), "aclm-alert-%lld-%lld", (long long)c->inv.tenant_id,
		 (long long)a->id);
	{
		struct notify_channel ch = {
			.name = channel, .type = aclm_config_get(c->cfg, section, "type"),
			.params = params,
		};
		struct notify_message m = {
			.event = event, .severity = a->severity, .tenant = c->tenant,
			.subject = a->message, .text = a->message, .data = a->detail,
			.at = a->created_at, .id = id,
		};

		if (ch.type == NULL)
			st = aclm_err_set(err, ACLM_ERR_CONFIG, "notify.%s: no such channel (type unset)",
					  channel);
		else
			st = notify_send(&ch, &m, NULL, err);
	}
	if (st == ACLM_OK)
		*result = json_pack("{s:I, s:s}", "alert_id", (json_int_t)a->id, "channel", channel);
out:
	json_decref(params);
	store_alert_free(a);
	return st;
}
