/* External commands: the word splitter for configured command lines and one
 * supervised run of a command (spawn, capture, timeout); see core/exec.h. */
#include "core/exec.h"

#include "core/log.h"

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

extern char **environ;

#define EXEC_ENV_SECRET_PREFIX "ACLM_" /* ACLM_MASTER_KEY and its kin stay with us */

/* ---- command lines split into words (no shell, no expansion) ---- */

struct split {
	const char *cmd;
	size_t i;                  /* position in cmd */
	char *out;                 /* the words, each NUL-terminated */
	size_t olen;
	size_t words;
	bool inword;               /* a word has started (even an empty "") */
};

static bool split_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static void split_put(struct split *sp, char c)
{
	sp->out[sp->olen++] = c;
	sp->inword = true;
}

/* Inside "...", a backslash escapes only these (POSIX 2.2.3). */
static bool split_dq_escapable(char c)
{
	return c == '\\' || c == '"' || c == '$' || c == '`' || c == '\n';
}

/* From just after an opening quote q to just after its closing quote;
 * false when the quote does not close. */
static bool split_quoted(struct split *sp, char q)
{
	const char *c = sp->cmd;

	sp->inword = true;
	for (; c[sp->i] != '\0'; sp->i++) {
		if (c[sp->i] == q) {
			sp->i++;
			return true;
		}
		if (q == '"' && c[sp->i] == '\\' && split_dq_escapable(c[sp->i + 1])) {
			sp->i++;
			if (c[sp->i] != '\n') /* backslash-newline joins lines */
				split_put(sp, c[sp->i]);
			continue;
		}
		split_put(sp, c[sp->i]);
	}
	return false;
}

static void split_end_word(struct split *sp)
{
	if (!sp->inword)
		return;
	sp->out[sp->olen++] = '\0';
	sp->words++;
	sp->inword = false;
}

/* Fills sp->out; each word takes at most its own length plus a NUL, and
 * words are separated by at least one blank, so strlen(cmd) + 1 suffices. */
static aclm_status split_words(struct split *sp, struct aclm_err *err)
{
	const char *c = sp->cmd;
	size_t open;

	while (c[sp->i] != '\0') {
		if (split_blank(c[sp->i])) {
			split_end_word(sp);
			sp->i++;
		} else if (c[sp->i] == '\'' || c[sp->i] == '"') {
			open = sp->i++;
			if (!split_quoted(sp, c[open]))
				return aclm_err_set(err, ACLM_ERR_CONFIG, "command \"%.100s\": "
						    "unterminated %s quote opened at column %zu",
						    c, c[open] == '"' ? "double" : "single", open + 1);
		} else if (c[sp->i] == '\\') {
			if (c[sp->i + 1] == '\0')
				return aclm_err_set(err, ACLM_ERR_CONFIG, "command \"%.100s\": "
						    "trailing backslash at column %zu", c, sp->i + 1);
			if (c[sp->i + 1] != '\n')
				split_put(sp, c[sp->i + 1]);
			sp->i += 2;
		} else {
			split_put(sp, c[sp->i++]);
		}
	}
	split_end_word(sp);
	return ACLM_OK;
}

aclm_status aclm_split_argv(const char *cmd, char ***argv, struct aclm_err *err)
{
	struct split sp = { .cmd = cmd };
	char **v = NULL, *w;
	aclm_status st;

	*argv = NULL;
	if (cmd == NULL || strlen(cmd) > ACLM_EXEC_CMD_MAX) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "command: missing or longer than %d bytes",
				  ACLM_EXEC_CMD_MAX);
		goto out;
	}
	sp.out = malloc(strlen(cmd) + 1);
	if (sp.out == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "command: out of memory");
		goto out;
	}
	st = split_words(&sp, err);
	if (st == ACLM_OK && sp.words == 0)
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "command \"%.100s\": no program named", cmd);
	if (st != ACLM_OK)
		goto out;
	v = calloc(sp.words + 1, sizeof(*v));
	if (v == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "command: out of memory");
		goto out;
	}
	w = sp.out; /* v[0] owns the block: aclm_argv_free frees it */
	for (size_t k = 0; k < sp.words; k++, w += strlen(w) + 1)
		v[k] = w;
	sp.out = NULL;
	*argv = v;
out:
	free(sp.out);
	return st;
}

void aclm_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	free(argv[0]);
	free(argv);
}

/* ---- one run: the child's environment and spawn ---- */

/* One run of the command: the child and its two output pipes. */
struct exec_run {
	pid_t pid;
	int fd[2];                 /* read ends for stdout, stderr; -1 once closed */
	struct aclm_buf *buf[2];   /* where they go */
	bool reaped;
};

static long long exec_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when env entry "K=V" names the same variable as one of extra. */
static bool exec_env_replaced(const char *entry, const char *const *extra)
{
	size_t klen = strcspn(entry, "=");

	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (strncmp(entry, extra[i], klen) == 0 && extra[i][klen] == '=')
			return true;
	}
	return false;
}

/* The parent's environment minus every ACLM_* variable, plus extra: the
 * command gets what it needs (PATH, HOME, provider credentials) and none of
 * our secrets. The strings stay owned by environ and extra; only the array
 * is allocated. */
static char **exec_env(const char *const *extra)
{
	size_t n = 0, m = 0, k = 0;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	while (extra != NULL && extra[m] != NULL)
		m++;
	env = calloc(n + m + 1, sizeof(*env));
	for (size_t i = 0; env != NULL && i < n; i++) {
		if (strncmp(environ[i], EXEC_ENV_SECRET_PREFIX, strlen(EXEC_ENV_SECRET_PREFIX)) != 0 &&
		    !exec_env_replaced(environ[i], extra))
			env[k++] = environ[i];
	}
	for (size_t i = 0; env != NULL && i < m; i++)
		env[k++] = (char *)extra[i];
	return env;
}

static int exec_pipes(int out[2], int err[2])
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
 * timeout kills what the command started too), default signal handling. */
static int exec_spawn(struct exec_run *r, char *const argv[], const char *const *extra,
		      int wout, int werr)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	char **env = exec_env(extra);
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
static void exec_drain(struct exec_run *r, int k)
{
	struct aclm_buf *b = r->buf[k];
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
		if (b->len < b->max)
			aclm_buf_append(b, chunk, (size_t)n < b->max - b->len ?
					(size_t)n : b->max - b->len);
	}
}

static void exec_kill(struct exec_run *r, struct aclm_exec_result *res)
{
	kill(-r->pid, SIGKILL);
	while (waitpid(r->pid, &res->status, 0) < 0 && errno == EINTR)
		;
	r->reaped = true;
	res->timed_out = true;
}

/* Until the child exits (then whatever its output pipes still hold is read:
 * a daemon it left behind may keep them open) or the deadline passes (then
 * its process group is killed). timeout_s <= 0: no deadline. */
static void exec_wait(struct exec_run *r, long timeout_s, struct aclm_exec_result *res)
{
	long long deadline = exec_now_ms() + timeout_s * 1000, left;
	struct pollfd p[2];
	nfds_t n;
	int nap;

	for (;;) {
		if (waitpid(r->pid, &res->status, WNOHANG) == r->pid)
			r->reaped = true;
		if (r->reaped) {
			exec_drain(r, 0);
			exec_drain(r, 1);
			break;
		}
		left = timeout_s > 0 ? deadline - exec_now_ms() : 1000;
		if (left <= 0) {
			exec_kill(r, res);
			break;
		}
		n = 0;
		for (int k = 0; k < 2; k++) {
			if (r->fd[k] >= 0)
				p[n++] = (struct pollfd){ .fd = r->fd[k], .events = POLLIN };
		}
		nap = n > 0 ? 200 : 10; /* both pipes closed: the exit is near */
		poll(p, n, (int)(left < nap ? left : nap));
		exec_drain(r, 0);
		exec_drain(r, 1);
	}
}

aclm_status aclm_exec(char *const argv[], const char *const *extra_env, long timeout_s,
		      struct aclm_exec_result *res, struct aclm_err *err)
{
	struct exec_run r = { .pid = -1, .fd = { -1, -1 }, .buf = { &res->out, &res->err } };
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc;
	aclm_status st = ACLM_OK;

	res->timed_out = false;
	res->status = 0;
	aclm_buf_init(&res->out, ACLM_EXEC_OUTPUT_MAX);
	aclm_buf_init(&res->err, ACLM_EXEC_OUTPUT_MAX);
	if (argv == NULL || argv[0] == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "no program to run");
		goto out;
	}
	if (exec_pipes(out, errp) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s", strerror(errno));
		goto out;
	}
	rc = exec_spawn(&r, argv, extra_env, out[1], errp[1]);
	if (rc != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "cannot run %s: %s", argv[0], strerror(rc));
		goto out;
	}
	close(out[1]); /* the child holds the write ends now */
	close(errp[1]);
	out[1] = errp[1] = -1;
	r.fd[0] = out[0];
	r.fd[1] = errp[0];
	out[0] = errp[0] = -1;
	exec_wait(&r, timeout_s, res);
out:
	for (int k = 0; k < 2; k++) {
		if (r.fd[k] >= 0)
			close(r.fd[k]);
		if (out[k] >= 0)
			close(out[k]);
		if (errp[k] >= 0)
			close(errp[k]);
	}
	return st;
}

void aclm_exec_result_free(struct aclm_exec_result *res)
{
	if (res == NULL)
		return;
	aclm_buf_free(&res->out);
	aclm_buf_free(&res->err);
}

void aclm_exec_first_line(const struct aclm_exec_result *res, char *line, size_t len)
{
	const struct aclm_buf *b[2] = { &res->err, &res->out };

	for (int k = 0; k < 2; k++) {
		const char *s = b[k]->data != NULL ? (const char *)b[k]->data : "";
		size_t skip = strspn(s, "\r\n \t"), n = strcspn(s + skip, "\r\n");

		if (n > 0) {
			snprintf(line, len, "%.*s", (int)n, s + skip);
			return;
		}
	}
	snprintf(line, len, "(no output)");
}

void aclm_test_crash_point(const char *step)
{
	const char *at = getenv("ACLM_TEST_CRASH_AT");

	if (at != NULL && strcmp(at, step) == 0) {
		aclm_log(ACLM_LOG_WARN, "test crash point %s", step);
		kill(getpid(), SIGKILL);
	}
}
