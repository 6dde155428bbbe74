/* aclm account register|show|list|deactivate|rollover: the tenant's ACME
 * accounts (client/account.c does the protocol). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "client/client.h"
#include "core/json.h"
#include "core/log.h"

static const char usage_account[] =
	"Usage: aclm account register|show|list|deactivate|rollover [--server URL|NAME]\n"
	"                    [OPTIONS]\n"
	"\n"
	"  register    create an account at the server (--agree-tos, --email, --eab-kid,\n"
	"              --eab-hmac-key-file, --account-key-type)\n"
	"  show        the account at the server as the server reports it\n"
	"              (RFC 8555 §7.3.3), with its key type\n"
	"  list        accounts of the tenant, all servers\n"
	"  deactivate  deactivate the account at the server (§7.3.6); the next issue\n"
	"              registers a new one\n"
	"  rollover    replace the account key with a new key (§7.3.5) of the same\n"
	"              type, or of --account-key-type\n"
	"\n"
	"Options:\n"
	"  --server URL|NAME       directory URL, or letsencrypt (default),\n"
	"                          letsencrypt-staging, zerossl\n"
	"  --ca-bundle FILE        roots to trust for the ACME server's TLS\n"
	"  --email ADDR            account contact (register)\n"
	"  --agree-tos             agree to the server's terms of service (register)\n"
	"  --eab-kid KID           External Account Binding key id (register)\n"
	"  --eab-hmac-key-file F   its HMAC key (base64url), from a file\n"
	"  --account-key-type T    register, rollover: p256 (ES256, the default for new\n"
	"                          accounts), p384 (ES384), rsa2048, rsa3072, rsa4096\n"
	"                          (RS256), ed25519 (EdDSA; many CAs refuse it)\n"
	"  --format text|json      show, list\n";

struct account_args {
	struct client_opts co;
	struct cli_acme_opts acme;
	const char *format;
};

static int parse_account(struct cli_ctx *ctx, int argc, char **argv, struct account_args *a)
{
	enum { OPT_FORMAT = CLI_OPT_FIRST_COMMAND_OPT };
	static const struct option opts[] = {
		CLI_ACME_LONGOPTS,
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS
	};
	int c, rc;

	a->format = "text";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if (cli_acme_opt(c, optarg, &a->co, &a->acme))
			continue;
		if (c == OPT_FORMAT)
			a->format = optarg;
		else if ((rc = cli_common_opt(ctx, c, usage_account)) >= 0)
			return rc;
	}
	if ((rc = cli_acme_opts_check(usage_account, &a->co, &a->acme)) >= 0)
		return rc;
	if (!cli_format_ok(a->format, "text|json"))
		return cli_usage_error(usage_account, "--format %s: expected text or json", a->format);
	if (optind < argc)
		return cli_usage_error(usage_account, "unexpected argument '%s'", argv[optind]);
	return -1;
}

struct list_ctx {
	struct cli_ctx *ctx;
	json_t *arr;               /* --format json, else NULL */
};

/* The account key's type from the keys table ("ed25519", "p256", ...). */
static const char *account_key_type(struct cli_ctx *ctx, const char *key_id, char out[16])
{
	struct store_key *k = NULL;

	snprintf(out, 16, "?");
	if (store_key_get(ctx->store, ctx->inv.tenant_id, key_id, &k, NULL) == ACLM_OK)
		snprintf(out, 16, "%s", k->type);
	store_key_free(k);
	return out;
}

static aclm_status print_account(const struct store_acme_account *acc, void *arg)
{
	struct list_ctx *l = arg;
	char type[16];
	int t;

	account_key_type(l->ctx, acc->key_id, type);
	t = crypto_key_type_parse(type);
	if (l->arr != NULL) {
		json_array_append_new(l->arr, json_pack("{s:I, s:s, s:s?, s:s, s:O, s:s, s:s, s:s?}", "id",
							(json_int_t)acc->id, "server", acc->server, "url",
							acc->url, "status", acc->status, "contact",
							acc->contact, "key_id", acc->key_id, "key_type", type,
							"alg", t >= 0 ? client_account_key_alg((enum crypto_key_type)t)
								      : NULL));
		return ACLM_OK;
	}
	printf("%-4lld %-12s %s\n     %s\n     key %s (%s)\n", (long long)acc->id, acc->status,
	       acc->server, acc->url != NULL ? acc->url : "-", acc->key_id, type);
	return ACLM_OK;
}

static int run_list(struct cli_ctx *ctx, const struct account_args *a)
{
	struct aclm_err err = { 0 };
	struct list_ctx l = { .ctx = ctx, .arr = strcmp(a->format, "json") == 0 ? json_array() : NULL };
	int rc = CLI_EXIT_OK;

	if (store_acme_account_list(ctx->store, ctx->inv.tenant_id, print_account, &l, &err) != ACLM_OK)
		rc = cli_fail(&err);
	else if (l.arr != NULL)
		aclm_json_print(stdout, l.arr, true);
	json_decref(l.arr);
	return rc;
}

static void print_show(const char *format, const json_t *o)
{
	const json_t *contact = json_object_get(o, "contact");
	size_t i;
	json_t *v;

	if (strcmp(format, "json") == 0) {
		aclm_json_print(stdout, o, true);
		return;
	}
	printf("url:      %s\n", aclm_json_str(o, "url"));
	printf("server:   %s\n", aclm_json_str(o, "server"));
	printf("status:   %s\n", aclm_json_str(o, "status"));
	printf("contact: ");
	json_array_foreach(contact, i, v)
		printf(" %s", json_string_value(v));
	printf("%s\n", json_array_size(contact) == 0 ? " -" : "");
	printf("key id:   %s\n", aclm_json_str(o, "key_id"));
	printf("key type: %s (%s)\n", aclm_json_str(o, "key_type"), aclm_json_str(o, "alg"));
	printf("created:  %s\n", aclm_json_str(o, "created"));
}

/* show, deactivate, rollover, register: they talk to the server. */
static int run_remote(struct cli_ctx *ctx, const char *sub, struct account_args *a)
{
	struct client_conn *conn = NULL;
	struct aclm_err err = { 0 };
	json_t *shown = NULL;
	aclm_status st;
	int rc = CLI_EXIT_FAIL;

	if ((a->acme.eab_key_file != NULL &&
	     cli_read_eab_key(a->acme.eab_key_file, (unsigned char **)&a->co.eab_key, &a->co.eab_keylen,
			      &err) != ACLM_OK) ||
	    client_conn_open(&ctx->inv, &a->co, &conn, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	if (strcmp(sub, "show") == 0) {
		st = client_account_show(conn, &shown, &err);
		/* A deactivated account: the server refuses to answer for it
		 * (§7.3.6 "unauthorized"); what the store knows is still shown. */
		if (st == ACLM_ERR_VERIFY && shown != NULL &&
		    strcmp(aclm_json_str(shown, "stored_status"), "valid") != 0) {
			aclm_log_note("%s: %s", aclm_json_str(shown, "url"), err.msg);
			st = ACLM_OK;
		}
		if (st == ACLM_OK)
			print_show(a->format, shown);
	} else if (strcmp(sub, "deactivate") == 0) {
		st = client_account_deactivate(conn, &err);
		if (st == ACLM_OK)
			printf("deactivated %s\n", client_account_url(conn) != NULL
							   ? client_account_url(conn) : "");
	} else if (strcmp(sub, "rollover") == 0) {
		st = client_account_rollover(conn, &err);
		if (st == ACLM_OK)
			printf("rolled over %s: key %s (%s)\n", client_account_url(conn),
			       client_account_key_id(conn),
			       crypto_key_type_name((enum crypto_key_type)client_account_key_type(conn)));
	} else {
		st = client_account_register(conn, &err);
		if (st == ACLM_OK)
			printf("registered %s (%s key)\n", client_account_url(conn),
			       crypto_key_type_name((enum crypto_key_type)client_account_key_type(conn)));
	}
	rc = st == ACLM_OK ? CLI_EXIT_OK : cli_fail(&err);
out:
	json_decref(shown);
	client_conn_close(conn);
	if (a->co.eab_key != NULL)
		OPENSSL_clear_free((void *)a->co.eab_key, a->co.eab_keylen);
	return rc;
}

int cli_cmd_account(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const subs[] = { "register", "show", "list", "deactivate", "rollover" };
	struct account_args a = { 0 };
	struct aclm_err err = { 0 };
	const char *sub = NULL;
	int rc;

	for (size_t i = 0; argc >= 2 && i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i]) == 0)
			sub = subs[i];
	if (sub == NULL) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
			return cli_help(usage_account);
		return cli_usage_error(usage_account, "account: give a subcommand (register, show, "
						      "list, deactivate, rollover)");
	}
	rc = parse_account(ctx, argc - 1, argv + 1, &a);
	if (rc >= 0)
		return rc;
	if (a.acme.account_key_type != NULL && strcmp(sub, "register") != 0 &&
	    strcmp(sub, "rollover") != 0)
		return cli_usage_error(usage_account, "account %s: --account-key-type applies to "
						      "register and rollover", sub);
	if (cli_open(ctx, &err) != ACLM_OK)
		return cli_fail(&err);
	return strcmp(sub, "list") == 0 ? run_list(ctx, &a) : run_remote(ctx, sub, &a);
}
