/* ca/ca_va_tls.c against a TLS server of this test that shows crafted
 * challenge certificates (the tls-alpn solver only makes correct ones):
 * one SAN that is the identifier, a critical acmeIdentifier holding an
 * OCTET STRING of SHA-256(key authorization), ALPN acme-tls/1 selected;
 * and the SNI sent for IP identifiers (RFC 8738 §6). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "acme/acme.h"
#include "ca/ca_int.h"
#include "crypto/key.h"

#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define ACME_ID_OID "1.3.6.1.5.5.7.1.31"

/* ---- the server: one handshake per connection, on its own thread ---- */

struct server {
	int fd, port;
	pthread_t thread;
	bool stop;
	SSL_CTX *ctx;
	pthread_mutex_t lock;      /* guards what follows */
	X509 *cert;
	EVP_PKEY *key;
	bool select_alpn;
	bool hangup;               /* closes each connection at once */
	char sni[128];             /* the last SNI received */
};

static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned inlen, void *arg)
{
	struct server *s = arg;
	bool select;

	(void)ssl;
	pthread_mutex_lock(&s->lock);
	select = s->select_alpn;
	pthread_mutex_unlock(&s->lock);
	if (!select || inlen < 11 || memcmp(in, "\x0a" "acme-tls/1", 11) != 0)
		return SSL_TLSEXT_ERR_NOACK;
	*out = in + 1;
	*outlen = 10;
	return SSL_TLSEXT_ERR_OK;
}

/* Recorded during the handshake, so before the client can see it end. */
static int on_servername(SSL *ssl, int *al, void *arg)
{
	struct server *s = arg;
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)al;
	pthread_mutex_lock(&s->lock);
	snprintf(s->sni, sizeof(s->sni), "%s", sni != NULL ? sni : "");
	pthread_mutex_unlock(&s->lock);
	return SSL_TLSEXT_ERR_OK;
}

static void serve_one(struct server *s, int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	SSL *ssl = SSL_new(s->ctx);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&s->lock);
	SSL_use_certificate(ssl, s->cert);
	SSL_use_PrivateKey(ssl, s->key);
	pthread_mutex_unlock(&s->lock);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	ERR_clear_error();
}

static void *serve(void *arg)
{
	struct server *s = arg;
	sigset_t set;
	bool hangup;
	int fd;

	/* This thread's writes to clients that left must not end the test; the
	 * VA's own thread is left alone (the VA guards itself). */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	while (!s->stop) {
		fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		hangup = s->hangup;
		pthread_mutex_unlock(&s->lock);
		if (!s->stop && !hangup)
			serve_one(s, fd);
		close(fd);
	}
	return NULL;
}

static bool server_start(struct server *s, bool v6)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr *sa = v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4;
	socklen_t alen = v6 ? sizeof(a6) : sizeof(a4);

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (s->fd < 0 || bind(s->fd, sa, alen) != 0 || listen(s->fd, 8) != 0) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		return false;
	}
	getsockname(s->fd, sa, &alen);
	s->port = ntohs(v6 ? a6.sin6_port : a4.sin_port);
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s->ctx);
	SSL_CTX_set_alpn_select_cb(s->ctx, on_alpn, s);
	SSL_CTX_set_tlsext_servername_callback(s->ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(s->ctx, s);
	s->select_alpn = true;
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
	return true;
}

static void server_stop(struct server *s, bool v6)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)s->port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd;

	if (s->fd < 0)
		return;
	s->stop = true;
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0); /* wakes accept */
	connect(fd, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
		v6 ? sizeof(a6) : sizeof(a4));
	close(fd);
	pthread_join(s->thread, NULL);
	close(s->fd);
	SSL_CTX_free(s->ctx);
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
	pthread_mutex_destroy(&s->lock);
}

/* ---- crafted certificates ---- */

struct shape {
	const char *ip;            /* iPAddress SAN, or NULL */
	const char *dns;           /* dNSName SAN, or NULL (both: two SANs) */
	int acme_ids;              /* acmeIdentifier extensions: 0, 1 or 2 */
	bool not_critical;
	bool bare_digest;          /* the 32 octets without their OCTET STRING */
	const char *keyauth;       /* whose digest; NULL: KEYAUTH */
};

static void add_san(X509 *x, const struct shape *sh)
{
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	unsigned char ip[16];
	int iplen = 0;

	if (sh->ip != NULL) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();

		iplen = inet_pton(AF_INET, sh->ip, ip) == 1 ? 4 : 16;
		if (iplen == 16)
			assert_int_equal(inet_pton(AF_INET6, sh->ip, ip), 1);
		ASN1_OCTET_STRING_set(v, ip, iplen);
		GENERAL_NAME_set0_value(g, GEN_IPADD, v);
		sk_GENERAL_NAME_push(names, g);
	}
	if (sh->dns != NULL) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *v = ASN1_IA5STRING_new();

		ASN1_STRING_set(v, sh->dns, -1);
		GENERAL_NAME_set0_value(g, GEN_DNS, v);
		sk_GENERAL_NAME_push(names, g);
	}
	assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, names, 1, X509V3_ADD_DEFAULT),
			 1);
	GENERAL_NAMES_free(names);
}

static void add_acme_id(X509 *x, const struct shape *sh)
{
	unsigned char digest[32], *der = NULL;
	struct aclm_err err = { 0 };
	ASN1_OBJECT *oid = OBJ_txt2obj(ACME_ID_OID, 1);
	ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *value = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;
	int len;

	assert_int_equal(acme_tlsalpn01_digest(sh->keyauth != NULL ? sh->keyauth : KEYAUTH, digest,
					       &err), ACLM_OK);
	ASN1_OCTET_STRING_set(inner, digest, 32);
	len = i2d_ASN1_OCTET_STRING(inner, &der);
	if (sh->bare_digest)
		ASN1_OCTET_STRING_set(value, digest, 32);
	else
		ASN1_OCTET_STRING_set(value, der, len);
	for (int i = 0; i < sh->acme_ids; i++) {
		ext = X509_EXTENSION_create_by_OBJ(NULL, oid, sh->not_critical ? 0 : 1, value);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(value);
	ASN1_OCTET_STRING_free(inner);
	ASN1_OBJECT_free(oid);
}

static void show(struct server *s, const struct shape *sh)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;
	X509 *x = X509_new();

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &key, &err), ACLM_OK);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	add_san(x, sh);
	add_acme_id(x, sh);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	pthread_mutex_lock(&s->lock);
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
	s->cert = x;
	s->key = key;
	pthread_mutex_unlock(&s->lock);
}

/* ---- tests ---- */

static struct server v4;

static int setup(void **state)
{
	(void)state;
	return server_start(&v4, false) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	server_stop(&v4, false);
	return 0;
}

static void expect(struct server *s, const char *ip, const struct shape *sh, const char *problem,
		   const char *in_msg)
{
	struct ca_va_config c = { .http01_port = 1, .tlsalpn01_port = s->port, .timeout_ms = 3000 };
	struct ca_va_request r = { .challenge = "tls-alpn-01", .ident_type = "ip",
				   .ident_value = ip, .token = TOKEN,
				   .key_authorization = KEYAUTH };
	struct aclm_err err = { 0 };
	const char *got = NULL;
	aclm_status st;

	show(s, sh);
	st = ca_va_validate(&c, &r, &got, &err);
	if (problem == NULL && st != ACLM_OK)
		fail_msg("expected success, got %s: %s", got != NULL ? got : "(null)", err.msg);
	if (problem == NULL)
		return;
	if (st == ACLM_OK || got == NULL || strcmp(got, problem) != 0)
		fail_msg("expected %s, got %s: %s", problem, got != NULL ? got : "(null)", err.msg);
	if (in_msg != NULL && strstr(err.msg, in_msg) == NULL)
		fail_msg("\"%s\" not in \"%s\"", in_msg, err.msg);
}

static void test_a_correct_certificate_passes_and_sni_is_the_reverse_name(void **state)
{
	const struct shape good = { .ip = "127.0.0.1", .acme_ids = 1 };

	(void)state;
	expect(&v4, "127.0.0.1", &good, NULL, NULL);
	pthread_mutex_lock(&v4.lock);
	assert_string_equal(v4.sni, "1.0.0.127.in-addr.arpa");
	pthread_mutex_unlock(&v4.lock);
}

static void test_the_san_must_be_exactly_the_identifier(void **state)
{
	const struct shape as_dns = { .dns = "127.0.0.1", .acme_ids = 1 };
	const struct shape two = { .ip = "127.0.0.1", .dns = "x.example.test", .acme_ids = 1 };
	const struct shape other = { .ip = "127.0.0.2", .acme_ids = 1 };
	const struct shape v6 = { .ip = "::ffff:127.0.0.1", .acme_ids = 1 };

	(void)state;
	expect(&v4, "127.0.0.1", &as_dns, "incorrectResponse", "subjectAltName");
	expect(&v4, "127.0.0.1", &two, "incorrectResponse", "subjectAltName");
	expect(&v4, "127.0.0.1", &other, "incorrectResponse", "subjectAltName");
	expect(&v4, "127.0.0.1", &v6, "incorrectResponse", "subjectAltName");
}

static void test_the_acme_identifier_must_be_there_once_critical_and_wrapped(void **state)
{
	const struct shape none = { .ip = "127.0.0.1" };
	const struct shape twice = { .ip = "127.0.0.1", .acme_ids = 2 };
	const struct shape soft = { .ip = "127.0.0.1", .acme_ids = 1, .not_critical = true };
	const struct shape bare = { .ip = "127.0.0.1", .acme_ids = 1, .bare_digest = true };
	const struct shape other = { .ip = "127.0.0.1", .acme_ids = 1,
				     .keyauth = TOKEN ".other" };

	(void)state;
	expect(&v4, "127.0.0.1", &none, "incorrectResponse", "no acmeIdentifier");
	expect(&v4, "127.0.0.1", &twice, "incorrectResponse", "two acmeIdentifier");
	expect(&v4, "127.0.0.1", &soft, "incorrectResponse", "not critical");
	expect(&v4, "127.0.0.1", &bare, "incorrectResponse", "OCTET STRING");
	expect(&v4, "127.0.0.1", &other, "incorrectResponse", "SHA-256");
}

static void test_a_server_not_selecting_acme_tls_1_is_tls(void **state)
{
	const struct shape good = { .ip = "127.0.0.1", .acme_ids = 1 };

	(void)state;
	pthread_mutex_lock(&v4.lock);
	v4.select_alpn = false;
	pthread_mutex_unlock(&v4.lock);
	expect(&v4, "127.0.0.1", &good, "tls", "ALPN");
	pthread_mutex_lock(&v4.lock);
	v4.select_alpn = true;
	pthread_mutex_unlock(&v4.lock);
}

/* The VA's thread writes to a peer that left: no SIGPIPE may end the
 * process (OpenSSL uses write(2)); the loss is "connection". */
static void test_a_server_hanging_up_is_connection(void **state)
{
	const struct shape good = { .ip = "127.0.0.1", .acme_ids = 1 };

	(void)state;
	pthread_mutex_lock(&v4.lock);
	v4.hangup = true;
	pthread_mutex_unlock(&v4.lock);
	for (int i = 0; i < 20; i++)
		expect(&v4, "127.0.0.1", &good, "connection", NULL);
	pthread_mutex_lock(&v4.lock);
	v4.hangup = false;
	pthread_mutex_unlock(&v4.lock);
}

static void test_ipv6_identifier_sends_the_ip6_arpa_name(void **state)
{
	const struct shape good = { .ip = "::1", .acme_ids = 1 };
	struct server v6;

	(void)state;
	if (!server_start(&v6, true))
		skip();
	expect(&v6, "::1", &good, NULL, NULL);
	pthread_mutex_lock(&v6.lock);
	assert_string_equal(v6.sni, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			    "ip6.arpa");
	pthread_mutex_unlock(&v6.lock);
	server_stop(&v6, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_correct_certificate_passes_and_sni_is_the_reverse_name),
		cmocka_unit_test(test_the_san_must_be_exactly_the_identifier),
		cmocka_unit_test(test_the_acme_identifier_must_be_there_once_critical_and_wrapped),
		cmocka_unit_test(test_a_server_not_selecting_acme_tls_1_is_tls),
		cmocka_unit_test(test_a_server_hanging_up_is_connection),
		cmocka_unit_test(test_ipv6_identifier_sends_the_ip6_arpa_name),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
