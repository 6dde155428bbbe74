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
#include "deploy/deploy.h"

static const char usage_renew[] =
	"Usage: aclm renew [--all | LINEAGE...] [--force] [--dry-run]\n"
	"\n"
	"Renews the lineages that are due and says why for each. When the CA offers ACME\n"
	"Renewal Information (RFC 9773), it says when: aclm asks it (at most as often as\n"
	"its Retry-After allows, 1 min to 6 h) and renews at a random time it keeps within\n"
	"the suggested window; a window in the past means now. Otherwise, or when asking\n"
	"fails, a certificate is due when a third of its lifetime is left (half for\n"
	"lifetimes of 10 days or less). Each renewal replays what `aclm issue` stored with\n"
	"the lineage: server, account, names, key type, profile, TLCP pair, challenge and\n"
	"solver options, and the deploy hook; the new order names the certificate it\n"
	"replaces (RFC 9773 §5).\n"
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
	"The server is the one recorded at issuance (tag acme.server, also for a FILE\n"
	"that is in the inventory) unless --server.\n"
	"REASON: unspecified (default), keyCompromise, affiliationChanged, superseded,\n"
	"cessationOfOperation, privilegeWithdrawn, cACompromise, aACompromise.\n";

struct renew_run {
	struct cli_ctx *ctx;
	bool force, dry_run;
	int failed, renewed;
};

/* Prints what client_renew_one did, as `aclm issue` does. */
static aclm_status renew_one(struct renew_run *rr, const struct store_lineage *l,
			     struct client_conn **conn, struct aclm_err *err)
{
	struct client_result res = { 0 };
	aclm_status st = client_renew_one(&rr->ctx->inv, rr->ctx->home, l, conn, &res, err);

	if (res.cert_id != 0 && (st == ACLM_OK || res.deploy_hook_failed))
		printf("renewed  %s: certificate %lld, expires %s%s%s\n", l->name,
		       (long long)res.cert_id, res.not_after, res.replaced[0] != '\0' ? ", replaces " : "",
		       res.replaced);
	if (res.enc_cert_id != 0 && (st == ACLM_OK || res.deploy_hook_failed))
		printf("renewed  %s: TLCP encryption certificate %lld, expires %s\n", l->name,
		       (long long)res.enc_cert_id, res.enc_not_after);
	return st;
}

/* aclm bind: the renewed certificate goes to the lineage's targets. A
 * failed target (rolled back, the previous certificate still served) fails
 * the run, like a failed renewal. */
static void deploy_bound(struct renew_run *rr, const char *lineage)
{
	struct aclm_err err = { 0 };
	json_t *results = NULL;
	aclm_status st = deploy_lineage(&rr->ctx->inv, lineage, &results, &err);

	if (json_array_size(results) > 0) {
		printf("deploy   %s:\n", lineage);
		cli_deploy_print(results, "         ");
	}
	if (st != ACLM_OK) {
		rr->failed++;
		printf("failed   %s: deploy: %s\n", lineage, err.msg);
	}
	json_decref(results);
}

static void renew_lineage(struct renew_run *rr, const struct store_lineage *l)
{
	struct client_conn *conn = NULL;
	struct client_renewal due;
	struct aclm_err err = { 0 };

	client_renew_due(&rr->ctx->inv, l, rr->force, &conn, &due);
	if (!due.due) {
		printf("skip     %s: %s\n", l->name, due.why);
	} else {
		printf("%s %s: %s\n", rr->dry_run ? "would renew" : "renew   ", l->name, due.why);
		fflush(stdout);
		if (rr->dry_run) {
			/* only say */
		} else if (renew_one(rr, l, &conn, &err) != ACLM_OK) {
			rr->failed++;
			printf("failed   %s: %s\n", l->name, err.msg);
		} else {
			rr->renewed++;
			deploy_bound(rr, l->name);
		}
	}
	client_conn_close(conn);
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
		renew_lineage(&rr, l);
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
		char fp[65];

		*x = b->certs[0];
		X509_up_ref(*x);
		/* A file aclm issued is in the inventory too: its row names the
		 * server (tag acme.server) and the lineage. */
		if (crypto_cert_fingerprint(*x, fp) == ACLM_OK &&
		    store_cert_find_fingerprint(ctx->store, ctx->inv.tenant_id, fp, &id, NULL) == ACLM_OK)
			store_cert_get(ctx->store, ctx->inv.tenant_id, id, row, NULL);
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
