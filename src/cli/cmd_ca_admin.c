/* aclm ca eab create, ca certs, ca revoke, ca crl, ca cross-sign: the ACME
 * server's state from the command line (ca/ca_admin.c and ca/ca_cross.c do
 * the work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "client/client.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"

static const char usage_admin[] =
	"Usage: aclm ca eab create [--ca NAME] [--for-tenant T] [--allow PATTERN...]\n"
	"                          [--hmac-out FILE|-] [--format text|json]\n"
	"       aclm ca certs [--ca NAME] [--format text|json]\n"
	"       aclm ca revoke SERIAL [--ca NAME] [--reason REASON]\n"
	"       aclm ca crl [--ca NAME] [--key-type TYPE] [--out FILE]\n"
	"       aclm ca cross-sign [--ca NAME] [--key-type TYPE] --by CA [--by-key-type TYPE]\n"
	"                          [--root-key FILE] [--days N] [--format text|json]\n"
	"\n"
	"  eab create  an External Account Binding key (RFC 8555 §7.3.4) for `ca serve\n"
	"              --eab-required`: prints the key id; the HMAC key (base64url) goes to\n"
	"              --hmac-out FILE (mode 0600; default HOME/ca/eab-KID.key) or stdout with\n"
	"              \"-\". Accounts bound with it belong to tenant T (default: this tenant)\n"
	"              and may only get names matching an --allow pattern: \"*.corp.example\"\n"
	"              (names under corp.example), \"host.example\", \"10.0.0.0/8\", \"fd00::/8\".\n"
	"  certs       the certificates the ACME server issued, with their status\n"
	"  revoke      revokes an issued certificate by serial (hex, colons allowed); REASON:\n"
	"              unspecified, keyCompromise, affiliationChanged, superseded,\n"
	"              cessationOfOperation (default unspecified)\n"
	"  crl         the current CRL of one intermediate, PEM (--key-type when the CA has\n"
	"              several: p256, p384, rsa3072, rsa4096, sm2)\n"
	"  cross-sign  the root of CA --by (key type --by-key-type) signs a copy of this CA's\n"
	"              intermediate (same subject and key): its leaves then also chain to that\n"
	"              root. `ca serve` offers it as an alternate chain (Link rel=\"alternate\",\n"
	"              RFC 8555 §7.4.2; clients pick with --preferred-chain). For a move to a\n"
	"              new root that relying parties do not trust yet, or one key family's\n"
	"              leaves under another family's root. An offline root signs with\n"
	"              --root-key FILE (the file `ca init --offline-root` wrote). Valid until\n"
	"              the intermediate or the signing root ends, or --days N. Restart `ca\n"
	"              serve` to offer it.\n"
	"\n"
	"Examples:\n"
	"  aclm ca eab create --allow '*.corp.example' --hmac-out team-a.key\n"
	"  aclm ca cross-sign --ca NewCorp --by OldCorp\n";

enum { OPT_CA = CLI_OPT_FIRST_COMMAND_OPT, OPT_FOR_TENANT, OPT_ALLOW, OPT_HMAC_OUT, OPT_FORMAT,
       OPT_REASON, OPT_KEY_TYPE, OPT_OUT, OPT_BY, OPT_BY_KEY_TYPE, OPT_ROOT_KEY, OPT_DAYS };

static const struct option admin_opts[] = {
	{ "ca", required_argument, NULL, OPT_CA },
	{ "for-tenant", required_argument, NULL, OPT_FOR_TENANT },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "hmac-out", required_argument, NULL, OPT_HMAC_OUT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "reason", required_argument, NULL, OPT_REASON },
	{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "by", required_argument, NULL, OPT_BY },
	{ "by-key-type", required_argument, NULL, OPT_BY_KEY_TYPE },
	{ "root-key", required_argument, NULL, OPT_ROOT_KEY },
	{ "days", required_argument, NULL, OPT_DAYS },
	CLI_GLOBAL_LONGOPTS
};

struct admin_args {
	const char *ca, *for_tenant, *hmac_out, *format, *reason, *key_type, *out;
	const char *by, *by_key_type, *root_key, *days;
	json_t *allow;
	const char *positional;
};

/* Parses every option of the table; `allowed` lists the ones this
 * subcommand takes. Returns -1 to go on, else an exit code. */
static int admin_parse(struct cli_ctx *ctx, int argc, char **argv, const char *sub,
		       const char *allowed, bool positional, struct admin_args *a)
{
	int c, rc;

	a->format = "text";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, admin_opts, NULL)) != -1) {
		const char *name = NULL;

		for (size_t i = 0; admin_opts[i].name != NULL; i++)
			if (admin_opts[i].val == c)
				name = admin_opts[i].name;
		if (c >= CLI_OPT_FIRST_COMMAND_OPT && strstr(allowed, name) == NULL)
			return cli_usage_error(usage_admin, "ca %s: --%s does not apply", sub, name);
		switch (c) {
		case OPT_CA: a->ca = optarg; break;
		case OPT_FOR_TENANT: a->for_tenant = optarg; break;
		case OPT_ALLOW: json_array_append_new(a->allow, json_string(optarg)); break;
		case OPT_HMAC_OUT: a->hmac_out = optarg; break;
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_REASON: a->reason = optarg; break;
		case OPT_KEY_TYPE: a->key_type = optarg; break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_BY: a->by = optarg; break;
		case OPT_BY_KEY_TYPE: a->by_key_type = optarg; break;
		case OPT_ROOT_KEY: a->root_key = optarg; break;
		case OPT_DAYS: a->days = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_admin)) >= 0)
				return rc;
		}
	}
	if (!cli_format_ok(a->format, "text|json"))
		return cli_usage_error(usage_admin, "--format %s: expected text or json", a->format);
	if (positional && optind < argc)
		a->positional = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage_admin, "ca %s: unexpected argument '%s'", sub, argv[optind]);
	if (positional && a->positional == NULL)
		return cli_usage_error(usage_admin, "ca %s: give a serial", sub);
	return -1;
}

static int eab_write_key(struct cli_ctx *ctx, const struct admin_args *a, const char *kid,
			 const char *hmac, struct aclm_err *err, char **path_out)
{
	char *path = NULL, *dir = NULL, name[STORE_CA_ID_MAX + 16];
	size_t len = strlen(hmac);
	char *line = malloc(len + 2);
	aclm_status st;

	*path_out = NULL;
	if (line == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	snprintf(line, len + 2, "%s\n", hmac);
	if (a->hmac_out != NULL && strcmp(a->hmac_out, "-") == 0) {
		fputs(line, stdout);
		st = ACLM_OK;
		goto out;
	}
	if (a->hmac_out != NULL) {
		path = strdup(a->hmac_out);
	} else {
		snprintf(name, sizeof(name), "eab-%s.key", kid);
		dir = aclm_fs_join(ctx->home, "ca");
		path = dir != NULL ? aclm_fs_join(dir, name) : NULL;
	}
	st = path == NULL ? aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory")
	     : dir != NULL ? aclm_fs_mkdirs(dir, 0700, err)
			   : ACLM_OK;
	if (st == ACLM_OK)
		st = aclm_fs_write_atomic(path, line, len + 1, 0600, err);
	if (st == ACLM_OK)
		*path_out = path;
	else
		free(path);
out:
	OPENSSL_cleanse(line, len + 1);
	free(line);
	free(dir);
	return st;
}

static int eab_create_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct admin_args a = { .allow = json_array() };
	struct aclm_err err = { 0 };
	char kid[STORE_CA_ID_MAX], *hmac = NULL, *path = NULL;
	int64_t member = 0;
	int rc = admin_parse(ctx, argc, argv, "eab create", "ca for-tenant allow hmac-out format",
			     false, &a);

	if (rc >= 0)
		goto out;
	if (cli_open(ctx, &err) != ACLM_OK)
		goto fail;
	member = ctx->inv.tenant_id;
	if (a.for_tenant != NULL &&
	    store_tenant_ensure(ctx->store, a.for_tenant, &member, &err) != ACLM_OK)
		goto fail;
	if (ca_eab_create(&ctx->inv, a.ca, member, json_array_size(a.allow) > 0 ? a.allow : NULL, kid,
			  &hmac, &err) != ACLM_OK ||
	    eab_write_key(ctx, &a, kid, hmac, &err, &path) != ACLM_OK)
		goto fail;
	if (strcmp(a.format, "json") == 0) {
		json_t *o = json_pack("{s:s, s:s?, s:s, s:O}", "kid", kid, "hmac_key_file", path,
				      "tenant", a.for_tenant != NULL ? a.for_tenant : ctx->tenant,
				      "allow", a.allow);

		aclm_json_print(stdout, o, true);
		json_decref(o);
	} else {
		printf("%s\n", kid);
		if (path != NULL)
			aclm_log_note("EAB key %s: HMAC key written to %s (mode 0600)", kid, path);
	}
	rc = CLI_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	if (hmac != NULL) {
		OPENSSL_cleanse(hmac, strlen(hmac));
		free(hmac);
	}
	free(path);
	json_decref(a.allow);
	return rc;
}

static int certs_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct admin_args a = { .allow = json_array() };
	struct aclm_err err = { 0 };
	json_t *list = NULL, *c;
	size_t i;
	int rc = admin_parse(ctx, argc, argv, "certs", "ca format", false, &a);

	if (rc >= 0)
		goto out;
	if (cli_open(ctx, &err) != ACLM_OK || ca_certs_json(&ctx->inv, a.ca, &list, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	if (strcmp(a.format, "json") == 0) {
		aclm_json_print(stdout, list, true);
	} else {
		printf("%-32s %-8s %-8s %-20s %s\n", "SERIAL", "TYPE", "STATUS", "NOT AFTER", "PROFILE");
		json_array_foreach(list, i, c)
			printf("%-32s %-8s %-8s %-20s %s\n", aclm_json_str(c, "serial"),
			       aclm_json_str(c, "key_type"), aclm_json_str(c, "status"),
			       aclm_json_str(c, "not_after"),
			       aclm_json_str(c, "profile") != NULL ? aclm_json_str(c, "profile") : "-");
	}
	rc = CLI_EXIT_OK;
out:
	json_decref(list);
	json_decref(a.allow);
	return rc;
}

static int revoke_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct admin_args a = { .allow = json_array() };
	struct aclm_err err = { 0 };
	int reason = 0;
	int rc = admin_parse(ctx, argc, argv, "revoke", "ca reason", true, &a);

	json_decref(a.allow);
	if (rc >= 0)
		return rc;
	if (a.reason != NULL && (reason = client_revocation_reason(a.reason)) < 0)
		return cli_usage_error(usage_admin, "--reason %s: unknown reason", a.reason);
	if (cli_open(ctx, &err) != ACLM_OK ||
	    ca_revoke_serial(&ctx->inv, a.ca, a.positional, reason, &err) != ACLM_OK)
		return cli_fail(&err);
	aclm_log_note("revoked %s", a.positional);
	return CLI_EXIT_OK;
}

static int crl_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct admin_args a = { .allow = json_array() };
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	int rc = admin_parse(ctx, argc, argv, "crl", "ca key-type out", false, &a);

	json_decref(a.allow);
	if (rc >= 0)
		return rc;
	aclm_buf_init(&pem, 64u << 20);
	if (cli_open(ctx, &err) != ACLM_OK ||
	    ca_crl_pem(&ctx->inv, a.ca, a.key_type, &pem, &err) != ACLM_OK ||
	    (a.out != NULL && aclm_fs_write_atomic(a.out, pem.data, pem.len, 0644, &err) != ACLM_OK)) {
		rc = cli_fail(&err);
	} else {
		if (a.out == NULL)
			fwrite(pem.data, 1, pem.len, stdout);
		rc = CLI_EXIT_OK;
	}
	aclm_buf_free(&pem);
	return rc;
}

static int cross_sign_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	struct admin_args a = { .allow = json_array() };
	struct aclm_err err = { 0 };
	struct ca_cross_opts o = { 0 };
	int64_t id = 0;
	char *end = NULL;
	int rc = admin_parse(ctx, argc, argv, "cross-sign",
			     "ca key-type by by-key-type root-key days format", false, &a);

	json_decref(a.allow);
	if (rc >= 0)
		return rc;
	if (a.by == NULL)
		return cli_usage_error(usage_admin, "ca cross-sign: give the signing CA with --by");
	if (a.days != NULL && ((o.days = strtol(a.days, &end, 10)) <= 0 || *end != '\0' ||
			       o.days > CA_ROOT_DAYS))
		return cli_usage_error(usage_admin, "--days %s: expected 1 to %d", a.days,
				       CA_ROOT_DAYS);
	o.name = a.ca;
	o.key_type = a.key_type;
	o.by = a.by;
	o.by_key_type = a.by_key_type;
	o.root_key_file = a.root_key;
	if (cli_open(ctx, &err) != ACLM_OK || ca_cross_sign(&ctx->inv, &o, &id, &err) != ACLM_OK)
		return cli_fail(&err);
	if (strcmp(a.format, "json") == 0) {
		json_t *j = json_pack("{s:I}", "cert_id", (json_int_t)id);

		aclm_json_print(stdout, j, false);
		json_decref(j);
	} else {
		printf("cross-signed intermediate: certificate %lld (aclm cert show %lld)\n",
		       (long long)id, (long long)id);
	}
	return CLI_EXIT_OK;
}

int cli_cmd_ca_admin(struct cli_ctx *ctx, int argc, char **argv)
{
	if (strcmp(argv[0], "eab") == 0) {
		if (argc < 2 || strcmp(argv[1], "create") != 0)
			return cli_usage_error(usage_admin, "ca eab: the subcommand is create");
		return eab_create_cmd(ctx, argc - 1, argv + 1);
	}
	if (strcmp(argv[0], "certs") == 0)
		return certs_cmd(ctx, argc, argv);
	if (strcmp(argv[0], "revoke") == 0)
		return revoke_cmd(ctx, argc, argv);
	if (strcmp(argv[0], "cross-sign") == 0)
		return cross_sign_cmd(ctx, argc, argv);
	return crl_cmd(ctx, argc, argv);
}
