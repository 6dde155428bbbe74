/* aclm cert show|export|rm, and the `cert` dispatcher. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/crypto.h"

static const char usage_cert[] =
	"Usage: aclm cert SUBCOMMAND [OPTIONS]\n"
	"\n"
	"  import PATH...   add certificates from files and folders\n"
	"  list             list certificates\n"
	"  show ID|FPR      show one certificate\n"
	"  export ID        write certificate, chain and optionally the key\n"
	"  rm ID            remove a certificate\n"
	"\n"
	"ID is an inventory id or a unique SHA-256 fingerprint prefix (8+ hex digits).\n"
	"'aclm cert SUBCOMMAND --help' describes each.\n";

static const char usage_show[] =
	"Usage: aclm cert show ID|FINGERPRINT [--format text|json|pem]\n"
	"\n"
	"Shows one certificate. FINGERPRINT is a unique prefix of at least 8 hex digits\n"
	"of the SHA-256 fingerprint (colons allowed).\n";

static const char usage_export[] =
	"Usage: aclm cert export ID [OPTIONS]\n"
	"\n"
	"Writes the certificate and the chain the inventory knows (without the root).\n"
	"\n"
	"Options:\n"
	"  --format pem|der|p12   pem: certificate + chain (default); der: certificate;\n"
	"                         p12: PKCS#12 (AES-256) with chain and, with --with-key, key\n"
	"  --with-key             include the private key (needs --out; written 0600, audited)\n"
	"  --password-file FILE   PKCS#12 password (default: empty)\n"
	"  --out FILE             write to FILE instead of standard output\n";

static const char usage_rm[] =
	"Usage: aclm cert rm ID\n"
	"\n"
	"Removes a certificate from the inventory. Its private key stays in the keystore.\n";

/* Parses the options shared by show/export/rm: --format and friends. */
struct one_opts {
	const char *format, *out, *password_file;
	bool with_key;
	const char *ref;
};

static int parse_one(struct cli_ctx *ctx, int argc, char **argv, const char *usage,
		     const char *formats, struct one_opts *o)
{
	enum { OPT_FORMAT = CLI_OPT_FIRST_COMMAND_OPT, OPT_OUT, OPT_WITH_KEY, OPT_PASSWORD_FILE };
	static const struct option opts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "with-key", no_argument, NULL, OPT_WITH_KEY },
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		CLI_GLOBAL_LONGOPTS
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		bool allowed = usage == usage_export || c == OPT_FORMAT;

		if (c >= CLI_OPT_FIRST_COMMAND_OPT && (!allowed || (usage == usage_rm)))
			return cli_usage_error(usage, "%s: option not accepted here", argv[optind - 1]);
		switch (c) {
		case OPT_FORMAT: o->format = optarg; break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_WITH_KEY: o->with_key = true; break;
		case OPT_PASSWORD_FILE: o->password_file = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage)) >= 0)
				return rc;
		}
	}
	if (formats != NULL && !cli_format_ok(o->format, formats))
		return cli_usage_error(usage, "--format %s: expected one of %s", o->format, formats);
	if (optind + 1 != argc)
		return cli_usage_error(usage, optind >= argc ? "give one certificate id or fingerprint"
							     : "give only one certificate id");
	o->ref = argv[optind];
	return -1;
}

static aclm_status load_row(struct cli_ctx *ctx, const char *ref, struct store_cert **row,
			    struct aclm_err *err)
{
	int64_t id;
	aclm_status st = cli_open(ctx, err);

	if (st == ACLM_OK)
		st = inventory_resolve(&ctx->inv, ref, &id, err);
	if (st == ACLM_OK)
		st = store_cert_get(ctx->store, ctx->inv.tenant_id, id, row, err);
	return st;
}

static void print_list(const char *label, const json_t *a)
{
	size_t i;
	json_t *v;

	if (json_array_size(a) == 0)
		return;
	printf("  %-18s", label);
	json_array_foreach(a, i, v)
		printf("%s%s", i > 0 ? ", " : "", json_string_value(v));
	putchar('\n');
}

static void print_text(const json_t *o)
{
	json_t *k = json_object_get(o, "key"), *sans = json_object_get(o, "sans"), *v;
	const char *tag;

	printf("Certificate %s (tenant %s)\n", aclm_json_str(o, "id"), aclm_json_str(o, "tenant"));
	printf("  %-18s%s\n", "Subject:", aclm_json_str(o, "subject"));
	printf("  %-18s%s\n", "Issuer:", aclm_json_str(o, "issuer"));
	printf("  %-18s%s\n", "Serial:", aclm_json_str(o, "serial"));
	printf("  %-18s%s\n", "SHA-256:", aclm_json_str(o, "fingerprint_sha256"));
	printf("  %-18s%s to %s (%lld days; %lld days left)\n", "Validity:",
	       aclm_json_str(o, "not_before"), aclm_json_str(o, "not_after"),
	       (long long)aclm_json_int(o, "lifetime_days", 0),
	       (long long)aclm_json_int(o, "days_left", 0));
	printf("  %-18s%s %lld%s%s\n", "Key:", aclm_json_str(k, "type"),
	       (long long)aclm_json_int(k, "bits", 0), aclm_json_str(k, "curve") ? " " : "",
	       aclm_json_str(k, "curve") ? aclm_json_str(k, "curve") : "");
	printf("  %-18s%s\n", "Signature:", aclm_json_str(o, "signature_algorithm"));
	print_list("DNS names:", json_object_get(sans, "dns"));
	print_list("IP addresses:", json_object_get(sans, "ip"));
	print_list("Emails:", json_object_get(sans, "email"));
	print_list("URIs:", json_object_get(sans, "uri"));
	print_list("Key usage:", json_object_get(o, "key_usage"));
	print_list("Extended usage:", json_object_get(o, "ext_key_usage"));
	print_list("OCSP:", json_object_get(o, "ocsp_urls"));
	print_list("CRL:", json_object_get(o, "crl_urls"));
	printf("  %-18sCA %s, self-signed %s, must-staple %s, SCTs %lld\n", "Flags:",
	       aclm_json_bool(o, "is_ca") ? "yes" : "no",
	       aclm_json_bool(o, "self_signed") ? "yes" : "no",
	       aclm_json_bool(o, "must_staple") ? "yes" : "no",
	       (long long)aclm_json_int(o, "sct_count", 0));
	printf("  %-18s%s\n", "Private key:",
	       aclm_json_bool(o, "has_private_key") ? aclm_json_str(o, "key_id") : "not held");
	print_list("Sources:", json_object_get(o, "sources"));
	if (aclm_json_str(o, "owner") != NULL)
		printf("  %-18s%s\n", "Owner:", aclm_json_str(o, "owner"));
	json_object_foreach(json_object_get(o, "tags"), tag, v)
		printf("  %-18s%s=%s\n", "Tag:", tag, json_string_value(v));
	if (aclm_json_str(o, "issuer_fingerprint") != NULL)
		printf("  %-18s%s\n", "Issued by:", aclm_json_str(o, "issuer_fingerprint"));
}

static int cert_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct one_opts o = { .format = "text" };
	struct store_cert *row = NULL;
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	json_t *j = NULL;
	X509 *x = NULL;
	int rc = parse_one(ctx, argc, argv, usage_show, "text|json|pem", &o);

	if (rc >= 0)
		return rc;
	aclm_buf_init(&pem, 1 << 20);
	rc = CLI_EXIT_FAIL;
	if (load_row(ctx, o.ref, &row, &err) != ACLM_OK)
		goto fail;
	if (strcmp(o.format, "pem") == 0) {
		if (crypto_cert_from_der(row->der, row->der_len, &x, &err) != ACLM_OK ||
		    crypto_cert_to_pem(x, &pem, &err) != ACLM_OK)
			goto fail;
		fwrite(pem.data, 1, pem.len, stdout);
		rc = CLI_EXIT_OK;
		goto out;
	}
	j = inventory_cert_json(&ctx->inv, row, aclm_time_now());
	if (strcmp(o.format, "json") == 0)
		aclm_json_print(stdout, j, true);
	else
		print_text(j);
	rc = CLI_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	json_decref(j);
	X509_free(x);
	aclm_buf_free(&pem);
	store_cert_free(row);
	return rc;
}

/* PEM: certificate, chain, then (with --with-key) the key. */
static aclm_status export_pem(STACK_OF(X509) *chain, EVP_PKEY *key, struct aclm_buf *out,
			      struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	for (int i = 0; i < sk_X509_num(chain) && st == ACLM_OK; i++)
		st = crypto_cert_to_pem(sk_X509_value(chain, i), out, err);
	if (st == ACLM_OK && key != NULL)
		st = crypto_key_to_pem(key, out, err);
	return st;
}

static aclm_status export_p12(STACK_OF(X509) *chain, EVP_PKEY *key, const char *pwfile,
			      struct aclm_buf *out, struct aclm_err *err)
{
	STACK_OF(X509) *rest = sk_X509_new_null();
	unsigned char *p12 = NULL;
	size_t len = 0;
	char *password = NULL;
	aclm_status st = ACLM_OK;

	if (rest == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (int i = 1; i < sk_X509_num(chain); i++)
		sk_X509_push(rest, sk_X509_value(chain, i));
	if (pwfile != NULL)
		st = cli_read_secret(pwfile, &password, err);
	if (st == ACLM_OK)
		st = crypto_pkcs12_create(sk_X509_value(chain, 0), rest, key,
					  password != NULL ? password : "", &p12, &len, err);
	if (st == ACLM_OK)
		st = aclm_buf_append(out, p12, len);
	OPENSSL_clear_free(p12, len);
	cli_secret_free(password);
	sk_X509_free(rest);
	return st;
}

static aclm_status export_build(struct cli_ctx *ctx, const struct one_opts *o,
				const struct store_cert *row, struct aclm_buf *out,
				struct aclm_err *err)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	char kbuf[KEYSTORE_ID_MAX];
	const char *key_id = row->key_id;
	aclm_status st;

	if (o->with_key && key_id == NULL) {
		keystore_key_id_from_spki(aclm_json_str(row->facts, "spki_sha256"), kbuf);
		key_id = kbuf;
	}
	if (o->with_key && keystore_pkey(ctx->ks, ctx->inv.tenant_id, key_id, &key, err) != ACLM_OK) {
		if (err->code == ACLM_ERR_NOTFOUND)
			aclm_err_set(err, ACLM_ERR_NOTFOUND,
				     "certificate %lld: the keystore holds no private key for it",
				     (long long)row->id);
		return err->code;
	}
	st = inventory_chain(&ctx->inv, row->id, &chain, err);
	if (st == ACLM_OK && strcmp(o->format, "der") == 0)
		st = aclm_buf_append(out, row->der, row->der_len);
	else if (st == ACLM_OK && strcmp(o->format, "p12") == 0)
		st = export_p12(chain, key, o->password_file, out, err);
	else if (st == ACLM_OK)
		st = export_pem(chain, key, out, err);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	return st;
}

static int cert_export(struct cli_ctx *ctx, int argc, char **argv)
{
	struct one_opts o = { .format = "pem" };
	struct store_cert *row = NULL;
	struct aclm_err err = { 0 };
	struct aclm_buf out;
	json_t *detail = NULL;
	int rc = parse_one(ctx, argc, argv, usage_export, "pem|der|p12", &o);

	if (rc >= 0)
		return rc;
	if (o.with_key && o.out == NULL)
		return cli_usage_error(usage_export,
				       "--with-key needs --out FILE: keys are never written to a terminal or pipe");
	if (o.with_key && strcmp(o.format, "der") == 0)
		return cli_usage_error(usage_export, "--with-key works with --format pem or p12");
	aclm_buf_init(&out, 64 << 20);
	if (load_row(ctx, o.ref, &row, &err) != ACLM_OK ||
	    export_build(ctx, &o, row, &out, &err) != ACLM_OK)
		goto fail;
	if (o.out == NULL) {
		fwrite(out.data, 1, out.len, stdout);
	} else if (aclm_fs_write_atomic(o.out, out.data, out.len, o.with_key ? 0600 : 0644, &err) !=
		   ACLM_OK) {
		goto fail;
	}
	detail = json_pack("{s:s, s:s?, s:b}", "format", o.format, "path", o.out, "with_key",
			   o.with_key);
	if (inventory_audit(&ctx->inv, o.with_key ? "key.export" : "cert.export", o.ref, detail,
			    &err) != ACLM_OK)
		goto fail;
	rc = CLI_EXIT_OK;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	json_decref(detail);
	aclm_buf_free_secret(&out);
	store_cert_free(row);
	return rc;
}

static int cert_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	struct one_opts o = { .format = "" };
	struct aclm_err err = { 0 };
	json_t *detail = NULL;
	int64_t id;
	char ids[24];
	int rc = parse_one(ctx, argc, argv, usage_rm, NULL, &o);

	if (rc >= 0)
		return rc;
	if (cli_open(ctx, &err) != ACLM_OK || inventory_resolve(&ctx->inv, o.ref, &id, &err) != ACLM_OK ||
	    store_begin(ctx->store, &err) != ACLM_OK)
		return cli_fail(&err);
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	detail = json_pack("{s:s}", "ref", o.ref);
	if (store_cert_delete(ctx->store, ctx->inv.tenant_id, id, &err) != ACLM_OK ||
	    inventory_audit(&ctx->inv, "cert.rm", ids, detail, &err) != ACLM_OK ||
	    store_commit(ctx->store, &err) != ACLM_OK) {
		store_rollback(ctx->store);
		json_decref(detail);
		return cli_fail(&err);
	}
	json_decref(detail);
	aclm_log_note("removed certificate %s", ids);
	return CLI_EXIT_OK;
}

int cli_cmd_cert(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli_ctx *, int, char **);
	} subs[] = {
		{ "import", cli_cert_import }, { "list", cli_cert_list }, { "ls", cli_cert_list },
		{ "show", cert_show },         { "export", cert_export }, { "rm", cert_rm },
	};

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return argc < 2 ? cli_usage_error(usage_cert, "cert: give a subcommand\n%s", usage_cert)
				: cli_help(usage_cert);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(ctx, argc - 1, argv + 1);
	return cli_usage_error(usage_cert, "cert: unknown subcommand '%s'", argv[1]);
}
