/* aclm ca serve: the options of the built-in ACME server (ca/server.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "core/time.h"

static const char usage_serve[] =
	"Usage: aclm ca serve --listen ADDR:PORT [--ca NAME] [--tls-cert FILE --tls-key FILE]\n"
	"                     [--http01-port N] [--tlsalpn01-port N] [--dns-server HOST:PORT]\n"
	"                     [--eab-required] [--profile NAME=DURATION...] [--default-profile NAME]\n"
	"                     [--terms-of-service URL] [--caa-identity DOMAIN...]\n"
	"                     [--authz-reuse DURATION] [--limit-orders N] [--limit-accounts N]\n"
	"                     [--workers N] [--va-workers N] [--ready-file FILE]\n"
	"\n"
	"Runs an RFC 8555 ACME server for one of this tenant's CAs (aclm ca init). The\n"
	"directory is https://ADDR:PORT/acme/directory. Leaves are signed by the\n"
	"intermediate of the CSR key's family (RSA, ECDSA or SM2). Stops on SIGINT/SIGTERM;\n"
	"a restart continues pending validations and keeps issued certificates.\n"
	"\n"
	"  --listen ADDR:PORT      where to answer (\"[::1]:PORT\" for IPv6)\n"
	"  --ca NAME               the CA (may be left out when the tenant has one)\n"
	"  --tls-cert/--tls-key    serving certificate chain and key (PEM); without them the\n"
	"                          CA issues its own (SANs localhost, 127.0.0.1, ::1, ADDR)\n"
	"  --http01-port N         port the validation authority connects to for http-01 (80)\n"
	"  --tlsalpn01-port N      ... for tls-alpn-01 (443)\n"
	"  --dns-server HOST:PORT  resolver for A/AAAA, dns-01 TXT and CAA (system resolver)\n"
	"  --eab-required          accounts need an external account binding (aclm ca eab create)\n"
	"  --profile NAME=DURATION define or change a profile (defaults: classic=90d,\n"
	"                          tlsserver=45d, shortlived=160h, sm2-enc=90d: SM2 encryption\n"
	"                          certificates for TLCP); durations: 90d, 160h, 30m, 45s\n"
	"  --default-profile NAME  profile of orders that name none (classic)\n"
	"  --caa-identity DOMAIN   issuer domain CAA records must name (repeatable; default\n"
	"                          the CA's name lowercased + \".aclm\")\n"
	"  --authz-reuse DURATION  reuse an account's valid authorizations this long (0: never)\n"
	"  --limit-orders N        new orders per account per minute (default 300; 0: none)\n"
	"  --limit-accounts N      new accounts per client IP per minute (default 60; 0: none)\n"
	"  --workers N             HTTP threads (4); --va-workers N validation threads (8)\n"
	"  --ready-file FILE       write the directory URL to FILE once serving\n"
	"\n"
	"Example:\n"
	"  aclm ca init --name Corp --key-type p256 --key-type sm2\n"
	"  aclm ca serve --listen 127.0.0.1:14000 &\n"
	"  aclm ca roots > corp-roots.pem\n"
	"  aclm issue --server https://127.0.0.1:14000/acme/directory --ca-bundle corp-roots.pem \\\n"
	"             -d host.corp.example --agree-tos\n";

#define SERVE_MAX_PROFILES 16


struct serve_args {
	struct ca_serve_opts o;
	struct ca_profile profiles[SERVE_MAX_PROFILES];
	json_t *caa;
	const char *ready_file;
};

static bool profile_arg(struct serve_args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[CA_PROFILE_NAME_MAX];
	int64_t life = 0;
	size_t i;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(name) ||
	    aclm_duration_parse(eq + 1, &life) != ACLM_OK)
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	for (i = 0; i < a->o.nprofiles; i++)
		if (strcmp(a->profiles[i].name, name) == 0)
			break;
	if (i == SERVE_MAX_PROFILES)
		return false;
	if (i == a->o.nprofiles) {
		a->o.nprofiles++;
		snprintf(a->profiles[i].name, sizeof(a->profiles[i].name), "%s", name);
		a->profiles[i].description = NULL;
		a->profiles[i].encryption = false;
	}
	a->profiles[i].lifetime_s = life;
	return true;
}

static bool int_arg(const char *s, int min, int max, int *out)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

static void on_ready(const char *url, void *arg)
{
	const char *file = arg;
	struct aclm_err err = { 0 };
	char line[512];

	printf("%s\n", url);
	fflush(stdout);
	if (file == NULL)
		return;
	snprintf(line, sizeof(line), "%s\n", url);
	if (aclm_fs_write_atomic(file, line, strlen(line), 0644, &err) != ACLM_OK)
		fprintf(stderr, "aclm: %s\n", err.msg);
}

enum {
	OPT_CA = CLI_OPT_FIRST_COMMAND_OPT, OPT_LISTEN, OPT_TLS_CERT, OPT_TLS_KEY, OPT_HTTP01,
	OPT_TLSALPN01, OPT_DNS, OPT_EAB, OPT_PROFILE, OPT_DEFAULT_PROFILE, OPT_TOS, OPT_CAA,
	OPT_REUSE, OPT_LIMIT_ORDERS, OPT_LIMIT_ACCOUNTS, OPT_WORKERS, OPT_VA_WORKERS, OPT_READY
};

static int serve_opt(struct cli_ctx *ctx, struct serve_args *a, int c)
{
	struct ca_serve_opts *o = &a->o;
	int64_t d = 0;
	int port = 0;

	switch (c) {
	case OPT_CA: o->name = optarg; break;
	case OPT_LISTEN: o->listen = optarg; break;
	case OPT_TLS_CERT: o->tls_cert = optarg; break;
	case OPT_TLS_KEY: o->tls_key = optarg; break;
	case OPT_HTTP01:
	case OPT_TLSALPN01:
		if (!int_arg(optarg, 1, 65535, &port))
			return cli_usage_error(usage_serve, "%s: not a port number", optarg);
		*(c == OPT_HTTP01 ? &o->http01_port : &o->tlsalpn01_port) = port;
		break;
	case OPT_DNS: o->dns_server = optarg; break;
	case OPT_EAB: o->eab_required = true; break;
	case OPT_PROFILE:
		if (!profile_arg(a, optarg))
			return cli_usage_error(usage_serve, "--profile %s: expected NAME=DURATION (e.g. classic=90d)",
					       optarg);
		break;
	case OPT_DEFAULT_PROFILE: o->default_profile = optarg; break;
	case OPT_TOS: o->terms_of_service = optarg; break;
	case OPT_CAA: json_array_append_new(a->caa, json_string(optarg)); break;
	case OPT_REUSE:
		if (strcmp(optarg, "0") != 0 && aclm_duration_parse(optarg, &d) != ACLM_OK)
			return cli_usage_error(usage_serve, "--authz-reuse %s: expected a duration (e.g. 1d)",
					       optarg);
		o->authz_reuse_s = d;
		break;
	case OPT_LIMIT_ORDERS:
	case OPT_LIMIT_ACCOUNTS:
		if (!int_arg(optarg, 0, 1000000, c == OPT_LIMIT_ORDERS ? &o->limit_orders : &o->limit_accounts))
			return cli_usage_error(usage_serve, "%s: expected a count (0: no limit)", optarg);
		break;
	case OPT_WORKERS:
	case OPT_VA_WORKERS:
		if (!int_arg(optarg, 1, 64, c == OPT_WORKERS ? &o->workers : &o->va_workers))
			return cli_usage_error(usage_serve, "%s: expected 1 to 64 threads", optarg);
		break;
	case OPT_READY: a->ready_file = optarg; break;
	default: return cli_common_opt(ctx, c, usage_serve);
	}
	return -1;
}

static int ca_serve_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, OPT_CA },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
		{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
		{ "http01-port", required_argument, NULL, OPT_HTTP01 },
		{ "tlsalpn01-port", required_argument, NULL, OPT_TLSALPN01 },
		{ "dns-server", required_argument, NULL, OPT_DNS },
		{ "eab-required", no_argument, NULL, OPT_EAB },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "default-profile", required_argument, NULL, OPT_DEFAULT_PROFILE },
		{ "terms-of-service", required_argument, NULL, OPT_TOS },
		{ "caa-identity", required_argument, NULL, OPT_CAA },
		{ "authz-reuse", required_argument, NULL, OPT_REUSE },
		{ "limit-orders", required_argument, NULL, OPT_LIMIT_ORDERS },
		{ "limit-accounts", required_argument, NULL, OPT_LIMIT_ACCOUNTS },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "va-workers", required_argument, NULL, OPT_VA_WORKERS },
		{ "ready-file", required_argument, NULL, OPT_READY },
		CLI_GLOBAL_LONGOPTS
	};
	struct serve_args a = { .o = { .limit_orders = 300, .limit_accounts = 60 } };
	struct store_options sopt = { 0 };
	struct aclm_err err = { 0 };
	int c, rc = -1;

	memcpy(a.profiles, ca_default_profiles, ca_default_profiles_n * sizeof(a.profiles[0]));
	a.o.nprofiles = ca_default_profiles_n;
	a.o.profiles = a.profiles;
	a.caa = json_array();
	while (rc < 0 && (c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1)
		rc = serve_opt(ctx, &a, c);
	if (rc >= 0)
		goto out;
	rc = CLI_EXIT_USAGE;
	if (optind < argc)
		cli_usage_error(usage_serve, "ca serve: unexpected argument '%s'", argv[optind]);
	else if (a.o.listen == NULL)
		cli_usage_error(usage_serve, "ca serve: --listen ADDR:PORT is required");
	else if ((a.o.tls_cert == NULL) != (a.o.tls_key == NULL))
		cli_usage_error(usage_serve, "ca serve: --tls-cert and --tls-key go together");
	else
		rc = -1;
	if (rc >= 0)
		goto out;
	if (cli_open(ctx, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	sopt.home = ctx->home;
	sopt.busy_timeout_ms = aclm_config_get_int(ctx->cfg, "store", "busy_timeout_ms");
	a.o.store_url = aclm_config_get(ctx->cfg, "store", "db");
	a.o.store_opt = &sopt;
	a.o.home = ctx->home;
	a.o.tenant_id = ctx->inv.tenant_id;
	a.o.caa_identities = json_array_size(a.caa) > 0 ? a.caa : NULL;
	a.o.ready = on_ready;
	a.o.ready_arg = (void *)a.ready_file;
	rc = ca_serve(&a.o, &err) == ACLM_OK ? CLI_EXIT_OK : cli_fail(&err);
out:
	json_decref(a.caa);
	return rc;
}

int cli_cmd_ca_serve(struct cli_ctx *ctx, int argc, char **argv)
{
	return ca_serve_cmd(ctx, argc, argv);
}
