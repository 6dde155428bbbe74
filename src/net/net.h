/* net/: what aclm's built-in servers share (the ACME client's http-01 and
 * tls-alpn-01 responders, the CA's ACME server): the listening socket
 * from "ADDR:PORT", and a libevent loop on its own thread. */
#ifndef ACLM_NET_H
#define ACLM_NET_H

#include <pthread.h>
#include <stdbool.h>

#include "core/status.h"

/* A bound, listening, non-blocking socket for spec: "HOST:PORT", "[V6]:PORT"
 * or ":PORT" (numeric only; ":PORT" is one dual-stack IPv6 socket, or IPv4
 * only when the host has no IPv6). Unparsable -> ACLM_ERR_CONFIG; port taken
 * -> ACLM_ERR_BUSY "<who>: <spec>: address already in use"; else ACLM_ERR_IO. */
/* The same spec split into its numeric host ("" for ":PORT") and port;
 * unparsable -> ACLM_ERR_CONFIG naming who and spec. */
aclm_status net_listen_split(const char *who, const char *spec, char *host, size_t hostlen,
			      char *port, size_t portlen, struct aclm_err *err);
aclm_status net_listen_socket(const char *who, const char *spec, int *fd,
			       struct aclm_err *err);

/* A libevent loop run by its own thread until stopped from another one. */
struct event_base;
struct event;
struct net_loop {
	struct event_base *base;
	struct event *stop_ev;
	pthread_t thread;
	bool running;
};

/* Makes libevent thread-safe, once per process; call before net_loop_new. */
aclm_status net_loop_threads(const char *who, struct aclm_err *err);
/* The event base and its stop event; on failure net_loop_free cleans up. */
aclm_status net_loop_new(const char *who, struct net_loop *l, struct aclm_err *err);
aclm_status net_loop_start(const char *who, struct net_loop *l, struct aclm_err *err);
/* Breaks the loop and joins the thread; nothing when it does not run. */
void net_loop_stop(struct net_loop *l);
/* After net_loop_stop and after freeing what lives on the base. */
void net_loop_free(struct net_loop *l);

#endif
