/* aclm ca init, aclm ca roots, aclm ca list (issue 4, first slice). */
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "crypto/crypto.h"

static const char usage_ca[] =
	"Usage: aclm ca init --name NAME [--key-type TYPE...] [--offline-root] [--format text|json]\n"
	"       aclm ca roots [--ca NAME] [--out FILE]\n"
	"       aclm ca list [--format text|json]\n"
	"       aclm ca serve --listen ADDR:PORT [...]   (aclm ca serve --help)\n"
	"       aclm ca eab create | certs | revoke SERIAL | crl | cross-sign   (aclm ca certs --help)\n"
	"\n"
	"aclm's own certificate authority.\n"
	"\n"
	"  init    for each key type (repeatable --key-type: p256, p384, rsa3072, rsa4096, sm2;\n"
	"          default p256) a self-signed root (20 years) and an intermediate (10 years,\n"
	"          pathlen 0) signed by it; keys in the keystore, certificates in the inventory\n"
	"          (source ca). --offline-root writes each root key to HOME/ca/NAME-TYPE-root.key\n"
	"          (mode 0600) and removes it from the keystore.\n"
	"  roots   the CA's root certificates as PEM (--ca may be left out when there is one CA)\n"
	"  list    the CAs with their certificates and keys\n"
	"  serve   an ACME server (RFC 8555) issuing from the CA's intermediates\n"
	"  eab create, certs, revoke, crl: EAB keys, issued certificates, revocation, CRLs\n"
	"  cross-sign  another root signs a copy of the intermediate: alternate chains\n"
	"\n"
	"Example:\n"
	"  aclm ca init --name Corp --key-type p256 --key-type sm2\n";

static int ca_init_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_NAME = CLI_OPT_FIRST_COMMAND_OPT, OPT_KEY_TYPE, OPT_OFFLINE, OPT_FORMAT };
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
		{ "offline-root", no_argument, NULL, OPT_OFFLINE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS
	};
	enum crypto_key_type types[CRYPTO_KEY_TYPE_COUNT];
	struct ca_init_opts o = { .types = types };
	struct aclm_err err = { 0 };
	const char *format = "text";
	char *dir = NULL;
	json_t *list = NULL;
	int c, rc, t;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_NAME: o.name = optarg; break;
		case OPT_KEY_TYPE:
			t = crypto_key_type_parse(optarg);
			if (t < 0 || t == CRYPTO_KEY_RSA2048 ||
			    !crypto_key_type_for_certs((enum crypto_key_type)t))
				return cli_usage_error(usage_ca, "--key-type %s: expected p256, p384, rsa3072, rsa4096 or sm2",
						       optarg);
			for (size_t i = 0; i < o.ntypes; i++)
				if ((int)types[i] == t)
					return cli_usage_error(usage_ca, "--key-type %s given twice", optarg);
			types[o.ntypes++] = (enum crypto_key_type)t;
			break;
		case OPT_OFFLINE: o.offline_root = true; break;
		case OPT_FORMAT: format = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_ca)) >= 0)
				return rc;
		}
	}
	if (o.name == NULL)
		return cli_usage_error(usage_ca, "ca init: --name is required");
	if (ca_name_check(o.name, &err) != ACLM_OK)
		return cli_usage_error(usage_ca, "%s", err.msg);
	if (!cli_format_ok(format, "text|json"))
		return cli_usage_error(usage_ca, "--format %s: expected text or json", format);
	if (optind < argc)
		return cli_usage_error(usage_ca, "ca init: unexpected argument '%s'", argv[optind]);
	if (o.ntypes == 0)
		types[o.ntypes++] = CRYPTO_KEY_P256;
	if (cli_open(ctx, &err) != ACLM_OK)
		return cli_fail(&err);
	dir = aclm_fs_join(ctx->home, "ca");
	o.offline_dir = dir;
	if (dir == NULL || ca_init(&ctx->inv, &o, &err) != ACLM_OK ||
	    ca_list_json(&ctx->inv, o.name, &list, &err) != ACLM_OK) {
		if (dir == NULL)
			aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
		rc = cli_fail(&err);
		goto out;
	}
	if (strcmp(format, "json") == 0) {
		aclm_json_print(stdout, list, true);
	} else {
		size_t i;
		json_t *ca;

		json_array_foreach(list, i, ca)
			printf("%s %s: root %s, intermediate %s%s\n", aclm_json_str(ca, "name"),
			       aclm_json_str(ca, "key_type"),
			       json_string_value(json_object_get(ca, "root_fingerprint")),
			       json_string_value(json_object_get(ca, "intermediate_fingerprint")),
			       json_is_true(json_object_get(ca, "offline_root")) ? " (root offline)"
										 : "");
	}
	rc = CLI_EXIT_OK;
out:
	json_decref(list);
	free(dir);
	return rc;
}

static int ca_roots_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_CA = CLI_OPT_FIRST_COMMAND_OPT, OPT_OUT };
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, OPT_CA },
		{ "out", required_argument, NULL, OPT_OUT },
		CLI_GLOBAL_LONGOPTS
	};
	const char *name = NULL, *out = NULL;
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_CA: name = optarg; break;
		case OPT_OUT: out = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_ca)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return cli_usage_error(usage_ca, "ca roots: unexpected argument '%s'", argv[optind]);
	aclm_buf_init(&pem, 16u << 20);
	if (cli_open(ctx, &err) != ACLM_OK || ca_roots_pem(&ctx->inv, name, &pem, &err) != ACLM_OK ||
	    (out != NULL && aclm_fs_write_atomic(out, pem.data, pem.len, 0644, &err) != ACLM_OK)) {
		rc = cli_fail(&err);
		goto done;
	}
	if (out == NULL)
		fwrite(pem.data, 1, pem.len, stdout);
	rc = CLI_EXIT_OK;
done:
	aclm_buf_free(&pem);
	return rc;
}

static int ca_list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_FORMAT = CLI_OPT_FIRST_COMMAND_OPT };
	static const struct option opts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS
	};
	const char *format = "text";
	struct aclm_err err = { 0 };
	json_t *list = NULL, *ca;
	size_t i;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if (c == OPT_FORMAT)
			format = optarg;
		else if ((rc = cli_common_opt(ctx, c, usage_ca)) >= 0)
			return rc;
	}
	if (!cli_format_ok(format, "text|json"))
		return cli_usage_error(usage_ca, "--format %s: expected text or json", format);
	if (optind < argc)
		return cli_usage_error(usage_ca, "ca list: unexpected argument '%s'", argv[optind]);
	if (cli_open(ctx, &err) != ACLM_OK || ca_list_json(&ctx->inv, NULL, &list, &err) != ACLM_OK)
		return cli_fail(&err);
	if (strcmp(format, "json") == 0) {
		aclm_json_print(stdout, list, true);
	} else {
		printf("%-20s %-8s %-8s %-8s %s\n", "NAME", "TYPE", "ROOT", "INTERM", "ROOT KEY");
		json_array_foreach(list, i, ca)
			printf("%-20s %-8s %-8lld %-8lld %s\n", aclm_json_str(ca, "name"),
			       aclm_json_str(ca, "key_type"),
			       (long long)json_integer_value(json_object_get(ca, "root_cert_id")),
			       (long long)json_integer_value(json_object_get(ca, "intermediate_cert_id")),
			       json_is_true(json_object_get(ca, "offline_root"))
				       ? "offline"
				       : aclm_json_str(ca, "root_key_id"));
	}
	json_decref(list);
	return CLI_EXIT_OK;
}

int cli_cmd_ca(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return ca_init_cmd(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "roots") == 0)
		return ca_roots_cmd(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return ca_list_cmd(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return cli_cmd_ca_serve(ctx, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "eab") == 0 || strcmp(argv[1], "certs") == 0 ||
			  strcmp(argv[1], "revoke") == 0 || strcmp(argv[1], "crl") == 0 ||
			  strcmp(argv[1], "cross-sign") == 0))
		return cli_cmd_ca_admin(ctx, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cli_help(usage_ca);
	if (argc < 2)
		return cli_usage_error(usage_ca, "ca: give a subcommand (init, roots, list, serve, eab, certs, revoke, crl, "
					     "cross-sign)");
	return cli_usage_error(usage_ca, "ca: unknown subcommand '%s'", argv[1]);
}
