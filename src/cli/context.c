/* Command context: global options, configuration, store, keystore, tenant. */
#include "cli/cli.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "acme/acme.h"
#include "core/buf.h"
#include "core/encode.h"
#include "core/fs.h"
#include "core/log.h"
#include "crypto/crypto.h"

#define SECRET_MAX 4096

int cli_common_opt(struct cli_ctx *ctx, int c, const char *usage)
{
	switch (c) {
	case CLI_OPT_HOME:
		ctx->home_flag = optarg;
		return -1;
	case CLI_OPT_DB:
		ctx->db_flag = optarg;
		return -1;
	case CLI_OPT_TENANT:
		ctx->tenant_flag = optarg;
		return -1;
	case CLI_OPT_CONFIG:
		ctx->config_flag = optarg;
		return -1;
	case CLI_OPT_LOG_FORMAT:
		ctx->log_format_flag = optarg;
		return -1;
	case 'v':
		ctx->verbosity = ctx->verbosity < 0 ? 1 : ctx->verbosity + 1;
		return -1;
	case 'q':
		ctx->verbosity = -1;
		return -1;
	case 'h':
		return cli_help(usage);
	default: /* getopt already said what was wrong */
		fprintf(stderr, "Try '%s --help'.\n", usage != NULL ? "aclm COMMAND" : "aclm");
		return CLI_EXIT_USAGE;
	}
}

static char *default_home(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	char buf[4096];

	if (geteuid() == 0)
		return strdup("/var/lib/aclm");
	if (xdg != NULL && xdg[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/aclm", xdg);
		return strdup(buf);
	}
	if ((home == NULL || home[0] == '\0') && (pw = getpwuid(geteuid())) != NULL)
		home = pw->pw_dir;
	snprintf(buf, sizeof(buf), "%s/.local/share/aclm", home != NULL ? home : ".");
	return strdup(buf);
}

static aclm_status apply_flags(struct cli_ctx *ctx, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	static const char *const levels[] = { "error", "warn", "info", "debug" };

	if (ctx->db_flag != NULL)
		st = aclm_config_set_flag(ctx->cfg, "store", "db", ctx->db_flag, err);
	if (st == ACLM_OK && ctx->tenant_flag != NULL)
		st = aclm_config_set_flag(ctx->cfg, "core", "tenant", ctx->tenant_flag, err);
	if (st == ACLM_OK && ctx->log_format_flag != NULL)
		st = aclm_config_set_flag(ctx->cfg, "log", "format", ctx->log_format_flag, err);
	if (st == ACLM_OK && ctx->verbosity != 0)
		st = aclm_config_set_flag(ctx->cfg, "log", "level",
					  levels[ctx->verbosity < 0 ? 0 : ctx->verbosity > 2 ? 3 : ctx->verbosity + 1],
					  err);
	if (st != ACLM_OK)
		st = aclm_err_set(err, ACLM_ERR_USAGE, "%s", err->msg);
	return st;
}

aclm_status cli_config_load(struct cli_ctx *ctx, struct aclm_err *err)
{
	const char *env_home = getenv("ACLM_HOME"), *cfg_path = ctx->config_flag;
	char *dflt = NULL;
	aclm_status st;

	if (ctx->cfg != NULL)
		return ACLM_OK;
	if (ctx->home_flag != NULL)
		ctx->home = strdup(ctx->home_flag);
	else if (env_home != NULL && env_home[0] != '\0')
		ctx->home = strdup(env_home);
	else
		ctx->home = default_home();
	if (ctx->home == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	st = aclm_config_new(&ctx->cfg);
	if (st != ACLM_OK)
		return aclm_err_set(err, st, "out of memory");
	if (cfg_path == NULL)
		cfg_path = getenv("ACLM_CONFIG");
	if (cfg_path != NULL && cfg_path[0] != '\0') {
		st = aclm_config_load_file(ctx->cfg, cfg_path, true, err);
	} else {
		dflt = aclm_fs_join(ctx->home, "aclm.conf");
		st = dflt != NULL ? aclm_config_load_file(ctx->cfg, dflt, false, err)
				  : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	free(dflt);
	if (st == ACLM_OK)
		st = aclm_config_load_env(ctx->cfg, err);
	if (st == ACLM_OK)
		st = apply_flags(ctx, err);
	if (st != ACLM_OK)
		return st;
	aclm_log_setup(aclm_log_level_parse(aclm_config_get(ctx->cfg, "log", "level")),
		       aclm_log_format_parse(aclm_config_get(ctx->cfg, "log", "format")));
	snprintf(ctx->tenant, sizeof(ctx->tenant), "%s", aclm_config_get(ctx->cfg, "core", "tenant"));
	{
		struct passwd *pw = getpwuid(geteuid());

		snprintf(ctx->actor, sizeof(ctx->actor), "cli:%s", pw != NULL ? pw->pw_name : "?");
	}
	return ACLM_OK;
}

/* The tenant the command acts on. "default" is made on first use, so that
 * a fresh home works at once; any other must exist (aclm tenant add): a
 * mistyped --tenant would otherwise file certificates, keys and accounts
 * under a new, empty tenant without a word. */
static aclm_status open_tenant(struct cli_ctx *ctx, struct aclm_err *err)
{
	aclm_status st;

	if (ctx->as_default_tenant)
		snprintf(ctx->tenant, sizeof(ctx->tenant), "%s", CLI_DEFAULT_TENANT);
	if (strcmp(ctx->tenant, CLI_DEFAULT_TENANT) == 0)
		return store_tenant_ensure(ctx->store, ctx->tenant, &ctx->inv.tenant_id, err);
	st = store_tenant_find(ctx->store, ctx->tenant, &ctx->inv.tenant_id, err);
	if (st == ACLM_ERR_NOTFOUND)
		aclm_err_set(err, ACLM_ERR_NOTFOUND,
			     "tenant \"%s\" does not exist (aclm tenant list shows them; aclm tenant "
			     "add %s makes it)", ctx->tenant, ctx->tenant);
	return st;
}

aclm_status cli_open(struct cli_ctx *ctx, struct aclm_err *err)
{
	struct store_options opt = { 0 };
	aclm_status st = cli_config_load(ctx, err);

	if (st != ACLM_OK)
		return st;
	if (ctx->tenant[0] == '\0')
		return aclm_err_set(err, ACLM_ERR_USAGE, "the tenant name is empty");
	st = aclm_fs_mkdirs(ctx->home, 0700, err);
	if (st == ACLM_OK)
		st = crypto_init(err);
	if (st != ACLM_OK)
		return st;
	opt.home = ctx->home;
	opt.busy_timeout_ms = aclm_config_get_int(ctx->cfg, "store", "busy_timeout_ms");
	st = store_open(aclm_config_get(ctx->cfg, "store", "db"), &opt, &ctx->store, err);
	if (st == ACLM_OK)
		st = keystore_open(ctx->store, ctx->home, &ctx->ks, err);
	if (st == ACLM_OK)
		st = open_tenant(ctx, err);
	if (st != ACLM_OK)
		return st;
	ctx->inv.store = ctx->store;
	ctx->inv.ks = ctx->ks;
	ctx->inv.tenant = ctx->tenant;
	ctx->inv.actor = ctx->actor;
	ctx->inv.max_file_bytes = (size_t)aclm_config_get_int(ctx->cfg, "import", "max_file_bytes");
	log_debug("home %s, database %s, tenant %s", ctx->home,
		  aclm_config_get(ctx->cfg, "store", "db"), ctx->tenant);
	return ACLM_OK;
}

void cli_close(struct cli_ctx *ctx)
{
	keystore_close(ctx->ks);
	store_close(ctx->store);
	aclm_config_free(ctx->cfg);
	free(ctx->home);
	ctx->ks = NULL;
	ctx->store = NULL;
	ctx->cfg = NULL;
	ctx->home = NULL;
}

int cli_fail(const struct aclm_err *err)
{
	log_error("%s", err->msg[0] != '\0' ? err->msg : aclm_status_name(err->code));
	return err->code == ACLM_ERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	(void)usage;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "aclm: %s\nTry 'aclm help' or add --help to the command.\n", msg);
	return CLI_EXIT_USAGE;
}

int cli_help(const char *usage)
{
	fputs(usage, stdout);
	return CLI_EXIT_OK;
}

bool cli_format_ok(const char *value, const char *allowed)
{
	return aclm_config_choice(allowed, value);
}

aclm_status cli_read_secret(const char *path, char **out, struct aclm_err *err)
{
	struct aclm_buf b;
	aclm_status st;

	*out = NULL;
	aclm_buf_init(&b, SECRET_MAX);
	st = aclm_buf_read_file(&b, path, err);
	if (st != ACLM_OK) {
		aclm_buf_free_secret(&b);
		return st;
	}
	while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	*out = (char *)aclm_buf_take(&b, NULL);
	return ACLM_OK;
}

void cli_secret_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* base64url (RFC 8555 §7.3.4 hands out MAC keys so) or base64 in a file. */
aclm_status cli_read_eab_key(const char *path, unsigned char **key, size_t *len,
			     struct aclm_err *err)
{
	char *text = NULL;
	unsigned char buf[256];
	long n;
	aclm_status st = cli_read_secret(path, &text, err);

	if (st != ACLM_OK)
		return st;
	n = acme_b64url_decode(text, strlen(text), buf, sizeof(buf));
	if (n <= 0)
		n = aclm_base64_decode(text, buf, sizeof(buf));
	cli_secret_free(text);
	if (n <= 0) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return aclm_err_set(err, ACLM_ERR_INVALID, "%s: not a base64url HMAC key", path);
	}
	*key = OPENSSL_malloc((size_t)n);
	if (*key != NULL)
		memcpy(*key, buf, (size_t)n);
	*len = (size_t)n;
	OPENSSL_cleanse(buf, sizeof(buf));
	return *key != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
}

bool cli_acme_opt(int c, const char *arg, struct client_opts *co, struct cli_acme_opts *o)
{
	switch (c) {
	case CLI_OPT_SERVER: o->server = arg; return true;
	case CLI_OPT_CA_BUNDLE: co->ca_bundle = arg; return true;
	case CLI_OPT_EMAIL: co->email = arg; return true;
	case CLI_OPT_AGREE_TOS: co->agree_tos = true; return true;
	case CLI_OPT_EAB_KID: co->eab_kid = arg; return true;
	case CLI_OPT_EAB_KEY: o->eab_key_file = arg; return true;
	case CLI_OPT_ACCOUNT_KEY_TYPE: o->account_key_type = arg; return true;
	default: return false;
	}
}

int cli_acme_opts_check(const char *usage, struct client_opts *co, const struct cli_acme_opts *o)
{
	const char *server = o->server != NULL ? o->server : "letsencrypt";

	co->server = client_server_url(server);
	if (co->server == NULL)
		return cli_usage_error(usage, "--server %s: give an https:// directory URL or one of "
					      "letsencrypt, letsencrypt-staging, zerossl", server);
	if ((co->eab_kid == NULL) != (o->eab_key_file == NULL))
		return cli_usage_error(usage, "--eab-kid and --eab-hmac-key-file go together");
	if (o->account_key_type != NULL) {
		int t = crypto_key_type_parse(o->account_key_type);

		/* SM2 has no JWS algorithm (issue 3): certificates only. */
		if (t < 0 || client_account_key_alg((enum crypto_key_type)t) == NULL)
			return cli_usage_error(usage, "--account-key-type %s: expected p256 (ES256), "
						      "p384 (ES384), rsa2048, rsa3072, rsa4096 (RS256) "
						      "or ed25519 (EdDSA)", o->account_key_type);
		co->account_key_type_set = true;
		co->account_key_type = (enum crypto_key_type)t;
	}
	return -1;
}
