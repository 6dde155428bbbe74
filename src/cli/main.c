/* aclm: one multi-command binary (like git). main parses the global options
 * that come before the command and dispatches; commands parse the rest. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#ifdef ACLM_MIMALLOC
#include <mimalloc.h>
#endif

#include "cli/cli.h"
#include "core/log.h"

struct cli_command {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
};

static const struct cli_command commands[] = {
	{ "serve", cli_cmd_serve, "the service: REST API, scheduler (renewals, scans, alerts)" },
	{ "cert", cli_cmd_cert, "import, list, show, export and remove certificates" },
	{ "issue", cli_cmd_issue, "obtain certificates over ACME" },
	{ "account", cli_cmd_account, "ACME accounts (register, show, list, deactivate, rollover)" },
	{ "renew", cli_cmd_renew, "renew the lineages that are due" },
	{ "revoke", cli_cmd_revoke, "revoke a certificate at its ACME server" },
	{ "ca", cli_cmd_ca, "aclm's own CA: init, roots, list" },
	{ "scan", cli_cmd_scan, "scan TLS endpoints: certificates, versions, post-quantum groups" },
	{ "key", cli_cmd_key, "generate private keys in the sealed keystore" },
	{ "csr", cli_cmd_csr, "create certificate signing requests" },
	{ "report", cli_cmd_report, "inventory reports (summary)" },
	{ "backup", cli_cmd_backup, "consistent online copy of the database" },
	{ "audit", cli_cmd_audit, "check the hash-chained audit log" },
	{ "config", cli_cmd_config, "show the effective configuration and where it comes from" },
	{ "tenant", cli_cmd_tenant, "tenants of this installation: add, list" },
	{ "user", cli_cmd_user, "users of a tenant: add, list, passwd, rm" },
	{ "token", cli_cmd_token, "API tokens of a tenant: create, list, revoke" },
	{ "target", cli_cmd_target, "deployment targets: add, list, show, rm" },
	{ "deploy", cli_cmd_deploy, "deploy a certificate to targets, verified by a TLS probe" },
	{ "bind", cli_cmd_bind, "deploy a lineage to targets after each renewal" },
	{ "deployments", cli_cmd_deployments, "the last deploy per target" },
	{ "jobs", cli_cmd_jobs, "the scheduler's jobs: list, run (--once), retry" },
	{ "alerts", cli_cmd_alerts, "alerts raised by the scheduler: list" },
	{ "notify", cli_cmd_notify, "alert channels: send a test message, list them" },
	{ NULL, NULL, NULL },
};

static const char usage_main[] =
	"Usage: aclm [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"aclm keeps one inventory of an organisation's certificates and their keys,\n"
	"obtains and renews them over ACME, and runs its own CA.\n"
	"\n"
	"Commands:\n"
	"  serve                   the service: HTTPS REST API, scheduler (renewals before\n"
	"                          expiry, scheduled scans, alerts); `make run` starts it\n"
	"  cert import PATH...     add certificates (PEM, DER, PKCS#12; files or folders)\n"
	"  cert list               list certificates (--expiring DAYS, --format json, ...)\n"
	"  cert show ID|FPR        one certificate (text, json or pem)\n"
	"  cert export ID          certificate, chain and optionally key (pem, der, p12)\n"
	"  cert rm ID              remove a certificate\n"
	"  issue -d NAME ...       obtain certificates over ACME (http-01, dns-01,\n"
	"                          tls-alpn-01; --batch FILE for many)\n"
	"  renew [--all|LINEAGE]   renew what is due (--force, --dry-run)\n"
	"  revoke ID|FILE          revoke at the ACME server (--reason)\n"
	"  account SUBCOMMAND      ACME accounts: register, show, list, deactivate, rollover\n"
	"  ca init --name NAME     make a CA: root + intermediate per key type\n"
	"  ca roots | ca list      the CA's roots as PEM; the CAs\n"
	"  scan TARGET...          scan TLS endpoints (hosts, ranges): served chains,\n"
	"                          versions, PQ groups, findings (--format json, ...)\n"
	"  key gen                 generate a key in the keystore\n"
	"  csr new                 create a CSR\n"
	"  report summary          counts by expiry, issuer, key type, signature\n"
	"  backup --out FILE       copy the database while in use\n"
	"  audit verify            check the audit log's hash chain\n"
	"  config show             effective configuration\n"
	"  tenant add|list         tenants (separate inventories, users and tokens)\n"
	"  user add|list|passwd|rm users of a tenant for the API (roles, passwords)\n"
	"  token create|list|revoke\n"
	"                          API tokens (shown once; --out FILE, mode 0600)\n"
	"  notify test NAME        send a test alert through channel NAME; notify list\n"
	"  target add NAME --type T  a deployment target (file, nginx, apache, haproxy,\n"
	"                          ssh, webhook); target list|show|rm\n"
	"  deploy ID|LINEAGE --to T  deploy to targets, verified, rolled back on failure\n"
	"  bind LINEAGE TARGET...  deploy after each renewal; deployments: last results\n"
	"  help [COMMAND]          help on a command\n"
	"\n"
	"Global options (before or after the command):\n"
	"  --home DIR          state directory (ACLM_HOME; default /var/lib/aclm as root,\n"
	"                      ~/.local/share/aclm otherwise)\n"
	"  --config FILE       configuration file (default HOME/aclm.conf)\n"
	"  --db URL            database (ACLM_DB; default sqlite:aclm.db in HOME)\n"
	"  --tenant NAME       tenant to act on (ACLM_TENANT; default \"default\")\n"
	"  -v, -vv, -q         more, even more, or less logging (stderr)\n"
	"  --log-format FMT    text or json log lines\n"
	"  --version           print the version\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error. See docs/CLI.md.\n";

static const struct cli_command *find_command(const char *name)
{
	for (const struct cli_command *c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int run_help(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_command *c;
	char *sub[] = { NULL, "--help", NULL };

	if (argc < 2)
		return cli_help(usage_main);
	c = find_command(argv[1]);
	if (c == NULL)
		return cli_usage_error(usage_main, "unknown command '%s'", argv[1]);
	sub[0] = argv[1];
	optind = 0;
	return c->run(ctx, 2, sub);
}

/* The version, then what it runs on (for bug reports and benchmarks). */
static int print_version(void)
{
	printf("aclm %s\n", ACLM_VERSION);
	printf("%s", OpenSSL_version(OPENSSL_VERSION));
#ifdef ACLM_MIMALLOC
	printf(", mimalloc %d.%d.%d", mi_version() / 100, mi_version() / 10 % 10, mi_version() % 10);
#else
	printf(", glibc malloc");
#endif
	printf("\n");
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", no_argument, NULL, 'V' },
		CLI_GLOBAL_LONGOPTS
	};
	struct cli_ctx ctx = { 0 };
	const struct cli_command *cmd;
	int c, rc;

	/* Listeners (http-01, tls-alpn-01) write to peers that may hang up:
	 * that is an error on one connection, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	/* "+": stop at the command word; the command parses what follows. */
	while ((c = getopt_long(argc, argv, "+" CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if (c == 'V') {
			return print_version();
		}
		rc = cli_common_opt(&ctx, c, usage_main);
		if (rc >= 0)
			return rc;
	}
	if (optind >= argc)
		return cli_usage_error(usage_main, "no command given");
	argc -= optind;
	argv += optind;
	optind = 0; /* re-initialise getopt for the command */
	if (strcmp(argv[0], "help") == 0)
		return run_help(&ctx, argc, argv);
	if (strcmp(argv[0], "version") == 0) {
		return print_version();
	}
	cmd = find_command(argv[0]);
	if (cmd == NULL)
		return cli_usage_error(usage_main, "unknown command '%s'", argv[0]);
	rc = cmd->run(&ctx, argc, argv);
	cli_close(&ctx);
	return rc;
}
