/* dns-hook: answers dns-01 (RFC 8555 §8.4) through an external command that
 * speaks lego's exec protocol, `CMD present|cleanup FQDN VALUE`; then,
 * optionally, waits until a resolver shows the TXT record (dns_check.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acme/acme.h"
#include "core/buf.h"
#include "core/log.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"

extern char **environ;

#define HOOK_TIMEOUT_S 120
#define HOOK_CHECK_TIMEOUT_S 60
#define HOOK_OUTPUT_MAX (64 * 1024) /* per stream; the rest is read and dropped */
#define HOOK_ENV_SECRET_PREFIX "ACLM_" /* ACLM_MASTER_KEY and its kin stay with us */
#define HOOK_NAME_MAX 253           /* RFC 1035 §2.3.4, without the final dot */
#define HOOK_FQDN_LABEL "_acme-challenge."

struct hook_state {
	char *cmd;                 /* as configured, for messages */
	char **argv;               /* cmd split into words */
	char *resolver;            /* NULL: no propagation check */
	long timeout_s, check_timeout_s;
};

/* One run of the command: the child and its two output pipes. */
struct hook_run {
	pid_t pid;
	int fd[2];                 /* read ends for stdout, stderr; -1 once closed */
	struct aclm_buf out[2];
	bool reaped, timed_out;
	int status;
};

static long long hook_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the child's environment and spawn ---- */

/* The parent's environment minus every ACLM_* variable: the hook gets what
 * it needs (PATH, HOME, provider credentials) and none of our secrets. The
 * strings stay owned by environ; only the array is allocated. */
static char **hook_env(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	env = calloc(n + 1, sizeof(*env));
	for (size_t i = 0; env != NULL && i < n; i++) {
		if (strncmp(environ[i], HOOK_ENV_SECRET_PREFIX, strlen(HOOK_ENV_SECRET_PREFIX)) != 0)
			env[k++] = environ[i];
	}
	return env;
}

static int hook_pipes(int out[2], int err[2])
{
	if (pipe2(out, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(err, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		out[0] = out[1] = -1;
		return -1;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* stdin /dev/null, stdout and stderr into the pipes, own process group (so a
 * timeout kills what the hook started too), default signal handling. */
static int hook_spawn(struct hook_run *r, char **argv, int wout, int werr)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	char **env = hook_env();
	int rc = ENOMEM;

	if (env == NULL)
		return rc;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGCHLD);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) == 0 &&
	    posix_spawn_file_actions_adddup2(&fa, wout, 1) == 0 &&
	    posix_spawn_file_actions_adddup2(&fa, werr, 2) == 0 &&
	    posix_spawnattr_setpgroup(&at, 0) == 0 && posix_spawnattr_setsigmask(&at, &none) == 0 &&
	    posix_spawnattr_setsigdefault(&at, &dfl) == 0 &&
	    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				     POSIX_SPAWN_SETSIGDEF) == 0)
		rc = posix_spawnp(&r->pid, argv[0], &fa, &at, argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	return rc;
}

/* ---- waiting, with the output captured ---- */

/* Reads what is available; EOF closes the descriptor. */
static void hook_drain(struct hook_run *r, int k)
{
	char chunk[4096];
	ssize_t n;

	while (r->fd[k] >= 0) {
		n = read(r->fd[k], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			close(r->fd[k]);
			r->fd[k] = -1;
			return;
		}
		if (r->out[k].len < r->out[k].max)
			aclm_buf_append(&r->out[k], chunk,
					(size_t)n < r->out[k].max - r->out[k].len ?
					(size_t)n : r->out[k].max - r->out[k].len);
	}
}

static void hook_kill(struct hook_run *r)
{
	kill(-r->pid, SIGKILL);
	while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
		;
	r->reaped = true;
	r->timed_out = true;
}

/* Until the child exits (then whatever its output pipes still hold is read:
 * a daemon it left behind may keep them open) or the deadline passes (then
 * its process group is killed). */
static void hook_wait(struct hook_run *r, long timeout_s)
{
	long long deadline = hook_now_ms() + timeout_s * 1000, left;
	struct pollfd p[2];
	nfds_t n;
	int nap;

	for (;;) {
		if (waitpid(r->pid, &r->status, WNOHANG) == r->pid)
			r->reaped = true;
		if (r->reaped) {
			hook_drain(r, 0);
			hook_drain(r, 1);
			break;
		}
		left = deadline - hook_now_ms();
		if (left <= 0) {
			hook_kill(r);
			break;
		}
		n = 0;
		for (int k = 0; k < 2; k++) {
			if (r->fd[k] >= 0)
				p[n++] = (struct pollfd){ .fd = r->fd[k], .events = POLLIN };
		}
		nap = n > 0 ? 200 : 10; /* both pipes closed: the exit is near */
		poll(p, n, (int)(left < nap ? left : nap));
		hook_drain(r, 0);
		hook_drain(r, 1);
	}
}

/* ---- one hook call ---- */

/* The first non-empty line of stderr, else of stdout, for the message. */
static void hook_first_line(struct hook_run *r, char *line, size_t len)
{
	for (int k = 1; k >= 0; k--) {
		const char *s = r->out[k].data != NULL ? (const char *)r->out[k].data : "";
		size_t skip = strspn(s, "\r\n \t"), n = strcspn(s + skip, "\r\n");

		if (n > 0) {
			snprintf(line, len, "%.*s", (int)n, s + skip);
			return;
		}
	}
	snprintf(line, len, "(no output)");
}

static aclm_status hook_result(const struct hook_state *s, struct hook_run *r, const char *act,
			       const char *fqdn, struct aclm_err *err)
{
	char line[256];

	if (r->timed_out)
		return aclm_err_set(err, ACLM_ERR_IO, "dns hook `%.150s %s %s` timed out after %ld s "
				    "(process group killed)", s->cmd, act, fqdn, s->timeout_s);
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return ACLM_OK;
	hook_first_line(r, line, sizeof(line));
	if (WIFSIGNALED(r->status))
		return aclm_err_set(err, ACLM_ERR_IO, "dns hook `%.150s %s %s` killed by signal %d: %s",
				    s->cmd, act, fqdn, WTERMSIG(r->status), line);
	return aclm_err_set(err, ACLM_ERR_IO, "dns hook `%.150s %s %s` exited %d: %s", s->cmd, act,
			    fqdn, WEXITSTATUS(r->status), line);
}

/* Runs `ARGV... act fqdn value` (lego's exec provider protocol). Each call
 * has its own pipes and child and reads only immutable state: thread-safe. */
static aclm_status hook_call(const struct hook_state *s, const char *act, const char *fqdn,
			     const char *value, struct aclm_err *err)
{
	struct hook_run r = { .pid = -1, .fd = { -1, -1 } };
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc;
	size_t n = 0;
	char **argv = NULL;
	aclm_status st = ACLM_OK;

	aclm_buf_init(&r.out[0], HOOK_OUTPUT_MAX);
	aclm_buf_init(&r.out[1], HOOK_OUTPUT_MAX);
	while (s->argv[n] != NULL)
		n++;
	argv = calloc(n + 4, sizeof(*argv));
	if (argv == NULL || hook_pipes(out, errp) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "dns hook `%.150s`: %s", s->cmd,
				  argv == NULL ? "out of memory" : strerror(errno));
		goto out;
	}
	memcpy(argv, s->argv, n * sizeof(*argv));
	argv[n] = (char *)act;
	argv[n + 1] = (char *)fqdn;
	argv[n + 2] = (char *)value;
	rc = hook_spawn(&r, argv, out[1], errp[1]);
	if (rc != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "dns hook `%.150s`: cannot run %s: %s", s->cmd,
				  argv[0], strerror(rc));
		goto out;
	}
	close(out[1]); /* the child holds the write ends now */
	close(errp[1]);
	out[1] = errp[1] = -1;
	r.fd[0] = out[0];
	r.fd[1] = errp[0];
	out[0] = errp[0] = -1;
	hook_wait(&r, s->timeout_s);
	st = hook_result(s, &r, act, fqdn, err);
	if (st == ACLM_OK)
		log_debug("dns hook `%s %s %s` done", s->cmd, act, fqdn);
out:
	for (int k = 0; k < 2; k++) {
		if (r.fd[k] >= 0)
			close(r.fd[k]);
		if (out[k] >= 0)
			close(out[k]);
		if (errp[k] >= 0)
			close(errp[k]);
		aclm_buf_free(&r.out[k]);
	}
	free(argv);
	return st;
}

/* ---- the challenge: names and values ---- */

/* RFC 8555 §8.4: the record lives at "_acme-challenge." + the identifier
 * (a wildcard's "*." already removed, §7.1.3), and lego passes it fully
 * qualified, with the final dot. IP identifiers have no dns-01 (RFC 8738). */
static aclm_status hook_fqdn(const char *ident, char *fqdn, size_t len, struct aclm_err *err)
{
	unsigned char ip[16];
	size_t n = ident != NULL ? strlen(ident) : 0;

	if (n > 0 && ident[n - 1] == '.')
		n--;
	if (n == 0 || n > HOOK_NAME_MAX || strspn(ident, "abcdefghijklmnopqrstuvwxyz"
						   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") < n)
		return aclm_err_set(err, ACLM_ERR_INVALID, "dns-hook: \"%.100s\" is not a DNS name",
				    ident != NULL ? ident : "");
	if (inet_pton(AF_INET, ident, ip) == 1)
		return aclm_err_set(err, ACLM_ERR_INVALID, "dns-hook: %s: dns-01 cannot validate an "
				    "IP address (RFC 8738)", ident);
	snprintf(fqdn, len, HOOK_FQDN_LABEL "%.*s.", (int)n, ident);
	return ACLM_OK;
}

/* FQDN and VALUE of a challenge: VALUE = base64url(SHA-256(key
 * authorization)), RFC 8555 §8.4. */
static aclm_status hook_args(const struct solver_challenge *ch, char *fqdn, size_t len,
			     char value[44], struct aclm_err *err)
{
	aclm_status st = solver__check_keyauth("dns-hook", ch, err); /* TOKEN.THUMBPRINT, §8.1 */

	if (st == ACLM_OK)
		st = hook_fqdn(ch->identifier, fqdn, len, err);
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
	solver__argv_free(s->argv);
	free(s->resolver);
	free(s);
}

/* The resolver to check, or NULL: dns_propagation "off" or unset without a
 * resolver means no check. */
static aclm_status hook_check_config(const struct solver_config *cfg, const char **resolver,
				     struct aclm_err *err)
{
	const char *mode = cfg->dns_propagation;
	bool have = cfg->dns_resolver != NULL && cfg->dns_resolver[0] != '\0';

	*resolver = NULL;
	if (cfg->dns_timeout_s < 0 || cfg->dns_hook_timeout_s < 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "dns-hook: timeouts must not be negative");
	if (mode == NULL || mode[0] == '\0')
		mode = have ? "resolver" : "off";
	if (strcmp(mode, "off") == 0)
		return ACLM_OK;
	if (strcmp(mode, "resolver") != 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "dns-hook: dns_propagation \"%.32s\": "
				    "expected \"resolver\" or \"off\"", mode);
	if (!have)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "dns-hook: dns_propagation = resolver "
				    "needs dns_resolver (HOST:PORT)");
	*resolver = cfg->dns_resolver;
	return ACLM_OK;
}

static aclm_status hook_start(const struct solver_config *cfg, void **state, struct aclm_err *err)
{
	struct hook_state *s = NULL;
	const char *resolver = NULL;
	aclm_status st;

	*state = NULL;
	if (cfg == NULL || cfg->dns_hook == NULL || cfg->dns_hook[0] == '\0') {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "dns-hook: no dns_hook command configured");
		goto out;
	}
	st = hook_check_config(cfg, &resolver, err);
	if (st != ACLM_OK)
		goto out;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->cmd = strdup(cfg->dns_hook)) == NULL ||
	    (resolver != NULL && (s->resolver = strdup(resolver)) == NULL)) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "dns-hook: out of memory");
		goto out;
	}
	st = solver__split_argv(cfg->dns_hook, &s->argv, err);
	if (st != ACLM_OK) {
		aclm_err_prefix(err, "dns-hook: dns_hook");
		goto out;
	}
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
	char fqdn[sizeof(HOOK_FQDN_LABEL) + HOOK_NAME_MAX + 2], value[44];
	aclm_status st = hook_args(ch, fqdn, sizeof(fqdn), value, err);

	if (st == ACLM_OK)
		st = hook_call(s, "present", fqdn, value, err);
	if (st != ACLM_OK || s->resolver == NULL)
		goto out;
	fqdn[strlen(fqdn) - 1] = '\0'; /* the query name, without the root dot */
	st = solver__dns_txt_wait(s->resolver, fqdn, value, s->check_timeout_s, err);
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
	char fqdn[sizeof(HOOK_FQDN_LABEL) + HOOK_NAME_MAX + 2], value[44];
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
