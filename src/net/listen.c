/* net/listen: the listening socket from "ADDR:PORT" and the libevent loop
 * on its own thread, for every built-in server (net.h). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "net/net.h"

#define LISTEN_BACKLOG 128

/* ---- the listening socket ---- */

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses) into host (empty for
 * all) and port; numeric only, so a listen address never waits on DNS. */
aclm_status net_listen_split(const char *who, const char *spec, char *host, size_t hostlen,
			      char *port, size_t portlen, struct aclm_err *err)
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
			    "%s: \"%s\": not ADDRESS:PORT, [IPV6]:PORT or :PORT", who, spec);
}

static aclm_status listen_bind_error(const char *who, const char *spec, int e,
				     struct aclm_err *err)
{
	if (e == EADDRINUSE)
		return aclm_err_set(err, ACLM_ERR_BUSY, "%s: %s: address already in use", who, spec);
	if (e == EACCES)
		return aclm_err_set(err, ACLM_ERR_IO, "%s: %s: permission denied (ports below 1024 "
				    "need root or CAP_NET_BIND_SERVICE)", who, spec);
	return aclm_err_set(err, ACLM_ERR_IO, "%s: %s: %s", who, spec, strerror(e));
}

/* The address for spec; ":PORT" is "::" (dual-stack), or 0.0.0.0 when the
 * host has no IPv6, in which case *fd is already that socket. */
static aclm_status listen_resolve(const char *who, const char *spec, struct addrinfo **ai,
				  int *fd, int *v6only, struct aclm_err *err)
{
	char host[64], port[8];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	int rc;
	aclm_status st = net_listen_split(who, spec, host, sizeof(host), port, sizeof(port), err);

	if (st != ACLM_OK)
		goto out;
	*v6only = host[0] != '\0';
	rc = getaddrinfo(host[0] != '\0' ? host : "::", port, &hints, ai);
	if (rc == 0 && (*fd = socket((*ai)->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				     0)) < 0 && host[0] == '\0' && errno == EAFNOSUPPORT) {
		freeaddrinfo(*ai);
		*ai = NULL;
		rc = getaddrinfo("0.0.0.0", port, &hints, ai);
	}
	if (rc != 0)
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "%s: %s: %s", who, spec, gai_strerror(rc));
out:
	return st;
}

aclm_status net_listen_socket(const char *who, const char *spec, int *out,
				  struct aclm_err *err)
{
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, v6only = 0;
	aclm_status st = listen_resolve(who, spec, &ai, &fd, &v6only, err);

	if (st != ACLM_OK)
		goto out;
	if (fd < 0)
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		st = listen_bind_error(who, spec, errno, err);
		goto out;
	}
	/* SO_REUSEADDR lets a restart bind over TIME_WAIT; on Linux it does not
	 * let two listeners share the port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit it on Linux: a response written as headers
	 * then body must not wait for the peer's delayed ACK (Nagle: ~40 ms
	 * per response, measured in bench/acme-ca). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		st = listen_bind_error(who, spec, errno, err);
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

/* ---- the event loop thread ---- */

static pthread_once_t loop_once = PTHREAD_ONCE_INIT;
static int loop_threads_rc = -1;

static void loop_threads_init(void)
{
	loop_threads_rc = evthread_use_pthreads();
}

aclm_status net_loop_threads(const char *who, struct aclm_err *err)
{
	pthread_once(&loop_once, loop_threads_init);
	if (loop_threads_rc != 0)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "%s: libevent threads unavailable", who);
	return ACLM_OK;
}

static void loop_on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void *loop_thread(void *arg)
{
	struct net_loop *l = arg;

	event_base_dispatch(l->base);
	return NULL;
}

aclm_status net_loop_new(const char *who, struct net_loop *l, struct aclm_err *err)
{
	l->base = event_base_new();
	l->stop_ev = l->base != NULL ? event_new(l->base, -1, 0, loop_on_stop, l->base) : NULL;
	if (l->stop_ev == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: cannot create an event base", who);
	return ACLM_OK;
}

aclm_status net_loop_start(const char *who, struct net_loop *l, struct aclm_err *err)
{
	if (pthread_create(&l->thread, NULL, loop_thread, l) != 0)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "%s: cannot start the thread", who);
	l->running = true;
	return ACLM_OK;
}

void net_loop_stop(struct net_loop *l)
{
	if (!l->running)
		return;
	/* An activated event survives until the loop runs it, so this works
	 * even when the thread has not entered the loop yet. */
	event_active(l->stop_ev, EV_READ, 0);
	pthread_join(l->thread, NULL);
	l->running = false;
}

void net_loop_free(struct net_loop *l)
{
	if (l->stop_ev != NULL)
		event_free(l->stop_ev);
	if (l->base != NULL)
		event_base_free(l->base);
	l->stop_ev = NULL;
	l->base = NULL;
}
