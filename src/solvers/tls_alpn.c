/* tls-alpn: a built-in TLS server (own thread) that answers tls-alpn-01
 * validation handshakes (RFC 8737) with a self-signed certificate per
 * presented identifier, chosen by SNI, and closes after the handshake.
 *
 * Event loop: libevent (evconnlistener + bufferevent_openssl) rather than a
 * hand-written poll loop, for the same reasons as http-listen: libevent is
 * the loop the daemon will run, it drives the non-blocking handshake state
 * (WANT_READ/WANT_WRITE) for us, and both share the socket and the loop
 * thread (listen.c). */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme/acme.h"
#include "crypto/key.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define TLSALPN "tls-alpn"
/* RFC 8737 §6.2: the ALPN protocol, in wire format (length-prefixed). */
#define TLSALPN_PROTO_WIRE "\x0a" "acme-tls/1"
/* RFC 8737 §6.1: id-pe-acmeIdentifier. */
#define TLSALPN_ACME_ID_OID "1.3.6.1.5.5.7.1.31"
#define TLSALPN_NAME_MAX 254            /* a DNS name (253) or an ip6.arpa name (72) + NUL */
#define TLSALPN_MAX_CONNS 64            /* handshakes in flight; more are closed at accept */
#define TLSALPN_HANDSHAKE_TIMEOUT_S 10  /* drops idle or slow clients */
#define TLSALPN_VALID_DAYS 7
#define TLSALPN_BACKDATE_S 3600         /* tolerates a validation server's clock skew */

/* A presented identifier: the name the validation server sends as SNI
 * and what the certificate's subjectAltName holds. */
struct tlsalpn_id {
	char name[TLSALPN_NAME_MAX]; /* lowercase DNS name, or the reverse name of an IP */
	unsigned char ip[16];
	size_t iplen;                /* 4 or 16 for an IP identifier, 0 for a DNS name */
};

struct tlsalpn_entry {
	char *name;                  /* the SNI it answers (struct tlsalpn_id.name) */
	char *key_authorization;     /* so cleanup removes only its own challenge */
	X509 *cert;
	EVP_PKEY *key;
	struct tlsalpn_entry *next;
};

struct tlsalpn_conn {
	struct tlsalpn_state *s;
	struct bufferevent *bev;
	struct tlsalpn_conn *prev, *next;
};

struct tlsalpn_state {
	char *spec;                  /* the configured address, for messages */
	SSL_CTX *ctx;
	struct net_loop loop;
	struct evconnlistener *listener;
	struct tlsalpn_conn *conns;  /* owned by the server thread while it runs */
	int nconns;
	pthread_mutex_t lock;        /* guards entries: present/cleanup come from other threads */
	struct tlsalpn_entry *entries;
};

/* ---- identifiers ---- */

/* RFC 8738 §6: an IP identifier is validated with SNI = its reverse-DNS name
 * (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa nibbles). */
static void tlsalpn_reverse_name(struct tlsalpn_id *id)
{
	static const char hex[] = "0123456789abcdef";
	char *p = id->name;

	if (id->iplen == 4) {
		snprintf(id->name, sizeof(id->name), "%u.%u.%u.%u.in-addr.arpa", id->ip[3],
			 id->ip[2], id->ip[1], id->ip[0]);
		return;
	}
	for (int i = 15; i >= 0; i--) {
		*p++ = hex[id->ip[i] & 0xf];
		*p++ = '.';
		*p++ = hex[id->ip[i] >> 4];
		*p++ = '.';
	}
	strcpy(p, "ip6.arpa");
}

/* LDH labels of 1..63 characters, 253 in all. No wildcard: the validation
 * server's SNI is a host name (RFC 6066 §3), never "*.". */
static bool tlsalpn_dns_valid(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || name[i - 1] == '-' ||
			    name[i - label] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static aclm_status tlsalpn_id_parse(const char *identifier, struct tlsalpn_id *id,
				    struct aclm_err *err)
{
	memset(id, 0, sizeof(*id));
	if (identifier == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    TLSALPN ": challenge without an identifier");
	if (inet_pton(AF_INET, identifier, id->ip) == 1)
		id->iplen = 4;
	else if (inet_pton(AF_INET6, identifier, id->ip) == 1)
		id->iplen = 16;
	if (id->iplen != 0) {
		tlsalpn_reverse_name(id);
		return ACLM_OK;
	}
	if (!tlsalpn_dns_valid(identifier))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    TLSALPN ": identifier \"%.64s\" is neither a DNS name nor an "
				    "IP address (wildcards cannot be validated with tls-alpn-01)",
				    identifier);
	for (size_t i = 0; identifier[i] != '\0'; i++)
		id->name[i] = (char)(identifier[i] >= 'A' && identifier[i] <= 'Z' ?
				     identifier[i] - 'A' + 'a' : identifier[i]);
	return ACLM_OK;
}

/* ---- the challenge certificate (RFC 8737 §3) ---- */

/* subjectAltName holds the identifier and nothing else: a dNSName, or an
 * iPAddress (RFC 8738 §6). Critical because the subject is empty (RFC 5280
 * §4.2.1.6). */
static bool tlsalpn_add_san(X509 *x, const struct tlsalpn_id *id)
{
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gen = GENERAL_NAME_new();
	int type = id->iplen != 0 ? V_ASN1_OCTET_STRING : V_ASN1_IA5STRING;
	ASN1_STRING *v = ASN1_STRING_type_new(type);
	bool ok = false;

	if (names == NULL || gen == NULL || v == NULL)
		goto out;
	if (id->iplen != 0 ? ASN1_STRING_set(v, id->ip, (int)id->iplen) != 1 :
			     ASN1_STRING_set(v, id->name, -1) != 1)
		goto out;
	GENERAL_NAME_set0_value(gen, id->iplen != 0 ? GEN_IPADD : GEN_DNS, v);
	v = NULL;
	if (sk_GENERAL_NAME_push(names, gen) == 0)
		goto out;
	gen = NULL;
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, names, 1, X509V3_ADD_DEFAULT) == 1;
out:
	ASN1_STRING_free(v);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(names);
	return ok;
}

/* RFC 8737 §3: the critical acmeIdentifier extension; its extnValue is the
 * DER of Authorization ::= OCTET STRING (SIZE (32)), the SHA-256 digest of
 * the key authorization. */
static bool tlsalpn_add_acme_id(X509 *x, const unsigned char digest[32])
{
	ASN1_OBJECT *oid = OBJ_txt2obj(TLSALPN_ACME_ID_OID, 1);
	ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *value = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	int len;
	bool ok = false;

	if (oid == NULL || inner == NULL || value == NULL ||
	    ASN1_OCTET_STRING_set(inner, digest, 32) != 1)
		goto out;
	len = i2d_ASN1_OCTET_STRING(inner, &der);
	if (len <= 0 || ASN1_OCTET_STRING_set(value, der, len) != 1)
		goto out;
	ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value);
	ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
out:
	X509_EXTENSION_free(ext);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(value);
	ASN1_OCTET_STRING_free(inner);
	ASN1_OBJECT_free(oid);
	return ok;
}

/* A random positive 127-bit serial (RFC 5280 §4.1.2.2: at most 20 octets). */
static bool tlsalpn_set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	bool ok = bn != NULL && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;

	BN_free(bn);
	return ok;
}

/* Self-signed with its own key, short-lived; the subject and issuer are
 * empty: the identifier lives in subjectAltName only. */
static aclm_status tlsalpn_cert_new(const struct tlsalpn_id *id, const unsigned char digest[32],
				    EVP_PKEY *key, X509 **out, struct aclm_err *err)
{
	X509 *x = X509_new();
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 || !tlsalpn_set_serial(x) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -TLSALPN_BACKDATE_S) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), TLSALPN_VALID_DAYS, 0, NULL) == NULL ||
	    X509_set_pubkey(x, key) != 1 || !tlsalpn_add_san(x, id) ||
	    !tlsalpn_add_acme_id(x, digest) || X509_sign(x, key, EVP_sha256()) <= 0) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, TLSALPN ": %s: cannot make the challenge "
				  "certificate", id->name);
		goto out;
	}
	*out = x;
	x = NULL;
out:
	X509_free(x);
	return st;
}

/* ---- the name -> certificate table ---- */

static struct tlsalpn_entry **tlsalpn_find(struct tlsalpn_state *s, const char *name)
{
	struct tlsalpn_entry **p = &s->entries;

	/* SNI compares case-insensitively (RFC 6066 §3, RFC 4343). */
	while (*p != NULL && strcasecmp((*p)->name, name) != 0)
		p = &(*p)->next;
	return p;
}

static void tlsalpn_entry_free(struct tlsalpn_entry *e)
{
	if (e == NULL)
		return;
	free(e->name);
	free(e->key_authorization);
	X509_free(e->cert);
	EVP_PKEY_free(e->key);
	free(e);
}

/* A fresh P-256 key and its certificate for the challenge. */
static aclm_status tlsalpn_entry_new(const struct solver_challenge *ch, struct tlsalpn_entry **out,
				     struct aclm_err *err)
{
	struct tlsalpn_entry *e = NULL;
	struct tlsalpn_id id;
	unsigned char digest[32];
	aclm_status st = tlsalpn_id_parse(ch->identifier, &id, err);

	*out = NULL;
	if (st != ACLM_OK)
		goto out;
	st = acme_tlsalpn01_digest(ch->key_authorization, digest, err);
	if (st != ACLM_OK)
		goto out;
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->name = strdup(id.name)) == NULL ||
	    (e->key_authorization = strdup(ch->key_authorization)) == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, TLSALPN ": out of memory");
		goto out;
	}
	st = crypto_key_generate(CRYPTO_KEY_P256, &e->key, err);
	if (st != ACLM_OK) {
		aclm_err_prefix(err, TLSALPN ": %s", id.name);
		goto out;
	}
	st = tlsalpn_cert_new(&id, digest, e->key, &e->cert, err);
	if (st != ACLM_OK)
		goto out;
	*out = e;
	e = NULL;
out:
	tlsalpn_entry_free(e);
	return st;
}

/* ---- TLS callbacks (server thread) ---- */

/* RFC 8737 §3: only handshakes that offer acme-tls/1 are answered. The ALPN
 * callback below is not called when the ClientHello has no ALPN extension,
 * so its absence is refused here. */
static int tlsalpn_on_client_hello(SSL *ssl, int *al, void *arg)
{
	const unsigned char *ext;
	size_t len;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
				      &len) == 1)
		return SSL_CLIENT_HELLO_SUCCESS;
	*al = SSL_AD_NO_APPLICATION_PROTOCOL;
	return SSL_CLIENT_HELLO_ERROR;
}

/* RFC 8737 §3: "acme-tls/1" must be negotiated; any other offer is refused
 * with a fatal no_application_protocol alert (RFC 7301 §3.2). */
static int tlsalpn_on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			   const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char *sel = NULL;
	unsigned char sellen = 0;

	static const unsigned char ours[] = TLSALPN_PROTO_WIRE;

	if (SSL_select_next_proto(&sel, &sellen, ours, sizeof(ours) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	*outlen = sellen;
	return SSL_TLSEXT_ERR_OK;
}

/* RFC 8737 §3: the certificate is the one for the SNI name; no SNI or an
 * unknown name ends the handshake with unrecognized_name. OpenSSL calls this
 * even when the ClientHello carries no SNI. */
static int tlsalpn_on_servername(SSL *ssl, int *al, void *arg)
{
	struct tlsalpn_state *s = arg;
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct tlsalpn_entry *e;
	int rc = SSL_TLSEXT_ERR_ALERT_FATAL;

	*al = SSL_AD_UNRECOGNIZED_NAME;
	if (sni == NULL)
		return rc;
	pthread_mutex_lock(&s->lock);
	e = *tlsalpn_find(s, sni);
	/* The SSL takes its own references: cleanup may free e right after. */
	if (e != NULL && SSL_use_certificate(ssl, e->cert) == 1 &&
	    SSL_use_PrivateKey(ssl, e->key) == 1)
		rc = SSL_TLSEXT_ERR_OK;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static aclm_status tlsalpn_ctx_new(struct tlsalpn_state *s, struct aclm_err *err)
{
	s->ctx = SSL_CTX_new(TLS_server_method());
	if (s->ctx == NULL || SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION) != 1)
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO,
				    TLSALPN ": %s: cannot create a TLS context", s->spec);
	/* One handshake per connection: nothing to resume, no tickets to send. */
	SSL_CTX_set_options(s->ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_num_tickets(s->ctx, 0);
	SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_client_hello_cb(s->ctx, tlsalpn_on_client_hello, s);
	SSL_CTX_set_tlsext_servername_callback(s->ctx, tlsalpn_on_servername);
	SSL_CTX_set_tlsext_servername_arg(s->ctx, s);
	SSL_CTX_set_alpn_select_cb(s->ctx, tlsalpn_on_alpn, s);
	return ACLM_OK;
}

/* ---- connections (server thread) ---- */

static void tlsalpn_conn_free(struct tlsalpn_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->s->nconns--;
	bufferevent_free(c->bev); /* closes the socket and frees the SSL */
	free(c);
}

/* RFC 8737 §3: the validation is the handshake; no application data is
 * exchanged, so the connection ends as soon as it completes or fails. */
static void tlsalpn_on_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & BEV_EVENT_CONNECTED)
		SSL_shutdown(bufferevent_openssl_get_ssl(bev)); /* close_notify, best effort */
	tlsalpn_conn_free(arg);
	ERR_clear_error(); /* failed handshakes must not pile up in this thread's queue */
}

static void tlsalpn_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			      int salen, void *arg)
{
	struct tlsalpn_state *s = arg;
	struct tlsalpn_conn *c = NULL;
	SSL *ssl = NULL;
	struct timeval tv = { .tv_sec = TLSALPN_HANDSHAKE_TIMEOUT_S };

	if (s->nconns >= TLSALPN_MAX_CONNS || (c = calloc(1, sizeof(*c))) == NULL ||
	    (ssl = SSL_new(s->ctx)) == NULL) {
		SSL_free(ssl);
		free(c);
		close(fd);
		goto out;
	}
	/* From here libevent owns fd and ssl, also when this fails (except on
	 * its own first allocation, where a leak beats a double free). */
	c->bev = bufferevent_openssl_socket_new(s->loop.base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		free(c);
		goto out;
	}
	c->s = s;
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	bufferevent_setcb(c->bev, NULL, NULL, tlsalpn_on_event, c);
	/* bufferevent_openssl applies these to the handshake too */
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
out:
	ERR_clear_error();
}

/* ---- solver_ops ---- */

static void tlsalpn_stop(void *state)
{
	struct tlsalpn_state *s = state;
	struct tlsalpn_entry *e, *next;

	if (s == NULL)
		return;
	net_loop_stop(&s->loop);
	while (s->conns != NULL) /* handshakes still in flight */
		tlsalpn_conn_free(s->conns);
	if (s->listener != NULL)
		evconnlistener_free(s->listener); /* closes the socket: the port is free again */
	net_loop_free(&s->loop);
	SSL_CTX_free(s->ctx);
	for (e = s->entries; e != NULL; e = next) {
		next = e->next;
		tlsalpn_entry_free(e);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->spec);
	free(s);
}

/* The event base, the stop event and the listener over fd (which it owns
 * from here, also on failure). */
static aclm_status tlsalpn_setup_loop(struct tlsalpn_state *s, int fd, struct aclm_err *err)
{
	aclm_status st = net_loop_new(TLSALPN, &s->loop, err);

	if (st != ACLM_OK) {
		close(fd);
		return st;
	}
	/* backlog 0: fd is already listening. */
	s->listener = evconnlistener_new(s->loop.base, tlsalpn_on_accept, s,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (s->listener == NULL) {
		close(fd);
		return aclm_err_set(err, ACLM_ERR_IO, TLSALPN ": %s: cannot accept connections",
				    s->spec);
	}
	return ACLM_OK;
}

static aclm_status tlsalpn_start(const struct solver_config *cfg, void **state,
				 struct aclm_err *err)
{
	struct tlsalpn_state *s = NULL;
	int fd = -1;
	aclm_status st = ACLM_OK;

	*state = NULL;
	st = net_loop_threads(TLSALPN, err);
	if (st != ACLM_OK)
		goto out;
	if (cfg == NULL || cfg->tlsalpn_listen == NULL || cfg->tlsalpn_listen[0] == '\0') {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, TLSALPN ": no listen address configured");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->spec = strdup(cfg->tlsalpn_listen)) == NULL) {
		free(s);
		s = NULL;
		st = aclm_err_set(err, ACLM_ERR_NOMEM, TLSALPN ": out of memory");
		goto out;
	}
	pthread_mutex_init(&s->lock, NULL);
	st = tlsalpn_ctx_new(s, err);
	if (st != ACLM_OK || (st = net_listen_socket(TLSALPN, s->spec, &fd, err)) != ACLM_OK)
		goto out;
	if ((st = tlsalpn_setup_loop(s, fd, err)) != ACLM_OK) /* owns fd from here */
		goto out;
	if ((st = net_loop_start(TLSALPN, &s->loop, err)) != ACLM_OK)
		goto out;
	*state = s;
	s = NULL;
out:
	tlsalpn_stop(s);
	return st;
}

/* Presenting an identifier again replaces its certificate: the newest
 * challenge wins. */
static aclm_status tlsalpn_present(void *state, const struct solver_challenge *ch,
				   struct aclm_err *err)
{
	struct tlsalpn_state *s = state;
	struct tlsalpn_entry *e = NULL, **slot, *old = NULL;
	/* RFC 8737 §3: the key authorization is built as for http-01 */
	aclm_status st = solver__check_keyauth(TLSALPN, ch, err);

	if (st != ACLM_OK || (st = tlsalpn_entry_new(ch, &e, err)) != ACLM_OK)
		goto out;
	pthread_mutex_lock(&s->lock);
	slot = tlsalpn_find(s, e->name);
	old = *slot;
	e->next = old != NULL ? old->next : NULL;
	*slot = e;
	e = NULL;
	pthread_mutex_unlock(&s->lock);
out:
	tlsalpn_entry_free(old);
	tlsalpn_entry_free(e);
	return st;
}

/* Removes the identifier's certificate when it is this challenge's (or
 * when no key authorization is given); an unknown identifier is success:
 * cleanup may be retried. */
static aclm_status tlsalpn_cleanup(void *state, const struct solver_challenge *ch,
				   struct aclm_err *err)
{
	struct tlsalpn_state *s = state;
	struct tlsalpn_entry *e = NULL, **slot;
	struct tlsalpn_id id;
	aclm_status st = tlsalpn_id_parse(ch->identifier, &id, err);

	if (st != ACLM_OK)
		goto out;
	pthread_mutex_lock(&s->lock);
	slot = tlsalpn_find(s, id.name);
	if (*slot != NULL && (ch->key_authorization == NULL ||
			      strcmp((*slot)->key_authorization, ch->key_authorization) == 0)) {
		e = *slot;
		*slot = e->next;
	}
	pthread_mutex_unlock(&s->lock);
out:
	tlsalpn_entry_free(e);
	return st;
}

const struct solver_ops solver_tls_alpn_ops = {
	.name = "tls-alpn",
	.types = SOLVER_TLSALPN01,
	.start = tlsalpn_start,
	.present = tlsalpn_present,
	.cleanup = tlsalpn_cleanup,
	.stop = tlsalpn_stop,
};
