/* cli/: the `aclm` command. Thin: parse, call a subsystem, print. */
#ifndef ACLM_CLI_H
#define ACLM_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "client/client.h"
#include "core/config.h"
#include "core/status.h"
#include "inventory/inventory.h"
#include "keystore/keystore.h"
#include "store/store.h"

/* Exit codes (docs/CLI.md). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli_ctx {
	/* global options as given */
	const char *home_flag, *db_flag, *tenant_flag, *config_flag, *log_format_flag;
	int verbosity; /* -1 quiet, 0 default, 1 -v, 2 -vv */

	struct aclm_config *cfg;
	char *home;
	struct store *store;
	struct keystore *ks;
	struct inventory inv;
	char tenant[128];
	char actor[64];
	/* The tenant commands administer the installation: they open the
	 * default tenant whatever --tenant says (which may name a tenant they
	 * are about to create). */
	bool as_default_tenant;
};

/* The tenant when none is named ([core] tenant's default in
 * core/config_keys.c): the only one cli_open creates on first use. */
#define CLI_DEFAULT_TENANT "default"

/* Long options every command accepts; append to a command's table. */
enum { CLI_OPT_HOME = 1000, CLI_OPT_DB, CLI_OPT_TENANT, CLI_OPT_CONFIG, CLI_OPT_LOG_FORMAT,
       CLI_OPT_FIRST_COMMAND_OPT = 1100 };
#define CLI_GLOBAL_SHORTOPTS "vqh"
#define CLI_GLOBAL_LONGOPTS                                              \
	{ "home", required_argument, NULL, CLI_OPT_HOME },               \
	{ "db", required_argument, NULL, CLI_OPT_DB },                   \
	{ "tenant", required_argument, NULL, CLI_OPT_TENANT },           \
	{ "config", required_argument, NULL, CLI_OPT_CONFIG },           \
	{ "log-format", required_argument, NULL, CLI_OPT_LOG_FORMAT },   \
	{ "verbose", no_argument, NULL, 'v' },                           \
	{ "quiet", no_argument, NULL, 'q' },                             \
	{ "help", no_argument, NULL, 'h' },                              \
	{ NULL, 0, NULL, 0 }

/* Handles an option every command shares. Returns -1 when handled (go on),
 * otherwise the exit code to return (help: 0, unknown option: 2). */
int cli_common_opt(struct cli_ctx *ctx, int c, const char *usage);

/* Loads configuration (home, file, environment, flags) and sets up logging. */
aclm_status cli_config_load(struct cli_ctx *ctx, struct aclm_err *err);
/* cli_config_load, then opens the store, keystore and tenant. */
aclm_status cli_open(struct cli_ctx *ctx, struct aclm_err *err);
void cli_close(struct cli_ctx *ctx);

/* Prints err and returns CLI_EXIT_FAIL (CLI_EXIT_USAGE for usage errors). */
int cli_fail(const struct aclm_err *err);
/* Prints "aclm: MESSAGE" and a hint to --help on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints usage to stdout; returns CLI_EXIT_OK. */
int cli_help(const char *usage);

/* Parses --format against "a|b|c"; returns false when not allowed. */
bool cli_format_ok(const char *value, const char *allowed);
/* Reads a secret (password) from a file or "-" (stdin), without the
 * trailing newline; *out is freed with cli_secret_free. */
aclm_status cli_read_secret(const char *path, char **out, struct aclm_err *err);
void cli_secret_free(char *s);
/* Options every ACME command shares (issue, account): the server, its
 * trust, the account's contact, terms and External Account Binding.
 * Append CLI_ACME_LONGOPTS to a command's table, hand each option to
 * cli_acme_opt, then call cli_acme_opts_check once. */
enum { CLI_OPT_SERVER = 1050, CLI_OPT_CA_BUNDLE, CLI_OPT_EMAIL, CLI_OPT_AGREE_TOS, CLI_OPT_EAB_KID,
       CLI_OPT_EAB_KEY, CLI_OPT_ACCOUNT_KEY_TYPE };
#define CLI_ACME_LONGOPTS                                                      \
	{ "server", required_argument, NULL, CLI_OPT_SERVER },                 \
	{ "ca-bundle", required_argument, NULL, CLI_OPT_CA_BUNDLE },           \
	{ "email", required_argument, NULL, CLI_OPT_EMAIL },                   \
	{ "agree-tos", no_argument, NULL, CLI_OPT_AGREE_TOS },                 \
	{ "eab-kid", required_argument, NULL, CLI_OPT_EAB_KID },               \
	{ "eab-hmac-key-file", required_argument, NULL, CLI_OPT_EAB_KEY },     \
	{ "account-key-type", required_argument, NULL, CLI_OPT_ACCOUNT_KEY_TYPE }
struct cli_acme_opts {
	const char *server;        /* as typed; NULL = letsencrypt */
	const char *eab_key_file;
	const char *account_key_type; /* as typed; NULL = not given */
};
/* True when c was one of CLI_ACME_LONGOPTS (stored into co and o). */
bool cli_acme_opt(int c, const char *arg, struct client_opts *co, struct cli_acme_opts *o);
/* Resolves the server name into co->server, the account key type into
 * co->account_key_type (p256, p384, rsa2048, rsa3072, rsa4096, ed25519)
 * and checks the pairs; returns -1 when fine, else the exit code of the
 * usage error it printed. */
int cli_acme_opts_check(const char *usage, struct client_opts *co, const struct cli_acme_opts *o);

/* An External Account Binding HMAC key (base64url or base64) from a file;
 * *key is released with OPENSSL_clear_free(*key, *len). */
aclm_status cli_read_eab_key(const char *path, unsigned char **key, size_t *len,
			     struct aclm_err *err);

/* Commands: argv[0] is the command word. */
int cli_cmd_key(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_csr(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_cert(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_report(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_backup(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_audit(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_config(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_issue(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_account(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_renew(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_revoke(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_ca(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_ca_serve(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_ca_admin(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_scan(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_tenant(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_user(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_token(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_jobs(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_alerts(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_target(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_deploy(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_bind(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_deployments(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_notify(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_serve(struct cli_ctx *ctx, int argc, char **argv);
/* One line per deploy result of deploy_run/deploy_lineage, each after indent. */
void cli_deploy_print(const json_t *results, const char *indent);
/* --batch FILE of `aclm issue` into jobs (cmd_issue_batch.c); errors name FILE:LINE. */
struct client_batch_job;
aclm_status cli_batch_parse(const char *file, const char *key_types, const char *challenge,
			    struct client_batch_job **jobs, size_t *njobs, struct aclm_err *err);
/* Subcommands living in their own files. */
int cli_cert_import(struct cli_ctx *ctx, int argc, char **argv);
int cli_cert_list(struct cli_ctx *ctx, int argc, char **argv);

#endif
