/* aclm user add|list|passwd|rm: the people of a tenant (auth/ does the
 * work; each change is audited here with the CLI's actor). */
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "core/json.h"
#include "core/log.h"

static const char usage_user[] =
	"Usage: aclm user add NAME --role ROLE [--password-file FILE|-] [--format text|json]\n"
	"       aclm user list [--format text|json]\n"
	"       aclm user passwd NAME --password-file FILE|-\n"
	"       aclm user rm NAME\n"
	"\n"
	"Users of the tenant (--tenant; default \"default\") for `aclm serve`'s API and web UI.\n"
	"\n"
	"  add      ROLE is viewer (read), auditor (read + audit log), operator (read +\n"
	"           changes) or admin (everything in the tenant; an admin of \"default\" also\n"
	"           manages tenants). The password (12 to 1024 characters) is read from FILE or\n"
	"           from standard input with \"-\"; without --password-file the user has no\n"
	"           password and signs in with API tokens only (aclm token create --user NAME).\n"
	"  list     the users: name, role, whether a password is set, created\n"
	"  passwd   sets a new password\n"
	"  rm       removes the user with its API tokens and sessions\n"
	"\n"
	"Passwords are stored as argon2id hashes; every change goes to the audit log.\n"
	"\n"
	"Example:\n"
	"  printf '%s\\n' 'a long passphrase' | aclm user add alice --role operator --password-file -\n";

enum { OPT_ROLE = CLI_OPT_FIRST_COMMAND_OPT, OPT_PASSWORD_FILE, OPT_FORMAT };

static const struct option user_opts[] = {
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	CLI_GLOBAL_LONGOPTS
};

struct user_args {
	const char *role, *password_file, *format, *name;
};

/* Parses the options `allowed` names (space-separated) and the NAME when
 * `named`. Returns -1 to go on, else an exit code. */
static int user_parse(struct cli_ctx *ctx, int argc, char **argv, const char *sub,
		      const char *allowed, bool named, struct user_args *a)
{
	int c, rc;

	a->format = "text";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, user_opts, NULL)) != -1) {
		const char *opt = NULL;

		for (size_t i = 0; user_opts[i].name != NULL; i++)
			if (user_opts[i].val == c)
				opt = user_opts[i].name;
		if (c >= CLI_OPT_FIRST_COMMAND_OPT && strstr(allowed, opt) == NULL)
			return cli_usage_error(usage_user, "user %s: --%s does not apply", sub, opt);
		switch (c) {
		case OPT_ROLE: a->role = optarg; break;
		case OPT_PASSWORD_FILE: a->password_file = optarg; break;
		case OPT_FORMAT: a->format = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_user)) >= 0)
				return rc;
		}
	}
	if (!cli_format_ok(a->format, "text|json"))
		return cli_usage_error(usage_user, "--format %s: expected text or json", a->format);
	if (named && optind < argc)
		a->name = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage_user, "user %s: unexpected argument '%s'", sub,
				       argv[optind]);
	if (named && a->name == NULL)
		return cli_usage_error(usage_user, "user %s: give the user's NAME", sub);
	return -1;
}

/* The change and its audit event commit together. */
static aclm_status audited_end(struct cli_ctx *ctx, aclm_status st, const char *action,
			       const char *object, json_t *detail, struct aclm_err *err)
{
	if (st == ACLM_OK)
		st = inventory_audit(&ctx->inv, action, object, detail, err);
	if (st == ACLM_OK)
		st = store_commit(ctx->store, err);
	if (st != ACLM_OK)
		store_rollback(ctx->store);
	return st;
}

static int add_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a = { 0 };
	struct aclm_err err = { 0 };
	enum auth_role role;
	char *password = NULL;
	int64_t id = 0;
	json_t *detail = NULL;
	aclm_status st;
	int rc = user_parse(ctx, argc, argv, "add", "role password-file format", true, &a);

	if (rc >= 0)
		return rc;
	if (a.role == NULL)
		return cli_usage_error(usage_user, "user add: --role is required (viewer, auditor, "
						   "operator or admin)");
	if (auth_role_parse(a.role, &role, &err) != ACLM_OK)
		return cli_usage_error(usage_user, "--role %s", err.msg);
	st = a.password_file != NULL ? cli_read_secret(a.password_file, &password, &err) : ACLM_OK;
	if (st == ACLM_OK)
		st = cli_open(ctx, &err);
	if (st == ACLM_OK)
		st = store_begin(ctx->store, &err);
	if (st == ACLM_OK) {
		st = auth_user_add(ctx->store, ctx->inv.tenant_id, a.name, role, password, &id, &err);
		detail = json_pack("{s:s, s:b}", "role", auth_role_name(role), "has_password",
				   password != NULL);
		st = audited_end(ctx, st, "user.add", a.name, detail, &err);
	}
	cli_secret_free(password);
	json_decref(detail);
	if (st != ACLM_OK)
		return cli_fail(&err);
	if (strcmp(a.format, "json") == 0) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "name", a.name,
				      "role", auth_role_name(role), "tenant", ctx->tenant);

		aclm_json_print(stdout, o, true);
		json_decref(o);
	} else {
		printf("%s\n", a.name);
		aclm_log_note("user %s (%s) added to tenant %s%s", a.name, auth_role_name(role),
			      ctx->tenant, a.password_file == NULL ? ", without a password" : "");
	}
	return CLI_EXIT_OK;
}

static int list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a = { 0 };
	struct aclm_err err = { 0 };
	json_t *list = NULL, *u;
	size_t i;
	int rc = user_parse(ctx, argc, argv, "list", "format", false, &a);

	if (rc >= 0)
		return rc;
	if (cli_open(ctx, &err) != ACLM_OK ||
	    auth_user_list(ctx->store, ctx->inv.tenant_id, &list, &err) != ACLM_OK)
		return cli_fail(&err);
	if (strcmp(a.format, "json") == 0) {
		aclm_json_print(stdout, list, true);
	} else {
		printf("%-24s %-9s %-8s %-8s %s\n", "NAME", "ROLE", "PASSWORD", "DISABLED", "CREATED");
		json_array_foreach(list, i, u)
			printf("%-24s %-9s %-8s %-8s %s\n", aclm_json_str(u, "name"),
			       aclm_json_str(u, "role"), aclm_json_bool(u, "has_password") ? "yes" : "no",
			       aclm_json_bool(u, "disabled") ? "yes" : "no",
			       aclm_json_str(u, "created_at"));
	}
	json_decref(list);
	return CLI_EXIT_OK;
}

static int passwd_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a = { 0 };
	struct aclm_err err = { 0 };
	char *password = NULL;
	aclm_status st;
	int rc = user_parse(ctx, argc, argv, "passwd", "password-file", true, &a);

	if (rc >= 0)
		return rc;
	if (a.password_file == NULL)
		return cli_usage_error(usage_user, "user passwd: --password-file FILE|- is required");
	st = cli_read_secret(a.password_file, &password, &err);
	if (st == ACLM_OK)
		st = cli_open(ctx, &err);
	if (st == ACLM_OK)
		st = store_begin(ctx->store, &err);
	if (st == ACLM_OK)
		st = audited_end(ctx,
				 auth_user_passwd(ctx->store, ctx->inv.tenant_id, a.name, password,
						  &err),
				 "user.passwd", a.name, NULL, &err);
	cli_secret_free(password);
	if (st != ACLM_OK)
		return cli_fail(&err);
	aclm_log_note("password of %s changed", a.name);
	return CLI_EXIT_OK;
}

static int rm_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct user_args a = { 0 };
	struct aclm_err err = { 0 };
	aclm_status st;
	int rc = user_parse(ctx, argc, argv, "rm", "", true, &a);

	if (rc >= 0)
		return rc;
	st = cli_open(ctx, &err);
	if (st == ACLM_OK)
		st = store_begin(ctx->store, &err);
	if (st == ACLM_OK)
		st = audited_end(ctx, auth_user_rm(ctx->store, ctx->inv.tenant_id, a.name, &err),
				 "user.rm", a.name, NULL, &err);
	if (st != ACLM_OK)
		return cli_fail(&err);
	aclm_log_note("user %s removed, with its tokens and sessions", a.name);
	return CLI_EXIT_OK;
}

int cli_cmd_user(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(usage_user, "user: give a subcommand (add, list, passwd, rm)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(usage_user);
	if (strcmp(argv[1], "add") == 0)
		return add_cmd(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return list_cmd(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "passwd") == 0)
		return passwd_cmd(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "rm") == 0)
		return rm_cmd(ctx, argc - 1, argv + 1);
	return cli_usage_error(usage_user, "user: unknown subcommand '%s' (add, list, passwd, rm)",
			       argv[1]);
}
