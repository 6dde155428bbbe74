/* net/httpd: N libevent loops with one evhttp each, all accepting on one
 * listening socket; TLS per connection through bufferevent_openssl. */
#include "net/httpd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "net/net.h"

struct httpd_worker {
	struct net_loop loop;
	struct evhttp *http;
};

struct httpd {
	int fd;
	int n;
	struct httpd_worker *w;
};

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);

	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

static aclm_status worker_start(struct httpd *h, struct httpd_worker *hw, const struct httpd_opts *o,
				void *arg, struct aclm_err *err)
{
	aclm_status st = net_loop_new(o->who, &hw->loop, err);

	if (st != ACLM_OK)
		return st;
	hw->http = evhttp_new(hw->loop.base);
	if (hw->http == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: cannot create an HTTP server", o->who);
	evhttp_set_allowed_methods(hw->http, o->methods != 0 ? o->methods
							      : EVHTTP_REQ_GET | EVHTTP_REQ_POST |
									EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
									EVHTTP_REQ_DELETE);
	evhttp_set_max_headers_size(hw->http, (ev_ssize_t)o->max_headers);
	evhttp_set_max_body_size(hw->http, (ev_ssize_t)o->max_body);
	evhttp_set_timeout(hw->http, o->timeout_s);
	if (o->tls != NULL)
		evhttp_set_bevcb(hw->http, tls_bev, o->tls);
	evhttp_set_gencb(hw->http, o->on_request, arg);
	if (evhttp_accept_socket_with_handle(hw->http, h->fd) == NULL)
		return aclm_err_set(err, ACLM_ERR_IO, "%s: cannot accept on %s", o->who, o->listen);
	return net_loop_start(o->who, &hw->loop, err);
}

aclm_status httpd_start(const struct httpd_opts *o, struct httpd **out, struct aclm_err *err)
{
	struct httpd *h = NULL;
	aclm_status st;

	*out = NULL;
	if (o->workers < 1 || o->workers > HTTPD_MAX_WORKERS || o->on_request == NULL ||
	    o->worker_args == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID, "%s: 1 to %d workers and a handler", o->who,
				    HTTPD_MAX_WORKERS);
	st = net_loop_threads(o->who, err);
	if (st == ACLM_OK && (h = calloc(1, sizeof(*h))) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st != ACLM_OK)
		goto out;
	h->fd = -1;
	st = net_listen_socket(o->who, o->listen, &h->fd, err);
	if (st == ACLM_OK && (h->w = calloc((size_t)o->workers, sizeof(*h->w))) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st == ACLM_OK)
		h->n = o->workers;
	for (int i = 0; st == ACLM_OK && i < h->n; i++)
		st = worker_start(h, &h->w[i], o, o->worker_args[i], err);
out:
	if (st != ACLM_OK)
		httpd_stop(h);
	else
		*out = h;
	return st;
}

void httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	/* Each loop breaks after the callback it is running; evhttp_free then
	 * closes that worker's connections. */
	for (int i = 0; i < h->n; i++)
		net_loop_stop(&h->w[i].loop);
	for (int i = 0; i < h->n; i++) {
		if (h->w[i].http != NULL)
			evhttp_free(h->w[i].http);
		/* A connection evhttp_free closed mid-way (TLS shutdown under way)
		 * finishes freeing its bufferevent from deferred callbacks: one
		 * non-blocking pass runs them before the base goes. */
		if (h->w[i].loop.base != NULL)
			event_base_loop(h->w[i].loop.base, EVLOOP_NONBLOCK);
		net_loop_free(&h->w[i].loop);
	}
	if (h->fd >= 0)
		close(h->fd);
	free(h->w);
	free(h);
}
