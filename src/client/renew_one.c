/* Renewing one lineage: whether it is due (asking the CA for ARI when it
 * is time) and the order that replays what `aclm issue` stored with it.
 * Shared by `aclm renew` and the scheduler's renew jobs. */
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/crypto.h"

/* One connection per lineage, opened when first needed (the ARI question,
 * then the order). Its options point into l, which outlives it. */
aclm_status client_renew_conn(struct inventory *inv, const struct store_lineage *l,
			      struct client_conn **conn, struct aclm_err *err)
{
	struct client_opts co = { .server = l->server };

	if (*conn != NULL)
		return ACLM_OK;
	co.ca_bundle = aclm_json_str(l->options, "ca_bundle");
	co.email = aclm_json_str(l->options, "email");
	return client_conn_open(inv, &co, conn, err);
}

void client_renew_due(struct inventory *inv, const struct store_lineage *l, bool force,
		      struct client_conn **conn, struct client_renewal *out)
{
	struct store_cert *c = NULL;
	struct store_lineage *fresh = NULL;
	struct aclm_err err = { 0 };
	const char *ari_error = NULL;
	int64_t now = aclm_time_now();

	memset(out, 0, sizeof(*out));
	if (l->cert_id == 0 ||
	    store_cert_get(inv->store, inv->tenant_id, l->cert_id, &c, &err) != ACLM_OK) {
		out->due = true;
		snprintf(out->why, sizeof(out->why), "no certificate yet");
		return;
	}
	if (force) {
		out->due = true;
		snprintf(out->why, sizeof(out->why), "forced (%lld days left)",
			 (long long)aclm_time_days_between(now, c->not_after));
		store_cert_free(c);
		return;
	}
	if (client_ari_should_ask(l, now)) {
		/* The answer is kept on the row: read it back. */
		if (client_renew_conn(inv, l, conn, &err) != ACLM_OK ||
		    client_ari_refresh(*conn, l->name, now, &err) != ACLM_OK)
			ari_error = err.msg;
		else
			store_lineage_get(inv->store, inv->tenant_id, l->name, &fresh, NULL);
		/* The CA's window was computed at its clock, after ours was read:
		 * decide at the time of its answer (a revoked certificate's window
		 * ends at that very second). */
		now = aclm_time_now();
	}
	client_renewal_decide(fresh != NULL ? fresh : l, c->not_before, c->not_after, now, ari_error,
			      out);
	store_lineage_free(fresh);
	store_cert_free(c);
}

aclm_status client_renew_one(struct inventory *inv, const char *home,
			     const struct store_lineage *l, struct client_conn **conn,
			     struct client_result *res, struct aclm_err *err)
{
	struct solver_config sc = { 0 };
	const char **names = calloc(json_array_size(l->names) + 1, sizeof(*names));
	char *live = aclm_fs_join(home, "live");
	int kt = crypto_key_type_parse(l->key_type);
	size_t i;
	json_t *v;
	aclm_status st;

	memset(res, 0, sizeof(*res));
	if (names == NULL || live == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(l->names, i, v)
		names[i] = json_string_value(v);
	sc.http_listen = aclm_json_str(l->options, "http_listen");
	sc.webroot = aclm_json_str(l->options, "webroot");
	sc.tlsalpn_listen = aclm_json_str(l->options, "tlsalpn_listen");
	sc.dns_hook = aclm_json_str(l->options, "dns_hook");
	sc.dns_rfc2136 = aclm_json_str(l->options, "dns_rfc2136");
	sc.tsig_file = aclm_json_str(l->options, "tsig_file");
	sc.dns_resolver = aclm_json_str(l->options, "dns_resolver");
	sc.dns_propagation = aclm_json_str(l->options, "dns_propagation");
	st = kt >= 0 ? client_renew_conn(inv, l, conn, err)
		     : aclm_err_set(err, ACLM_ERR_INVALID, "unknown key type %s", l->key_type);
	if (st == ACLM_OK) {
		struct client_request req = {
			.lineage = l->name, .names = names, .nnames = json_array_size(l->names),
			.key_type = (enum crypto_key_type)kt,
			.challenge = aclm_json_str(l->options, "challenge") ?: "http-01",
			.solver = &sc, .live_dir = live,
			.deploy_hook = aclm_json_str(l->options, "deploy_hook"),
			.preferred_chain = aclm_json_str(l->options, "preferred_chain"),
			.csr_path = aclm_json_str(l->options, "csr"),
			.profile = aclm_json_str(l->options, "profile"),
			.tlcp = aclm_json_bool(l->options, "tlcp"),
		};

		st = client_issue(*conn, &req, res, err);
	}
out:
	free(names);
	free(live);
	return st;
}
