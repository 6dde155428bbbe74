/* deploy/: haproxy through its runtime API on the stats socket (admin
 * level): `set ssl cert CRT <<` with the combined PEM, then `commit ssl
 * cert CRT`, so no reload and no dropped connection; `abort ssl cert` on a
 * refused step. The PEM is also written at CRT so that a restart keeps it. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/json.h"
#include "deploy/deploy_int.h"

#define HAPROXY_TIMEOUT_MS 10000
#define HAPROXY_ANSWER_MAX (64 * 1024)
/* haproxy keeps one certificate transaction at a time (and a lock around
 * it): another one in flight is waited for, this often, at most this long. */
#define HAPROXY_BUSY_SLEEP_MS 20
#define HAPROXY_BUSY_TRIES 250

/* Our own deploys to one haproxy take turns; other processes are waited
 * for through haproxy's busy answers. */
static pthread_mutex_t haproxy_turn = PTHREAD_MUTEX_INITIALIZER;

struct haproxy_state {
	struct deploy__files *files;
	bool committed;            /* the new certificate is live in haproxy */
};

static aclm_status haproxy_check(const json_t *options, struct aclm_err *err)
{
	const char *sock = aclm_json_str(options, "socket"), *crt = aclm_json_str(options, "crt");
	aclm_status st = deploy__check_keys(options, "haproxy", "socket crt", true, err);

	if (st == ACLM_OK && (sock == NULL || crt == NULL))
		st = aclm_err_set(err, ACLM_ERR_CONFIG,
				  "haproxy target: give --socket (the admin stats socket) and --crt "
				  "(the certificate path as haproxy's configuration names it)");
	if (st == ACLM_OK && strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "socket \"%s\": path too long", sock);
	if (st == ACLM_OK && strpbrk(crt, " \t\r\n") != NULL)
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "crt \"%s\": blanks cannot pass the runtime API",
				  crt);
	if (st == ACLM_OK && aclm_json_str(options, "combined_path") != NULL)
		st = aclm_err_set(err, ACLM_ERR_CONFIG,
				  "haproxy target: the combined PEM is written at --crt; "
				  "--combined-path does not apply");
	if (st == ACLM_OK && crt[0] != '/')
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "crt \"%s\": give an absolute path", crt);
	if (st == ACLM_OK)
		st = deploy__files_check(options, true, err);
	return st;
}

static long left_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return HAPROXY_TIMEOUT_MS - ((now.tv_sec - start->tv_sec) * 1000 +
				     (now.tv_nsec - start->tv_nsec) / 1000000);
}

/* One command on a fresh connection (the socket's non-interactive mode:
 * haproxy answers and closes). The answer is capped. */
static aclm_status haproxy_cmd(const char *sock, const char *cmd, size_t len, struct aclm_buf *answer,
			       struct aclm_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec start;
	char chunk[4096];
	size_t done = 0;
	aclm_status st = ACLM_OK;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	aclm_buf_init(answer, HAPROXY_ANSWER_MAX + 1);
	clock_gettime(CLOCK_MONOTONIC, &start);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "haproxy socket %s: %s", sock, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t w = send(fd, cmd + done, len - done, MSG_NOSIGNAL);

		if (w <= 0) {
			st = aclm_err_set(err, ACLM_ERR_IO, "haproxy socket %s: %s", sock, strerror(errno));
			goto out;
		}
		done += (size_t)w;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = left_ms(&start);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) != 1) {
			st = aclm_err_set(err, ACLM_ERR_IO, "haproxy socket %s: no answer in %d ms", sock,
					  HAPROXY_TIMEOUT_MS);
			goto out;
		}
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (answer->len + (size_t)r > HAPROXY_ANSWER_MAX) {
			st = aclm_err_set(err, ACLM_ERR_TOOBIG, "haproxy socket %s: answer over %d bytes",
					  sock, HAPROXY_ANSWER_MAX);
			goto out;
		}
		if (aclm_buf_append(answer, chunk, (size_t)r) != ACLM_OK) {
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (aclm_buf_append(answer, "", 1) != ACLM_OK)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
out:
	if (fd >= 0)
		close(fd);
	return st;
}

/* The first line of an answer, for error messages. */
static void first_line(const struct aclm_buf *a, char *out, size_t n)
{
	const char *s = a->len > 0 ? (const char *)a->data : "(no answer)";

	snprintf(out, n, "%.*s", (int)strcspn(s, "\r\n"), s);
}

static void haproxy_abort(const char *sock, const char *crt)
{
	struct aclm_buf a = { 0 };
	struct aclm_err e = { 0 };
	char cmd[4200];
	int n = snprintf(cmd, sizeof(cmd), "abort ssl cert %s\n", crt);

	haproxy_cmd(sock, cmd, (size_t)n, &a, &e);
	aclm_buf_free(&a);
}

static bool busy_answer(const struct aclm_buf *a)
{
	const char *s = a->data != NULL ? (const char *)a->data : "";

	return strstr(s, "currently locked") != NULL || strstr(s, "ongoing transaction") != NULL;
}

/* `set ssl cert` until haproxy is not busy with another transaction. */
static aclm_status haproxy_set(const char *sock, const char *crt, const char *cmd, size_t len,
			       struct aclm_err *err)
{
	struct aclm_buf a = { 0 };
	struct timespec pause = { .tv_nsec = HAPROXY_BUSY_SLEEP_MS * 1000000L };
	char line[256];
	aclm_status st = ACLM_OK;

	for (int i = 0; st == ACLM_OK && i < HAPROXY_BUSY_TRIES; i++) {
		aclm_buf_free(&a);
		st = haproxy_cmd(sock, cmd, len, &a, err);
		if (st != ACLM_OK || !busy_answer(&a))
			break;
		nanosleep(&pause, NULL);
	}
	if (st == ACLM_OK && strstr((const char *)a.data, "Transaction created") == NULL &&
	    strstr((const char *)a.data, "Transaction updated") == NULL) {
		first_line(&a, line, sizeof(line));
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "haproxy refused `set ssl cert %s`: %s", crt, line);
	}
	aclm_buf_free(&a);
	return st;
}

/* set ssl cert + commit ssl cert with pem (haproxy 2.6 management guide
 * §9.3: the payload ends at the first empty line, so none may be inside). */
static aclm_status haproxy_swap(const char *sock, const char *crt, const char *pem,
				struct aclm_err *err)
{
	struct aclm_buf a = { 0 };
	size_t plen = strlen(pem), n = strlen(crt) + plen + 64, len;
	char *cmd = malloc(n), line[256];
	aclm_status st = ACLM_OK;

	if (cmd == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (strstr(pem, "\n\n") != NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "haproxy: the PEM holds an empty line");
		goto out;
	}
	len = (size_t)snprintf(cmd, n, "set ssl cert %s <<\n%s%s\n", crt, pem,
			       plen > 0 && pem[plen - 1] == '\n' ? "" : "\n");
	pthread_mutex_lock(&haproxy_turn);
	st = haproxy_set(sock, crt, cmd, len, err);
	if (st == ACLM_OK) {
		len = (size_t)snprintf(cmd, n, "commit ssl cert %s\n", crt);
		st = haproxy_cmd(sock, cmd, len, &a, err);
		if (st == ACLM_OK && strstr((const char *)a.data, "Success!") == NULL) {
			first_line(&a, line, sizeof(line));
			st = aclm_err_set(err, ACLM_ERR_CONFIG, "haproxy refused `commit ssl cert %s`: %s",
					  crt, line);
		}
		aclm_buf_free(&a);
	}
	if (st != ACLM_OK)
		haproxy_abort(sock, crt);
	pthread_mutex_unlock(&haproxy_turn);
out:
	OPENSSL_clear_free(cmd, n);
	return st;
}

static aclm_status haproxy_stage(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct haproxy_state *h = calloc(1, sizeof(*h));
	aclm_status st;

	if (h == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	c->state = h;
	if (c->m->key_pem == NULL)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "haproxy: no key loaded");
	st = deploy__files_stage(c->target->options, c->m, aclm_json_str(c->target->options, "crt"),
				 &h->files, err);
	return st;
}

static aclm_status haproxy_activate(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct haproxy_state *h = c->state;
	const json_t *o = c->target->options;
	char *pem = deploy__combined_pem(c->m);
	aclm_status st = pem != NULL ? haproxy_swap(aclm_json_str(o, "socket"), aclm_json_str(o, "crt"),
						    pem, err)
				     : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");

	if (pem != NULL)
		OPENSSL_clear_free(pem, strlen(pem) + 1);
	h->committed = st == ACLM_OK;
	aclm_json_set_bool(c->detail, "runtime_api", h->committed);
	/* On disk only once haproxy took it: a restart must not load what
	 * haproxy refused. */
	if (st == ACLM_OK)
		st = deploy__files_activate(h->files, err);
	deploy__files_detail(h->files, c->detail);
	return st;
}

static aclm_status haproxy_rollback(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct haproxy_state *h = c->state;
	const json_t *o = c->target->options;
	const char *crt = aclm_json_str(o, "crt"), *prev;
	size_t len = 0;
	char *pem = NULL;
	aclm_status st = deploy__files_restore(h->files, err);

	if (st != ACLM_OK || !h->committed)
		return st;
	prev = deploy__files_previous(h->files, crt, &len);
	if (prev == NULL)
		return aclm_err_set(err, ACLM_ERR_NOTFOUND,
				    "haproxy: %s held nothing before: no certificate to go back to", crt);
	pem = strndup(prev, len);
	st = pem != NULL ? haproxy_swap(aclm_json_str(o, "socket"), crt, pem, err)
			 : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (pem != NULL)
		OPENSSL_clear_free(pem, len + 1);
	if (st == ACLM_OK)
		h->committed = false;
	return st;
}

static void haproxy_release(struct deploy_step_ctx *c)
{
	struct haproxy_state *h = c->state;

	if (h != NULL)
		deploy__files_free(h->files);
	free(h);
	c->state = NULL;
}

static bool haproxy_wants_key(const json_t *options)
{
	(void)options;
	return true;
}

const struct deploy_type_ops deploy_haproxy_ops = {
	.name = "haproxy",
	.needs_key = true,
	.check = haproxy_check,
	.stage = haproxy_stage,
	.activate = haproxy_activate,
	.rollback = haproxy_rollback,
	.release = haproxy_release,
	.wants_key = haproxy_wants_key,
};
