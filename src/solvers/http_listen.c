/* http-listen: a built-in HTTP/1.1 server (libevent evhttp, own thread) that
 * answers http-01 validation requests, GET/HEAD
 * /.well-known/acme-challenge/TOKEN, with the key authorization (RFC 8555 §8.3). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define LISTEN "http-listen"
#define LISTEN_PREFIX "/.well-known/acme-challenge/"
#define LISTEN_MAX_HEADERS 8192     /* validation requests are small */
#define LISTEN_MAX_BODY 1024
#define LISTEN_TIMEOUT_S 10         /* drops idle or slow clients */

struct listen_token {
	char *token;
	char *key_authorization;
	struct listen_token *next;
};

struct listen_state {
	char *spec;                 /* the configured address, for messages */
	struct net_loop loop;
	struct evhttp *http;
	pthread_mutex_t lock;       /* guards tokens: present/cleanup come from other threads */
	struct listen_token *tokens;
};

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

/* ---- solver_ops ---- */

static void listen_stop(void *state)
{
	struct listen_state *s = state;
	struct listen_token *t, *next;

	if (s == NULL)
		return;
	net_loop_stop(&s->loop);
	if (s->http != NULL)
		evhttp_free(s->http); /* closes the listener: the port is free again */
	net_loop_free(&s->loop);
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
	s->http = evhttp_new(s->loop.base);
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
	st = net_loop_threads(LISTEN, err);
	if (st != ACLM_OK)
		goto out;
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
	st = net_listen_socket(LISTEN, s->spec, &fd, err);
	if (st != ACLM_OK)
		goto out;
	st = net_loop_new(LISTEN, &s->loop, err);
	if (st != ACLM_OK) {
		close(fd);
		goto out;
	}
	st = listen_setup_http(s, fd, err); /* owns fd from here */
	if (st != ACLM_OK || (st = net_loop_start(LISTEN, &s->loop, err)) != ACLM_OK)
		goto out;
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
	aclm_status st = solver__check_keyauth("http-listen", ch, err);

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
