/* aclm issue (single orders and --batch) */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "client/client.h"
#include "core/buf.h"
#include "core/encode.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "crypto/crypto.h"

#define ISSUE_MAX_KEY_TYPES 8

static const char usage_issue[] =
	"Usage: aclm issue -d NAME [-d NAME...] [--ip ADDR...] [OPTIONS]\n"
	"       aclm issue --csr FILE [OPTIONS]\n"
	"\n"
	"Obtains a certificate over ACME (RFC 8555), stores it in the inventory and writes\n"
	"HOME/live/LINEAGE/{cert,chain,fullchain,privkey}.pem (the key 0600).\n"
	"\n"
	"Options:\n"
	"  --server URL|NAME       directory URL, or letsencrypt (default),\n"
	"                          letsencrypt-staging, zerossl\n"
	"  -d, --domain NAME       DNS name (repeatable)\n"
	"  --ip ADDR               IP address identifier (RFC 8738; repeatable)\n"
	"                          (names with non-ASCII letters are sent as punycode)\n"
	"  --csr FILE              send this PEM or DER CSR (signature checked) instead of\n"
	"                          making a key; the names come from its subjectAltName;\n"
	"                          no privkey.pem is written. Stored: renew re-sends it\n"
	"  --challenge TYPE        http-01 (default), dns-01 or tls-alpn-01\n"
	"  --http-listen ADDR:PORT answer http-01 with the built-in listener (default :80)\n"
	"  --webroot DIR           answer http-01 by writing DIR/.well-known/acme-challenge/\n"
	"  --dns-hook CMD          answer dns-01 with CMD present|cleanup FQDN VALUE (lego's\n"
	"                          exec protocol; split like shell words, run without a shell)\n"
	"  --dns-rfc2136 H:P       answer dns-01 with RFC 2136 updates to this server\n"
	"                          (numeric HOST:PORT), signed with --tsig-file; the TXT\n"
	"                          goes where a CNAME at _acme-challenge.NAME points\n"
	"  --tsig-file FILE        BIND key file: key \"NAME\" { algorithm hmac-sha256;\n"
	"                          secret \"BASE64\"; }; (hmac-sha256/384/512)\n"
	"  --dns-resolver H:P      wait until the TXT record is visible through this resolver\n"
	"                          (with --dns-rfc2136 the default is that server)\n"
	"  --dns-propagation M     resolver (default with --dns-resolver) or off\n"
	"  --tls-alpn-listen A:P   answer tls-alpn-01 (RFC 8737) here (default :443)\n"
	"  --deploy-hook CMD       after each issuance run CMD (split like shell words, no\n"
	"                          shell, 300 s at most) with RENEWED_LINEAGE (the lineage\n"
	"                          directory), RENEWED_DOMAINS (the names, space-separated)\n"
	"                          and ACLM_CERT_ID (the inventory id); no other ACLM_*\n"
	"                          variable. Stored with the lineage: renew runs it too.\n"
	"                          A failing hook makes the exit status 1; the certificate\n"
	"                          stays issued and stored, and further key types are\n"
	"                          still issued (the error names the lineages)\n"
	"  --key-type T[,T...]     p256 (default), p384, rsa2048, rsa3072, rsa4096, sm2;\n"
	"                          several: one certificate each (LINEAGE, LINEAGE-TYPE)\n"
	"  --account-key-type T    key of a new account: p256 (ES256, default), p384\n"
	"                          (ES384), rsa2048, rsa3072, rsa4096 (RS256), ed25519\n"
	"                          (EdDSA; many CAs refuse it). An existing account keeps\n"
	"                          its key (account rollover changes it)\n"
	"  --profile NAME          ask for this certificate profile (one the server's\n"
	"                          directory lists in meta.profiles). Stored: renew too\n"
	"  --tlcp                  with --key-type sm2: a TLCP pair, the SM2 signing\n"
	"                          certificate and an SM2 encryption certificate (profile\n"
	"                          sm2-enc, a second key made by aclm) in\n"
	"                          enc-cert.pem/enc-privkey.pem. Stored: renew renews both\n"
	"  --name LINEAGE          lineage name (default: the first name without \"*.\")\n"
	"  --preferred-chain CN    take the chain (default or alternate, RFC 8555 §7.4.2)\n"
	"                          whose topmost certificate was issued by CN; none\n"
	"                          matching keeps the default. Stored: renew uses it too\n"
	"  --ca-bundle FILE        roots to trust for the ACME server's TLS\n"
	"  --email ADDR            account contact\n"
	"  --agree-tos             agree to the server's terms of service\n"
	"  --eab-kid KID           External Account Binding key id\n"
	"  --eab-hmac-key-file F   its HMAC key (base64url), from a file\n"
	"  --batch FILE            one certificate per line: names separated by spaces,\n"
	"                          then optional name=, key-type=, challenge=, profile=\n"
	"                          words; # comments; lines run concurrently\n"
	"  --concurrency N         orders in flight with --batch (default 8, max 64)\n"
	"  --format text|json\n"
	"\n"
	"Example:\n"
	"  aclm issue --agree-tos --email ops@example.com -d example.com -d www.example.com \\\n"
	"       --webroot /var/www/html\n";

struct issue_args {
	struct client_opts co;
	struct solver_config sc;
	const char **names;
	size_t nnames;
	struct cli_acme_opts acme;
	const char *key_types, *lineage, *format, *challenge, *batch, *deploy_hook;
	const char *preferred_chain, *csr, *profile;
	bool key_type_given, tlcp;
	int concurrency;
};

/* The options each challenge type needs, and the defaults (issue 3). */
static int check_challenge(const char *usage, struct issue_args *a)
{
	if (strcmp(a->challenge, "http-01") == 0) {
		if (a->sc.http_listen == NULL && a->sc.webroot == NULL)
			a->sc.http_listen = ":80";
	} else if (strcmp(a->challenge, "dns-01") == 0) {
		if (a->sc.dns_hook == NULL && a->sc.dns_rfc2136 == NULL)
			return cli_usage_error(usage, "--challenge dns-01 needs --dns-hook CMD (lego's exec "
						      "protocol) or --dns-rfc2136 HOST:PORT --tsig-file FILE");
		if (a->sc.dns_hook != NULL && a->sc.dns_rfc2136 != NULL)
			return cli_usage_error(usage, "--dns-hook and --dns-rfc2136: give one of them");
		if ((a->sc.dns_rfc2136 == NULL) != (a->sc.tsig_file == NULL))
			return cli_usage_error(usage, "--dns-rfc2136 and --tsig-file go together");
		if (a->sc.dns_propagation != NULL &&
		    !cli_format_ok(a->sc.dns_propagation, "authoritative|resolver|off"))
			return cli_usage_error(usage, "--dns-propagation %s: expected authoritative, resolver "
						      "or off", a->sc.dns_propagation);
		if (a->sc.dns_propagation != NULL && strcmp(a->sc.dns_propagation, "resolver") == 0 &&
		    a->sc.dns_resolver == NULL)
			return cli_usage_error(usage, "--dns-propagation resolver needs --dns-resolver HOST:PORT");
	} else if (strcmp(a->challenge, "tls-alpn-01") == 0) {
		if (a->sc.tlsalpn_listen == NULL)
			a->sc.tlsalpn_listen = ":443";
	} else {
		return cli_usage_error(usage, "--challenge %s: expected http-01, dns-01 or tls-alpn-01",
				       a->challenge);
	}
	/* RFC 8555 §7.1.3: wildcard names are validated by dns-01 only. */
	for (size_t i = 0; i < a->nnames; i++)
		if (strncmp(a->names[i], "*.", 2) == 0 && strcmp(a->challenge, "dns-01") != 0)
			return cli_usage_error(usage, "%s: wildcard names need --challenge dns-01", a->names[i]);
	return -1;
}

static int parse_issue(struct cli_ctx *ctx, int argc, char **argv, const char *usage,
		       struct issue_args *a)
{
	enum { OPT_IP = CLI_OPT_FIRST_COMMAND_OPT, OPT_CHALLENGE, OPT_HTTP_LISTEN,
	       OPT_WEBROOT, OPT_KEY_TYPE, OPT_NAME, OPT_FORMAT, OPT_BATCH, OPT_CONCURRENCY, OPT_DNS_HOOK,
	       OPT_DNS_RESOLVER, OPT_DNS_PROPAGATION, OPT_TLS_ALPN_LISTEN, OPT_DEPLOY_HOOK,
	       OPT_PREFERRED_CHAIN, OPT_DNS_RFC2136, OPT_TSIG_FILE, OPT_CSR, OPT_PROFILE, OPT_TLCP };
	static const struct option opts[] = {
		CLI_ACME_LONGOPTS,
		{ "domain", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, OPT_IP },
		{ "challenge", required_argument, NULL, OPT_CHALLENGE },
		{ "http-listen", required_argument, NULL, OPT_HTTP_LISTEN },
		{ "webroot", required_argument, NULL, OPT_WEBROOT },
		{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "dns-hook", required_argument, NULL, OPT_DNS_HOOK },
		{ "dns-rfc2136", required_argument, NULL, OPT_DNS_RFC2136 },
		{ "tsig-file", required_argument, NULL, OPT_TSIG_FILE },
		{ "dns-resolver", required_argument, NULL, OPT_DNS_RESOLVER },
		{ "dns-propagation", required_argument, NULL, OPT_DNS_PROPAGATION },
		{ "tls-alpn-listen", required_argument, NULL, OPT_TLS_ALPN_LISTEN },
		{ "deploy-hook", required_argument, NULL, OPT_DEPLOY_HOOK },
		{ "preferred-chain", required_argument, NULL, OPT_PREFERRED_CHAIN },
		{ "csr", required_argument, NULL, OPT_CSR },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "tlcp", no_argument, NULL, OPT_TLCP },
		CLI_GLOBAL_LONGOPTS
	};
	char *end;
	int c, rc;

	a->names = calloc((size_t)argc, sizeof(*a->names));
	if (a->names == NULL)
		return CLI_EXIT_FAIL;
	a->format = "text";
	a->concurrency = 8;
	a->key_types = "p256";
	a->challenge = "http-01";
	while ((c = getopt_long(argc, argv, "d:" CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if (cli_acme_opt(c, optarg, &a->co, &a->acme))
			continue;
		switch (c) {
		case 'd':
		case OPT_IP: a->names[a->nnames++] = optarg; break;
		case OPT_CHALLENGE: a->challenge = optarg; break;
		case OPT_HTTP_LISTEN: a->sc.http_listen = optarg; break;
		case OPT_WEBROOT: a->sc.webroot = optarg; break;
		case OPT_KEY_TYPE: a->key_types = optarg; a->key_type_given = true; break;
		case OPT_CSR: a->csr = optarg; break;
		case OPT_NAME: a->lineage = optarg; break;
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_BATCH: a->batch = optarg; break;
		case OPT_DNS_HOOK: a->sc.dns_hook = optarg; break;
		case OPT_DNS_RFC2136: a->sc.dns_rfc2136 = optarg; break;
		case OPT_TSIG_FILE: a->sc.tsig_file = optarg; break;
		case OPT_DNS_RESOLVER: a->sc.dns_resolver = optarg; break;
		case OPT_DNS_PROPAGATION: a->sc.dns_propagation = optarg; break;
		case OPT_TLS_ALPN_LISTEN: a->sc.tlsalpn_listen = optarg; break;
		case OPT_DEPLOY_HOOK: a->deploy_hook = optarg; break;
		case OPT_PREFERRED_CHAIN: a->preferred_chain = optarg; break;
		case OPT_PROFILE: a->profile = optarg; break;
		case OPT_TLCP: a->tlcp = true; break;
		case OPT_CONCURRENCY:
			a->concurrency = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || a->concurrency < 1 || a->concurrency > 64)
				return cli_usage_error(usage, "--concurrency %s: expected 1 to 64", optarg);
			break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage)) >= 0)
				return rc;
		}
	}
	if ((rc = cli_acme_opts_check(usage, &a->co, &a->acme)) >= 0)
		return rc;
	if (!cli_format_ok(a->format, "text|json"))
		return cli_usage_error(usage, "--format %s: expected text or json", a->format);
	if (optind < argc)
		return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (a->csr != NULL && (a->nnames > 0 || a->batch != NULL))
		return cli_usage_error(usage, "--csr takes the names from the CSR; do not give -d, "
					      "--ip or --batch");
	if (a->csr != NULL && a->key_type_given)
		return cli_usage_error(usage, "--csr: the key is the CSR's; do not give --key-type");
	if (a->profile != NULL && a->profile[0] == '\0')
		return cli_usage_error(usage, "--profile: give a profile name");
	if (a->tlcp && a->csr != NULL)
		return cli_usage_error(usage, "--tlcp: aclm makes both SM2 keys; not with --csr");
	if (a->tlcp && a->batch != NULL)
		return cli_usage_error(usage, "--tlcp: in a --batch file, write tlcp=yes on the lines "
					      "that want a TLCP pair");
	return check_challenge(usage, a);
}

/* Splits "p256,sm2" into certificate key types; false on an unknown one
 * (*account_only: one that serves account keys only, Ed25519). */
static bool parse_key_types(const char *list, enum crypto_key_type *out, size_t *n,
			    bool *account_only)
{
	char *copy = strdup(list), *save = NULL;
	bool ok = copy != NULL;

	*n = 0;
	*account_only = false;
	for (char *t = ok ? strtok_r(copy, ",", &save) : NULL; t != NULL && ok;
	     t = strtok_r(NULL, ",", &save)) {
		int kt = crypto_key_type_parse(t);

		*account_only = kt >= 0 && !crypto_key_type_for_certs((enum crypto_key_type)kt);
		ok = kt >= 0 && !*account_only && *n < ISSUE_MAX_KEY_TYPES;
		if (ok)
			out[(*n)++] = (enum crypto_key_type)kt;
	}
	free(copy);
	return ok && *n > 0;
}

static void print_issued(const char *format, const struct client_request *req,
			 const struct client_result *res)
{
	if (strcmp(format, "json") == 0) {
		json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "lineage", req->lineage, "cert_id",
				      (json_int_t)res->cert_id, "fingerprint_sha256", res->fingerprint,
				      "not_after", res->not_after, "key_type",
				      crypto_key_type_name(req->key_type), "dir", res->lineage_dir);

		if (req->profile != NULL)
			aclm_json_set_str(o, "profile", req->profile);
		if (res->replaced[0] != '\0')
			aclm_json_set_str(o, "replaces", res->replaced);
		if (res->enc_cert_id != 0)
			aclm_json_set_new(o, "enc", json_pack("{s:I, s:s, s:s}", "cert_id",
							      (json_int_t)res->enc_cert_id,
							      "fingerprint_sha256", res->enc_fingerprint,
							      "not_after", res->enc_not_after));
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
		return;
	}
	printf("issued   %s: certificate %lld (%s), expires %s, files in %s\n", req->lineage,
	       (long long)res->cert_id, crypto_key_type_name(req->key_type), res->not_after,
	       res->lineage_dir);
	if (res->enc_cert_id != 0)
		printf("issued   %s: TLCP encryption certificate %lld (sm2), expires %s, "
		       "enc-cert.pem in %s\n", req->lineage, (long long)res->enc_cert_id,
		       res->enc_not_after, res->lineage_dir);
}

/* Appends a lineage to the ", "-separated list of failed deploy hooks. */
static void note_hook_failure(char *list, size_t size, const char *lineage, size_t before)
{
	size_t len = strlen(list);

	snprintf(list + len, size - len, "%s%s", before > 0 ? ", " : "", lineage);
}

static bool has_type(const enum crypto_key_type *types, size_t n, enum crypto_key_type t)
{
	for (size_t i = 0; i < n; i++)
		if (types[i] == t)
			return true;
	return false;
}

/* Normalises the names in place (they are kept for the whole run). */
static aclm_status normalise_names(struct issue_args *a, char ***norm, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	*norm = calloc(a->nnames, sizeof(**norm));
	if (*norm == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < a->nnames && st == ACLM_OK; i++) {
		bool ip;

		st = client_normalise_name(a->names[i], &(*norm)[i], &ip, err);
	}
	return st;
}

static int run_issue(struct cli_ctx *ctx, struct issue_args *a)
{
	enum crypto_key_type types[ISSUE_MAX_KEY_TYPES];
	struct client_conn *conn = NULL;
	struct client_csr csr = { 0 };
	struct aclm_err err = { 0 };
	char **norm = NULL, base[256], lineage[300], *live = NULL, *csr_path = NULL;
	char hook_failed[512] = "";
	size_t ntypes = 0, nhook_failed = 0;
	bool account_only;
	int rc = CLI_EXIT_FAIL;

	if (a->csr != NULL) {
		/* renew reads the CSR again from wherever it runs */
		csr_path = realpath(a->csr, NULL);
		if (client_csr_load(a->csr, &csr, &err) != ACLM_OK) {
			free(csr_path);
			return cli_fail(&err);
		}
		if (csr_path == NULL) {
			client_csr_free(&csr);
			aclm_err_set(&err, ACLM_ERR_IO, "%s: cannot resolve its path", a->csr);
			return cli_fail(&err);
		}
		/* the CSR's names, already normalised, replace -d/--ip */
		free(a->names);
		a->names = (const char **)csr.names;
		a->nnames = csr.nnames;
		csr.names = NULL;
		csr.nnames = 0;
		a->key_types = crypto_key_type_name(csr.key_type);
		rc = check_challenge(usage_issue, a); /* wildcards in the CSR need dns-01 */
		if (rc >= 0)
			goto out;
		rc = CLI_EXIT_FAIL;
	}
	if (!parse_key_types(a->key_types, types, &ntypes, &account_only))
		return cli_usage_error(usage_issue, "--key-type %s: expected a comma-separated list of "
						    "p256, p384, rsa2048, rsa3072, rsa4096, sm2%s",
				       a->key_types, account_only ? " (ed25519 is for account keys "
								    "only: --account-key-type)" : "");
	if (a->tlcp && !has_type(types, ntypes, CRYPTO_KEY_SM2))
		return cli_usage_error(usage_issue, "--tlcp: TLCP pairs are SM2; --key-type must include sm2");
	if (normalise_names(a, &norm, &err) != ACLM_OK || cli_open(ctx, &err) != ACLM_OK ||
	    (a->acme.eab_key_file != NULL &&
	     cli_read_eab_key(a->acme.eab_key_file, (unsigned char **)&a->co.eab_key, &a->co.eab_keylen, &err) != ACLM_OK) ||
	    client_conn_open(&ctx->inv, &a->co, &conn, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	live = aclm_fs_join(ctx->home, "live");
	client_default_lineage(a->lineage != NULL ? a->lineage : norm[0], base, sizeof(base));
	for (size_t t = 0; t < ntypes; t++) {
		struct client_request req = { .names = (const char *const *)norm, .nnames = a->nnames,
					      .key_type = types[t], .challenge = a->challenge,
					      .solver = &a->sc, .live_dir = live, .lineage = lineage,
					      .deploy_hook = a->deploy_hook,
					      .preferred_chain = a->preferred_chain,
					      .csr_path = csr_path, .csr_der = csr.der,
					      .csr_len = csr.len, .profile = a->profile,
					      .tlcp = a->tlcp && types[t] == CRYPTO_KEY_SM2 };
		struct client_result res;

		/* The first key type gets LINEAGE, the others LINEAGE-TYPE. */
		snprintf(lineage, sizeof(lineage), t == 0 ? "%s" : "%s-%s", base,
			 crypto_key_type_name(types[t]));
		if (client_issue(conn, &req, &res, &err) != ACLM_OK) {
			aclm_err_prefix(&err, "%s", lineage);
			rc = cli_fail(&err);
			if (!res.deploy_hook_failed)
				goto out;
			/* Issued and stored all the same: each key type is a
			 * lineage of its own, the next ones still get theirs. */
			print_issued(a->format, &req, &res);
			note_hook_failure(hook_failed, sizeof(hook_failed), lineage, nhook_failed++);
			aclm_err_clear(&err);
			continue;
		}
		print_issued(a->format, &req, &res);
	}
	rc = CLI_EXIT_OK;
	if (nhook_failed > 0) {
		aclm_err_set(&err, ACLM_ERR_IO, "the deploy hook failed for %zu of %zu lineages: %s "
			     "(their certificates are issued and stored)", nhook_failed, ntypes,
			     hook_failed);
		rc = cli_fail(&err);
	}
out:
	client_conn_close(conn);
	for (size_t i = 0; norm != NULL && i < a->nnames; i++)
		free(norm[i]);
	free(norm);
	free(live);
	free(csr_path);
	client_csr_free(&csr);
	for (size_t i = 0; a->csr != NULL && i < a->nnames; i++)
		free((char *)a->names[i]); /* the CSR's names (cli_cmd_issue frees the array) */
	if (a->co.eab_key != NULL)
		OPENSSL_clear_free((void *)a->co.eab_key, a->co.eab_keylen);
	return rc;
}

struct batch_out {
	const char *format;
	size_t ok, failed;
};

static void batch_done(const struct client_batch_job *job, void *arg)
{
	struct batch_out *o = arg;
	struct client_request req = { .lineage = job->lineage, .key_type = job->key_type };

	if (job->status == ACLM_OK) {
		o->ok++;
		print_issued(o->format, &req, &job->res);
	} else if (job->res.deploy_hook_failed) {
		o->failed++; /* issued, but the deploy hook failed: still exit 1 */
		print_issued(o->format, &req, &job->res);
		printf("failed   %s: %s\n", job->lineage, job->err.msg);
	} else {
		o->failed++;
		printf("failed   %s: %s\n", job->lineage, job->err.msg);
	}
	fflush(stdout);
}

static int run_batch(struct cli_ctx *ctx, struct issue_args *a)
{
	struct client_batch b = { .solver = &a->sc, .concurrency = a->concurrency,
				  .deploy_hook = a->deploy_hook, .preferred_chain = a->preferred_chain,
				  .profile = a->profile };
	struct batch_out out = { .format = a->format };
	struct aclm_err err = { 0 };
	int rc = CLI_EXIT_FAIL;

	if (cli_batch_parse(a->batch, a->key_types, a->challenge, &b.jobs, &b.njobs, &err) != ACLM_OK)
		return cli_fail(&err);
	if (cli_open(ctx, &err) != ACLM_OK ||
	    (a->acme.eab_key_file != NULL &&
	     cli_read_eab_key(a->acme.eab_key_file, (unsigned char **)&a->co.eab_key, &a->co.eab_keylen, &err) != ACLM_OK)) {
		rc = cli_fail(&err);
		goto out;
	}
	b.db_url = aclm_config_get(ctx->cfg, "store", "db");
	b.store_opts.home = ctx->home;
	b.store_opts.busy_timeout_ms = aclm_config_get_int(ctx->cfg, "store", "busy_timeout_ms");
	b.home = ctx->home;
	b.tenant = ctx->tenant;
	b.actor = ctx->actor;
	b.max_file_bytes = ctx->inv.max_file_bytes;
	b.co = a->co;
	b.done = batch_done;
	b.arg = &out;
	if (client_batch_run(&b, &err) != ACLM_OK && out.ok + out.failed == 0) {
		rc = cli_fail(&err);
		goto out;
	}
	aclm_log_note("batch: %zu issued, %zu failed", out.ok, out.failed);
	rc = out.failed > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	for (size_t i = 0; i < b.njobs; i++)
		client_batch_job_free(&b.jobs[i]);
	free(b.jobs);
	if (a->co.eab_key != NULL)
		OPENSSL_clear_free((void *)a->co.eab_key, a->co.eab_keylen);
	return rc;
}

int cli_cmd_issue(struct cli_ctx *ctx, int argc, char **argv)
{
	struct issue_args a = { 0 };
	int rc = parse_issue(ctx, argc, argv, usage_issue, &a);

	if (rc < 0 && a.batch != NULL && (a.nnames > 0 || a.lineage != NULL))
		rc = cli_usage_error(usage_issue, "issue: --batch takes the names from the file; "
						  "do not give -d, --ip or --name");
	else if (rc < 0 && a.batch == NULL && a.csr == NULL && a.nnames == 0)
		rc = cli_usage_error(usage_issue, "issue: give at least one -d NAME or --ip ADDR, or --csr FILE");
	if (rc < 0 && a.batch != NULL)
		rc = run_batch(ctx, &a);
	else if (rc < 0)
		rc = run_issue(ctx, &a);
	free(a.names);
	return rc;
}
