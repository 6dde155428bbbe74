/* net/httpd: a pool of HTTP(S) workers on one listening socket: N threads,
 * each with its own libevent loop and evhttp, TLS through
 * bufferevent_openssl, with caps on header and body size and a timeout.
 * The CA's ACME server and the REST API of `aclm serve` both run on it. */
#ifndef ACLM_NET_HTTPD_H
#define ACLM_NET_HTTPD_H

#include <stddef.h>

#include "core/status.h"

struct evhttp_request;
struct ssl_ctx_st;
struct httpd;

#define HTTPD_MAX_WORKERS 64

/* Called on the worker's thread; arg is that worker's entry of
 * httpd_opts.worker_args (per-thread state: store connection, ...). */
typedef void (*httpd_handler)(struct evhttp_request *req, void *arg);

struct httpd_opts {
	const char *who;           /* names the server in messages: "api", "ca serve" */
	const char *listen;        /* "HOST:PORT" as net_listen_socket */
	struct ssl_ctx_st *tls;    /* borrowed, outlives the pool; NULL: plain HTTP */
	int workers;               /* 1..HTTPD_MAX_WORKERS */
	size_t max_headers;        /* bytes of request line + headers */
	size_t max_body;           /* bytes; larger bodies get 413 from evhttp */
	int timeout_s;             /* read/write timeout per connection */
	unsigned methods;          /* EVHTTP_REQ_* mask; 0: GET HEAD POST PUT DELETE */
	httpd_handler on_request;
	void *const *worker_args;  /* workers entries */
};

/* Binds o->listen (port taken -> ACLM_ERR_BUSY naming it), then starts the
 * workers. On failure nothing is left running. */
aclm_status httpd_start(const struct httpd_opts *o, struct httpd **out, struct aclm_err *err);
/* Stops accepting, lets each loop finish the callbacks it is running,
 * joins the threads and frees everything; NULL is fine. */
void httpd_stop(struct httpd *h);

#endif
