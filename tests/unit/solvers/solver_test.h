/* Helpers shared by the tests of the built-in servers (http-listen,
 * tls-alpn): starting a solver on a free port, and the listen-address
 * checks both must pass (they share solvers/listen.c). */
#ifndef ACLM_TEST_SOLVER_H
#define ACLM_TEST_SOLVER_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "solvers/solver.h"
#include "testsupport.h"

/* Starts ops with addr as its listen address (each solver reads only its
 * own field of the configuration). */
static inline aclm_status start_at(const struct solver_ops *ops, const char *addr, void **state,
				   struct aclm_err *err)
{
	struct solver_config cfg = { .http_listen = addr, .tlsalpn_listen = addr };

	*state = NULL;
	return ops->start(&cfg, state, err);
}

static inline void *start_on(const struct solver_ops *ops, int port, struct aclm_err *err,
			     aclm_status *st)
{
	char addr[64];
	void *state = NULL;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	*st = start_at(ops, addr, &state, err);
	return state;
}

static inline void *start_solver(const struct solver_ops *ops, int *port)
{
	struct aclm_err err = { 0 };
	aclm_status st = ACLM_ERR_BUSY;
	void *state = NULL;

	/* Another process may grab the port between ts_free_port and bind: retry. */
	for (int i = 0; i < 5 && st == ACLM_ERR_BUSY; i++) {
		*port = ts_free_port(SOCK_STREAM);
		state = start_on(ops, *port, &err, &st);
	}
	if (st != ACLM_OK)
		fail_msg("start: %s", err.msg);
	return state;
}

/* A second listener on a taken port: ACLM_ERR_BUSY, and the message names
 * the solver and the address. */
static inline void expect_address_in_use(const struct solver_ops *ops)
{
	int port;
	void *s = start_solver(ops, &port);
	struct aclm_err err = { 0 };
	char want[64];
	aclm_status st;

	assert_null(start_on(ops, port, &err, &st));
	assert_int_equal(st, ACLM_ERR_BUSY);
	snprintf(want, sizeof(want), "%s: 127.0.0.1:%d: address already in use", ops->name, port);
	assert_string_equal(err.msg, want);
	ops->stop(s);
}

static inline void expect_addresses_refused(const struct solver_ops *ops, const char *const *bad,
					    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct aclm_err err = { 0 };
		void *state = NULL;

		assert_int_equal(start_at(ops, bad[i], &state, &err), ACLM_ERR_CONFIG);
		assert_null(state);
		assert_non_null(strstr(err.msg, ops->name));
	}
}

/* "[::1]:PORT" starts; skipped when the host has no IPv6 loopback. */
static inline void expect_ipv6_loopback_starts(const struct solver_ops *ops)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t alen = sizeof(a);
	char addr[64];
	struct aclm_err err = { 0 };
	void *state = NULL;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		skip();
	}
	getsockname(fd, (struct sockaddr *)&a, &alen);
	close(fd);
	snprintf(addr, sizeof(addr), "[::1]:%d", ntohs(a.sin6_port));
	assert_int_equal(start_at(ops, addr, &state, &err), ACLM_OK);
	ops->stop(state);
}

#endif
