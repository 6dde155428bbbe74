/* aclm cert import */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/log.h"

static const char usage_import[] =
	"Usage: aclm cert import PATH... [OPTIONS]\n"
	"\n"
	"Adds the certificates in files and folders (recursively) to the inventory:\n"
	"PEM bundles (certificates and a private key in any order), DER, PKCS#12\n"
	"(including legacy RC2/3DES files). Private keys are sealed into the keystore\n"
	"and attached to their certificates. Re-importing is harmless: rows are keyed\n"
	"by SHA-256 fingerprint. Each file is one transaction: a bad file changes\n"
	"nothing and the others are still imported (exit status 1).\n"
	"\n"
	"Options:\n"
	"  --password-file FILE  password for PKCS#12 and encrypted keys (- = stdin)\n"
	"  --tag KEY=VALUE       tag every imported certificate (repeatable)\n"
	"  --owner TEXT          set the owner of every imported certificate\n"
	"  --format text|json    output format (default text)\n"
	"\n"
	"Examples:\n"
	"  aclm cert import /etc/letsencrypt/live\n"
	"  aclm cert import server.p12 --password-file pw.txt --tag env=prod\n";

struct import_out {
	bool json;
	bool first;
	int added, present, failed, skipped;
};

static void print_result(const struct inventory_file_result *r, void *arg)
{
	struct import_out *out = arg;

	switch (r->status) {
	case INVENTORY_FILE_ADDED: out->added++; break;
	case INVENTORY_FILE_PRESENT: out->present++; break;
	case INVENTORY_FILE_FAILED: out->failed++; break;
	case INVENTORY_FILE_SKIPPED: out->skipped++; break;
	}
	if (out->json) {
		json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:s?, s:O}", "file", r->path,
				      "status", inventory_file_status_name(r->status), "added",
				      r->added, "present", r->present, "keys", r->keys, "error",
				      r->status == INVENTORY_FILE_FAILED ? r->err.msg : NULL,
				      "certificates", r->certs);

		fputs(out->first ? "[\n" : ",\n", stdout);
		out->first = false;
		json_dumpf(o, stdout, JSON_COMPACT);
		json_decref(o);
		return;
	}
	switch (r->status) {
	case INVENTORY_FILE_ADDED:
		printf("added    %s (%d certificate%s, %d key%s)\n", r->path, r->added + r->present,
		       r->added + r->present == 1 ? "" : "s", r->keys, r->keys == 1 ? "" : "s");
		break;
	case INVENTORY_FILE_PRESENT:
		printf("present  %s (%d certificate%s)\n", r->path, r->present,
		       r->present == 1 ? "" : "s");
		break;
	case INVENTORY_FILE_FAILED:
		printf("failed   %s\n", r->err.msg);
		break;
	case INVENTORY_FILE_SKIPPED:
		printf("skipped  %s: not a certificate file\n", r->path);
		break;
	}
	fflush(stdout);
}

/* --tag KEY=VALUE into the tags object. */
static bool add_tag(json_t *tags, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *key;
	bool ok;

	if (eq == NULL || eq == kv)
		return false;
	key = strndup(kv, (size_t)(eq - kv));
	ok = key != NULL && json_object_set_new(tags, key, json_string(eq + 1)) == 0;
	free(key);
	return ok;
}

int cli_cert_import(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_PASSWORD_FILE = CLI_OPT_FIRST_COMMAND_OPT, OPT_TAG, OPT_OWNER, OPT_FORMAT };
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "owner", required_argument, NULL, OPT_OWNER },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS
	};
	struct inventory_import_opts io = { 0 };
	struct import_out out = { .first = true };
	const char *password_file = NULL, *format = "text";
	struct aclm_err err = { 0 };
	json_t *tags = json_object();
	char *password = NULL;
	int c, rc = CLI_EXIT_OK;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_PASSWORD_FILE: password_file = optarg; break;
		case OPT_OWNER: io.owner = optarg; break;
		case OPT_FORMAT: format = optarg; break;
		case OPT_TAG:
			if (!add_tag(tags, optarg)) {
				rc = cli_usage_error(usage_import, "--tag %s: expected KEY=VALUE", optarg);
				goto out;
			}
			break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_import)) >= 0)
				goto out;
			rc = CLI_EXIT_OK;
		}
	}
	if (!cli_format_ok(format, "text|json")) {
		rc = cli_usage_error(usage_import, "--format %s: expected text or json", format);
		goto out;
	}
	if (optind >= argc) {
		rc = cli_usage_error(usage_import, "cert import: give at least one file or folder");
		goto out;
	}
	if (password_file != NULL && cli_read_secret(password_file, &password, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	if (cli_open(ctx, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	io.password = password;
	io.tags = tags;
	out.json = strcmp(format, "json") == 0;
	for (int i = optind; i < argc; i++)
		if (inventory_import_path(&ctx->inv, argv[i], &io, print_result, &out) != ACLM_OK)
			rc = CLI_EXIT_FAIL;
	if (out.json)
		fputs(out.first ? "[]\n" : "\n]\n", stdout);
	{
		int files = out.added + out.present + out.failed;
		char skipped[32] = "";

		if (out.skipped > 0)
			snprintf(skipped, sizeof(skipped), ", %d skipped", out.skipped);
		aclm_log_note("imported %d file%s: %d added, %d already present, %d failed%s", files,
			      files == 1 ? "" : "s", out.added, out.present, out.failed, skipped);
	}
out:
	cli_secret_free(password);
	json_decref(tags);
	return rc;
}
