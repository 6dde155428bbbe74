/* aclm serve: the always-on service. First start writes a commented
 * aclm.conf and creates the default tenant with an admin token; then the
 * HTTPS API (api/) and the scheduler (sched/) run until SIGTERM/SIGINT;
 * SIGHUP reloads the configuration (a bad one is refused, the running one
 * stays). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api/api.h"
#include "auth/auth.h"
#include "ca/ca.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "core/log.h"
#include "sched/sched.h"

static const char usage_serve[] =
	"Usage: aclm serve [--config FILE] [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE]\n"
	"                  [--workers N] [--no-cert-metrics] [--no-scheduler] [--ready-file FILE]\n"
	"\n"
	"Runs aclm as a service: the REST API over HTTPS (/api/v1, /healthz, /readyz,\n"
	"/metrics) and the scheduler (renewals before expiry, scheduled scans, alerts).\n"
	"\n"
	"On first start it writes a commented default configuration to\n"
	"STATE_DIR/aclm.conf, creates the tenant \"default\" with an admin user, and\n"
	"prints the admin's API token once (also written to STATE_DIR/admin-token, 0600).\n"
	"SIGHUP reloads the configuration (refused with file, line and reason when\n"
	"invalid; the running configuration stays). SIGTERM or SIGINT stops gracefully:\n"
	"no new requests or jobs, running ones finish.\n"
	"\n"
	"  --config FILE           configuration file (default STATE_DIR/aclm.conf)\n"
	"  --listen ADDR:PORT      [server] listen (default 127.0.0.1:8443)\n"
	"  --tls-cert/--tls-key    [server] tls_cert/tls_key: serving chain and key (PEM);\n"
	"                          without them a certificate from aclm's own CA (aclm ca\n"
	"                          init), else a self-signed one; its SHA-256 is logged\n"
	"  --workers N             [server] workers: HTTP threads (4)\n"
	"  --no-cert-metrics       [metrics] per_certificate = off\n"
	"  --no-scheduler          API only (another process runs `aclm jobs run`)\n"
	"  --ready-file FILE       write the API's base URL to FILE once serving\n"
	"\n"
	"Example:\n"
	"  aclm serve &\n"
	"  curl --cacert ... -H \"Authorization: Bearer $(cat ~/.local/share/aclm/admin-token)\" \\\n"
	"       https://127.0.0.1:8443/api/v1/certificates?expiring=30\n";

/* The file first start writes: every section, commented, with defaults. */
static const char default_conf[] =
	"# aclm configuration (written by the first `aclm serve`; edit freely).\n"
	"# Every key can be overridden by the environment: [server] listen is\n"
	"# ACLM_SERVER_LISTEN. Secrets are never written here: give file paths.\n"
	"# `aclm config show` prints the effective values and where they come from.\n"
	"\n"
	"[server]\n"
	"# listen = 127.0.0.1:8443\n"
	"# tls_cert = /etc/aclm/api.pem      ; empty: a certificate from aclm's own CA\n"
	"# tls_key = /etc/aclm/api.key\n"
	"# workers = 4\n"
	"\n"
	"[store]\n"
	"# db = sqlite:aclm.db\n"
	"\n"
	"[renew]\n"
	"# ari = on                           ; follow the CA's renewal window (RFC 9773)\n"
	"# remaining_fraction = 1/3           ; else renew when this share of the lifetime is left\n"
	"\n"
	"[alerts]\n"
	"# thresholds = 30,14,7,3,1           ; days; only below 1/3 of a certificate's lifetime\n"
	"# channels = ops                     ; names of [notify.NAME] sections\n"
	"\n"
	"# [notify.ops]\n"
	"# type = email                       ; email|webhook|slack|dingtalk|feishu|wecom|teams\n"
	"# smtp_url = smtp://mail.example.com:587\n"
	"# starttls = required\n"
	"# from = aclm@example.com\n"
	"# to = pki-team@example.com\n"
	"# username = aclm\n"
	"# password_file = /etc/aclm/smtp-password\n"
	"\n"
	"# [scan.datacenter]\n"
	"# targets = 10.0.0.0/24, www.example.com\n"
	"# ports = 443, 8443\n"
	"# interval = 24h\n"
	"\n"
	"[ca]\n"
	"# enabled = off                      ; on: aclm's own ACME CA at https://LISTEN/acme/directory\n"
	"# name =                             ; which CA (aclm ca init); empty: the only one\n"
	"# eab_required = off\n"
	"\n"
	"[metrics]\n"
	"# per_certificate = on               ; off for very large inventories\n";

/* Flags that are configuration keys (load_config maps them). */
enum { SERVE_F_LISTEN, SERVE_F_CERT, SERVE_F_KEY, SERVE_F_WORKERS, SERVE_F_CERT_METRICS,
       SERVE_F_N };

struct serve_args {
	const char *ready_file;
	bool no_sched;
};

static aclm_status write_new_file(const char *path, const char *text, mode_t mode,
				  struct aclm_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen(text);
	aclm_status st = ACLM_OK;

	if (fd < 0)
		return aclm_err_set(err, ACLM_ERR_IO, "%s: %s", path, strerror(errno));
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: %s", path, strerror(errno));
	if (close(fd) != 0 && st == ACLM_OK)
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: %s", path, strerror(errno));
	if (st != ACLM_OK)
		unlink(path);
	return st;
}

/* First start: the commented configuration, unless --config names one. */
static aclm_status ensure_config(struct cli_ctx *ctx, struct aclm_err *err)
{
	char *path;
	aclm_status st = ACLM_OK;

	if (ctx->config_flag != NULL || getenv("ACLM_CONFIG") != NULL)
		return ACLM_OK;
	path = aclm_fs_join(ctx->home, "aclm.conf");
	if (path == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (access(path, F_OK) != 0) {
		st = write_new_file(path, default_conf, 0640, err);
		if (st == ACLM_OK)
			fprintf(stderr, "aclm serve: wrote the default configuration %s\n", path);
	}
	free(path);
	return st;
}

/* First start: tenant "default", its admin, and the admin's token, shown once. */
static aclm_status bootstrap(struct cli_ctx *ctx, struct aclm_err *err)
{
	char token[AUTH_TOKEN_MAX], *path = NULL, *text = NULL;
	bool created = false;
	aclm_status st;

	st = auth_bootstrap(ctx->store, aclm_config_get(ctx->cfg, "server", "admin"), token,
			    &created, err);
	if (st != ACLM_OK || !created)
		goto out;
	path = aclm_fs_join(ctx->home, "admin-token");
	text = path != NULL ? malloc(strlen(token) + 2) : NULL;
	if (text == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	sprintf(text, "%s\n", token);
	(void)unlink(path); /* a token file of an earlier database is void */
	st = write_new_file(path, text, 0600, err);
	if (st != ACLM_OK)
		goto out;
	printf("aclm serve: created tenant \"default\" and admin user \"%s\".\n"
	       "Admin API token (shown once; also in %s):\n%s\n",
	       aclm_config_get(ctx->cfg, "server", "admin"), path, token);
	fflush(stdout);
out:
	OPENSSL_cleanse(token, sizeof(token));
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	free(path);
	return st;
}

/* Loads the configuration afresh, as at start, and checks it. */
static aclm_status reload_config(struct cli_ctx *ctx, struct aclm_config **out,
				 struct aclm_err *err)
{
	struct cli_ctx fresh = { .home_flag = ctx->home, .config_flag = ctx->config_flag,
				 .db_flag = ctx->db_flag, .tenant_flag = ctx->tenant_flag };
	aclm_status st = cli_config_load(&fresh, err);

	if (st == ACLM_OK)
		st = sched_config_check(fresh.cfg, err);
	if (st == ACLM_OK) {
		*out = fresh.cfg;
		fresh.cfg = NULL;
	}
	cli_close(&fresh);
	return st;
}

static void write_ready_file(const char *path, const char *listen)
{
	char text[300];
	FILE *f;

	if (path == NULL)
		return;
	snprintf(text, sizeof(text), "https://%s\n", listen);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		log_warn("serve: %s: cannot write the ready file", path);
}

/* SIGTERM, SIGINT and SIGHUP are blocked in every thread (before any
 * starts) and taken here with sigwait: no handler races. */
static void serve_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Waits for a stop signal; SIGHUP reloads into the scheduler. Each
 * configuration stays alive until the end: sched_reload swaps a pointer
 * that running jobs may still hold, and the API keeps the start one. */
static void serve_wait(struct cli_ctx *ctx, struct sched *sched, const sigset_t *set)
{
	struct aclm_config **kept = NULL, **grown;
	size_t nkept = 0;
	int sig = 0;

	while (sigwait(set, &sig) == 0 && sig == SIGHUP) {
		struct aclm_err err = { 0 };
		struct aclm_config *cfg = NULL;

		grown = realloc(kept, (nkept + 1) * sizeof(*kept));
		if (grown == NULL) {
			log_error("serve: reload refused: out of memory");
			continue;
		}
		kept = grown;
		if (reload_config(ctx, &cfg, &err) != ACLM_OK ||
		    (sched != NULL && sched_reload(sched, cfg, &err) != ACLM_OK)) {
			log_error("serve: reload refused, configuration unchanged: %s", err.msg);
			aclm_config_free(cfg);
			continue;
		}
		aclm_log_note("serve: configuration reloaded");
		kept[nkept++] = cfg;
	}
	if (sched != NULL)
		sched_stop(sched);
	for (size_t i = 0; i < nkept; i++)
		aclm_config_free(kept[i]);
	free(kept);
}

static bool on(const struct aclm_config *cfg, const char *section, const char *key)
{
	const char *v = aclm_config_get(cfg, section, key);

	return v != NULL && strcmp(v, "on") == 0;
}

/* [ca] enabled: aclm's own ACME CA at /acme/ on the API's socket. */
static aclm_status start_ca(struct cli_ctx *ctx, struct ca_serve_opts *co,
			    struct store_options *so, struct ca_embedded **ca, struct aclm_err *err)
{
	const struct aclm_config *cfg = ctx->cfg;
	aclm_status st;

	*ca = NULL;
	if (!on(cfg, "ca", "enabled"))
		return ACLM_OK;
	so->home = ctx->home;
	so->busy_timeout_ms = aclm_config_get_int(cfg, "store", "busy_timeout_ms");
	*co = (struct ca_serve_opts){
		.store_url = aclm_config_get(cfg, "store", "db"),
		.store_opt = so,
		.home = ctx->home,
		.tenant_id = ctx->inv.tenant_id,
		.name = aclm_config_get(cfg, "ca", "name"),
		.listen = aclm_config_get(cfg, "server", "listen"),
		.http01_port = (int)aclm_config_get_int(cfg, "ca", "http01_port"),
		.tlsalpn01_port = (int)aclm_config_get_int(cfg, "ca", "tlsalpn01_port"),
		.dns_server = aclm_config_get(cfg, "ca", "dns_server"),
		.eab_required = on(cfg, "ca", "eab_required"),
		.limit_orders = 300,
		.limit_accounts = 60,
	};
	st = ca_embedded_start(co, (int)aclm_config_get_int(cfg, "server", "workers"), ca, err);
	if (st != ACLM_OK)
		aclm_err_prefix(err, "[ca] enabled");
	return st;
}

static aclm_status serve_run(struct cli_ctx *ctx, const struct serve_args *a,
			     const sigset_t *set, struct aclm_err *err)
{
	static struct ca_serve_opts co; /* outlives the embedded CA */
	struct store_options cso = { 0 };
	struct ca_embedded *ca = NULL;
	const char *listen = aclm_config_get(ctx->cfg, "server", "listen");
	struct api_opts ao = {
		.home = ctx->home,
		.db = aclm_config_get(ctx->cfg, "store", "db"),
		.listen = listen,
		.tls_cert = aclm_config_get(ctx->cfg, "server", "tls_cert"),
		.tls_key = aclm_config_get(ctx->cfg, "server", "tls_key"),
		.workers = (int)aclm_config_get_int(ctx->cfg, "server", "workers"),
		.per_cert_metrics = strcmp(aclm_config_get(ctx->cfg, "metrics", "per_certificate"),
					   "on") == 0,
		.cfg = ctx->cfg,
	};
	struct sched_opts so = {
		.home = ctx->home,
		.db = ao.db,
		.cfg = ctx->cfg,
		.workers = (int)aclm_config_get_int(ctx->cfg, "sched", "workers"),
		.lease_s = aclm_config_get_int(ctx->cfg, "sched", "lease_s"),
		.tick_s = aclm_config_get_int(ctx->cfg, "sched", "tick_s"),
	};
	struct api_server *api = NULL;
	struct sched *sched = NULL;
	aclm_status st;

	st = start_ca(ctx, &co, &cso, &ca, err);
	ao.ca = ca;
	if (st == ACLM_OK)
		st = api_server_start(&ao, &api, err);
	if (st == ACLM_OK && !a->no_sched)
		st = sched_new(&so, &sched, err);
	if (st == ACLM_OK && sched != NULL)
		st = sched_start(sched, err);
	if (st != ACLM_OK)
		goto out;
	api_server_set_ready(api, true);
	aclm_log_note("serve: serving https://%s (scheduler %s)", listen,
		      sched != NULL ? "on" : "off");
	write_ready_file(a->ready_file, listen);
	serve_wait(ctx, sched, set);
	aclm_log_note("serve: stopping");
	api_server_set_ready(api, false);
out:
	if (sched != NULL)
		sched_stop(sched);
	sched_free(sched);
	if (api != NULL)
		api_server_stop(api);
	ca_embedded_stop(ca);
	return st;
}

/* The flags are the configuration's flag layer: `config show` and a reload
 * see them, and they beat the file and the environment. */
static aclm_status flag(struct cli_ctx *ctx, const char *section, const char *key,
			const char *value, struct aclm_err *err)
{
	return aclm_config_set_flag(ctx->cfg, section, key, value, err);
}

static int parse_args(struct cli_ctx *ctx, int argc, char **argv, struct serve_args *a,
		      const char **flags)
{
	enum { OPT_LISTEN = CLI_OPT_FIRST_COMMAND_OPT, OPT_CERT, OPT_KEY, OPT_WORKERS,
	       OPT_NO_CERT_METRICS, OPT_NO_SCHED, OPT_READY };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "tls-cert", required_argument, NULL, OPT_CERT },
		{ "tls-key", required_argument, NULL, OPT_KEY },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "no-cert-metrics", no_argument, NULL, OPT_NO_CERT_METRICS },
		{ "no-scheduler", no_argument, NULL, OPT_NO_SCHED },
		{ "ready-file", required_argument, NULL, OPT_READY },
		CLI_GLOBAL_LONGOPTS
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN: flags[SERVE_F_LISTEN] = optarg; break;
		case OPT_CERT: flags[SERVE_F_CERT] = optarg; break;
		case OPT_KEY: flags[SERVE_F_KEY] = optarg; break;
		case OPT_WORKERS: flags[SERVE_F_WORKERS] = optarg; break;
		case OPT_NO_CERT_METRICS: flags[SERVE_F_CERT_METRICS] = "off"; break;
		case OPT_NO_SCHED: a->no_sched = true; break;
		case OPT_READY: a->ready_file = optarg; break;
		default:
			rc = cli_common_opt(ctx, c, usage_serve);
			if (rc >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return cli_usage_error(usage_serve, "serve: unexpected argument \"%s\"", argv[optind]);
	if ((flags[SERVE_F_CERT] == NULL) != (flags[SERVE_F_KEY] == NULL))
		return cli_usage_error(usage_serve, "--tls-cert and --tls-key go together");
	return -1;
}

/* Loads the configuration (the file first start may just have written),
 * then puts the flags on top. */
static aclm_status load_config(struct cli_ctx *ctx, const char *const *flags,
			       struct aclm_err *err)
{
	static const char *const where[SERVE_F_N][2] = {
		[SERVE_F_LISTEN] = { "server", "listen" },
		[SERVE_F_CERT] = { "server", "tls_cert" },
		[SERVE_F_KEY] = { "server", "tls_key" },
		[SERVE_F_WORKERS] = { "server", "workers" },
		[SERVE_F_CERT_METRICS] = { "metrics", "per_certificate" },
	};
	aclm_status st = cli_config_load(ctx, err);

	if (st == ACLM_OK)
		st = aclm_fs_mkdirs(ctx->home, 0700, err);
	if (st == ACLM_OK)
		st = ensure_config(ctx, err);
	if (st == ACLM_OK) {
		aclm_config_free(ctx->cfg);
		ctx->cfg = NULL;
		free(ctx->home);
		ctx->home = NULL;
		st = cli_config_load(ctx, err);
	}
	for (int i = 0; st == ACLM_OK && i < SERVE_F_N; i++)
		if (flags[i] != NULL)
			st = flag(ctx, where[i][0], where[i][1], flags[i], err);
	return st;
}

int cli_cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
	struct serve_args a = { 0 };
	const char *flags[SERVE_F_N] = { 0 };
	struct aclm_err err = { 0 };
	sigset_t set;
	int rc = parse_args(ctx, argc, argv, &a, flags);
	aclm_status st;

	if (rc >= 0)
		return rc;
	st = load_config(ctx, flags, &err);
	if (st == ACLM_OK)
		st = sched_config_check(ctx->cfg, &err);
	if (st == ACLM_OK)
		st = cli_open(ctx, &err);
	if (st == ACLM_OK)
		st = bootstrap(ctx, &err);
	if (st != ACLM_OK)
		return cli_fail(&err);
	serve_signals(&set);
	st = serve_run(ctx, &a, &set, &err);
	return st == ACLM_OK ? CLI_EXIT_OK : cli_fail(&err);
}
