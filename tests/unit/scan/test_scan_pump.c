/* scan/scan_engine.c, pump(): every endpoint is reported exactly once, under
 * the concurrency and per-address caps, whether it fails to connect, fails to
 * resolve or is given several probes. No TLS server needed: closed ports and
 * a resolver that does not answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <jansson.h>

#include "scan/scan.h"
#include "testsupport.h"

#define CLOSED_N 300

struct seen {
	unsigned count, per_port[65536];
	unsigned unreachable, resolve_errors, connect_errors;
};

static void on_endpoint(const json_t *ep, void *arg)
{
	struct seen *s = arg;
	const char *error = json_string_value(json_object_get(ep, "error"));
	json_int_t port = json_integer_value(json_object_get(ep, "port"));

	s->count++;
	if (port > 0 && port < 65536)
		s->per_port[port]++;
	if (!json_is_true(json_object_get(ep, "reachable")))
		s->unreachable++;
	if (error != NULL && strncmp(error, "resolve ", 8) == 0)
		s->resolve_errors++;
	if (error != NULL && strncmp(error, "connect: ", 9) == 0)
		s->connect_errors++;
}

static struct scan_targets *targets(const char *const *args, size_t n, const char *ports)
{
	struct scan_ports p;
	struct scan_targets *t = NULL;
	struct aclm_err err = { 0 };

	if (scan_ports_parse(ports, &p, &err) != ACLM_OK || scan_targets_new(args, n, &p, NULL, 0, &t, &err) != ACLM_OK)
		fail_msg("targets: %s", err.msg);
	return t;
}

/* The first port of CLOSED_N consecutive ones where nothing accepts, or -1. */
static int closed_run(void)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		int first = ts_free_port(SOCK_STREAM), p;

		if (first + CLOSED_N > 65535)
			first = 65535 - CLOSED_N;
		for (p = first; p < first + CLOSED_N && !ts_tcp_accepts(p); p++)
			;
		if (p == first + CLOSED_N)
			return first;
	}
	return -1;
}

/* 300 closed ports, all checks (a dead endpoint stops after its first
 * probe), 16 connections in flight and 4 per address: each port once. */
static void closed_ports_each_reported_once(void **state)
{
	static const char *const args[] = { "127.0.0.1" };
	struct seen *s = calloc(1, sizeof(*s));
	struct scan_run_opts o;
	struct scan_targets *t;
	struct aclm_err err = { 0 };
	char ports[32];
	int first;

	(void)state;
	assert_non_null(s);
	/* a run of ports where nothing listens (parallel tests listen on
	 * random ports: try a few runs) */
	first = closed_run();
	if (first < 0) {
		free(s);
		skip();
	}
	snprintf(ports, sizeof(ports), "%d-%d", first, first + CLOSED_N - 1);
	t = targets(args, 1, ports);
	scan_run_opts_init(&o);
	o.checks = SCAN_CHECK_CERT | SCAN_CHECK_VERSIONS;
	o.concurrency = 16;
	o.per_ip = 4;
	o.timeout_ms = 3000;
	assert_int_equal(scan_run(&o, t, on_endpoint, s, &err), ACLM_OK);
	assert_int_equal(s->count, CLOSED_N);
	for (int p = first; p < first + CLOSED_N; p++)
		assert_int_equal(s->per_port[p], 1);
	assert_int_equal(s->unreachable, CLOSED_N);
	assert_int_equal(s->connect_errors, CLOSED_N);
	scan_targets_free(t);
	free(s);
}

/* A name the resolver cannot give is reported (reachable false, "resolve
 * ..."), as is the address next to it; the run ends. */
static void unresolved_name_reported_and_run_ends(void **state)
{
	static const char *const args[] = { "nothing-here.invalid", "127.0.0.1" };
	struct seen *s = calloc(1, sizeof(*s));
	struct scan_run_opts o;
	struct scan_targets *t;
	struct aclm_err err = { 0 };
	char dns[64], ports[16];
	int port = ts_free_port(SOCK_STREAM), dead_dns = ts_free_port(SOCK_DGRAM);

	(void)state;
	assert_non_null(s);
	snprintf(ports, sizeof(ports), "%d", port);
	snprintf(dns, sizeof(dns), "127.0.0.1:%d", dead_dns); /* no one answers there */
	t = targets(args, 2, ports);
	scan_run_opts_init(&o);
	o.timeout_ms = 500;
	o.dns_server = dns;
	assert_int_equal(scan_run(&o, t, on_endpoint, s, &err), ACLM_OK);
	assert_int_equal(s->count, 2);
	assert_int_equal(s->unreachable, 2);
	assert_int_equal(s->resolve_errors, 1);
	assert_int_equal(s->connect_errors, 1);
	scan_targets_free(t);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(closed_ports_each_reported_once),
		cmocka_unit_test(unresolved_name_reported_and_run_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
