/* The "issue" job: a first certificate for a new lineage, as `aclm issue`
 * orders it, from a request the API stored in the payload ({lineage, names,
 * server, key_type, challenge, profile}); the account, trust and solver
 * come from [acme] (server and challenge default there too). Safe to run
 * twice: a lineage that got a certificate since the job was queued is done,
 * and the client resumes an order stored with the lineage. */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "sched/sched_int.h"

#define ISSUE_NAMES_MAX 100

static const char *acme_cfg(const struct sched__ctx *c, const char *key)
{
	const char *v = aclm_config_get(c->cfg, "acme", key);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Issued since the job was queued (by this job before a crash lost its
 * "done", or by `aclm issue`): nothing to order. */
static bool issued_since(struct sched__ctx *c, const char *lineage, int64_t queued_at,
			 int64_t *cert_id)
{
	struct store_lineage *l = NULL;
	struct store_cert *cert = NULL;
	bool yes = false;

	*cert_id = 0;
	if (store_lineage_get(c->store, c->inv.tenant_id, lineage, &l, NULL) == ACLM_OK &&
	    l->cert_id != 0 &&
	    store_cert_get(c->store, c->inv.tenant_id, l->cert_id, &cert, NULL) == ACLM_OK) {
		yes = cert->created_at >= queued_at;
		*cert_id = l->cert_id;
	}
	store_cert_free(cert);
	store_lineage_free(l);
	return yes;
}

aclm_status sched__issue_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			     struct aclm_err *err)
{
	const char *lineage = aclm_json_str(j->payload, "lineage");
	const char *server = aclm_json_str(j->payload, "server") ?: acme_cfg(c, "server");
	const char *kt_name = aclm_json_str(j->payload, "key_type") ?: acme_cfg(c, "key_type");
	const json_t *jnames = json_object_get(j->payload, "names");
	const char *names[ISSUE_NAMES_MAX];
	struct solver_config sc = {
		.http_listen = acme_cfg(c, "http_listen"), .webroot = acme_cfg(c, "webroot"),
		.tlsalpn_listen = acme_cfg(c, "tlsalpn_listen"), .dns_hook = acme_cfg(c, "dns_hook"),
	};
	struct client_opts co = { .ca_bundle = acme_cfg(c, "ca_bundle"),
				  .email = acme_cfg(c, "email") };
	struct client_conn *conn = NULL;
	struct client_result res = { 0 };
	char *live = NULL;
	const char *agree = acme_cfg(c, "agree_tos");
	int kt = crypto_key_type_parse(kt_name != NULL ? kt_name : "p256");
	size_t n = json_array_size(jnames);
	int64_t have = 0;
	aclm_status st;

	*result = NULL;
	if (lineage == NULL || n == 0 || n > ISSUE_NAMES_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "issue job without a lineage or names");
	if (server == NULL)
		return aclm_err_set(err, ACLM_ERR_CONFIG,
				    "issue %s: no server in the order and no [acme] server", lineage);
	if (kt < 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "issue %s: unknown key type %s", lineage,
				    kt_name);
	if (issued_since(c, lineage, j->created_at, &have)) {
		*result = json_pack("{s:s, s:s, s:I}", "lineage", lineage, "skipped",
				    "already issued", "cert_id", (json_int_t)have);
		return ACLM_OK;
	}
	for (size_t i = 0; i < n; i++)
		if ((names[i] = json_string_value(json_array_get(jnames, i))) == NULL)
			return aclm_err_set(err, ACLM_ERR_INVALID, "issue %s: names are strings",
					    lineage);
	co.server = client_server_url(server) ?: server;
	co.agree_tos = agree != NULL && strcmp(agree, "on") == 0;
	live = aclm_fs_join(c->home, "live");
	st = live != NULL ? client_conn_open(&c->inv, &co, &conn, err)
			  : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st == ACLM_OK) {
		struct client_request req = {
			.lineage = lineage, .names = names, .nnames = n,
			.key_type = (enum crypto_key_type)kt,
			.challenge = aclm_json_str(j->payload, "challenge") ?: acme_cfg(c, "challenge")
											?: "http-01",
			.solver = &sc, .live_dir = live,
			.profile = aclm_json_str(j->payload, "profile"),
		};

		st = client_issue(conn, &req, &res, err);
	}
	if (res.cert_id != 0)
		*result = json_pack("{s:s, s:I, s:s, s:s}", "lineage", lineage, "cert_id",
				    (json_int_t)res.cert_id, "fingerprint", res.fingerprint,
				    "not_after", res.not_after);
	if (st == ACLM_OK)
		log_info("issue %s: certificate %lld, expires %s", lineage, (long long)res.cert_id,
			 res.not_after);
	client_conn_close(conn);
	free(live);
	return st;
}
