/* aclm key gen, aclm csr new */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "crypto/crypto.h"

static const char usage_key[] =
	"Usage: aclm key gen --key-type TYPE [--out FILE] [--format text|json]\n"
	"\n"
	"Generates a private key in the keystore (sealed at rest with AES-256-GCM) and\n"
	"prints its id. TYPE: rsa2048, rsa3072, rsa4096, p256, p384, sm2, ed25519\n"
	"(ed25519: for ACME account keys; certificates take the others).\n"
	"--out also writes the key as PKCS#8 PEM (mode 0600; recorded in the audit log).\n"
	"\n"
	"Example:\n"
	"  aclm key gen --key-type p256\n";

static const char usage_csr[] =
	"Usage: aclm csr new --key FILE|KEYID -d NAME [-d NAME...] [--ip ADDR...] [--cn CN] [--out FILE]\n"
	"\n"
	"Creates a PEM certificate signing request with DNS and IP subjectAltNames,\n"
	"signed by a key file or a keystore key (SM2: SM2-with-SM3, ID 1234567812345678).\n"
	"\n"
	"Options:\n"
	"  --key FILE|KEYID   private key: a PEM file, or an id from 'aclm key gen'\n"
	"  -d, --domain NAME  DNS name (repeatable; *.example.com allowed)\n"
	"  --ip ADDR          IPv4 or IPv6 address (repeatable)\n"
	"  --cn CN            subject common name (default: the first name)\n"
	"  --out FILE         write to FILE instead of standard output\n";

static int key_gen(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_KEY_TYPE = CLI_OPT_FIRST_COMMAND_OPT, OPT_OUT, OPT_FORMAT };
	static const struct option opts[] = {
		{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS
	};
	const char *out = NULL, *format = "text";
	struct aclm_err err = { 0 };
	char id[KEYSTORE_ID_MAX];
	int c, rc, type = -1;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_KEY_TYPE:
			type = crypto_key_type_parse(optarg);
			if (type < 0)
				return cli_usage_error(usage_key, "--key-type %s: expected rsa2048, rsa3072, rsa4096, p256, p384, sm2 or ed25519",
						       optarg);
			break;
		case OPT_OUT: out = optarg; break;
		case OPT_FORMAT: format = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_key)) >= 0)
				return rc;
		}
	}
	if (type < 0)
		return cli_usage_error(usage_key, "key gen: --key-type is required");
	if (!cli_format_ok(format, "text|json"))
		return cli_usage_error(usage_key, "--format %s: expected text or json", format);
	if (optind < argc)
		return cli_usage_error(usage_key, "key gen: unexpected argument '%s'", argv[optind]);
	if (cli_open(ctx, &err) != ACLM_OK ||
	    keystore_create(ctx->ks, ctx->inv.tenant_id, (enum crypto_key_type)type, id, &err) != ACLM_OK)
		return cli_fail(&err);
	if (out != NULL &&
	    keystore_export_pem(ctx->ks, ctx->inv.tenant_id, id, out, ctx->actor, &err) != ACLM_OK)
		return cli_fail(&err);
	if (strcmp(format, "json") == 0) {
		EVP_PKEY *h = NULL;
		char spki[65] = "";
		json_t *o;

		/* The handle only serves the public key hash. */
		if (keystore_pkey(ctx->ks, ctx->inv.tenant_id, id, &h, &err) != ACLM_OK ||
		    crypto_key_spki_sha256(h, spki) != ACLM_OK) {
			EVP_PKEY_free(h);
			return cli_fail(&err);
		}
		EVP_PKEY_free(h);
		o = json_pack("{s:s, s:s, s:s, s:s?}", "id", id, "type",
			      crypto_key_type_name((enum crypto_key_type)type), "spki_sha256", spki,
			      "out", out);

		aclm_json_print(stdout, o, true);
		json_decref(o);
	} else {
		printf("%s\n", id);
	}
	return CLI_EXIT_OK;
}

int cli_cmd_key(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "gen") == 0)
		return key_gen(ctx, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cli_help(usage_key);
	if (argc < 2)
		return cli_usage_error(usage_key, "key: give a subcommand (gen)");
	return cli_usage_error(usage_key, "key: unknown subcommand '%s'", argv[1]);
}

/* A key file the user holds, or a keystore id. */
static aclm_status csr_key(struct cli_ctx *ctx, const char *ref, EVP_PKEY **key,
			   struct aclm_err *err)
{
	struct aclm_buf b;
	aclm_status st;

	if (access(ref, F_OK) != 0)
		return keystore_pkey(ctx->ks, ctx->inv.tenant_id, ref, key, err);
	aclm_buf_init(&b, 1 << 20);
	st = aclm_buf_read_file(&b, ref, err);
	if (st == ACLM_OK)
		st = crypto_key_from_pem((const char *)b.data, b.len, NULL, key, err);
	if (st != ACLM_OK)
		aclm_err_prefix(err, "%s", ref);
	aclm_buf_free_secret(&b);
	return st;
}

struct csr_args {
	const char *key, *cn, *out;
	const char **dns, **ips;
	size_t ndns, nips;
};

static int csr_parse(struct cli_ctx *ctx, int argc, char **argv, struct csr_args *a)
{
	enum { OPT_KEY = CLI_OPT_FIRST_COMMAND_OPT, OPT_IP, OPT_CN, OPT_OUT };
	static const struct option opts[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "domain", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, OPT_IP },
		{ "cn", required_argument, NULL, OPT_CN },
		{ "out", required_argument, NULL, OPT_OUT },
		CLI_GLOBAL_LONGOPTS
	};
	int c, rc;

	/* argc bounds the number of names, so the arrays never overflow. */
	a->dns = calloc((size_t)argc, sizeof(*a->dns));
	a->ips = calloc((size_t)argc, sizeof(*a->ips));
	if (a->dns == NULL || a->ips == NULL)
		return CLI_EXIT_FAIL;
	while ((c = getopt_long(argc, argv, "d:" CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_KEY: a->key = optarg; break;
		case 'd': a->dns[a->ndns++] = optarg; break;
		case OPT_IP: a->ips[a->nips++] = optarg; break;
		case OPT_CN: a->cn = optarg; break;
		case OPT_OUT: a->out = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_csr)) >= 0)
				return rc;
		}
	}
	if (a->key == NULL)
		return cli_usage_error(usage_csr, "csr new: --key is required");
	if (a->ndns + a->nips == 0)
		return cli_usage_error(usage_csr, "csr new: give at least one -d NAME or --ip ADDR");
	if (optind < argc)
		return cli_usage_error(usage_csr, "csr new: unexpected argument '%s'", argv[optind]);
	return -1;
}

static int csr_new(struct cli_ctx *ctx, int argc, char **argv)
{
	struct csr_args a = { 0 };
	struct crypto_csr_req req = { 0 };
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	int rc = csr_parse(ctx, argc, argv, &a);

	aclm_buf_init(&pem, 1 << 20);
	if (rc >= 0)
		goto out;
	req = (struct crypto_csr_req){ .cn = a.cn, .dns = a.dns, .ndns = a.ndns, .ips = a.ips,
				       .nips = a.nips };
	if (cli_open(ctx, &err) != ACLM_OK || csr_key(ctx, a.key, &key, &err) != ACLM_OK ||
	    crypto_csr_new(key, &req, &csr, &err) != ACLM_OK ||
	    crypto_csr_to_pem(csr, &pem, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	if (a.out == NULL)
		fwrite(pem.data, 1, pem.len, stdout);
	else if (aclm_fs_write_atomic(a.out, pem.data, pem.len, 0644, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
	aclm_buf_free(&pem);
	free(a.dns);
	free(a.ips);
	return rc;
}

int cli_cmd_csr(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "new") == 0)
		return csr_new(ctx, argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cli_help(usage_csr);
	if (argc < 2)
		return cli_usage_error(usage_csr, "csr: give a subcommand (new)");
	return cli_usage_error(usage_csr, "csr: unknown subcommand '%s'", argv[1]);
}
