/* The deploy hook: after an issuance, the user's command runs with certbot's
 * deploy-hook environment (RENEWED_LINEAGE, RENEWED_DOMAINS) plus
 * ACLM_CERT_ID, through core/exec (no shell, no other ACLM_* variable). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "client/client_int.h"
#include "core/buf.h"
#include "core/exec.h"
#include "core/log.h"

#define HOOK_DEPLOY_TIMEOUT_S 300
#define HOOK_DOMAINS_MAX (64 * 1024)

/* "RENEWED_DOMAINS=a b c" (certbot: the names separated by spaces). */
static aclm_status hook_domains(const struct client_request *req, struct aclm_buf *b,
				struct aclm_err *err)
{
	aclm_status st = aclm_buf_puts(b, "RENEWED_DOMAINS=");

	for (size_t i = 0; st == ACLM_OK && i < req->nnames; i++)
		st = aclm_buf_printf(b, "%s%s", i > 0 ? " " : "", req->names[i]);
	if (st != ACLM_OK)
		st = aclm_err_set(err, st, "deploy hook `%.150s`: names too long for "
				  "RENEWED_DOMAINS", req->deploy_hook);
	return st;
}

/* What failed, and that the certificate is there all the same. */
static aclm_status hook_failed(const struct client_request *req,
			       const struct client_result *res, const struct aclm_exec_result *r,
			       struct aclm_err *err)
{
	char line[200], why[280];

	aclm_exec_first_line(r, line, sizeof(line));
	if (r->timed_out)
		snprintf(why, sizeof(why), "timed out after %d s (process group killed)",
			 HOOK_DEPLOY_TIMEOUT_S);
	else if (WIFSIGNALED(r->status))
		snprintf(why, sizeof(why), "killed by signal %d: %s", WTERMSIG(r->status), line);
	else
		snprintf(why, sizeof(why), "exited %d: %s", WEXITSTATUS(r->status), line);
	return aclm_err_set(err, ACLM_ERR_IO, "deploy hook `%.150s` %s (certificate %lld is "
			    "issued and stored in %.200s)", req->deploy_hook, why,
			    (long long)res->cert_id, res->lineage_dir);
}

aclm_status client__deploy_hook(const struct client_request *req, char *const argv[],
				const struct client_result *res, struct aclm_err *err)
{
	struct aclm_exec_result r = { 0 };
	struct aclm_buf domains;
	char lineage[sizeof(res->lineage_dir) + 32], id[48];
	const char *env[4] = { lineage, NULL, id, NULL };
	aclm_status st;

	aclm_buf_init(&domains, HOOK_DOMAINS_MAX);
	aclm_buf_init(&r.out, ACLM_EXEC_OUTPUT_MAX);
	aclm_buf_init(&r.err, ACLM_EXEC_OUTPUT_MAX);
	snprintf(lineage, sizeof(lineage), "RENEWED_LINEAGE=%s", res->lineage_dir);
	snprintf(id, sizeof(id), "ACLM_CERT_ID=%lld", (long long)res->cert_id);
	st = hook_domains(req, &domains, err);
	if (st != ACLM_OK)
		goto out;
	env[1] = (const char *)domains.data;
	st = aclm_exec(argv, env, HOOK_DEPLOY_TIMEOUT_S, &r, err);
	if (st != ACLM_OK) {
		aclm_err_prefix(err, "deploy hook `%.150s`", req->deploy_hook);
		goto out;
	}
	if (r.timed_out || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
		st = hook_failed(req, res, &r, err);
		goto out;
	}
	log_info("%s: deploy hook `%s` done", req->lineage, req->deploy_hook);
out:
	aclm_exec_result_free(&r);
	aclm_buf_free(&domains);
	return st;
}
