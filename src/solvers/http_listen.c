/* http-listen: a built-in HTTP/1.1 server (libevent evhttp, own thread) that
 * answers http-01 validation requests, GET/HEAD
 * /.well-known/acme-challenge/TOKEN, with the key authorization (RFC 8555 §8.3). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define LISTEN_PREFIX "/.well-known/acme-challenge/"
#define LISTEN_MAX_HEADERS 8192     /* validation requests are small */
#define LISTEN_MAX_BODY 1024
#define LISTEN_TIMEOUT_S 10         /* drops idle or slow clients */
#define LISTEN_BACKLOG 128

struct listen_token {
	char *token;
	char *key_authorization;
	struct listen_token *next;
};

struct listen_state {
	char *spec;                 /* the configured address, for messages */
	struct event_base *base;
	struct evhttp *http;
	struct event *stop_ev;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;       /* guards tokens: present/cleanup come from other threads */
	struct listen_token *tokens;
};

static pthread_once_t listen_once = PTHREAD_ONCE_INIT;
static int listen_threads_rc = -1;

static void listen_threads_init(void)
{
	listen_threads_rc = evthread_use_pthreads();
}

/* ---- the token table ---- */

static struct listen_token **listen_find(struct listen_state *s, const char *token)
{
	struct listen_token **p = &s->tokens;

	while (*p != NULL && strcmp((*p)->token, token) != 0)
		p = &(*p)->next;
	return p;
}

static void listen_token_free(struct listen_token *t)
{
	if (t == NULL)
		return;
	free(t->token);
	free(t->key_authorization);
	free(t);
}

/* ---- the server thread ---- */

static void listen_reply(struct evhttp_request *req, int code, const char *reason)
{
	evhttp_send_reply(req, code, reason, NULL);
}

/* Copies the key authorization for token into body; false when unknown. */
static bool listen_lookup(struct listen_state *s, const char *token, struct evbuffer *body)
{
	struct listen_token *t;
	bool found = false;

	pthread_mutex_lock(&s->lock);
	t = *listen_find(s, token);
	if (t != NULL)
		found = evbuffer_add(body, t->key_authorization, strlen(t->key_authorization)) == 0;
	pthread_mutex_unlock(&s->lock);
	return found;
}

static void listen_on_request(struct evhttp_request *req, void *arg)
{
	struct listen_state *s = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const char *token = NULL;
	struct evbuffer *body = NULL;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(out, "Allow", "GET, HEAD"); /* RFC 9110 §15.5.6 */
		listen_reply(req, 405, "Method Not Allowed");
		goto out;
	}
	/* The path is compared raw: a valid token never needs percent-encoding. */
	if (path != NULL && strncmp(path, LISTEN_PREFIX, strlen(LISTEN_PREFIX)) == 0)
		token = path + strlen(LISTEN_PREFIX);
	body = evbuffer_new();
	if (body == NULL) {
		listen_reply(req, 500, "Internal Server Error");
		goto out;
	}
	if (token == NULL || !solver__token_valid(token) || !listen_lookup(s, token, body)) {
		listen_reply(req, 404, "Not Found");
		goto out;
	}
	evhttp_add_header(out, "Content-Type", "text/plain");
	evhttp_send_reply(req, 200, "OK", body);
out:
	if (body != NULL)
		evbuffer_free(body);
}

static void listen_on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void *listen_thread(void *arg)
{
	struct listen_state *s = arg;

	event_base_dispatch(s->base);
	return NULL;
}

/* ---- the listening socket ---- */

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses) into host (empty for
 * all) and port; numeric only, so a listen address never waits on DNS. */
static aclm_status listen_parse(const char *spec, char *host, size_t hostlen, char *port,
				size_t portlen, struct aclm_err *err)
{
	const char *colon, *h = spec, *hend;
	long num = 0;

	if (spec[0] == '[') {
		h = spec + 1;
		hend = strchr(h, ']');
		colon = hend != NULL && hend[1] == ':' ? hend + 1 : NULL;
	} else {
		colon = strrchr(spec, ':');
		hend = colon;
		if (colon != NULL && memchr(spec, ':', (size_t)(colon - spec)) != NULL)
			colon = NULL; /* a bare IPv6 address: brackets are required */
	}
	if (colon == NULL || (size_t)(hend - h) >= hostlen || strlen(colon + 1) >= portlen)
		goto bad;
	for (const char *p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || num > 65535)
			goto bad;
		num = num * 10 + (*p - '0');
	}
	if (num < 1 || num > 65535)
		goto bad;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	strcpy(port, colon + 1);
	return ACLM_OK;
bad:
	return aclm_err_set(err, ACLM_ERR_CONFIG,
			    "http-listen: \"%s\": not ADDRESS:PORT, [IPV6]:PORT or :PORT", spec);
}

static aclm_status listen_bind_error(const char *spec, int e, struct aclm_err *err)
{
	if (e == EADDRINUSE)
		return aclm_err_set(err, ACLM_ERR_BUSY, "http-listen: %s: address already in use",
				    spec);
	if (e == EACCES)
		return aclm_err_set(err, ACLM_ERR_IO, "http-listen: %s: permission denied (ports "
				    "below 1024 need root or CAP_NET_BIND_SERVICE)", spec);
	return aclm_err_set(err, ACLM_ERR_IO, "http-listen: %s: %s", spec, strerror(e));
}

/* A bound, listening, non-blocking socket; ":PORT" is one dual-stack IPv6
 * socket, or IPv4 only when the host has no IPv6. */
static aclm_status listen_socket(const char *spec, int *out, struct aclm_err *err)
{
	char host[64], port[8];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, v6only, rc;
	aclm_status st = listen_parse(spec, host, sizeof(host), port, sizeof(port), err);

	if (st != ACLM_OK)
		goto out;
	v6only = host[0] != '\0';
	rc = getaddrinfo(host[0] != '\0' ? host : "::", port, &hints, &ai);
	if (rc == 0 && (fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 &&
	    host[0] == '\0' && errno == EAFNOSUPPORT) {
		freeaddrinfo(ai);
		ai = NULL;
		rc = getaddrinfo("0.0.0.0", port, &hints, &ai);
	}
	if (rc != 0) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "http-listen: %s: %s", spec,
				  gai_strerror(rc));
		goto out;
	}
	if (fd < 0)
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		st = listen_bind_error(spec, errno, err);
		goto out;
	}
	/* SO_REUSEADDR lets a restart bind over TIME_WAIT; on Linux it does not
	 * let two listeners share the port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		st = listen_bind_error(spec, errno, err);
		goto out;
	}
	*out = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	return st;
}

/* ---- solver_ops ---- */

static void listen_stop(void *state)
{
	struct listen_state *s = state;
	struct listen_token *t, *next;

	if (s == NULL)
		return;
	if (s->running) {
		/* An activated event survives until the loop runs it, so this
		 * works even when the thread has not entered the loop yet. */
		event_active(s->stop_ev, EV_READ, 0);
		pthread_join(s->thread, NULL);
	}
	if (s->http != NULL)
		evhttp_free(s->http); /* closes the listener: the port is free again */
	if (s->stop_ev != NULL)
		event_free(s->stop_ev);
	if (s->base != NULL)
		event_base_free(s->base);
	for (t = s->tokens; t != NULL; t = next) {
		next = t->next;
		listen_token_free(t);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->spec);
	free(s);
}

static aclm_status listen_setup_http(struct listen_state *s, int fd, struct aclm_err *err)
{
	s->http = evhttp_new(s->base);
	if (s->http == NULL) {
		close(fd);
		return aclm_err_set(err, ACLM_ERR_NOMEM, "http-listen: out of memory");
	}
	/* Every method reaches the handler, which answers 405 itself. */
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
				   EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(s->http, LISTEN_MAX_HEADERS);
	evhttp_set_max_body_size(s->http, LISTEN_MAX_BODY);
	evhttp_set_timeout(s->http, LISTEN_TIMEOUT_S);
	evhttp_set_gencb(s->http, listen_on_request, s);
	if (evhttp_accept_socket_with_handle(s->http, fd) == NULL) {
		close(fd);
		return aclm_err_set(err, ACLM_ERR_IO, "http-listen: %s: cannot accept connections",
				    s->spec);
	}
	return ACLM_OK;
}

static aclm_status listen_start(const struct solver_config *cfg, void **state,
				struct aclm_err *err)
{
	struct listen_state *s = NULL;
	int fd = -1;
	aclm_status st = ACLM_OK;

	*state = NULL;
	pthread_once(&listen_once, listen_threads_init);
	if (listen_threads_rc != 0) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "http-listen: libevent threads unavailable");
		goto out;
	}
	if (cfg == NULL || cfg->http_listen == NULL || cfg->http_listen[0] == '\0') {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "http-listen: no listen address configured");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->spec = strdup(cfg->http_listen)) == NULL) {
		free(s);
		s = NULL;
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "http-listen: out of memory");
		goto out;
	}
	pthread_mutex_init(&s->lock, NULL);
	st = listen_socket(s->spec, &fd, err);
	if (st != ACLM_OK)
		goto out;
	s->base = event_base_new();
	s->stop_ev = s->base != NULL ? event_new(s->base, -1, 0, listen_on_stop, s->base) : NULL;
	if (s->stop_ev == NULL) {
		close(fd);
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "http-listen: cannot create an event base");
		goto out;
	}
	st = listen_setup_http(s, fd, err); /* owns fd from here */
	if (st != ACLM_OK)
		goto out;
	if (pthread_create(&s->thread, NULL, listen_thread, s) != 0) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "http-listen: cannot start the thread");
		goto out;
	}
	s->running = true;
	*state = s;
	s = NULL;
out:
	listen_stop(s);
	return st;
}

static aclm_status listen_present(void *state, const struct solver_challenge *ch,
				  struct aclm_err *err)
{
	struct listen_state *s = state;
	struct listen_token *t = NULL, **slot;
	char *ka = NULL;
	aclm_status st = solver__check_http01("http-listen", ch, err);

	if (st != ACLM_OK)
		goto out;
	t = calloc(1, sizeof(*t));
	ka = strdup(ch->key_authorization);
	if (t == NULL || ka == NULL || (t->token = strdup(ch->token)) == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "http-listen: out of memory");
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	slot = listen_find(s, ch->token);
	if (*slot != NULL) { /* presented again: the newest key authorization wins */
		free((*slot)->key_authorization);
		(*slot)->key_authorization = ka;
		ka = NULL;
	} else {
		t->key_authorization = ka;
		ka = NULL;
		*slot = t;
		t = NULL;
	}
	pthread_mutex_unlock(&s->lock);
out:
	free(ka);
	listen_token_free(t);
	return st;
}

/* Cleaning up an unknown token is success: cleanup may be retried. */
static aclm_status listen_cleanup(void *state, const struct solver_challenge *ch,
				  struct aclm_err *err)
{
	struct listen_state *s = state;
	struct listen_token *t = NULL, **slot;

	if (ch->token == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID, "http-listen: challenge without a token");
	pthread_mutex_lock(&s->lock);
	slot = listen_find(s, ch->token);
	t = *slot;
	if (t != NULL)
		*slot = t->next;
	pthread_mutex_unlock(&s->lock);
	listen_token_free(t);
	return ACLM_OK;
}

const struct solver_ops solver_http_listen_ops = {
	.name = "http-listen",
	.types = SOLVER_HTTP01,
	.start = listen_start,
	.present = listen_present,
	.cleanup = listen_cleanup,
	.stop = listen_stop,
};
