/* Helpers the unit tests share (libtestsupport, prefix ts_): temporary
 * directories, loopback ports, the real peers some tests run against
 * (pebble-challtestsrv, BIND named) and a temporary home with a store and a
 * keystore. Failures inside a test are cmocka assertions. */
#ifndef ACLM_TEST_SUPPORT_H
#define ACLM_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/* ---- files (files.c) ---- */

/* Makes a fresh directory "/tmp/aclm-TAG-XXXXXX" into dir; returns dir, or
 * NULL when it could not be made. */
char *ts_tmpdir(char *dir, size_t size, const char *tag);

/* Removes dir and everything below it (without a shell); an empty dir is
 * nothing to do. 0, or -1 when something was left. */
int ts_rmtree(const char *dir);

/* Writes text to DIR/NAME (asserts). */
void ts_write_file(const char *dir, const char *name, const char *text);

/* ---- loopback ports (net.c) ---- */

/* A port the kernel just handed out on 127.0.0.1 for type (SOCK_STREAM or
 * SOCK_DGRAM) and that is free again. */
int ts_free_port(int type);

/* True when something accepts TCP connections on 127.0.0.1:port. */
bool ts_tcp_accepts(int port);

/* ---- identifiers (idents.c) ---- */

/* ["dns:NAME" | "ip:ADDR", ...] -> [{"type","value"}, ...], the ACME order
 * identifiers (RFC 8555 §7.1.3); the caller json_decref()s it. */
json_t *ts_identifiers(const char *const *spec, size_t n);

/* ---- outcomes (expect.c) ---- */

/* A call said ok (or not) with problem (an ACME problem type, NULL when
 * none) and message msg: expect NULL asks for success; otherwise the call
 * must have failed with problem type expect, and msg must contain in_msg
 * unless that is NULL. what names the call in the failure message. */
void ts_expect_problem(const char *what, bool ok, const char *problem, const char *msg,
		       const char *expect, const char *in_msg);

/* ---- peers (peers.c) ---- */

/* True when name is a program on PATH. */
bool ts_have_program(const char *name);

/* pebble-challtestsrv on loopback: DNS at resolver, its management API on
 * mgmt_port. pid is -1 until started. */
struct ts_challtestsrv {
	pid_t pid;
	int dns_port, mgmt_port;
	char resolver[32];         /* "127.0.0.1:DNS_PORT" */
};

/* Starts it on free ports, answering A queries for names without records
 * with default_ipv4 ("" for none), and waits for the management port. 0 once
 * it accepts; -1 (said on stderr) when it did not start. The child dies with
 * the test even when a sanitizer aborts it before teardown. */
int ts_challtestsrv_start(struct ts_challtestsrv *s, const char *default_ipv4);
void ts_challtestsrv_stop(struct ts_challtestsrv *s);

/* POSTs the formatted JSON body to the management API's op ("add-a",
 * "set-txt", "add-caa", ...); asserts a 200. */
void ts_challtestsrv_post(const struct ts_challtestsrv *s, const char *op, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* set-txt: the TXT record of fqdn (with its final dot) is value. */
void ts_challtestsrv_set_txt(const struct ts_challtestsrv *s, const char *fqdn,
			     const char *value);

/* BIND named serving one zone, example.test, from a fresh temporary
 * directory on a free loopback port, recursion off. pid is -1 when named is
 * not installed or not started (the tests needing it skip). */
struct ts_named {
	pid_t pid;
	char dir[64];
	char server[32];           /* "127.0.0.1:PORT" */
};

/* Starts named on zone (master-file text) and waits until up(server) holds.
 * 0 when it is up, or when named is not installed (said on stderr, pid -1);
 * -1 when it did not come up. */
int ts_named_start(struct ts_named *n, const char *zone, bool (*up)(const char *server));

/* Stops it and removes its directory; 0, or -1 when the directory stayed. */
int ts_named_stop(struct ts_named *n);

/* ---- a temporary home with store and keystore (fixture.c; built when
 * crypto, store and keystore are) ---- */

struct store;
struct keystore;

struct ts_home {
	char dir[64];              /* "/tmp/aclm-TAG-XXXXXX" */
	struct store *store;       /* sqlite:aclm.db in dir */
	struct keystore *ks;       /* master key from dir/master.key, made on first use */
	int64_t tenant;            /* "default" */
};

/* Makes the directory, initialises crypto, opens the store and the keystore
 * (ACLM_MASTER_KEY unset, so the key file in dir is the master key) and
 * ensures tenant "default". 0, or -1 with the reason on stderr. */
int ts_home_open(struct ts_home *h, const char *tag);

/* Closes both and removes the directory; 0, or -1 when it stayed. */
int ts_home_close(struct ts_home *h);

#endif
