/* aclm deploy, aclm bind, aclm deployments: pushing a certificate to targets
 * now, after each renewal, and what each target got last (deploy/ does the
 * work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "deploy/deploy.h"
#include "store/store_deploy.h"

static const char usage_deploy[] =
	"Usage: aclm deploy CERT_ID|FINGERPRINT|LINEAGE --to TARGET[,TARGET...] [--dry-run]\n"
	"                   [--verify-timeout SECONDS] [--format text|json]\n"
	"       aclm bind LINEAGE TARGET...\n"
	"       aclm deployments [LINEAGE] [--format text|json]\n"
	"\n"
	"  deploy       pushes the certificate (a lineage: its current one) to the targets\n"
	"               at once (aclm target add). Each deploy is staged, made live, then\n"
	"               verified: every --verify endpoint of the target must serve the\n"
	"               new certificate within --verify-timeout (default 10); otherwise\n"
	"               the previous files come back and are verified again. One line per\n"
	"               target: deployed, rolled_back (failed, previous certificate\n"
	"               served again) or failed. --dry-run checks targets and material\n"
	"               and changes nothing. Exit status 1 when any target failed.\n"
	"  bind         after each renewal of LINEAGE (aclm renew, the daemon), its new\n"
	"               certificate is deployed to these targets.\n"
	"  deployments  the last deploy per target (of LINEAGE when given).\n"
	"\n"
	"Example:\n"
	"  aclm deploy example.com --to web1,lb\n";

enum { OPT_TO = CLI_OPT_FIRST_COMMAND_OPT, OPT_DRY_RUN, OPT_FORMAT, OPT_VERIFY_TIMEOUT };

static const struct option deploy_opts_table[] = {
	{ "to", required_argument, NULL, OPT_TO },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "verify-timeout", required_argument, NULL, OPT_VERIFY_TIMEOUT },
	CLI_GLOBAL_LONGOPTS
};

struct deploy_args {
	const char *format;
	char *to;                  /* strdup of --to, split in place */
	bool dry_run;
	long verify_timeout_s;
};

/* Returns -1 to go on, else an exit code; only `allowed` options apply. */
static int deploy_parse(struct cli_ctx *ctx, int argc, char **argv, const char *allowed,
			struct deploy_args *a)
{
	int c, idx, rc;
	char *end = NULL;

	a->format = "text";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, deploy_opts_table, &idx)) != -1) {
		if (c >= CLI_OPT_FIRST_COMMAND_OPT && strstr(allowed, deploy_opts_table[idx].name) == NULL)
			return cli_usage_error(usage_deploy, "%s: --%s does not apply", argv[0],
					       deploy_opts_table[idx].name);
		switch (c) {
		case OPT_TO:
			free(a->to);
			a->to = strdup(optarg);
			break;
		case OPT_DRY_RUN: a->dry_run = true; break;
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_VERIFY_TIMEOUT:
			a->verify_timeout_s = strtol(optarg, &end, 10);
			if (*end != '\0' || a->verify_timeout_s < 1 || a->verify_timeout_s > 3600)
				return cli_usage_error(usage_deploy, "--verify-timeout %s: expected 1-3600 "
						       "seconds", optarg);
			break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_deploy)) >= 0)
				return rc;
		}
	}
	if (!cli_format_ok(a->format, "text|json"))
		return cli_usage_error(usage_deploy, "--format %s: expected text or json", a->format);
	return -1;
}

void cli_deploy_print(const json_t *results, const char *indent)
{
	json_t *r;
	size_t i;

	json_array_foreach(results, i, r) {
		const char *state = aclm_json_str(r, "state"), *error = aclm_json_str(r, "error");
		const char *served = aclm_json_str(r, "served_fingerprint");

		printf("%s%-24s %-12s", indent, aclm_json_str(r, "target"),
		       state != NULL ? state : "failed");
		if (error != NULL)
			printf(" %s", error);
		else if (state != NULL && strcmp(state, "deployed") == 0 && served != NULL)
			printf(" verified (serves %.16s...)", served);
		else if (state != NULL && strcmp(state, "deployed") == 0)
			printf(" not verified (no --verify endpoint)");
		printf("\n");
	}
}

int cli_cmd_deploy(struct cli_ctx *ctx, int argc, char **argv)
{
	struct deploy_args a = { 0 };
	struct aclm_err err = { 0 };
	json_t *results = NULL;
	const char **names = NULL;
	size_t n = 0;
	const char *ref;
	aclm_status st;
	int rc = deploy_parse(ctx, argc, argv, "to dry-run format verify-timeout", &a);

	if (rc >= 0)
		goto out;
	if (optind + 1 != argc) {
		rc = cli_usage_error(usage_deploy, "deploy: give one certificate id, fingerprint or "
				     "lineage");
		goto out;
	}
	ref = argv[optind];
	if (a.to == NULL || a.to[0] == '\0') {
		rc = cli_usage_error(usage_deploy, "deploy: give the targets with --to T[,T...]");
		goto out;
	}
	names = calloc(strlen(a.to) / 2 + 2, sizeof(*names));
	for (char *save = NULL, *t = strtok_r(a.to, ",", &save); names != NULL && t != NULL;
	     t = strtok_r(NULL, ",", &save))
		names[n++] = t;
	if (names == NULL || n == 0) {
		rc = cli_usage_error(usage_deploy, "deploy: --to names no target");
		goto out;
	}
	if (cli_open(ctx, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	st = deploy_run(&ctx->inv, ref, names, n,
			&(struct deploy_opts){ .dry_run = a.dry_run,
					       .verify_timeout_ms = a.verify_timeout_s * 1000 },
			&results, &err);
	if (results == NULL) {
		rc = cli_fail(&err);
		goto out;
	}
	if (strcmp(a.format, "json") == 0)
		aclm_json_print(stdout, results, true);
	else
		cli_deploy_print(results, "");
	rc = CLI_EXIT_OK;
	if (st != ACLM_OK)
		rc = cli_fail(&err);
out:
	free(names);
	free(a.to);
	json_decref(results);
	return rc;
}

int cli_cmd_bind(struct cli_ctx *ctx, int argc, char **argv)
{
	struct deploy_args a = { 0 };
	struct aclm_err err = { 0 };
	struct store_lineage *l = NULL;
	struct store_target *t = NULL;
	const char *lineage;
	int rc = deploy_parse(ctx, argc, argv, "", &a);

	if (rc >= 0)
		return rc;
	if (argc - optind < 2)
		return cli_usage_error(usage_deploy, "bind: give a lineage and at least one target");
	lineage = argv[optind++];
	if (cli_open(ctx, &err) != ACLM_OK)
		return cli_fail(&err);
	if (store_lineage_get(ctx->store, ctx->inv.tenant_id, lineage, &l, &err) == ACLM_ERR_NOTFOUND)
		aclm_log_note("lineage %s does not exist yet: its first certificate will be deployed",
			      lineage);
	store_lineage_free(l);
	aclm_err_clear(&err);
	/* All targets first: a typo binds nothing. */
	for (int i = optind; i < argc; i++) {
		if (store_target_get(ctx->store, ctx->inv.tenant_id, argv[i], &t, &err) != ACLM_OK)
			return cli_fail(&err);
		store_target_free(t);
		t = NULL;
	}
	for (int i = optind; i < argc; i++) {
		json_t *detail = json_pack("{s:s}", "target", argv[i]);
		aclm_status st = store_target_get(ctx->store, ctx->inv.tenant_id, argv[i], &t, &err);

		if (st == ACLM_OK)
			st = store_binding_add(ctx->store, ctx->inv.tenant_id, lineage, t->id,
					       aclm_time_now(), &err);
		if (st == ACLM_OK)
			st = inventory_audit(&ctx->inv, "deploy.bind", lineage, detail, &err);
		json_decref(detail);
		store_target_free(t);
		t = NULL;
		if (st != ACLM_OK)
			return cli_fail(&err);
		printf("%s -> %s\n", lineage, argv[i]);
	}
	return CLI_EXIT_OK;
}

static aclm_status deployment_one(const struct store_deployment *d, void *arg)
{
	json_t *o = json_pack("{s:s, s:I, s:s?, s:s, s:s, s:s?, s:s?, s:O?, s:I, s:I}", "target",
			      d->target_name, "cert_id", (json_int_t)d->cert_id, "lineage",
			      d->lineage, "fingerprint", d->fingerprint, "state", d->state,
			      "served_fingerprint", d->served_fingerprint, "error", d->error,
			      "detail", d->detail, "started_at", (json_int_t)d->started_at,
			      "finished_at", (json_int_t)d->finished_at);

	if (o == NULL || json_array_append_new(arg, o) != 0)
		return ACLM_ERR_NOMEM;
	return ACLM_OK;
}

int cli_cmd_deployments(struct cli_ctx *ctx, int argc, char **argv)
{
	struct deploy_args a = { 0 };
	struct aclm_err err = { 0 };
	json_t *list = NULL, *d;
	const char *lineage = NULL;
	size_t i;
	int rc = deploy_parse(ctx, argc, argv, "format", &a);

	if (rc >= 0)
		return rc;
	if (optind < argc)
		lineage = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage_deploy, "deployments: unexpected argument '%s'", argv[optind]);
	list = json_array();
	if (cli_open(ctx, &err) != ACLM_OK ||
	    store_deployment_latest(ctx->store, ctx->inv.tenant_id, lineage, deployment_one, list,
				    &err) != ACLM_OK) {
		json_decref(list);
		return cli_fail(&err);
	}
	if (strcmp(a.format, "json") == 0) {
		aclm_json_print(stdout, list, true);
	} else {
		printf("%-24s %-12s %-8s %-20s %s\n", "TARGET", "STATE", "CERT", "FINISHED", "ERROR");
		json_array_foreach(list, i, d) {
			char when[ACLM_TIME_RFC3339_LEN] = "-";
			int64_t fin = aclm_json_int(d, "finished_at", 0);

			if (fin > 0)
				aclm_time_fmt(fin, when);
			printf("%-24s %-12s %-8lld %-20s %s\n", aclm_json_str(d, "target"),
			       aclm_json_str(d, "state"), (long long)aclm_json_int(d, "cert_id", 0), when,
			       aclm_json_str(d, "error") != NULL ? aclm_json_str(d, "error") : "");
		}
	}
	json_decref(list);
	return CLI_EXIT_OK;
}
