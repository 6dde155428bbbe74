/* deploy/: the verify probe: a TLS handshake to HOST:PORT[/SNI] within a
 * deadline, returning the SHA-256 of the leaf served. Trust is not checked:
 * the question is which certificate is served, not whether it is valid. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "deploy/deploy.h"

#define PROBE_HOST_MAX 256

struct probe_spec {
	char host[PROBE_HOST_MAX];
	char port[8];
	char sni[PROBE_HOST_MAX];  /* "" when none is sent */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* "HOST:PORT[/SNI]", HOST may be "[v6]"; without /SNI a host name is its
 * own SNI and an IP literal sends none (RFC 6066 §3: no literal IPs). */
static aclm_status parse_spec(const char *spec, struct probe_spec *p, struct aclm_err *err)
{
	const char *slash = strchr(spec, '/'), *colon, *hs = spec, *he;
	size_t hostpart = slash != NULL ? (size_t)(slash - spec) : strlen(spec);
	char *end = NULL;
	long port;

	memset(p, 0, sizeof(*p));
	if (spec[0] == '[') {
		he = memchr(spec, ']', hostpart);
		if (he == NULL || he[1] != ':')
			goto bad;
		hs = spec + 1;
		colon = he + 1;
	} else {
		colon = NULL;
		for (const char *c = spec; c < spec + hostpart; c++)
			if (*c == ':')
				colon = c;
		if (colon == NULL)
			goto bad;
		he = colon;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(p->host))
		goto bad;
	memcpy(p->host, hs, (size_t)(he - hs));
	port = strtol(colon + 1, &end, 10);
	if (end != spec + hostpart || port < 1 || port > 65535)
		goto bad;
	snprintf(p->port, sizeof(p->port), "%ld", port);
	if (slash != NULL) {
		if (slash[1] == '\0' || strlen(slash + 1) >= sizeof(p->sni))
			goto bad;
		snprintf(p->sni, sizeof(p->sni), "%s", slash + 1);
	} else if (!is_ip_literal(p->host)) {
		snprintf(p->sni, sizeof(p->sni), "%s", p->host);
	}
	return ACLM_OK;
bad:
	return aclm_err_set(err, ACLM_ERR_CONFIG, "verify endpoint \"%s\": expected HOST:PORT[/SNI]",
			    spec);
}

aclm_status deploy_verify_check(const char *spec, struct aclm_err *err)
{
	struct probe_spec p;

	return parse_spec(spec, &p, err);
}

/* Waits for fd to be ready for events until deadline. */
static bool wait_fd(int fd, short events, long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long left = deadline - now_ms();

	return left > 0 && poll(&pfd, 1, (int)left) == 1;
}

static aclm_status connect_to(const struct probe_spec *p, const char *spec, long deadline, int *out,
			      struct aclm_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int rc = getaddrinfo(p->host, p->port, &hints, &res), fd = -1, last = 0;

	if (rc != 0)
		return aclm_err_set(err, ACLM_ERR_IO, "verify %s: %s", spec, gai_strerror(rc));
	for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
			break;
		last = errno == EINPROGRESS ? (soerr != 0 ? soerr : ETIMEDOUT) : errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return aclm_err_set(err, ACLM_ERR_IO, "verify %s: cannot connect: %s", spec,
				    strerror(last));
	*out = fd;
	return ACLM_OK;
}

static aclm_status handshake(SSL *ssl, int fd, const char *spec, long deadline,
			     struct aclm_err *err)
{
	for (;;) {
		int rc = SSL_connect(ssl), e;

		if (rc == 1)
			return ACLM_OK;
		e = SSL_get_error(ssl, rc);
		if (e == SSL_ERROR_WANT_READ && wait_fd(fd, POLLIN, deadline))
			continue;
		if (e == SSL_ERROR_WANT_WRITE && wait_fd(fd, POLLOUT, deadline))
			continue;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return aclm_err_set(err, ACLM_ERR_IO, "verify %s: TLS handshake timed out", spec);
		return aclm_err_ssl(err, ACLM_ERR_IO, "verify %s: TLS handshake failed", spec);
	}
}

aclm_status deploy_probe(const char *spec, long timeout_ms, char fingerprint[65],
			 struct aclm_err *err)
{
	struct probe_spec p;
	long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	X509 *leaf = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int fd = -1;
	aclm_status st = parse_spec(spec, &p, err);

	fingerprint[0] = '\0';
	if (st != ACLM_OK)
		goto out;
	st = connect_to(&p, spec, deadline, &fd, err);
	if (st != ACLM_OK)
		goto out;
	ctx = SSL_CTX_new(TLS_client_method());
	ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	if (ssl == NULL || !SSL_set_fd(ssl, fd) ||
	    (p.sni[0] != '\0' && !SSL_set_tlsext_host_name(ssl, p.sni))) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "verify %s: cannot set up TLS", spec);
		goto out;
	}
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	st = handshake(ssl, fd, spec, deadline, err);
	if (st != ACLM_OK)
		goto out;
	leaf = SSL_get1_peer_certificate(ssl);
	if (leaf == NULL || !X509_digest(leaf, EVP_sha256(), md, &mdlen)) {
		st = aclm_err_ssl(err, ACLM_ERR_VERIFY, "verify %s: no certificate served", spec);
		goto out;
	}
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(fingerprint + 2 * i, 3, "%02x", md[i]);
	/* No SSL_shutdown: a close_notify written to a peer that closed first
	 * would raise SIGPIPE in a process that did not ignore it. */
out:
	X509_free(leaf);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return st;
}
