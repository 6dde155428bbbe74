/* aclm target add|list|show|rm: where certificates are deployed (the
 * options are checked by the target type in deploy/, stored in store/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "deploy/deploy.h"
#include "store/store_deploy.h"

static const char usage_target[] =
	"Usage: aclm target add NAME --type TYPE [TYPE OPTIONS] [--verify HOST:PORT[/SNI]]...\n"
	"       aclm target list [--format text|json]\n"
	"       aclm target show NAME [--format text|json]\n"
	"       aclm target rm NAME\n"
	"\n"
	"A target is a place a certificate is deployed to (aclm deploy, aclm bind).\n"
	"TYPE is file, nginx, apache, haproxy, ssh or webhook.\n"
	"\n"
	"Files (file, nginx, apache; haproxy writes its PEM at --crt):\n"
	"  --cert-path P, --chain-path P, --fullchain-path P, --key-path P\n"
	"  --combined-path P    leaf + chain + key in one PEM (what HAProxy reads)\n"
	"  --p12-path P         PKCS#12 (--p12-password-file F; default: empty password)\n"
	"  --owner USER, --group GROUP, --mode OCTAL   (default 0644, 0600 for files\n"
	"                       holding the key)\n"
	"Commands (split into words like a shell does, quotes honoured; no shell runs them):\n"
	"  --test-cmd CMD       nginx: default \"nginx -t\"; apache: \"apachectl configtest\"\n"
	"  --reload-cmd CMD     nginx: default \"nginx -s reload\"; apache: \"apachectl\n"
	"                       graceful\"; file: optional\n"
	"haproxy: --socket PATH (stats socket, level admin), --crt PATH (the certificate\n"
	"         path as named in haproxy's configuration): swapped live over the\n"
	"         runtime API, no reload\n"
	"ssh:     --host H, --port N, --user U, --identity KEYFILE, --known-hosts FILE,\n"
	"         --jump HOST\n"
	"webhook: --url URL, --secret FILE\n"
	"Any type: --option KEY=VALUE sets another option of the type.\n"
	"\n"
	"  --verify HOST:PORT[/SNI]   after each deploy a TLS connection there must serve\n"
	"                       the deployed certificate, else the previous one is put\n"
	"                       back (repeatable)\n"
	"\n"
	"Examples:\n"
	"  aclm target add web1 --type nginx --fullchain-path /etc/nginx/tls/site.pem \\\n"
	"       --key-path /etc/nginx/tls/site.key --verify 127.0.0.1:443/www.example.com\n"
	"  aclm target add lb --type haproxy --socket /run/haproxy/admin.sock \\\n"
	"       --crt /etc/haproxy/certs/site.pem --verify 127.0.0.1:443/www.example.com\n";

enum { OPT_TYPE = CLI_OPT_FIRST_COMMAND_OPT, OPT_VERIFY, OPT_FORMAT, OPT_OPTION, OPT_TYPE_OPTION };

/* Type options: the flag is the option name with '-' for '_'. */
static const struct option target_opts[] = {
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "verify", required_argument, NULL, OPT_VERIFY },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "option", required_argument, NULL, OPT_OPTION },
	{ "cert-path", required_argument, NULL, OPT_TYPE_OPTION },
	{ "chain-path", required_argument, NULL, OPT_TYPE_OPTION },
	{ "fullchain-path", required_argument, NULL, OPT_TYPE_OPTION },
	{ "key-path", required_argument, NULL, OPT_TYPE_OPTION },
	{ "combined-path", required_argument, NULL, OPT_TYPE_OPTION },
	{ "p12-path", required_argument, NULL, OPT_TYPE_OPTION },
	{ "p12-password-file", required_argument, NULL, OPT_TYPE_OPTION },
	{ "owner", required_argument, NULL, OPT_TYPE_OPTION },
	{ "group", required_argument, NULL, OPT_TYPE_OPTION },
	{ "mode", required_argument, NULL, OPT_TYPE_OPTION },
	{ "test-cmd", required_argument, NULL, OPT_TYPE_OPTION },
	{ "reload-cmd", required_argument, NULL, OPT_TYPE_OPTION },
	{ "socket", required_argument, NULL, OPT_TYPE_OPTION },
	{ "crt", required_argument, NULL, OPT_TYPE_OPTION },
	{ "host", required_argument, NULL, OPT_TYPE_OPTION },
	{ "port", required_argument, NULL, OPT_TYPE_OPTION },
	{ "user", required_argument, NULL, OPT_TYPE_OPTION },
	{ "identity", required_argument, NULL, OPT_TYPE_OPTION },
	{ "known-hosts", required_argument, NULL, OPT_TYPE_OPTION },
	{ "jump", required_argument, NULL, OPT_TYPE_OPTION },
	{ "url", required_argument, NULL, OPT_TYPE_OPTION },
	{ "secret", required_argument, NULL, OPT_TYPE_OPTION },
	CLI_GLOBAL_LONGOPTS
};

struct target_args {
	const char *type, *format, *name;
	json_t *options, *verify;
};

/* "--fullchain-path" -> "fullchain_path"; port as a number. */
static int add_type_option(struct target_args *a, const char *flag, const char *value)
{
	char key[64];
	size_t i;

	for (i = 0; flag[i] != '\0' && i + 1 < sizeof(key); i++)
		key[i] = flag[i] == '-' ? '_' : flag[i];
	key[i] = '\0';
	if (json_object_get(a->options, key) != NULL)
		return cli_usage_error(usage_target, "--%s given twice", flag);
	if (strcmp(key, "port") == 0) {
		char *end = NULL;
		long port = strtol(value, &end, 10);

		if (*end != '\0' || port < 1 || port > 65535)
			return cli_usage_error(usage_target, "--port %s: expected 1-65535", value);
		json_object_set_new(a->options, key, json_integer(port));
	} else {
		json_object_set_new(a->options, key, json_string(value));
	}
	return -1;
}

/* --option KEY=VALUE: an option of the type the flags above do not name. */
static int add_option_kv(struct target_args *a, const char *arg, const char *eq)
{
	char key[64];

	if ((size_t)(eq - arg) >= sizeof(key))
		return cli_usage_error(usage_target, "--option %s: key too long", arg);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	json_object_set_new(a->options, key, json_string(eq + 1));
	return -1;
}

static int target_parse(struct cli_ctx *ctx, int argc, char **argv, bool add, bool named,
			struct target_args *a)
{
	int c, idx, rc;

	a->format = "text";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, target_opts, &idx)) != -1) {
		const char *eq;

		if (!add && (c == OPT_TYPE || c == OPT_VERIFY || c == OPT_OPTION || c == OPT_TYPE_OPTION))
			return cli_usage_error(usage_target, "target %s: --%s applies to target add",
					       argv[0], target_opts[idx].name);
		switch (c) {
		case OPT_TYPE: a->type = optarg; break;
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_VERIFY: json_array_append_new(a->verify, json_string(optarg)); break;
		case OPT_TYPE_OPTION:
			if ((rc = add_type_option(a, target_opts[idx].name, optarg)) >= 0)
				return rc;
			break;
		case OPT_OPTION:
			eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg)
				return cli_usage_error(usage_target, "--option %s: expected KEY=VALUE", optarg);
			if ((rc = add_option_kv(a, optarg, eq)) >= 0)
				return rc;
			break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_target)) >= 0)
				return rc;
		}
	}
	if (!cli_format_ok(a->format, "text|json"))
		return cli_usage_error(usage_target, "--format %s: expected text or json", a->format);
	if (named && optind < argc)
		a->name = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage_target, "target %s: unexpected argument '%s'", argv[0],
				       argv[optind]);
	if (named && a->name == NULL)
		return cli_usage_error(usage_target, "target %s: give the target's name", argv[0]);
	return -1;
}

static json_t *target_json(const struct store_target *t)
{
	return json_pack("{s:s, s:s, s:O, s:O, s:I, s:I}", "name", t->name, "type", t->type,
			 "options", t->options, "verify", t->verify, "created_at",
			 (json_int_t)t->created_at, "updated_at", (json_int_t)t->updated_at);
}

static void print_target(const struct store_target *t)
{
	const char *key;
	json_t *v;
	size_t i;

	printf("name:     %s\ntype:     %s\n", t->name, t->type);
	json_object_foreach(t->options, key, v) {
		if (json_is_integer(v))
			printf("%-9s %lld\n", key, (long long)json_integer_value(v));
		else
			printf("%-9s %s\n", key, json_string_value(v));
	}
	json_array_foreach(t->verify, i, v)
		printf("verify:   %s\n", json_string_value(v));
}

static int add_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct target_args a = { .options = json_object(), .verify = json_array() };
	struct aclm_err err = { 0 };
	const struct deploy_type_ops *ops;
	struct store_target t = { 0 };
	json_t *v, *audit = NULL;
	size_t i;
	int rc = target_parse(ctx, argc, argv, true, true, &a);

	if (rc >= 0)
		goto out;
	if (a.type == NULL) {
		rc = cli_usage_error(usage_target, "target add: give --type %s", deploy_type_names);
		goto out;
	}
	if ((ops = deploy_type_find(a.type)) == NULL) {
		rc = cli_usage_error(usage_target, "--type %s: expected %s", a.type, deploy_type_names);
		goto out;
	}
	json_array_foreach(a.verify, i, v)
		if (deploy_verify_check(json_string_value(v), &err) != ACLM_OK)
			goto fail;
	if (ops->check != NULL && ops->check(a.options, &err) != ACLM_OK) {
		aclm_err_prefix(&err, "target %s", a.name);
		goto fail;
	}
	if (cli_open(ctx, &err) != ACLM_OK)
		goto fail;
	t = (struct store_target){ .tenant_id = ctx->inv.tenant_id, .name = (char *)a.name,
				   .type = (char *)a.type, .options = a.options, .verify = a.verify,
				   .created_at = aclm_time_now() };
	audit = json_pack("{s:s, s:O, s:O}", "type", a.type, "options", a.options, "verify", a.verify);
	if (store_target_put(ctx->store, &t, &t.id, &err) != ACLM_OK ||
	    inventory_audit(&ctx->inv, "target.add", a.name, audit, &err) != ACLM_OK)
		goto fail;
	if (strcmp(a.format, "json") == 0) {
		json_t *o = target_json(&t);

		aclm_json_print(stdout, o, true);
		json_decref(o);
	} else {
		printf("target %s added (%s)\n", a.name, a.type);
		if (json_array_size(a.verify) == 0)
			aclm_log_note("target %s has no --verify endpoint: deploys to it are not "
				      "checked by a TLS connection", a.name);
	}
	rc = CLI_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	json_decref(audit);
	json_decref(a.options);
	json_decref(a.verify);
	return rc;
}

static aclm_status list_one(const struct store_target *t, void *arg)
{
	json_t *o = target_json(t);

	if (o == NULL || json_array_append_new(arg, o) != 0)
		return ACLM_ERR_NOMEM;
	return ACLM_OK;
}

static int list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct target_args a = { .options = json_object(), .verify = json_array() };
	struct aclm_err err = { 0 };
	json_t *list = json_array(), *o, *v;
	size_t i, j;
	int rc = target_parse(ctx, argc, argv, false, false, &a);

	if (rc >= 0)
		goto out;
	if (cli_open(ctx, &err) != ACLM_OK ||
	    store_target_list(ctx->store, ctx->inv.tenant_id, list_one, list, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	if (strcmp(a.format, "json") == 0) {
		aclm_json_print(stdout, list, true);
	} else {
		printf("%-24s %-8s %s\n", "NAME", "TYPE", "VERIFY");
		json_array_foreach(list, i, o) {
			printf("%-24s %-8s", aclm_json_str(o, "name"), aclm_json_str(o, "type"));
			json_array_foreach(json_object_get(o, "verify"), j, v)
				printf(" %s", json_string_value(v));
			printf("%s\n", json_array_size(json_object_get(o, "verify")) == 0 ? " -" : "");
		}
	}
	rc = CLI_EXIT_OK;
out:
	json_decref(list);
	json_decref(a.options);
	json_decref(a.verify);
	return rc;
}

static int show_rm_cmd(struct cli_ctx *ctx, int argc, char **argv, bool rm)
{
	struct target_args a = { .options = json_object(), .verify = json_array() };
	struct aclm_err err = { 0 };
	struct store_target *t = NULL;
	int rc = target_parse(ctx, argc, argv, false, true, &a);

	if (rc >= 0)
		goto out;
	if (cli_open(ctx, &err) != ACLM_OK)
		goto fail;
	if (rm) {
		if (store_target_delete(ctx->store, ctx->inv.tenant_id, a.name, &err) != ACLM_OK ||
		    inventory_audit(&ctx->inv, "target.rm", a.name, NULL, &err) != ACLM_OK)
			goto fail;
		aclm_log_note("target %s removed", a.name);
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (store_target_get(ctx->store, ctx->inv.tenant_id, a.name, &t, &err) != ACLM_OK)
		goto fail;
	if (strcmp(a.format, "json") == 0) {
		json_t *o = target_json(t);

		aclm_json_print(stdout, o, true);
		json_decref(o);
	} else {
		print_target(t);
	}
	rc = CLI_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	store_target_free(t);
	json_decref(a.options);
	json_decref(a.verify);
	return rc;
}

int cli_cmd_target(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(usage_target, "target: give a subcommand: add, list, show, rm");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return cli_help(usage_target);
	if (strcmp(argv[1], "add") == 0)
		return add_cmd(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return list_cmd(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return show_rm_cmd(ctx, argc - 1, argv + 1, false);
	if (strcmp(argv[1], "rm") == 0)
		return show_rm_cmd(ctx, argc - 1, argv + 1, true);
	return cli_usage_error(usage_target, "target %s: unknown subcommand (add, list, show, rm)",
			       argv[1]);
}
