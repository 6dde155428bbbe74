/* aclm token create|list|revoke: API tokens of a tenant (auth/ does the
 * work; each change is audited here with the CLI's actor). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "store/store_auth.h"

static const char usage_token[] =
	"Usage: aclm token create --name NAME --role ROLE [--user USER] [--scope api|metrics]\n"
	"                         [--expires DURATION] [--out FILE] [--format text|json]\n"
	"       aclm token list [--format text|json]\n"
	"       aclm token revoke ID\n"
	"\n"
	"API tokens of the tenant (--tenant; default \"default\") for `aclm serve`: sent as\n"
	"\"Authorization: Bearer aclm_...\".\n"
	"\n"
	"  create   makes a token and prints it ONCE (only its SHA-256 is stored): keep it.\n"
	"           --out FILE writes it to FILE (mode 0600) instead and prints the id.\n"
	"           ROLE: viewer, auditor, operator, admin. --user ties the token to a user\n"
	"           of the tenant: it dies with the user and never exceeds the user's role.\n"
	"           --scope metrics: the token only reads /metrics (default api).\n"
	"           --expires: lifetime such as 90d, 12h, 30m (default: no expiry).\n"
	"  list     the tokens: id, name, role, scope, user, expiry, last use, revocation\n"
	"  revoke   revokes the token with that ID (the 16 hex digits after \"aclm_\")\n"
	"\n"
	"Example:\n"
	"  aclm token create --name ci --role operator --expires 90d --out ci.token\n";

enum { OPT_NAME = CLI_OPT_FIRST_COMMAND_OPT, OPT_ROLE, OPT_USER, OPT_SCOPE, OPT_EXPIRES, OPT_OUT,
       OPT_FORMAT };

static const struct option token_opts[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "expires", required_argument, NULL, OPT_EXPIRES },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	CLI_GLOBAL_LONGOPTS
};

struct token_args {
	const char *name, *role, *user, *scope, *expires, *out, *format, *id;
};

/* Parses the options `allowed` names and the ID when `with_id`. Returns -1
 * to go on, else an exit code. */
static int token_parse(struct cli_ctx *ctx, int argc, char **argv, const char *sub,
		       const char *allowed, bool with_id, struct token_args *a)
{
	int c, rc;

	a->format = "text";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, token_opts, NULL)) != -1) {
		const char *opt = NULL;

		for (size_t i = 0; token_opts[i].name != NULL; i++)
			if (token_opts[i].val == c)
				opt = token_opts[i].name;
		if (c >= CLI_OPT_FIRST_COMMAND_OPT && strstr(allowed, opt) == NULL)
			return cli_usage_error(usage_token, "token %s: --%s does not apply", sub, opt);
		switch (c) {
		case OPT_NAME: a->name = optarg; break;
		case OPT_ROLE: a->role = optarg; break;
		case OPT_USER: a->user = optarg; break;
		case OPT_SCOPE: a->scope = optarg; break;
		case OPT_EXPIRES: a->expires = optarg; break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_FORMAT: a->format = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_token)) >= 0)
				return rc;
		}
	}
	if (!cli_format_ok(a->format, "text|json"))
		return cli_usage_error(usage_token, "--format %s: expected text or json", a->format);
	if (with_id && optind < argc)
		a->id = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage_token, "token %s: unexpected argument '%s'", sub,
				       argv[optind]);
	if (with_id && a->id == NULL)
		return cli_usage_error(usage_token, "token %s: give the token's ID", sub);
	return -1;
}

/* The options of create into req; returns -1 to go on, else an exit code. */
static int create_req(const struct token_args *a, struct auth_token_req *req)
{
	struct aclm_err err = { 0 };
	int64_t ttl = 0;

	if (a->name == NULL || a->role == NULL)
		return cli_usage_error(usage_token, "token create: --name and --role are required");
	req->name = a->name;
	if (auth_role_parse(a->role, &req->role, &err) != ACLM_OK)
		return cli_usage_error(usage_token, "--role: %s", err.msg);
	if (a->scope == NULL || strcmp(a->scope, "api") == 0)
		req->scope = AUTH_SCOPE_API;
	else if (strcmp(a->scope, "metrics") == 0)
		req->scope = AUTH_SCOPE_METRICS;
	else
		return cli_usage_error(usage_token, "--scope %s: expected api or metrics", a->scope);
	if (a->expires != NULL && aclm_duration_parse(a->expires, &ttl) != ACLM_OK)
		return cli_usage_error(usage_token, "--expires %s: expected a duration such as 90d, "
						    "12h, 30m or 45s", a->expires);
	req->expires_at = ttl > 0 ? aclm_time_now() + ttl : 0;
	return -1;
}

/* The token line into FILE, 0600, written atomically. */
static aclm_status write_token(const char *path, const char *token, struct aclm_err *err)
{
	char line[AUTH_TOKEN_MAX + 2];
	int n = snprintf(line, sizeof(line), "%s\n", token);
	aclm_status st = aclm_fs_write_atomic(path, line, (size_t)n, 0600, err);

	OPENSSL_cleanse(line, sizeof(line));
	return st;
}

static void print_created(const struct cli_ctx *ctx, const struct token_args *a,
			  const struct auth_token_req *req, const char *token, const char *id)
{
	char ts[ACLM_TIME_RFC3339_LEN];

	if (strcmp(a->format, "json") == 0) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:s*, s:s*}", "id", id,
				      "name", req->name, "role", auth_role_name(req->role), "scope",
				      auth_scope_name(req->scope), "user", a->user, "expires_at",
				      req->expires_at != 0 ? aclm_time_fmt(req->expires_at, ts) : NULL,
				      "tenant", ctx->tenant, "token", a->out == NULL ? token : NULL,
				      "token_file", a->out);

		aclm_json_print(stdout, o, true);
		json_decref(o);
	} else if (a->out != NULL) {
		printf("%s\n", id);
		aclm_log_note("token %s written to %s (mode 0600)", id, a->out);
	} else {
		printf("%s\n", token);
		aclm_log_note("token %s: shown once, only its hash is stored", id);
	}
}

static int create_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct token_args a = { 0 };
	struct auth_token_req req = { 0 };
	struct store_user u = { 0 };
	struct aclm_err err = { 0 };
	char token[AUTH_TOKEN_MAX] = "", id[32] = "";
	json_t *detail = NULL;
	aclm_status st;
	int rc = token_parse(ctx, argc, argv, "create", "name role user scope expires out format",
			     false, &a);

	if (rc < 0)
		rc = create_req(&a, &req);
	if (rc >= 0)
		return rc;
	st = cli_open(ctx, &err);
	req.tenant_id = ctx->inv.tenant_id;
	if (st == ACLM_OK)
		st = store_begin(ctx->store, &err);
	if (st != ACLM_OK)
		return cli_fail(&err);
	if (a.user != NULL) {
		st = store_user_get(ctx->store, req.tenant_id, a.user, &u, &err);
		req.user_id = u.id;
	}
	if (st == ACLM_OK)
		st = auth_token_create(ctx->store, &req, token, id, &err);
	if (st == ACLM_OK) {
		detail = json_pack("{s:s, s:s, s:s, s:s?}", "name", req.name, "role",
				   auth_role_name(req.role), "scope", auth_scope_name(req.scope),
				   "user", a.user);
		st = inventory_audit(&ctx->inv, "token.create", id, detail, &err);
	}
	/* The file before the commit: a token nobody can read is not made. */
	if (st == ACLM_OK && a.out != NULL)
		st = write_token(a.out, token, &err);
	if (st == ACLM_OK)
		st = store_commit(ctx->store, &err);
	if (st != ACLM_OK)
		store_rollback(ctx->store);
	else
		print_created(ctx, &a, &req, token, id);
	json_decref(detail);
	OPENSSL_cleanse(token, sizeof(token));
	return st == ACLM_OK ? CLI_EXIT_OK : cli_fail(&err);
}

static const char *when(const json_t *o, const char *key, const char *none)
{
	const char *s = aclm_json_str(o, key);

	return s != NULL ? s : none;
}

static int list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct token_args a = { 0 };
	struct aclm_err err = { 0 };
	json_t *list = NULL, *t;
	size_t i;
	int rc = token_parse(ctx, argc, argv, "list", "format", false, &a);

	if (rc >= 0)
		return rc;
	if (cli_open(ctx, &err) != ACLM_OK ||
	    auth_token_list(ctx->store, ctx->inv.tenant_id, &list, &err) != ACLM_OK)
		return cli_fail(&err);
	if (strcmp(a.format, "json") == 0) {
		aclm_json_print(stdout, list, true);
	} else {
		printf("%-16s %-16s %-8s %-7s %-12s %-20s %-20s %s\n", "ID", "NAME", "ROLE", "SCOPE",
		       "USER", "EXPIRES", "LAST USED", "REVOKED");
		json_array_foreach(list, i, t)
			printf("%-16s %-16s %-8s %-7s %-12s %-20s %-20s %s\n",
			       aclm_json_str(t, "id"), aclm_json_str(t, "name"),
			       aclm_json_str(t, "role"), aclm_json_str(t, "scope"),
			       when(t, "user", "-"), when(t, "expires_at", "never"),
			       when(t, "last_used_at", "never"), when(t, "revoked_at", "-"));
	}
	json_decref(list);
	return CLI_EXIT_OK;
}

static int revoke_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct token_args a = { 0 };
	struct aclm_err err = { 0 };
	aclm_status st;
	int rc = token_parse(ctx, argc, argv, "revoke", "", true, &a);

	if (rc >= 0)
		return rc;
	st = cli_open(ctx, &err);
	if (st == ACLM_OK)
		st = store_begin(ctx->store, &err);
	if (st != ACLM_OK)
		return cli_fail(&err);
	st = auth_token_revoke(ctx->store, ctx->inv.tenant_id, a.id, aclm_time_now(), &err);
	if (st == ACLM_OK)
		st = inventory_audit(&ctx->inv, "token.revoke", a.id, NULL, &err);
	if (st == ACLM_OK)
		st = store_commit(ctx->store, &err);
	if (st != ACLM_OK) {
		store_rollback(ctx->store);
		return cli_fail(&err);
	}
	aclm_log_note("token %s revoked", a.id);
	return CLI_EXIT_OK;
}

int cli_cmd_token(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(usage_token, "token: give a subcommand (create, list, revoke)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(usage_token);
	if (strcmp(argv[1], "create") == 0)
		return create_cmd(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return list_cmd(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return revoke_cmd(ctx, argc - 1, argv + 1);
	return cli_usage_error(usage_token, "token: unknown subcommand '%s' (create, list, revoke)",
			       argv[1]);
}
