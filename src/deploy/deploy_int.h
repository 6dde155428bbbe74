/* deploy/: internals shared by the engine and the target types: the type
 * tables, the file writer (files.c) and the command runner. */
#ifndef ACLM_DEPLOY_INT_H
#define ACLM_DEPLOY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/status.h"
#include "deploy/deploy.h"

/* One table per type, one file each; deploy.c lists them. */
extern const struct deploy_type_ops deploy_file_ops, deploy_nginx_ops, deploy_apache_ops,
	deploy_haproxy_ops, deploy_ssh_ops, deploy_webhook_ops;

/* ---- options.c: reading a target's options ---- */

/* A non-empty string; absent -> NULL, or ACLM_ERR_CONFIG when required.
 * Errors say "TYPE target: option KEY ...". */
aclm_status deploy__opt_str(const char *type, const json_t *options, const char *key,
			    bool required, const char **out, struct aclm_err *err);
/* true/false (JSON or the strings); absent -> false. */
aclm_status deploy__opt_bool(const char *type, const json_t *options, const char *key, bool *out,
			     struct aclm_err *err);
/* An integer (JSON or a decimal string) in min..max; absent -> def. */
aclm_status deploy__opt_int(const char *type, const json_t *options, const char *key, int64_t def,
			    int64_t min, int64_t max, int64_t *out, struct aclm_err *err);

/* ---- files.c: the files a target writes ---- */

/* Path options files.c understands, and what goes in each. */
#define DEPLOY__FILE_OPTIONS "cert_path chain_path fullchain_path key_path combined_path p12_path"

/* Keys of options shared by every files-writing type: the paths above and
 * owner, group, mode, p12_password_file. */
bool deploy__files_option(const char *key);
/* Checks the file options of a target: paths absolute with an existing
 * directory, owner/group known, mode octal <= 07777, at least one path
 * (unless allow_none). ACLM_ERR_CONFIG naming the option. */
aclm_status deploy__files_check(const json_t *options, bool allow_none, struct aclm_err *err);
/* True when the options write the key (key, combined or p12 path). */
bool deploy__files_want_key(const json_t *options);

struct deploy__files;
/* Writes every configured file to a temp name beside it (owner, group,
 * mode set, fsynced) and keeps the current content of each for restore.
 * combined_override (may be NULL) adds a combined PEM at that path (the
 * haproxy crt). */
aclm_status deploy__files_stage(const json_t *options, const struct deploy_material *m,
				const char *combined_override, struct deploy__files **out,
				struct aclm_err *err);
/* Renames the temp files into place (then fsyncs the directories). */
aclm_status deploy__files_activate(struct deploy__files *f, struct aclm_err *err);
/* Puts back what each activated path held before (or removes a path that
 * did not exist). */
aclm_status deploy__files_restore(struct deploy__files *f, struct aclm_err *err);
/* The previous content of path (as staged), or NULL; *len its size. */
const char *deploy__files_previous(const struct deploy__files *f, const char *path, size_t *len);
/* Records the paths written into detail ({"files": [...]}). */
void deploy__files_detail(const struct deploy__files *f, json_t *detail);
/* Removes temp files left, wipes the contents kept. NULL is fine. */
void deploy__files_free(struct deploy__files *f);

/* The combined PEM (leaf, chain, key) HAProxy wants; malloc'd, caller wipes
 * (OPENSSL_clear_free with strlen + 1). */
char *deploy__combined_pem(const struct deploy_material *m);

/* ---- commands (test, reload) ---- */

/* Runs cmd (a command line split into argv, no shell) with a timeout;
 * failure (cannot run, non-zero exit, timeout) -> ACLM_ERR_CONFIG
 * "WHAT `cmd` failed: FIRST LINE OF OUTPUT". */
aclm_status deploy__run_cmd(const char *what, const char *cmd, long timeout_s,
			    struct aclm_err *err);
#define DEPLOY__CMD_TIMEOUT_S 60
/* Targets that share a server (the same reload command) commit as a group:
 * change (renaming the staged files into place, or restoring the previous
 * ones) runs while no test or reload of that server runs, so that none
 * sees a certificate beside the wrong key; then test (when not NULL) and
 * reload run once for every change made before they started. Returns
 * change's failure, or the result of the run that covered this change. */
aclm_status deploy__server_commit(const char *test, const char *reload,
				  aclm_status (*change)(void *arg, struct aclm_err *err),
				  void (*settle)(void *arg), void *arg, struct aclm_err *err);
/* settle (may be NULL), run by whoever ran the reload before the next
 * change may start: waits until the server uses its files (a reload that
 * only signals the server returns before the server has read them). */

/* Probes every endpoint of verify until each serves fingerprint, within
 * timeout_ms (the engine's verify loop). */
aclm_status deploy__await_served(const json_t *verify, const char *fingerprint, long timeout_ms,
				 struct aclm_err *err);
#define DEPLOY__SETTLE_MS 5000L

/* Checks that cmd splits into words (ACLM_ERR_CONFIG "OPTION: ..."). */
aclm_status deploy__check_cmd(const char *option, const char *cmd, struct aclm_err *err);

/* Checks that the options object holds only keys in allowed (words
 * separated by blanks) or accepted by files (when files is true), every
 * value being a string (port may be an integer). ACLM_ERR_CONFIG naming the
 * first unknown option. */
aclm_status deploy__check_keys(const json_t *options, const char *type, const char *allowed,
			       bool files, struct aclm_err *err);

/* ---- engine internals, exposed for tests ---- */

/* Runs one deploy of m to target with ops (previous: the certificate last
 * deployed there, or NULL, for the types' rollback): stage, activate, verify within
 * timeout_ms (every verify endpoint must serve m's fingerprint), on failure
 * roll back and verify that previous (per endpoint, "" when unknown) is
 * served again. Fills result (see deploy_run). */
aclm_status deploy__one(const struct deploy_type_ops *ops, const struct deploy_target *target,
			const struct deploy_material *m, const struct deploy_material *previous,
			bool dry_run, long timeout_ms, json_t *result, struct aclm_err *err);

#endif
