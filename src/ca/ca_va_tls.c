/* tls-alpn-01 for the validation authority (RFC 8737, RFC 8738 §6): a TLS
 * client offering only acme-tls/1 that checks the self-signed challenge
 * certificate it is shown; connect and handshake bounded by the deadline. */
#include "ca/ca_va_int.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "acme/acme.h"

/* RFC 8737 §6.2: the protocol, and its ALPN wire form (length-prefixed). */
#define TLS_ALPN "acme-tls/1"
#define TLS_ALPN_WIRE "\x0a" TLS_ALPN
/* RFC 8737 §6.1: id-pe-acmeIdentifier. */
#define TLS_ACME_ID_OID "1.3.6.1.5.5.7.1.31"
#define TLS_WHO_MAX (INET6_ADDRSTRLEN + 16)

/* RFC 8738 §6: an IP identifier's SNI is its reverse name (RFC 1035 §3.5
 * in-addr.arpa, RFC 3596 §2.5 ip6.arpa nibbles). */
static void tls_reverse_name(const struct dns_addr *a, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t off = 0;

	if (a->family == AF_INET) {
		snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", a->ip[3], a->ip[2], a->ip[1],
			 a->ip[0]);
		return;
	}
	for (int i = 15; i >= 0 && off + 4 < len; i--) {
		out[off++] = hex[a->ip[i] & 0xf];
		out[off++] = '.';
		out[off++] = hex[a->ip[i] >> 4];
		out[off++] = '.';
	}
	snprintf(out + off, len - off, "ip6.arpa");
}

/* OpenSSL writes to the socket with write(2): a peer that has gone away
 * would raise SIGPIPE and end the process. SIGPIPE is blocked on this
 * thread while it talks TLS, and one raised meanwhile (thread-directed) is
 * consumed before the mask is restored. */
struct tls_sigpipe {
	sigset_t old;
	bool was_pending;
};

static void tls_sigpipe_block(struct tls_sigpipe *p)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	p->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, &p->old);
}

static void tls_sigpipe_restore(const struct tls_sigpipe *p)
{
	sigset_t set, pending;
	const struct timespec zero = { 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!p->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &p->old, NULL);
}

/* Waits until fd is ready for events or the deadline passes. */
static bool tls_wait(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left;
	int rc;

	while ((left = deadline - dns_now_ms()) > 0) {
		rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc > 0)
			return true;
		if (rc < 0 && errno != EINTR)
			return false;
	}
	return false;
}

/* A non-blocking TCP connection to a:port, established within deadline. */
static aclm_status tls_connect(const struct dns_addr *a, int port, const char *who,
			       long long deadline, int *out, struct aclm_err *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	const struct sockaddr *sa = (const struct sockaddr *)&sin;
	socklen_t salen = sizeof(sin);
	int fd, soerr = 0;
	socklen_t slen = sizeof(soerr);

	if (a->family == AF_INET6) {
		memcpy(&sin6.sin6_addr, a->ip, 16);
		sa = (const struct sockaddr *)&sin6;
		salen = sizeof(sin6);
	} else {
		memcpy(&sin.sin_addr, a->ip, 4);
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return aclm_err_set(err, ACLM_ERR_IO, "%s: socket: %s", who, strerror(errno));
	if (connect(fd, sa, salen) != 0) {
		soerr = errno;
		if (soerr == EINPROGRESS) {
			soerr = ETIMEDOUT;
			if (tls_wait(fd, POLLOUT, deadline) &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) != 0)
				soerr = errno;
		}
	}
	if (soerr != 0) {
		close(fd);
		return aclm_err_set(err, ACLM_ERR_IO, "%s: connect: %s", who, strerror(soerr));
	}
	*out = fd;
	return ACLM_OK;
}

/* The peer reset or closed the connection (OpenSSL 3 reports an EOF as a
 * TLS error with its own reason). */
static bool tls_lost(int e)
{
	unsigned long code = ERR_peek_last_error();

	return e == SSL_ERROR_SYSCALL ||
	       (e == SSL_ERROR_SSL && ERR_GET_LIB(code) == ERR_LIB_SSL &&
		ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
}

/* The handshake on the non-blocking socket, within deadline. A timeout or
 * a lost connection is "connection"; a TLS failure (alert, garbage) "tls". */
static aclm_status tls_handshake(SSL *ssl, int fd, const char *who, long long deadline,
				 const char **problem, struct aclm_err *err)
{
	int rc, e;
	bool ready = true;

	while ((rc = SSL_connect(ssl)) != 1 && ready) {
		e = SSL_get_error(ssl, rc);
		if (e == SSL_ERROR_WANT_READ) {
			ready = tls_wait(fd, POLLIN, deadline);
		} else if (e == SSL_ERROR_WANT_WRITE) {
			ready = tls_wait(fd, POLLOUT, deadline);
		} else if (tls_lost(e)) {
			*problem = "connection";
			return aclm_err_ssl(err, ACLM_ERR_IO, "%s: connection lost during the TLS "
					    "handshake", who);
		} else {
			*problem = "tls";
			return aclm_err_ssl(err, ACLM_ERR_VERIFY, "%s: TLS handshake failed", who);
		}
	}
	if (rc == 1)
		return ACLM_OK;
	*problem = "connection";
	return aclm_err_set(err, ACLM_ERR_IO, "%s: no TLS handshake in time", who);
}

/* RFC 8737 §3: exactly one subjectAltName, the identifier: a dNSName
 * (compared case-insensitively) or an iPAddress of the same octets. */
static aclm_status tls_check_san(X509 *x, const struct ca_va_request *r, const char *who,
				 struct aclm_err *err)
{
	int crit = 0;
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	const GENERAL_NAME *g;
	const ASN1_STRING *v = NULL;
	struct dns_addr ip;
	bool is_ip = strcmp(r->ident_type, "ip") == 0, ok = false;
	size_t want = is_ip ? 0 : strlen(r->ident_value);

	if (is_ip) {
		ip = (struct dns_addr){ .family = AF_INET };
		if (inet_pton(AF_INET, r->ident_value, ip.ip) != 1 &&
		    inet_pton(AF_INET6, r->ident_value, ip.ip) == 1)
			ip.family = AF_INET6;
		want = ip.family == AF_INET ? 4 : 16;
	}
	if (names != NULL && sk_GENERAL_NAME_num(names) == 1) {
		g = sk_GENERAL_NAME_value(names, 0);
		if (g->type == (is_ip ? GEN_IPADD : GEN_DNS))
			v = is_ip ? g->d.iPAddress : g->d.dNSName;
	}
	if (v != NULL && (size_t)ASN1_STRING_length(v) == want)
		ok = is_ip ? memcmp(ASN1_STRING_get0_data(v), ip.ip, want) == 0 :
			     strncasecmp((const char *)ASN1_STRING_get0_data(v), r->ident_value,
					 want) == 0;
	GENERAL_NAMES_free(names);
	if (ok)
		return ACLM_OK;
	return aclm_err_set(err, ACLM_ERR_VERIFY, "%s: the certificate's subjectAltName is not "
			    "exactly the %s %s", who, is_ip ? "iPAddress" : "dNSName", r->ident_value);
}

/* RFC 8737 §3: a critical acmeIdentifier extension, once, whose value is
 * the DER of an OCTET STRING holding SHA-256(key authorization). */
static aclm_status tls_check_acme_id(X509 *x, const unsigned char digest[32], const char *who,
				     struct aclm_err *err)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(TLS_ACME_ID_OID, 1);
	ASN1_OCTET_STRING *inner = NULL;
	const ASN1_OCTET_STRING *value;
	X509_EXTENSION *ext;
	const unsigned char *p, *end;
	const char *why = NULL;
	int idx;
	aclm_status st = ACLM_OK;

	if (oid == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "%s: acmeIdentifier OID", who);
		goto out;
	}
	idx = X509_get_ext_by_OBJ(x, oid, -1);
	ext = idx >= 0 ? X509_get_ext(x, idx) : NULL;
	if (ext == NULL) {
		why = "has no acmeIdentifier extension";
	} else if (X509_get_ext_by_OBJ(x, oid, idx) >= 0) {
		why = "has two acmeIdentifier extensions";
	} else if (X509_EXTENSION_get_critical(ext) != 1) {
		why = "has an acmeIdentifier extension that is not critical";
	} else {
		value = X509_EXTENSION_get_data(ext);
		p = ASN1_STRING_get0_data(value);
		end = p + ASN1_STRING_length(value);
		inner = d2i_ASN1_OCTET_STRING(NULL, &p, end - p);
		if (inner == NULL || p != end || ASN1_STRING_length(inner) != 32)
			why = "has an acmeIdentifier that is not an OCTET STRING of 32 octets";
		else if (CRYPTO_memcmp(ASN1_STRING_get0_data(inner), digest, 32) != 0)
			why = "has an acmeIdentifier that is not SHA-256 of the key authorization";
	}
	if (why != NULL)
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "%s: the certificate %s", who, why);
out:
	ASN1_OCTET_STRING_free(inner);
	ASN1_OBJECT_free(oid);
	ERR_clear_error(); /* a failed d2i leaves its reason behind */
	return st;
}

static aclm_status tls_ctx_new(SSL_CTX **out, struct aclm_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	*out = ctx;
	/* The certificate is self-signed by design (RFC 8737 §3): not verified
	 * against any trust store; its content is what is checked. */
	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)TLS_ALPN_WIRE,
				    sizeof(TLS_ALPN_WIRE) - 1) != 0)
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "tls-alpn-01: cannot create a TLS context");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	return ACLM_OK;
}

/* The first of the addresses that accepts a connection. */
static aclm_status tls_connect_any(const struct ca_va_config *c, const struct dns_addr *addrs,
				   size_t n, long long deadline, char *who, int *fd,
				   const char **problem, struct aclm_err *err)
{
	char ip[INET6_ADDRSTRLEN];
	aclm_status st = ACLM_ERR_IO;

	for (size_t i = 0; i < n && st != ACLM_OK; i++) {
		inet_ntop(addrs[i].family, addrs[i].ip, ip, sizeof(ip));
		snprintf(who, TLS_WHO_MAX, addrs[i].family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip,
			 c->tlsalpn01_port);
		st = tls_connect(&addrs[i], c->tlsalpn01_port, who, deadline, fd, err);
	}
	if (st != ACLM_OK)
		*problem = "connection";
	return st;
}

aclm_status ca__va_tlsalpn01(const struct ca_va_config *c, const struct ca_va_request *r,
			     long long deadline, const char **problem, struct aclm_err *err)
{
	struct dns_addr addrs[DNS_ADDRS_MAX];
	size_t n = 0;
	char sni[DNS_NAME_MAX + 1], who[TLS_WHO_MAX] = "";
	unsigned char digest[32];
	const unsigned char *alpn = NULL;
	unsigned alpnlen = 0;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	X509 *peer = NULL;
	int fd = -1;
	struct tls_sigpipe sp;
	aclm_status st;

	tls_sigpipe_block(&sp);
	if ((st = acme_tlsalpn01_digest(r->key_authorization, digest, err)) != ACLM_OK ||
	    (st = ca__va_addrs(c, r->ident_value, deadline, addrs, DNS_ADDRS_MAX, &n, problem,
			       err)) != ACLM_OK ||
	    (st = tls_connect_any(c, addrs, n, deadline, who, &fd, problem, err)) != ACLM_OK ||
	    (st = tls_ctx_new(&ctx, err)) != ACLM_OK)
		goto out;
	if (strcmp(r->ident_type, "ip") == 0)
		tls_reverse_name(&addrs[0], sni, sizeof(sni));
	else
		snprintf(sni, sizeof(sni), "%s", r->ident_value);
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set_tlsext_host_name(ssl, sni) != 1) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "%s: cannot set up TLS", who);
		goto out;
	}
	if ((st = tls_handshake(ssl, fd, who, deadline, problem, err)) != ACLM_OK)
		goto out;
	/* RFC 8737 §3: the handshake must have negotiated acme-tls/1. */
	SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
	if (alpnlen != strlen(TLS_ALPN) || memcmp(alpn, TLS_ALPN, alpnlen) != 0) {
		*problem = "tls";
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "%s: the server did not select ALPN "
				  TLS_ALPN, who);
		goto out;
	}
	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL) {
		*problem = "tls";
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "%s: no certificate", who);
		goto out;
	}
	if ((st = tls_check_san(peer, r, who, err)) != ACLM_OK ||
	    (st = tls_check_acme_id(peer, digest, who, err)) != ACLM_OK)
		*problem = "incorrectResponse";
out:
	X509_free(peer);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	ERR_clear_error();
	tls_sigpipe_restore(&sp);
	return st;
}
