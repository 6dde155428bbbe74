/* aclm tenant add|list: the tenants of this installation. */
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "core/json.h"
#include "core/log.h"

static const char usage_tenant[] =
	"Usage: aclm tenant add NAME [--format text|json]\n"
	"       aclm tenant list [--format text|json]\n"
	"\n"
	"Tenants are fully separate inventories, users and tokens in one installation:\n"
	"nothing of one tenant is visible from another. Commands act on one tenant with\n"
	"--tenant NAME (default \"default\").\n"
	"\n"
	"  add      creates tenant NAME (fails when it exists)\n"
	"  list     every tenant: id, name, created\n"
	"\n"
	"Example:\n"
	"  aclm tenant add team-a && aclm --tenant team-a user add alice --role admin\n";

enum { OPT_FORMAT = CLI_OPT_FIRST_COMMAND_OPT };

static const struct option tenant_opts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	CLI_GLOBAL_LONGOPTS
};

/* Returns -1 to go on, else an exit code; *name is the NAME when named. */
static int tenant_parse(struct cli_ctx *ctx, int argc, char **argv, const char *sub, bool named,
			const char **format, const char **name)
{
	int c, rc;

	*format = "text";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, tenant_opts, NULL)) != -1) {
		if (c == OPT_FORMAT)
			*format = optarg;
		else if ((rc = cli_common_opt(ctx, c, usage_tenant)) >= 0)
			return rc;
	}
	if (!cli_format_ok(*format, "text|json"))
		return cli_usage_error(usage_tenant, "--format %s: expected text or json", *format);
	if (named && optind < argc)
		*name = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage_tenant, "tenant %s: unexpected argument '%s'", sub,
				       argv[optind]);
	if (named && *name == NULL)
		return cli_usage_error(usage_tenant, "tenant %s: give the tenant's NAME", sub);
	return -1;
}

/* Creates the tenant and records it, as one transaction, in the new
 * tenant's audit trail. */
static aclm_status tenant_create(struct cli_ctx *ctx, const char *name, int64_t *id,
				 struct aclm_err *err)
{
	struct store_audit_event ev = { .actor = ctx->actor, .action = "tenant.add",
					.object = name };
	aclm_status st = store_begin(ctx->store, err);

	if (st != ACLM_OK)
		return st;
	st = store_tenant_find(ctx->store, name, id, err);
	if (st == ACLM_OK)
		st = aclm_err_set(err, ACLM_ERR_EXISTS, "tenant %s already exists", name);
	else if (st == ACLM_ERR_NOTFOUND)
		st = store_tenant_ensure(ctx->store, name, id, err);
	ev.tenant_id = *id;
	if (st == ACLM_OK)
		st = store_audit_append(ctx->store, &ev, err);
	if (st == ACLM_OK)
		st = store_commit(ctx->store, err);
	if (st != ACLM_OK)
		store_rollback(ctx->store);
	return st;
}

static int add_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct aclm_err err = { 0 };
	const char *format = NULL, *name = NULL;
	int64_t id = 0;
	int rc = tenant_parse(ctx, argc, argv, "add", true, &format, &name);

	if (rc >= 0)
		return rc;
	ctx->as_default_tenant = true;
	if (cli_open(ctx, &err) != ACLM_OK || tenant_create(ctx, name, &id, &err) != ACLM_OK)
		return cli_fail(&err);
	if (strcmp(format, "json") == 0) {
		json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)id, "name", name);

		aclm_json_print(stdout, o, true);
		json_decref(o);
	} else {
		printf("%s\n", name);
		aclm_log_note("tenant %s created; add its admin with: aclm --tenant %s user add "
			      "NAME --role admin", name, name);
	}
	return CLI_EXIT_OK;
}

static int list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct aclm_err err = { 0 };
	const char *format = NULL, *name = NULL;
	json_t *list = NULL, *t;
	size_t i;
	int rc = tenant_parse(ctx, argc, argv, "list", false, &format, &name);

	if (rc >= 0)
		return rc;
	ctx->as_default_tenant = true;
	if (cli_open(ctx, &err) != ACLM_OK || auth_tenant_list(ctx->store, &list, &err) != ACLM_OK)
		return cli_fail(&err);
	if (strcmp(format, "json") == 0) {
		aclm_json_print(stdout, list, true);
	} else {
		printf("%-6s %-32s %s\n", "ID", "NAME", "CREATED");
		json_array_foreach(list, i, t)
			printf("%-6lld %-32s %s\n", (long long)aclm_json_int(t, "id", 0),
			       aclm_json_str(t, "name"), aclm_json_str(t, "created_at"));
	}
	json_decref(list);
	return CLI_EXIT_OK;
}

int cli_cmd_tenant(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(usage_tenant, "tenant: give a subcommand (add, list)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(usage_tenant);
	if (strcmp(argv[1], "add") == 0)
		return add_cmd(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return list_cmd(ctx, argc - 1, argv + 1);
	return cli_usage_error(usage_tenant, "tenant: unknown subcommand '%s' (add, list)", argv[1]);
}
