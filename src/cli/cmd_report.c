/* aclm report summary, aclm backup, aclm audit verify, aclm config show */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

static const char usage_report[] =
	"Usage: aclm report summary [--format text|json]\n"
	"\n"
	"Counts the tenant's certificates by expiry window (expired, < 7 days,\n"
	"< 30 days, < 90 days, later), by issuer, key type and signature algorithm.\n";

static const char usage_backup[] =
	"Usage: aclm backup --out FILE\n"
	"\n"
	"Writes a consistent copy of the database while aclm is in use (SQLite backup\n"
	"API). Refuses to overwrite FILE. The master key is not in the copy: keep\n"
	"HOME/master.key (or ACLM_MASTER_KEY) safe separately.\n";

static const char usage_audit[] =
	"Usage: aclm audit verify\n"
	"\n"
	"Re-computes the audit log's hash chain and names the first altered event.\n";

static const char usage_config[] =
	"Usage: aclm config show [--format text|json]\n"
	"\n"
	"Prints every configuration key with its value and origin (flag, environment,\n"
	"file or default). Keys can be set in HOME/aclm.conf as\n"
	"  [section]\n  key = value\n"
	"or overridden by ACLM_SECTION_KEY environment variables.\n";

/* Options of commands whose only option is --format (or --out). */
static int parse_simple(struct cli_ctx *ctx, int argc, char **argv, const char *usage,
			const char **format, const char **out)
{
	enum { OPT_FORMAT = CLI_OPT_FIRST_COMMAND_OPT, OPT_OUT };
	static const struct option opts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "out", required_argument, NULL, OPT_OUT },
		CLI_GLOBAL_LONGOPTS
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if ((c == OPT_FORMAT && format == NULL) || (c == OPT_OUT && out == NULL))
			return cli_usage_error(usage, "%s: option not accepted here", argv[optind - 1]);
		switch (c) {
		case OPT_FORMAT: *format = optarg; break;
		case OPT_OUT: *out = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage)) >= 0)
				return rc;
		}
	}
	if (format != NULL && !cli_format_ok(*format, "text|json"))
		return cli_usage_error(usage, "--format %s: expected text or json", *format);
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	return -1;
}

#define SUMMARY_TEXT_ROWS 10 /* per breakdown in text; JSON has them all */

static void print_buckets(const char *title, const json_t *a)
{
	size_t i;
	json_t *b;

	if (json_array_size(a) == 0)
		return;
	printf("\n%s\n", title);
	json_array_foreach(a, i, b) {
		if (i == SUMMARY_TEXT_ROWS) {
			printf("  %8s  … %zu more (--format json lists them)\n", "",
			       json_array_size(a) - i);
			break;
		}
		printf("  %8lld  %s\n", (long long)aclm_json_int(b, "count", 0), aclm_json_str(b, "name"));
	}
}

static void print_summary(const json_t *s)
{
	json_t *e = json_object_get(s, "expiry");

	printf("Inventory of tenant %s at %s: %lld certificates\n", aclm_json_str(s, "tenant"),
	       aclm_json_str(s, "at"), (long long)aclm_json_int(s, "total", 0));
	printf("\nBy expiry\n");
	printf("  %8lld  expired\n", (long long)aclm_json_int(e, "expired", 0));
	printf("  %8lld  expire within 7 days\n", (long long)aclm_json_int(e, "lt7", 0));
	printf("  %8lld  expire in 7 to 30 days\n", (long long)aclm_json_int(e, "lt30", 0));
	printf("  %8lld  expire in 30 to 90 days\n", (long long)aclm_json_int(e, "lt90", 0));
	printf("  %8lld  expire later\n", (long long)aclm_json_int(e, "later", 0));
	print_buckets("By issuer", json_object_get(s, "issuers"));
	print_buckets("By key type", json_object_get(s, "key_types"));
	print_buckets("By signature algorithm", json_object_get(s, "signature_algorithms"));
}

int cli_cmd_report(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *format = "text";
	struct aclm_err err = { 0 };
	json_t *s = NULL;
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cli_help(usage_report);
	if (argc < 2 || strcmp(argv[1], "summary") != 0)
		return cli_usage_error(usage_report, "report: give a report name (summary)");
	rc = parse_simple(ctx, argc - 1, argv + 1, usage_report, &format, NULL);
	if (rc >= 0)
		return rc;
	if (cli_open(ctx, &err) != ACLM_OK ||
	    inventory_summary(&ctx->inv, aclm_time_now(), &s, &err) != ACLM_OK)
		return cli_fail(&err);
	if (strcmp(format, "json") == 0)
		aclm_json_print(stdout, s, true);
	else
		print_summary(s);
	json_decref(s);
	return CLI_EXIT_OK;
}

int cli_cmd_backup(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *out = NULL;
	struct aclm_err err = { 0 };
	int rc = parse_simple(ctx, argc, argv, usage_backup, NULL, &out);

	if (rc >= 0)
		return rc;
	if (out == NULL)
		return cli_usage_error(usage_backup, "backup: --out FILE is required");
	if (cli_open(ctx, &err) != ACLM_OK || store_backup(ctx->store, out, &err) != ACLM_OK)
		return cli_fail(&err);
	aclm_log_note("database copied to %s", out);
	return CLI_EXIT_OK;
}

int cli_cmd_audit(struct cli_ctx *ctx, int argc, char **argv)
{
	struct aclm_err err = { 0 };
	int64_t count = 0;
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cli_help(usage_audit);
	if (argc < 2 || strcmp(argv[1], "verify") != 0)
		return cli_usage_error(usage_audit, "audit: give a subcommand (verify)");
	rc = parse_simple(ctx, argc - 1, argv + 1, usage_audit, NULL, NULL);
	if (rc >= 0)
		return rc;
	if (cli_open(ctx, &err) != ACLM_OK || store_audit_verify(ctx->store, &count, &err) != ACLM_OK)
		return cli_fail(&err);
	printf("audit log intact: %lld events\n", (long long)count);
	return CLI_EXIT_OK;
}

static void config_show_one(struct cli_ctx *ctx, const char *section, const char *key,
			    const char *format, json_t *all)
{
	const char *v = aclm_config_get(ctx->cfg, section, key);
	const char *origin = aclm_config_origin_name(aclm_config_origin(ctx->cfg, section, key));
	char name[256], env[256], where[300];

	snprintf(name, sizeof(name), "%s.%s", section, key);
	aclm_config_env_name(section, key, env, sizeof(env));
	aclm_config_where(ctx->cfg, section, key, where, sizeof(where));
	if (strcmp(format, "json") == 0)
		json_object_set_new(all, name, json_pack("{s:s?, s:s, s:s, s:s}", "value", v, "origin",
							 origin, "where", where, "env", env));
	else
		printf("%-24s = %-30s (%s; %s)\n", name, v != NULL ? v : "", where, env);
}

int cli_cmd_config(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *format = "text";
	struct aclm_err err = { 0 };
	json_t *all;
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cli_help(usage_config);
	if (argc < 2 || strcmp(argv[1], "show") != 0)
		return cli_usage_error(usage_config, "config: give a subcommand (show)");
	rc = parse_simple(ctx, argc - 1, argv + 1, usage_config, &format, NULL);
	if (rc >= 0)
		return rc;
	if (cli_config_load(ctx, &err) != ACLM_OK)
		return cli_fail(&err);
	all = json_object();
	aclm_json_set_str(all, "home", ctx->home);
	for (const struct aclm_config_key *k = aclm_config_keys; k->section != NULL; k++) {
		const char *star = strstr(k->section, ".*");
		char cls[64];
		const char *inst;

		if (star == NULL) {
			config_show_one(ctx, k->section, k->key, format, all);
			continue;
		}
		/* a class key: shown for each instance the configuration names */
		snprintf(cls, sizeof(cls), "%.*s", (int)(star - k->section), k->section);
		for (size_t i = 0; (inst = aclm_config_instance(ctx->cfg, cls, i)) != NULL; i++) {
			char section[192];

			snprintf(section, sizeof(section), "%s.%s", cls, inst);
			config_show_one(ctx, section, k->key, format, all);
		}
	}
	if (strcmp(format, "json") == 0)
		aclm_json_print(stdout, all, true);
	else
		printf("%-24s = %s\n", "home", ctx->home);
	json_decref(all);
	return CLI_EXIT_OK;
}
