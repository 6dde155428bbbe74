/* dns-hook: answers dns-01 (RFC 8555 §8.4) through an external command that
 * speaks lego's exec protocol, `CMD present|cleanup FQDN VALUE`; then,
 * optionally, waits until a resolver shows the TXT record (dns_check.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "acme/acme.h"
#include "core/exec.h"
#include "core/log.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define HOOK_TIMEOUT_S 120
#define HOOK_CHECK_TIMEOUT_S 60

struct hook_state {
	char *cmd;                 /* as configured, for messages */
	char **argv;               /* cmd split into words */
	char *resolver;            /* NULL: no check, or the system resolver when authoritative */
	bool check, authoritative; /* check at resolver, or at the zone's NS set */
	long timeout_s, check_timeout_s;
};

/* ---- one hook call ---- */

static aclm_status hook_result(const struct hook_state *s, const struct aclm_exec_result *r,
			       const char *act, const char *fqdn, struct aclm_err *err)
{
	char line[256];

	if (r->timed_out)
		return aclm_err_set(err, ACLM_ERR_IO, "dns hook `%.150s %s %s` timed out after %ld s "
				    "(process group killed)", s->cmd, act, fqdn, s->timeout_s);
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return ACLM_OK;
	aclm_exec_first_line(r, line, sizeof(line));
	if (WIFSIGNALED(r->status))
		return aclm_err_set(err, ACLM_ERR_IO, "dns hook `%.150s %s %s` killed by signal %d: %s",
				    s->cmd, act, fqdn, WTERMSIG(r->status), line);
	return aclm_err_set(err, ACLM_ERR_IO, "dns hook `%.150s %s %s` exited %d: %s", s->cmd, act,
			    fqdn, WEXITSTATUS(r->status), line);
}

/* Runs `ARGV... act fqdn value` (lego's exec provider protocol). Each call
 * has its own child and reads only immutable state: thread-safe. */
static aclm_status hook_call(const struct hook_state *s, const char *act, const char *fqdn,
			     const char *value, struct aclm_err *err)
{
	struct aclm_exec_result r = { 0 };
	size_t n = 0;
	char **argv = NULL;
	aclm_status st = ACLM_OK;

	aclm_buf_init(&r.out, ACLM_EXEC_OUTPUT_MAX);
	aclm_buf_init(&r.err, ACLM_EXEC_OUTPUT_MAX);
	while (s->argv[n] != NULL)
		n++;
	argv = calloc(n + 4, sizeof(*argv));
	if (argv == NULL) {
		st = aclm_err_set(err, ACLM_ERR_IO, "dns hook `%.150s`: out of memory", s->cmd);
		goto out;
	}
	memcpy(argv, s->argv, n * sizeof(*argv));
	argv[n] = (char *)act;
	argv[n + 1] = (char *)fqdn;
	argv[n + 2] = (char *)value;
	st = aclm_exec(argv, NULL, s->timeout_s, &r, err);
	if (st != ACLM_OK) {
		aclm_err_prefix(err, "dns hook `%.150s`", s->cmd);
		goto out;
	}
	st = hook_result(s, &r, act, fqdn, err);
	if (st == ACLM_OK)
		log_debug("dns hook `%s %s %s` done", s->cmd, act, fqdn);
out:
	aclm_exec_result_free(&r);
	free(argv);
	return st;
}

/* ---- the challenge: names and values ---- */

/* FQDN and VALUE of a challenge: VALUE = base64url(SHA-256(key
 * authorization)), RFC 8555 §8.4. */
static aclm_status hook_args(const struct solver_challenge *ch, char *fqdn, size_t len,
			     char value[44], struct aclm_err *err)
{
	aclm_status st = solver__check_keyauth("dns-hook", ch, err); /* TOKEN.THUMBPRINT, §8.1 */

	if (st == ACLM_OK)
		st = solver__dns01_fqdn("dns-hook", ch->identifier, fqdn, len, err);
	if (st == ACLM_OK)
		st = acme_dns01_txt(ch->key_authorization, value, err);
	return st;
}

/* ---- solver_ops ---- */

static void hook_stop(void *state)
{
	struct hook_state *s = state;

	if (s == NULL)
		return;
	free(s->cmd);
	aclm_argv_free(s->argv);
	free(s->resolver);
	free(s);
}

/* The resolver to check, or NULL: dns_propagation "off" or unset without a
 * resolver means no check. "authoritative" asks every NS of the zone, found
 * through dns_resolver or the system resolver (NULL). */
static aclm_status hook_check_config(const struct solver_config *cfg, const char **resolver,
				     bool *check, bool *authoritative, struct aclm_err *err)
{
	const char *mode = cfg->dns_propagation;
	bool have = cfg->dns_resolver != NULL && cfg->dns_resolver[0] != '\0';

	*resolver = NULL;
	*check = *authoritative = false;
	if (cfg->dns_timeout_s < 0 || cfg->dns_hook_timeout_s < 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "dns-hook: timeouts must not be negative");
	if (mode == NULL || mode[0] == '\0')
		mode = have ? "resolver" : "off";
	if (strcmp(mode, "off") == 0)
		return ACLM_OK;
	if (strcmp(mode, "authoritative") == 0) {
		*check = *authoritative = true;
		*resolver = have ? cfg->dns_resolver : NULL;
		return ACLM_OK;
	}
	if (strcmp(mode, "resolver") != 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "dns-hook: dns_propagation \"%.32s\": "
				    "expected \"authoritative\", \"resolver\" or \"off\"", mode);
	if (!have)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "dns-hook: dns_propagation = resolver "
				    "needs dns_resolver (HOST:PORT)");
	*resolver = cfg->dns_resolver;
	*check = true;
	return ACLM_OK;
}

static aclm_status hook_start(const struct solver_config *cfg, void **state, struct aclm_err *err)
{
	struct hook_state *s = NULL;
	const char *resolver = NULL;
	bool check = false, authoritative = false;
	aclm_status st;

	*state = NULL;
	if (cfg == NULL || cfg->dns_hook == NULL || cfg->dns_hook[0] == '\0') {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "dns-hook: no dns_hook command configured");
		goto out;
	}
	st = hook_check_config(cfg, &resolver, &check, &authoritative, err);
	if (st != ACLM_OK)
		goto out;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->cmd = strdup(cfg->dns_hook)) == NULL ||
	    (resolver != NULL && (s->resolver = strdup(resolver)) == NULL)) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "dns-hook: out of memory");
		goto out;
	}
	st = aclm_split_argv(cfg->dns_hook, &s->argv, err);
	if (st != ACLM_OK) {
		aclm_err_prefix(err, "dns-hook: dns_hook");
		goto out;
	}
	s->check = check;
	s->authoritative = authoritative;
	s->timeout_s = cfg->dns_hook_timeout_s > 0 ? cfg->dns_hook_timeout_s : HOOK_TIMEOUT_S;
	s->check_timeout_s = cfg->dns_timeout_s > 0 ? cfg->dns_timeout_s : HOOK_CHECK_TIMEOUT_S;
	*state = s;
	s = NULL;
out:
	hook_stop(s);
	return st;
}

/* After the hook, the record must be visible at the resolver; when it is
 * not, the hook is told to clean up, so a failed present leaves nothing
 * behind (the caller cleans up only what was presented). */
static aclm_status hook_present(void *state, const struct solver_challenge *ch,
				struct aclm_err *err)
{
	const struct hook_state *s = state;
	char fqdn[SOLVER__DNS01_FQDN_MAX], value[44];
	aclm_status st = hook_args(ch, fqdn, sizeof(fqdn), value, err);

	if (st == ACLM_OK)
		st = hook_call(s, "present", fqdn, value, err);
	if (st != ACLM_OK || !s->check)
		goto out;
	fqdn[strlen(fqdn) - 1] = '\0'; /* the query name, without the root dot */
	st = s->authoritative ?
		solver__dns_txt_wait_authoritative(s->resolver, fqdn, value, NULL, s->check_timeout_s,
						   err) :
		solver__dns_txt_wait(s->resolver, fqdn, value, s->check_timeout_s, err);
	if (st != ACLM_OK) {
		strcat(fqdn, ".");
		hook_call(s, "cleanup", fqdn, value, NULL);
	}
out:
	return st;
}

static aclm_status hook_cleanup(void *state, const struct solver_challenge *ch,
				struct aclm_err *err)
{
	char fqdn[SOLVER__DNS01_FQDN_MAX], value[44];
	aclm_status st = hook_args(ch, fqdn, sizeof(fqdn), value, err);

	if (st == ACLM_OK)
		st = hook_call(state, "cleanup", fqdn, value, err);
	return st;
}

const struct solver_ops solver_dns_hook_ops = {
	.name = "dns-hook",
	.types = SOLVER_DNS01,
	.start = hook_start,
	.present = hook_present,
	.cleanup = hook_cleanup,
	.stop = hook_stop,
};
