/* solvers/tls_alpn.c: the built-in tls-alpn-01 server (RFC 8737, RFC 8738),
 * checked with an OpenSSL client. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "solvers/solver.h"
#include "solver_test.h"

#define KA_SUFFIX ".LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define ACME_ID_OID "1.3.6.1.5.5.7.1.31"

static SSL_CTX *client_ctx;

/* ---- the server side ---- */

static aclm_status present(void *state, const char *identifier, const char *ka)
{
	size_t toklen = strcspn(ka, ".");
	char token[64];
	struct solver_challenge ch = { .type = "tls-alpn-01", .identifier = identifier,
				       .token = token, .key_authorization = ka };

	snprintf(token, sizeof(token), "%.*s", (int)toklen, ka);
	return solver_tls_alpn_ops.present(state, &ch, NULL);
}

static void cleanup_id(void *state, const char *identifier, const char *ka)
{
	struct solver_challenge ch = { .type = "tls-alpn-01", .identifier = identifier,
				       .key_authorization = ka };
	struct aclm_err err = { 0 };

	assert_int_equal(solver_tls_alpn_ops.cleanup(state, &ch, &err), ACLM_OK);
}

/* ---- the validation client ---- */

struct peer {
	char alpn[32];             /* negotiated protocol */
	X509 *cert;
	int version;
};

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 15 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* One validation handshake (RFC 8737 §3): SNI = sni, ALPN = the protocols in
 * alpn (comma-separated; NULL for no extension). True when it completes. */
static bool handshake_ctx(SSL_CTX *ctx, int port, const char *sni, const char *alpn,
			  struct peer *p)
{
	unsigned char wire[64];
	size_t n = 0;
	const unsigned char *sel = NULL;
	unsigned int sellen = 0;
	int fd = connect_to(port);
	SSL *ssl = SSL_new(ctx);
	bool ok;

	memset(p, 0, sizeof(*p));
	assert_non_null(ssl);
	SSL_set_fd(ssl, fd);
	if (sni != NULL)
		assert_int_equal(SSL_set_tlsext_host_name(ssl, sni), 1);
	for (const char *a = alpn; a != NULL && *a != '\0';) {
		size_t len = strcspn(a, ",");

		wire[n++] = (unsigned char)len;
		memcpy(wire + n, a, len);
		n += len;
		a += len + (a[len] == ',');
	}
	if (alpn != NULL)
		assert_int_equal(SSL_set_alpn_protos(ssl, wire, (unsigned)n), 0); /* 0 is success */
	ok = SSL_connect(ssl) == 1;
	if (ok) {
		SSL_get0_alpn_selected(ssl, &sel, &sellen);
		snprintf(p->alpn, sizeof(p->alpn), "%.*s", (int)sellen, sel);
		p->cert = SSL_get1_peer_certificate(ssl);
		p->version = SSL_version(ssl);
		/* RFC 8737 §3: the server sends no application data, only closes */
		assert_true(SSL_read(ssl, wire, sizeof(wire)) <= 0);
	}
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return ok;
}

static bool handshake(int port, const char *sni, const char *alpn, struct peer *p)
{
	return handshake_ctx(client_ctx, port, sni, alpn, p);
}

/* The certificate RFC 8737 §3 asks for: SAN = exactly the identifier (a
 * dNSName, or an iPAddress for IPs, RFC 8738 §6), and a critical
 * acmeIdentifier whose extnValue is DER OCTET STRING(SHA-256(ka)). */
static void check_cert(X509 *x, const char *dns, const char *ip, const char *ka)
{
	int crit = -1, idx, days = 0, secs = 0;
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	const GENERAL_NAME *g;
	ASN1_OBJECT *oid = OBJ_txt2obj(ACME_ID_OID, 1);
	const ASN1_OCTET_STRING *data;
	unsigned char want[34] = { 0x04, 0x20 }, ipbytes[16];
	size_t iplen = 0;

	assert_non_null(x);
	assert_non_null(names);
	assert_int_equal(sk_GENERAL_NAME_num(names), 1);
	g = sk_GENERAL_NAME_value(names, 0);
	if (dns != NULL) {
		assert_int_equal(g->type, GEN_DNS);
		assert_int_equal(ASN1_STRING_length(g->d.dNSName), strlen(dns));
		assert_memory_equal(ASN1_STRING_get0_data(g->d.dNSName), dns, strlen(dns));
	} else {
		if (inet_pton(AF_INET, ip, ipbytes) == 1)
			iplen = 4;
		else if (inet_pton(AF_INET6, ip, ipbytes) == 1)
			iplen = 16;
		assert_int_equal(g->type, GEN_IPADD);
		assert_int_equal(ASN1_STRING_length(g->d.iPAddress), iplen);
		assert_memory_equal(ASN1_STRING_get0_data(g->d.iPAddress), ipbytes, iplen);
	}
	GENERAL_NAMES_free(names);

	idx = X509_get_ext_by_OBJ(x, oid, -1);
	assert_true(idx >= 0);
	assert_int_equal(X509_get_ext_by_OBJ(x, oid, idx), -1); /* exactly once */
	ASN1_OBJECT_free(oid);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, idx)), 1);
	data = X509_EXTENSION_get_data(X509_get_ext(x, idx));
	SHA256((const unsigned char *)ka, strlen(ka), want + 2); /* computed here, not by acme/ */
	assert_int_equal(ASN1_STRING_length(data), sizeof(want));
	assert_memory_equal(ASN1_STRING_get0_data(data), want, sizeof(want));

	/* self-signed, P-256, short-lived */
	assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(x)), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 256);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
					X509_get0_notAfter(x)), 1);
	assert_true(days >= 1 && days <= 8);
}

static void expect_cert(int port, const char *sni, const char *dns, const char *ip, const char *ka)
{
	struct peer p;

	if (!handshake(port, sni, "acme-tls/1", &p))
		fail_msg("handshake with SNI %s failed", sni);
	assert_string_equal(p.alpn, "acme-tls/1");
	check_cert(p.cert, dns, ip, ka);
	X509_free(p.cert);
}

static void expect_refused(int port, const char *sni, const char *alpn)
{
	struct peer p;

	if (handshake(port, sni, alpn, &p)) {
		X509_free(p.cert);
		fail_msg("handshake with SNI %s, ALPN %s succeeded", sni ? sni : "(none)",
			 alpn ? alpn : "(none)");
	}
}

/* ---- tests ---- */

static void test_dns_and_ip_identifiers_get_their_certificate_by_sni(void **unused)
{
	int port;
	void *s = start_solver(&solver_tls_alpn_ops, &port);
	struct peer a, b;

	assert_int_equal(present(s, "example.org", "tokA" KA_SUFFIX), ACLM_OK);
	assert_int_equal(present(s, "192.0.2.7", "tokB" KA_SUFFIX), ACLM_OK);
	assert_int_equal(present(s, "2001:db8::1", "tokC" KA_SUFFIX), ACLM_OK);
	expect_cert(port, "example.org", "example.org", NULL, "tokA" KA_SUFFIX);
	expect_cert(port, "EXAMPLE.org", "example.org", NULL, "tokA" KA_SUFFIX); /* SNI is caseless */
	/* RFC 8738 §6: the SNI of an IP identifier is its reverse-DNS name */
	expect_cert(port, "7.2.0.192.in-addr.arpa", NULL, "192.0.2.7", "tokB" KA_SUFFIX);
	expect_cert(port, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		    NULL, "2001:db8::1", "tokC" KA_SUFFIX);
	/* a fresh key per certificate */
	assert_true(handshake(port, "example.org", "acme-tls/1", &a));
	assert_true(handshake(port, "7.2.0.192.in-addr.arpa", "acme-tls/1", &b));
	assert_int_not_equal(EVP_PKEY_eq(X509_get0_pubkey(a.cert), X509_get0_pubkey(b.cert)), 1);
	X509_free(a.cert);
	X509_free(b.cert);
	solver_tls_alpn_ops.stop(s);
}

static void test_acme_tls_is_negotiated_with_tls12_and_tls13(void **unused)
{
	int port;
	void *s = start_solver(&solver_tls_alpn_ops, &port);
	SSL_CTX *tls12 = SSL_CTX_new(TLS_client_method());
	struct peer p;

	assert_int_equal(present(s, "example.org", "tokA" KA_SUFFIX), ACLM_OK);
	assert_true(handshake(port, "example.org", "acme-tls/1", &p));
	assert_int_equal(p.version, TLS1_3_VERSION);
	X509_free(p.cert);
	assert_int_equal(SSL_CTX_set_max_proto_version(tls12, TLS1_2_VERSION), 1);
	assert_true(handshake_ctx(tls12, port, "example.org", "acme-tls/1", &p));
	assert_int_equal(p.version, TLS1_2_VERSION);
	assert_string_equal(p.alpn, "acme-tls/1");
	check_cert(p.cert, "example.org", NULL, "tokA" KA_SUFFIX);
	X509_free(p.cert);
	/* offered among others, acme-tls/1 is chosen */
	assert_true(handshake(port, "example.org", "h2,http/1.1,acme-tls/1", &p));
	assert_string_equal(p.alpn, "acme-tls/1");
	X509_free(p.cert);
	/* TLS 1.2 without ALPN fails too */
	assert_false(handshake_ctx(tls12, port, "example.org", NULL, &p));
	SSL_CTX_free(tls12);
	solver_tls_alpn_ops.stop(s);
}

static void test_handshake_without_acme_tls_alpn_fails(void **unused)
{
	int port;
	void *s = start_solver(&solver_tls_alpn_ops, &port);

	assert_int_equal(present(s, "example.org", "tokA" KA_SUFFIX), ACLM_OK);
	expect_refused(port, "example.org", NULL);
	expect_refused(port, "example.org", "h2");
	expect_refused(port, "example.org", "http/1.1,h2");
	expect_refused(port, "example.org", "acme-tls/2");
	solver_tls_alpn_ops.stop(s);
}

static void test_unknown_or_missing_sni_fails(void **unused)
{
	int port;
	void *s = start_solver(&solver_tls_alpn_ops, &port);

	assert_int_equal(present(s, "example.org", "tokA" KA_SUFFIX), ACLM_OK);
	assert_int_equal(present(s, "192.0.2.7", "tokB" KA_SUFFIX), ACLM_OK);
	expect_refused(port, "example.net", "acme-tls/1");
	expect_refused(port, "www.example.org", "acme-tls/1");
	expect_refused(port, NULL, "acme-tls/1");
	expect_refused(port, "192.0.2.7", "acme-tls/1"); /* IPs go by their reverse name */
	solver_tls_alpn_ops.stop(s);
}

static void test_tls11_is_refused(void **unused)
{
	int port;
	void *s = start_solver(&solver_tls_alpn_ops, &port);
	SSL_CTX *old = SSL_CTX_new(TLS_client_method());
	struct peer p;

	assert_int_equal(present(s, "example.org", "tokA" KA_SUFFIX), ACLM_OK);
	SSL_CTX_set_security_level(old, 0); /* the client would speak TLS 1.1 */
	assert_int_equal(SSL_CTX_set_min_proto_version(old, TLS1_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION), 1);
	assert_false(handshake_ctx(old, port, "example.org", "acme-tls/1", &p));
	SSL_CTX_free(old);
	solver_tls_alpn_ops.stop(s);
}

static void test_cleanup_removes_the_certificate(void **unused)
{
	int port;
	void *s = start_solver(&solver_tls_alpn_ops, &port);

	assert_int_equal(present(s, "example.org", "tokA" KA_SUFFIX), ACLM_OK);
	assert_int_equal(present(s, "192.0.2.7", "tokB" KA_SUFFIX), ACLM_OK);
	cleanup_id(s, "example.org", "tokA" KA_SUFFIX);
	cleanup_id(s, "example.org", "tokA" KA_SUFFIX); /* twice: still fine */
	expect_refused(port, "example.org", "acme-tls/1");
	expect_cert(port, "7.2.0.192.in-addr.arpa", NULL, "192.0.2.7", "tokB" KA_SUFFIX);
	cleanup_id(s, "192.0.2.7", NULL);
	expect_refused(port, "7.2.0.192.in-addr.arpa", "acme-tls/1");
	/* presented again: the newest challenge wins; an older one's cleanup
	 * leaves it alone */
	assert_int_equal(present(s, "example.org", "tokA" KA_SUFFIX), ACLM_OK);
	assert_int_equal(present(s, "example.org", "tokN" KA_SUFFIX), ACLM_OK);
	expect_cert(port, "example.org", "example.org", NULL, "tokN" KA_SUFFIX);
	cleanup_id(s, "example.org", "tokA" KA_SUFFIX);
	expect_cert(port, "example.org", "example.org", NULL, "tokN" KA_SUFFIX);
	cleanup_id(s, "EXAMPLE.ORG", "tokN" KA_SUFFIX);
	expect_refused(port, "example.org", "acme-tls/1");
	solver_tls_alpn_ops.stop(s);
}

static void test_present_refuses_bad_identifiers_and_key_authorizations(void **unused)
{
	int port;
	void *s = start_solver(&solver_tls_alpn_ops, &port);
	static const char *const bad[] = { "*.example.org", "", "a b.org", "exa_mple.org", "-a.org",
					   "a-.org", "example.org.", "a..org", "192.0.2.7/24" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(present(s, bad[i], "tokA" KA_SUFFIX), ACLM_ERR_INVALID);
	assert_int_equal(present(s, NULL, "tokA" KA_SUFFIX), ACLM_ERR_INVALID);
	assert_int_equal(present(s, "example.org", "tokA"), ACLM_ERR_INVALID);
	assert_int_equal(present(s, "example.org", "tok/A" KA_SUFFIX), ACLM_ERR_INVALID);
	expect_refused(port, "example.org", "acme-tls/1");
	solver_tls_alpn_ops.stop(s);
}

#define PER_THREAD 40

struct presenter {
	void *state;
	char prefix;
	int failures;
};

static void name_of(char *buf, size_t len, char prefix, int i)
{
	snprintf(buf, len, "%c%d.example.org", prefix, i);
}

static void *present_many(void *arg)
{
	struct presenter *p = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		char name[64], ka[96];

		name_of(name, sizeof(name), p->prefix, i);
		snprintf(ka, sizeof(ka), "tok%d%s", i, KA_SUFFIX);
		p->failures += present(p->state, name, ka) != ACLM_OK;
		if (i % 2 == 1) { /* interleave removals with the other thread's inserts */
			name_of(name, sizeof(name), p->prefix, i - 1);
			struct solver_challenge ch = { .identifier = name };

			p->failures += solver_tls_alpn_ops.cleanup(p->state, &ch, NULL) != ACLM_OK;
		}
	}
	return NULL;
}

static void test_concurrent_presents_from_two_threads(void **unused)
{
	int port;
	void *s = start_solver(&solver_tls_alpn_ops, &port);
	struct presenter a = { .state = s, .prefix = 'a' }, b = { .state = s, .prefix = 'b' };
	pthread_t ta, tb;
	struct peer p;

	assert_int_equal(pthread_create(&ta, NULL, present_many, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, present_many, &b), 0);
	/* the server answers while the table changes */
	for (int i = 0; i < 10; i++)
		assert_false(handshake(port, "zz.example.org", "acme-tls/1", &p));
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.failures + b.failures, 0);
	for (int i = 0; i < PER_THREAD; i++) {
		for (char c = 'a'; c <= 'b'; c++) {
			char name[64], ka[96];

			name_of(name, sizeof(name), c, i);
			snprintf(ka, sizeof(ka), "tok%d%s", i, KA_SUFFIX);
			if (i % 2 == 1)
				expect_cert(port, name, name, NULL, ka);
			else
				expect_refused(port, name, "acme-tls/1");
		}
	}
	solver_tls_alpn_ops.stop(s);
}

static void test_stop_and_start_again_on_the_same_port(void **unused)
{
	int port;
	void *s = start_solver(&solver_tls_alpn_ops, &port);
	struct aclm_err err = { 0 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd;
	aclm_status st;

	assert_int_equal(present(s, "example.org", "tokA" KA_SUFFIX), ACLM_OK);
	expect_cert(port, "example.org", "example.org", NULL, "tokA" KA_SUFFIX);
	solver_tls_alpn_ops.stop(s);
	fd = socket(AF_INET, SOCK_STREAM, 0); /* nobody listens */
	a.sin_port = htons((uint16_t)port);
	assert_int_not_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	s = start_on(&solver_tls_alpn_ops, port, &err, &st);
	if (st != ACLM_OK)
		fail_msg("restart: %s", err.msg);
	/* a new run starts with an empty table */
	expect_refused(port, "example.org", "acme-tls/1");
	assert_int_equal(present(s, "example.org", "tokB" KA_SUFFIX), ACLM_OK);
	expect_cert(port, "example.org", "example.org", NULL, "tokB" KA_SUFFIX);
	solver_tls_alpn_ops.stop(s);
	/* start and stop at once: the stop is not lost before the loop runs */
	s = start_on(&solver_tls_alpn_ops, port, &err, &st);
	assert_int_equal(st, ACLM_OK);
	solver_tls_alpn_ops.stop(s);
}

static void test_second_listener_on_a_port_is_address_in_use(void **unused)
{
	expect_address_in_use(&solver_tls_alpn_ops);
}

static void test_unparsable_addresses_are_refused(void **unused)
{
	static const char *const bad[] = { "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
					   "127.0.0.1:65536", "127.0.0.1:8x", "::1:443", "[::1]443",
					   "[::1:443", "localhost:443", "999.1.1.1:443", ":-1" };

	expect_addresses_refused(&solver_tls_alpn_ops, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_ipv6_loopback_when_available(void **unused)
{
	expect_ipv6_loopback_starts(&solver_tls_alpn_ops);
}

#define SILENT 64 /* the solver's cap on handshakes in flight */

/* Clients that connect and say nothing hold a slot until the handshake
 * timeout (10 s) closes them; beyond the cap, connections are closed at once. */
static void test_silent_clients_are_capped_then_timed_out(void **unused)
{
	int port, fds[SILENT];
	void *s = start_solver(&solver_tls_alpn_ops, &port);
	char c;

	assert_int_equal(present(s, "example.org", "tokA" KA_SUFFIX), ACLM_OK);
	for (int i = 0; i < SILENT; i++)
		fds[i] = connect_to(port);
	expect_refused(port, "example.org", "acme-tls/1");
	/* the timeout: every silent client sees the server close (EOF, not our 15 s SO_RCVTIMEO) */
	for (int i = 0; i < SILENT; i++) {
		assert_int_equal(recv(fds[i], &c, 1, 0), 0);
		close(fds[i]);
	}
	expect_cert(port, "example.org", "example.org", NULL, "tokA" KA_SUFFIX);
	solver_tls_alpn_ops.stop(s);
}

/* Stop with handshakes in flight frees them (ASan would report a leak). */
static void test_stop_with_connections_in_flight(void **unused)
{
	int port, fds[4];
	void *s = start_solver(&solver_tls_alpn_ops, &port);

	for (int i = 0; i < 4; i++)
		fds[i] = connect_to(port);
	usleep(100 * 1000);
	solver_tls_alpn_ops.stop(s);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

static int group_setup(void **unused)
{
	client_ctx = SSL_CTX_new(TLS_client_method());
	/* the validation server does not verify the self-signed certificate's chain */
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	return client_ctx != NULL ? 0 : -1;
}

static int group_teardown(void **unused)
{
	SSL_CTX_free(client_ctx);
	return 0;
}

int main(void)
{
	/* A client writing to a connection the server closed (the cap test)
	 * must see EPIPE, not die. */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_and_ip_identifiers_get_their_certificate_by_sni),
		cmocka_unit_test(test_acme_tls_is_negotiated_with_tls12_and_tls13),
		cmocka_unit_test(test_handshake_without_acme_tls_alpn_fails),
		cmocka_unit_test(test_unknown_or_missing_sni_fails),
		cmocka_unit_test(test_tls11_is_refused),
		cmocka_unit_test(test_cleanup_removes_the_certificate),
		cmocka_unit_test(test_present_refuses_bad_identifiers_and_key_authorizations),
		cmocka_unit_test(test_concurrent_presents_from_two_threads),
		cmocka_unit_test(test_stop_and_start_again_on_the_same_port),
		cmocka_unit_test(test_second_listener_on_a_port_is_address_in_use),
		cmocka_unit_test(test_unparsable_addresses_are_refused),
		cmocka_unit_test(test_ipv6_loopback_when_available),
		cmocka_unit_test(test_silent_clients_are_capped_then_timed_out),
		cmocka_unit_test(test_stop_with_connections_in_flight),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
