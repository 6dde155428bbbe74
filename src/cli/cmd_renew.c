/* aclm renew, aclm revoke */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "client/client.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/crypto.h"

static const char usage_renew[] =
	"Usage: aclm renew [--all | LINEAGE...] [--force] [--dry-run]\n"
	"\n"
	"Renews the lineages that are due and says why for each. A certificate is due\n"
	"when a third of its lifetime is left (half for lifetimes of 10 days or less).\n"
	"Each renewal replays what `aclm issue` stored with the lineage: server, account,\n"
	"names, key type, challenge and solver options, and the deploy hook.\n"
	"\n"
	"Options:\n"
	"  --all       every lineage of the tenant (the default when none is named)\n"
	"  --force     renew even when not due\n"
	"  --dry-run   only say what would be renewed\n";

static const char usage_revoke[] =
	"Usage: aclm revoke ID|FILE [--reason REASON] [--server URL] [--ca-bundle FILE]\n"
	"\n"
	"Revokes a certificate at the ACME server that issued it (RFC 8555 §7.6), signed\n"
	"by the tenant's account there, or by the certificate's own key when there is\n"
	"no account. ID is an inventory id or fingerprint prefix; FILE a PEM certificate.\n"
	"The server is the one recorded at issuance (tag acme.server) unless --server.\n"
	"REASON: unspecified (default), keyCompromise, affiliationChanged, superseded,\n"
	"cessationOfOperation, privilegeWithdrawn, cACompromise, aACompromise.\n";

struct renew_run {
	struct cli_ctx *ctx;
	bool force, dry_run;
	int failed, renewed;
};

static aclm_status lineage_due(struct renew_run *rr, const struct store_lineage *l, bool *due,
			       char *why, size_t whylen)
{
	struct store_cert *c = NULL;
	struct aclm_err err = { 0 };
	int64_t due_at, now = aclm_time_now();
	char ts[ACLM_TIME_RFC3339_LEN];

	if (l->cert_id == 0 ||
	    store_cert_get(rr->ctx->store, rr->ctx->inv.tenant_id, l->cert_id, &c, &err) != ACLM_OK) {
		*due = true;
		snprintf(why, whylen, "no certificate yet");
		return ACLM_OK;
	}
	*due = client_renewal_due(c->not_before, c->not_after, now, &due_at) || rr->force;
	if (rr->force)
		snprintf(why, whylen, "forced (%lld days left)",
			 (long long)aclm_time_days_between(now, c->not_after));
	else if (*due)
		snprintf(why, whylen, "due since %s, %lld days left", aclm_time_fmt(due_at, ts),
			 (long long)aclm_time_days_between(now, c->not_after));
	else
		snprintf(why, whylen, "not due until %s", aclm_time_fmt(due_at, ts));
	store_cert_free(c);
	return ACLM_OK;
}

static aclm_status renew_one(struct renew_run *rr, const struct store_lineage *l,
			     struct aclm_err *err)
{
	struct client_opts co = { .server = l->server };
	struct solver_config sc = { 0 };
	struct client_conn *conn = NULL;
	struct client_result res;
	const char **names = calloc(json_array_size(l->names) + 1, sizeof(*names));
	char *live = aclm_fs_join(rr->ctx->home, "live");
	int kt = crypto_key_type_parse(l->key_type);
	size_t i;
	json_t *v;
	aclm_status st;

	json_array_foreach(l->names, i, v)
		names[i] = json_string_value(v);
	co.ca_bundle = aclm_json_str(l->options, "ca_bundle");
	co.email = aclm_json_str(l->options, "email");
	sc.http_listen = aclm_json_str(l->options, "http_listen");
	sc.webroot = aclm_json_str(l->options, "webroot");
	sc.tlsalpn_listen = aclm_json_str(l->options, "tlsalpn_listen");
	sc.dns_hook = aclm_json_str(l->options, "dns_hook");
	sc.dns_rfc2136 = aclm_json_str(l->options, "dns_rfc2136");
	sc.tsig_file = aclm_json_str(l->options, "tsig_file");
	sc.dns_resolver = aclm_json_str(l->options, "dns_resolver");
	sc.dns_propagation = aclm_json_str(l->options, "dns_propagation");
	st = kt >= 0 ? client_conn_open(&rr->ctx->inv, &co, &conn, err)
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
		};

		st = client_issue(conn, &req, &res, err);
	}
	if (st == ACLM_OK || (conn != NULL && res.deploy_hook_failed))
		printf("renewed  %s: certificate %lld, expires %s\n", l->name, (long long)res.cert_id,
		       res.not_after);
	client_conn_close(conn);
	free(names);
	free(live);
	return st;
}

static aclm_status renew_lineage(const struct store_lineage *l, void *arg)
{
	struct renew_run *rr = arg;
	struct aclm_err err = { 0 };
	char why[128];
	bool due;

	lineage_due(rr, l, &due, why, sizeof(why));
	if (!due) {
		printf("skip     %s: %s\n", l->name, why);
		return ACLM_OK;
	}
	printf("%s %s: %s\n", rr->dry_run ? "would renew" : "renew   ", l->name, why);
	fflush(stdout);
	if (rr->dry_run)
		return ACLM_OK;
	if (renew_one(rr, l, &err) != ACLM_OK) {
		rr->failed++;
		printf("failed   %s: %s\n", l->name, err.msg);
	} else {
		rr->renewed++;
	}
	return ACLM_OK;
}

/* Lineages are collected first: renewing writes the table being listed. */
static aclm_status collect(const struct store_lineage *l, void *arg)
{
	json_array_append_new(arg, json_string(l->name));
	return ACLM_OK;
}

int cli_cmd_renew(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_ALL = CLI_OPT_FIRST_COMMAND_OPT, OPT_FORCE, OPT_DRY_RUN };
	static const struct option opts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		CLI_GLOBAL_LONGOPTS
	};
	struct renew_run rr = { .ctx = ctx };
	struct aclm_err err = { 0 };
	json_t *names = json_array();
	bool all = false;
	size_t i;
	json_t *v;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_ALL: all = true; break;
		case OPT_FORCE: rr.force = true; break;
		case OPT_DRY_RUN: rr.dry_run = true; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_renew)) >= 0) {
				json_decref(names);
				return rc;
			}
		}
	}
	if (all && optind < argc) {
		json_decref(names);
		return cli_usage_error(usage_renew, "renew: give --all or lineage names, not both");
	}
	if (cli_open(ctx, &err) != ACLM_OK) {
		json_decref(names);
		return cli_fail(&err);
	}
	for (int k = optind; k < argc; k++)
		json_array_append_new(names, json_string(argv[k]));
	if (optind >= argc &&
	    store_lineage_list(ctx->store, ctx->inv.tenant_id, collect, names, &err) != ACLM_OK) {
		json_decref(names);
		return cli_fail(&err);
	}
	json_array_foreach(names, i, v) {
		struct store_lineage *l = NULL;

		if (store_lineage_get(ctx->store, ctx->inv.tenant_id, json_string_value(v), &l, &err) != ACLM_OK) {
			printf("failed   %s: %s\n", json_string_value(v), err.msg);
			rr.failed++;
			continue;
		}
		renew_lineage(l, &rr);
		store_lineage_free(l);
	}
	if (json_array_size(names) == 0)
		aclm_log_note("no lineages: `aclm issue` creates them");
	json_decref(names);
	return rr.failed > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* The certificate to revoke: an inventory reference or a PEM/DER file. */
static aclm_status revoke_target(struct cli_ctx *ctx, const char *ref, X509 **x,
				 struct store_cert **row, struct aclm_err *err)
{
	struct crypto_bundle *b = NULL;
	struct aclm_buf data;
	int64_t id;
	aclm_status st;

	*x = NULL;
	*row = NULL;
	if (access(ref, F_OK) != 0) {
		st = inventory_resolve(&ctx->inv, ref, &id, err);
		if (st == ACLM_OK)
			st = store_cert_get(ctx->store, ctx->inv.tenant_id, id, row, err);
		if (st == ACLM_OK)
			st = crypto_cert_from_der((*row)->der, (*row)->der_len, x, err);
		return st;
	}
	aclm_buf_init(&data, 1 << 20);
	st = aclm_buf_read_file(&data, ref, err);
	if (st == ACLM_OK)
		st = crypto_bundle_parse(data.data, data.len, NULL, &b, err);
	if (st == ACLM_OK) {
		*x = b->certs[0];
		X509_up_ref(*x);
	} else {
		aclm_err_prefix(err, "%s", ref);
	}
	crypto_bundle_free(b);
	aclm_buf_free(&data);
	return st;
}

int cli_cmd_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_REASON = CLI_OPT_FIRST_COMMAND_OPT, OPT_SERVER, OPT_CA_BUNDLE };
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "ca-bundle", required_argument, NULL, OPT_CA_BUNDLE },
		CLI_GLOBAL_LONGOPTS
	};
	struct client_opts co = { 0 };
	struct client_conn *conn = NULL;
	struct store_cert *row = NULL;
	struct aclm_err err = { 0 };
	const char *server = NULL;
	char *bundle = NULL;
	X509 *x = NULL;
	int c, rc, reason = 0;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_REASON:
			if ((reason = client_revocation_reason(optarg)) < 0)
				return cli_usage_error(usage_revoke, "--reason %s: not a revocation reason", optarg);
			break;
		case OPT_SERVER: server = optarg; break;
		case OPT_CA_BUNDLE: co.ca_bundle = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_revoke)) >= 0)
				return rc;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(usage_revoke, "revoke: give one certificate id or file");
	if (cli_open(ctx, &err) != ACLM_OK || revoke_target(ctx, argv[optind], &x, &row, &err) != ACLM_OK)
		goto fail;
	if (server == NULL && row != NULL)
		server = aclm_json_str(row->tags, "acme.server");
	if (server == NULL || (co.server = client_server_url(server)) == NULL) {
		aclm_err_set(&err, ACLM_ERR_USAGE, "revoke: which server issued it? give --server");
		goto fail;
	}
	if (co.ca_bundle == NULL && row != NULL) {
		/* The bundle the lineage used to reach this server. */
		struct store_lineage *l = NULL;
		const char *lin = aclm_json_str(row->tags, "acme.lineage");

		if (lin != NULL && store_lineage_get(ctx->store, ctx->inv.tenant_id, lin, &l, NULL) == ACLM_OK &&
		    aclm_json_str(l->options, "ca_bundle") != NULL)
			co.ca_bundle = bundle = strdup(aclm_json_str(l->options, "ca_bundle"));
		store_lineage_free(l);
	}
	if (client_conn_open(&ctx->inv, &co, &conn, &err) != ACLM_OK ||
	    client_revoke(conn, x, reason, &err) != ACLM_OK)
		goto fail;
	{
		json_t *detail = json_pack("{s:s, s:i}", "server", co.server, "reason", reason);

		inventory_audit(&ctx->inv, "cert.revoke", argv[optind], detail, NULL);
		json_decref(detail);
	}
	printf("revoked  %s at %s\n", argv[optind], co.server);
	rc = CLI_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	client_conn_close(conn);
	X509_free(x);
	store_cert_free(row);
	free(bundle);
	return rc;
}
