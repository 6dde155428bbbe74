/* The scan engine: one libevent loop, non-blocking connections (bounded in
 * total and per address), asynchronous DNS, the probes of each endpoint and
 * the endpoint's JSON object with its findings. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/crypto.h"
#include "scan/scan_int.h"

#define DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define READ_CHUNK 16384

const uint16_t scan__pqc_groups[SCAN__PQC_GROUPS] = {
	0x11EC, /* X25519MLKEM768 */
	0x11EB, /* SecP256r1MLKEM768 */
	0x11ED, /* SecP384r1MLKEM1024 */
	0x6399, /* X25519Kyber768Draft00 */
	0x0200, /* MLKEM512 */
	0x0201, /* MLKEM768 */
	0x0202, /* MLKEM1024 */
	0x11EE, /* curveSM2MLKEM768 */
};
static const char *const pqc_fallback_names[SCAN__PQC_GROUPS] = {
	"X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024", "X25519Kyber768Draft00",
	"MLKEM512", "MLKEM768", "MLKEM1024", "curveSM2MLKEM768",
};
static const uint16_t probe_versions[SCAN__VERSIONS] = { SCAN_TLS10, SCAN_TLS11, SCAN_TLS12,
							  SCAN_TLS13 };
static const char *const version_names[SCAN__VERSIONS] = { "1.0", "1.1", "1.2", "1.3" };

/* What the raw probes offer. Old versions: the suites servers of that era
 * accept (ECDHE, RSA key transport, 3DES); 1.2 adds AEADs; 1.3 its own. */
static const uint16_t suites_old[] = { 0xC013, 0xC014, 0xC009, 0xC00A, 0x0033, 0x0039,
				       0x002F, 0x0035, 0x000A };
static const uint16_t suites_12[] = { 0xC02F, 0xC030, 0xC02B, 0xC02C, 0xCCA8, 0xCCA9, 0x009E,
				      0x009F, 0x009C, 0x009D, 0xC027, 0xC028, 0xC023, 0xC024,
				      0xC013, 0xC014, 0xC009, 0xC00A, 0x003C, 0x003D, 0x002F,
				      0x0035, 0x000A };
static const uint16_t suites_13[] = { 0x1301, 0x1302, 0x1303 };
static const uint16_t groups_classic[] = { 0x001D, 0x0017, 0x0018, 0x0019, 0x001E };
/* The TLS 1.3 version probe offers the classic groups and the PQ ones, so
 * that a server restricted to ML-KEM groups still shows it speaks 1.3. */
static const uint16_t groups_13[] = { 0x001D, 0x0017, 0x11EC, 0x11EB, 0x11ED, 0x6399,
				      0x0200, 0x0201, 0x0202, 0x11EE };
/* RFC 8998 §3: TLS_SM4_GCM_SM3, TLS_SM4_CCM_SM3; curveSM2; sm2sig_sm3. */
static const uint16_t suites_sm13[] = { 0x00C6, 0x00C7 };
static const uint16_t groups_sm2[] = { 0x0029 };
static const uint16_t sigalgs_sm2[] = { 0x0708 };
/* GB/T 38636 §6.4.5.2: ECC_SM4_CBC_SM3, ECDHE_SM4_CBC_SM3, ECC_SM4_GCM_SM3,
 * ECDHE_SM4_GCM_SM3. */
static const uint16_t suites_tlcp[] = { 0xE013, 0xE011, 0xE053, 0xE051 };
static const uint16_t sigalgs[] = { 0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805,
				    0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201 };

static void pump(struct scan__run *run);
static void conn_event(evutil_socket_t fd, short what, void *arg);

void scan_run_opts_init(struct scan_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->checks = SCAN_CHECKS_ALL;
	o->concurrency = 200;
	o->per_ip = 8;
	o->timeout_ms = 5000;
	o->expiring_days = 30;
	o->starttls = SCAN_STARTTLS_AUTO;
}

aclm_status scan_checks_parse(const char *s, unsigned *out, struct aclm_err *err)
{
	static const struct { const char *name; unsigned bit; } words[] = {
		{ "cert", SCAN_CHECK_CERT }, { "versions", SCAN_CHECK_VERSIONS },
		{ "pqc", SCAN_CHECK_PQC }, { "sm2", SCAN_CHECK_SM2 }, { "all", SCAN_CHECKS_ALL },
	};
	unsigned mask = 0;
	const char *p = s;

	while (*p != '\0') {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].name) == n && strncmp(p, words[i].name, n) == 0)
				break;
		if (n > 0 && i == sizeof(words) / sizeof(words[0]))
			return aclm_err_set(err, ACLM_ERR_INVALID,
					    "--checks: '%.*s' is not a check (cert, versions, pqc, sm2 or all)",
					    (int)n, p);
		if (n > 0)
			mask |= words[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	if (mask == 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "--checks: no check named in '%s'", s);
	*out = mask;
	return ACLM_OK;
}

/* ---- per-address connection counts ---- */

static size_t ip_hash(int family, const unsigned char *ip)
{
	uint32_t h = 2166136261u;

	h = (h ^ (uint32_t)family) * 16777619u;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 16777619u;
	return h % SCAN__IP_BUCKETS;
}

static struct scan__ipcount *ip_ref(struct scan__run *run, int family, const unsigned char *ip)
{
	size_t b = ip_hash(family, ip);
	struct scan__ipcount *c;

	for (c = run->ipbuckets[b]; c != NULL; c = c->next)
		if (c->family == family && memcmp(c->ip, ip, 16) == 0)
			break;
	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		c->family = family;
		memcpy(c->ip, ip, 16);
		c->next = run->ipbuckets[b];
		run->ipbuckets[b] = c;
	}
	if (c != NULL)
		c->refs++;
	return c;
}

static void ip_unref(struct scan__run *run, struct scan__ipcount *c)
{
	struct scan__ipcount **pp;

	if (c == NULL || --c->refs > 0)
		return;
	for (pp = &run->ipbuckets[ip_hash(c->family, c->ip)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

/* ---- endpoints ---- */

static void ep_set_error(struct scan__endpoint *ep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ep_set_error(struct scan__endpoint *ep, const char *fmt, ...)
{
	va_list ap;

	if (ep->error[0] != '\0')
		return; /* the first failure is the one that explains the rest */
	va_start(ap, fmt);
	vsnprintf(ep->error, sizeof(ep->error), fmt, ap);
	va_end(ap);
}

/* pump() looks at the endpoints on its list only: new ones (one without an
 * address finishes there) and those given probes; it drops the others. */
static void ep_want_pump(struct scan__endpoint *ep)
{
	struct scan__run *run = ep->run;

	if (ep->pumped)
		return;
	ep->pumped = true;
	ep->pump_next = NULL;
	ep->pump_prev = run->pump_tail;
	if (run->pump_tail != NULL)
		run->pump_tail->pump_next = ep;
	else
		run->pump_head = ep;
	run->pump_tail = ep;
}

static void ep_unwant_pump(struct scan__endpoint *ep)
{
	struct scan__run *run = ep->run;

	if (!ep->pumped)
		return;
	if (ep->pump_prev != NULL)
		ep->pump_prev->pump_next = ep->pump_next;
	else
		run->pump_head = ep->pump_next;
	if (ep->pump_next != NULL)
		ep->pump_next->pump_prev = ep->pump_prev;
	else
		run->pump_tail = ep->pump_prev;
	ep->pumped = false;
	ep->pump_prev = ep->pump_next = NULL;
}

static void ep_push(struct scan__endpoint *ep, enum scan__probe_kind kind, unsigned idx)
{
	if (ep->npending < SCAN__PROBES_MAX)
		ep->pending[ep->npending++] = (struct scan__probe_spec){ kind, (uint8_t)idx };
	ep_want_pump(ep);
}

/* The probes the checks ask for; the first one alone decides whether the
 * endpoint answers at all (a dead address costs one connection, not 13). */
static void ep_plan(struct scan__endpoint *ep)
{
	unsigned checks = ep->run->o->checks;

	if (checks & SCAN_CHECK_CERT)
		ep_push(ep, SCAN__PROBE_CERT, 0);
	if (checks & SCAN_CHECK_VERSIONS) {
		for (unsigned i = SCAN__VERSIONS; i-- > 0;)
			ep_push(ep, SCAN__PROBE_VERSION, i);
	} else if (checks & SCAN_CHECK_PQC) {
		ep_push(ep, SCAN__PROBE_VERSION, 3); /* PQC probes need TLS 1.3 */
	}
	if (checks & SCAN_CHECK_SM2) {
		ep_push(ep, SCAN__PROBE_SM2_TLS13, 0);
		ep_push(ep, SCAN__PROBE_TLCP, 0);
	}
}

static struct scan__endpoint *ep_new(struct scan__run *run, const struct scan_target *t,
				     const struct sockaddr *sa, socklen_t salen)
{
	struct scan__endpoint *ep = calloc(1, sizeof(*ep));
	const void *addr;

	if (ep == NULL)
		return NULL;
	ep->run = run;
	ep->t = *t;
	if (sa != NULL) {
		unsigned char key[16] = { 0 };

		ep->has_addr = true;
		memcpy(&ep->sa, sa, salen);
		ep->salen = salen;
		if (sa->sa_family == AF_INET) {
			((struct sockaddr_in *)&ep->sa)->sin_port = htons(t->port);
			addr = &((const struct sockaddr_in *)sa)->sin_addr;
			memcpy(key, addr, 4);
		} else {
			((struct sockaddr_in6 *)&ep->sa)->sin6_port = htons(t->port);
			addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
			memcpy(key, addr, 16);
		}
		inet_ntop(sa->sa_family, addr, ep->ip, sizeof(ep->ip));
		ep->proto = scan_starttls_for_port(run->o->starttls, t->port);
		ep->ipc = ip_ref(run, sa->sa_family, key);
		if (ep->ipc == NULL) {
			free(ep);
			return NULL;
		}
		ep_plan(ep);
	}
	ep_want_pump(ep);
	ep->prev = run->eps_tail;
	if (run->eps_tail != NULL)
		run->eps_tail->next = ep;
	else
		run->eps = ep;
	run->eps_tail = ep;
	run->neps++;
	return ep;
}

static void ep_unlink_free(struct scan__endpoint *ep)
{
	struct scan__run *run = ep->run;

	if (ep->prev != NULL)
		ep->prev->next = ep->next;
	else
		run->eps = ep->next;
	if (ep->next != NULL)
		ep->next->prev = ep->prev;
	else
		run->eps_tail = ep->prev;
	run->neps--;
	ep_unwant_pump(ep);
	ip_unref(run, ep->ipc);
	json_decref(ep->chain);
	json_decref(ep->chain_der);
	json_decref(ep->tlcp_sign);
	json_decref(ep->tlcp_enc);
	free(ep);
}

static json_t *str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static const char *pqc_name(unsigned i)
{
	const char *n = scan_group_name(scan__pqc_groups[i]);

	return n != NULL ? n : pqc_fallback_names[i];
}

/* The endpoint's object (issue 5's JSON contract) with its findings. */
static json_t *ep_json(const struct scan__endpoint *ep, struct aclm_err *err)
{
	const struct scan_run_opts *o = ep->run->o;
	json_t *obj = json_object(), *vers = NULL, *pqc = NULL, *groups = NULL, *findings;
	json_t *chain = ep->chain != NULL ? json_incref(ep->chain) : json_array();
	struct scan_observed ob = { 0 };
	/* Without TLS through the preamble there is nothing to report or judge
	 * (no version accepted is not "no_tls13"). */
	bool tls_seen = ep->reachable && !(ep->starttls_failed && !ep->cert_ok && ep->ver_ok == 0);

	aclm_json_set_str(obj, "host", ep->t.host);
	aclm_json_set_new(obj, "ip", str_or_null(ep->ip));
	aclm_json_set_int(obj, "port", ep->t.port);
	aclm_json_set_new(obj, "sni", str_or_null(ep->t.sni));
	aclm_json_set_bool(obj, "reachable", ep->reachable);
	aclm_json_set_new(obj, "error", str_or_null(ep->error));
	aclm_json_set_new(obj, "starttls", ep->proto != SCAN_STARTTLS_NONE
						   ? json_string(scan_starttls_name(ep->proto)) : json_null());
	if ((o->checks & SCAN_CHECK_VERSIONS) && tls_seen) {
		vers = json_array();
		for (unsigned i = 0; i < SCAN__VERSIONS; i++)
			if (ep->ver_ok & (1u << i))
				json_array_append_new(vers, json_string(version_names[i]));
	}
	aclm_json_set_new(obj, "tls_versions", vers);
	aclm_json_set_new(obj, "version", str_or_null(ep->version));
	aclm_json_set_new(obj, "cipher", str_or_null(ep->cipher));
	aclm_json_set_new(obj, "group", str_or_null(ep->group));
	aclm_json_set_new(obj, "ocsp_stapled", ep->cert_ok ? json_boolean(ep->ocsp_stapled) : json_null());
	aclm_json_set_new(obj, "chain", json_incref(chain));
	if (o->keep_der && ep->chain_der != NULL)
		aclm_json_set_new(obj, "chain_der", json_incref(ep->chain_der));
	if ((o->checks & SCAN_CHECK_PQC) && tls_seen) {
		json_t *tested = json_array();

		groups = json_array();
		for (unsigned i = 0; ep->pqc_ran && i < SCAN__PQC_GROUPS; i++) {
			json_array_append_new(tested, json_string(pqc_name(i)));
			if (ep->pqc_ok & (1u << i))
				json_array_append_new(groups, json_string(pqc_name(i)));
		}
		pqc = json_pack("{s:O, s:o}", "groups", groups, "tested", tested);
	}
	aclm_json_set_new(obj, "pqc", pqc);
	if ((o->checks & SCAN_CHECK_SM2) && tls_seen)
		aclm_json_set_new(obj, "sm2", json_pack("{s:b, s:b, s:O?, s:O?}", "rfc8998", ep->rfc8998,
							"tlcp", ep->tlcp, "tlcp_sign_cert", ep->tlcp_sign,
							"tlcp_enc_cert", ep->tlcp_enc));
	else
		aclm_json_set_new(obj, "sm2", json_null());
	findings = json_array();
	if (ep->starttls_missing)
		json_array_append_new(findings, json_pack("{s:s, s:s, s:s}", "id", "starttls_not_offered",
							  "severity", "high", "message", ep->error));
	if (tls_seen) {
		ob.host = ep->t.sni[0] != '\0' ? ep->t.sni : NULL;
		ob.chain = chain;
		ob.chain_trusted = ep->chain_trusted;
		ob.chain_complete = ep->chain_complete;
		ob.chain_ordered = ep->chain_ordered;
		ob.versions_probed = (o->checks & SCAN_CHECK_VERSIONS) != 0;
		ob.tls10 = (ep->ver_ok & 1u) != 0;
		ob.tls11 = (ep->ver_ok & 2u) != 0;
		ob.tls12 = (ep->ver_ok & 4u) != 0;
		ob.tls13 = (ep->ver_ok & 8u) != 0;
		ob.pqc_groups = ep->pqc_ran ? groups : NULL;
		ob.expiring_days = o->expiring_days;
		if (scan_findings(&ob, aclm_time_now(), findings, err) != ACLM_OK) {
			json_decref(findings);
			json_decref(groups);
			json_decref(chain);
			json_decref(obj);
			return NULL;
		}
	}
	aclm_json_set_new(obj, "findings", findings);
	json_decref(groups);
	json_decref(chain);
	return obj;
}

/* Reports and frees the endpoint when nothing is left to do for it. */
static void ep_maybe_finish(struct scan__endpoint *ep)
{
	struct scan__run *run = ep->run;
	struct aclm_err e = { 0 };
	json_t *obj;

	if (ep->inflight > 0 || ep->npending > 0)
		return;
	obj = ep_json(ep, &e);
	if (obj == NULL) {
		if (run->st == ACLM_OK) {
			run->st = e.code != ACLM_OK ? e.code : ACLM_ERR_INTERNAL;
			aclm_err_set(run->err, run->st, "%s:%u: findings: %s", ep->t.host, ep->t.port, e.msg);
		}
		event_base_loopbreak(run->base);
	} else if (!run->closing) {
		run->cb(obj, run->cb_arg);
	}
	json_decref(obj);
	ep_unlink_free(ep);
}

/* ---- the full handshake (cert) ---- */

static void ssl_error_text(SSL *ssl, int r, char *out, size_t n)
{
	unsigned long e = ERR_get_error();
	int code = SSL_get_error(ssl, r);

	if (e != 0)
		ERR_error_string_n(e, out, n);
	else if (code == SSL_ERROR_SYSCALL && errno != 0)
		snprintf(out, n, "%s", strerror(errno));
	else if (code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN)
		snprintf(out, n, "connection closed by the peer");
	else
		snprintf(out, n, "TLS error %d", code);
	ERR_clear_error();
}

/* OpenSSL NIDs of the classic groups -> IANA code points (RFC 8446 §4.2.7,
 * RFC 7919), so names come from one table (scan_group_name). */
static uint16_t group_id_of_nid(int nid)
{
	static const struct { int nid; uint16_t id; } map[] = {
		{ NID_X9_62_prime256v1, 0x0017 }, { NID_secp384r1, 0x0018 }, { NID_secp521r1, 0x0019 },
		{ NID_X25519, 0x001D }, { NID_X448, 0x001E }, { NID_ffdhe2048, 0x0100 },
		{ NID_ffdhe3072, 0x0101 }, { NID_ffdhe4096, 0x0102 }, { NID_ffdhe6144, 0x0103 },
		{ NID_ffdhe8192, 0x0104 },
	};

	if ((nid & TLSEXT_nid_unknown) != 0)
		return (uint16_t)(nid & 0xFFFF);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].nid == nid)
			return map[i].id;
	return 0;
}

static void capture_group(struct scan__endpoint *ep, SSL *ssl)
{
	int nid = (int)SSL_get_negotiated_group(ssl);
	uint16_t id = group_id_of_nid(nid);
	const char *name = id != 0 ? scan_group_name(id) : NULL;

	if (nid == 0 || nid == NID_undef)
		return;
	if (name == NULL)
		name = SSL_group_to_name(ssl, nid);
	if (name != NULL)
		snprintf(ep->group, sizeof(ep->group), "%s", name);
	else
		snprintf(ep->group, sizeof(ep->group), "0x%04x", id);
}

/* Is cert's issuer in the trust store? */
static bool issuer_trusted(X509_STORE *trust, X509 *cert)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *issuer = NULL;
	bool found = false;

	if (ctx != NULL && X509_STORE_CTX_init(ctx, trust, cert, NULL) == 1)
		found = X509_STORE_CTX_get1_issuer(&issuer, ctx, cert) == 1;
	X509_free(issuer);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return found;
}

/* chain_complete: from the leaf up, every issuer was served or is trusted
 * (a self-issued certificate ends the walk). chain_ordered: each served
 * certificate is issued by the next one (RFC 8446 §4.4.2 lets TLS 1.3
 * servers send extras, but out of order is what breaks old clients). */
static void judge_chain(struct scan__endpoint *ep, STACK_OF(X509) *sk)
{
	int n = sk_X509_num(sk), steps = 0;
	X509 *cur = sk_X509_value(sk, 0);
	struct aclm_err e = { 0 };
	int64_t at, nb, na;

	ep->chain_ordered = true;
	for (int i = 0; i + 1 < n; i++)
		if (X509_check_issued(sk_X509_value(sk, i + 1), sk_X509_value(sk, i)) != X509_V_OK)
			ep->chain_ordered = false;
	ep->chain_complete = false;
	while (cur != NULL && steps++ <= n) {
		X509 *next = NULL;

		if (X509_check_issued(cur, cur) == X509_V_OK) {
			ep->chain_complete = true;
			break;
		}
		for (int i = 0; i < n && next == NULL; i++)
			if (sk_X509_value(sk, i) != cur &&
			    X509_check_issued(sk_X509_value(sk, i), cur) == X509_V_OK)
				next = sk_X509_value(sk, i);
		if (next == NULL) {
			ep->chain_complete = ep->run->trust != NULL && issuer_trusted(ep->run->trust, cur);
			break;
		}
		cur = next;
	}
	/* Trust is judged apart from time (expired / not_yet_valid are their
	 * own findings): verify at a moment inside the leaf's validity. */
	at = aclm_time_now();
	if (crypto_cert_validity(sk_X509_value(sk, 0), &nb, &na) == ACLM_OK)
		at = at < nb ? nb : at >= na ? na - 1 : at; /* X509_cmp_time: equal = past */
	ep->chain_trusted = ep->run->trust != NULL &&
			    crypto_chain_verify(sk_X509_value(sk, 0), sk, ep->run->trust, at, NULL, &e) ==
				    ACLM_OK;
	if (!ep->chain_trusted)
		log_debug("scan %s:%u: chain not trusted: %s", ep->ip, ep->t.port, e.msg);
	ERR_clear_error();
}

/* SHA-256 over the served certificates' DER, in order. */
static bool chain_key(struct scan__run *run, STACK_OF(X509) *sk, unsigned char key[32])
{
	EVP_MD_CTX *ctx = run->sha256 != NULL ? EVP_MD_CTX_new() : NULL;
	unsigned int len = 0;
	bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, run->sha256, NULL) == 1;

	for (int i = 0; ok && i < sk_X509_num(sk) && i < SCAN__CHAIN_MAX; i++) {
		unsigned char *der = NULL;
		int n = i2d_X509(sk_X509_value(sk, i), &der);

		ok = n > 0 && EVP_DigestUpdate(ctx, der, (size_t)n) == 1;
		OPENSSL_free(der);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, key, &len) == 1 && len == 32;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* A chain seen before: its facts and judgement, shared. *slot is where a
 * new one goes (NULL: no caching). */
static bool chain_from_cache(struct scan__endpoint *ep, STACK_OF(X509) *sk,
			     struct scan__chain_slot **slot)
{
	struct scan__run *run = ep->run;
	unsigned char key[32];
	struct scan__chain_slot *s;

	*slot = NULL;
	if (sk == NULL || sk_X509_num(sk) == 0 || !chain_key(run, sk, key))
		return false;
	s = &run->chains[(key[0] | (unsigned)key[1] << 8) % SCAN__CHAIN_CACHE];
	if (s->used && memcmp(s->key, key, sizeof(key)) == 0) {
		ep->chain = json_incref(s->chain);
		ep->chain_der = s->chain_der != NULL ? json_incref(s->chain_der) : NULL;
		ep->chain_complete = s->complete;
		ep->chain_ordered = s->ordered;
		ep->chain_trusted = s->trusted;
		return true;
	}
	memcpy(s->key, key, sizeof(key));
	*slot = s;
	return false;
}

static void chain_to_cache(struct scan__endpoint *ep, struct scan__chain_slot *s)
{
	/* A chain whose facts failed is not kept: the next endpoint tries again. */
	if (s == NULL || ep->error[0] != '\0')
		return;
	json_decref(s->chain);
	s->chain = json_incref(ep->chain);
	json_decref(s->chain_der);
	s->chain_der = ep->chain_der != NULL ? json_incref(ep->chain_der) : NULL;
	s->complete = ep->chain_complete;
	s->ordered = ep->chain_ordered;
	s->trusted = ep->chain_trusted;
	s->used = true;
}

/* The certificate's DER for --save (base64 in the endpoint object). */
static void keep_der(struct scan__endpoint *ep, X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	char *b64 = n > 0 ? aclm_base64_encode(der, (size_t)n) : NULL;

	if (ep->chain_der == NULL)
		ep->chain_der = json_array();
	if (b64 == NULL)
		ep_set_error(ep, "certificate: cannot encode its DER");
	else
		json_array_append_new(ep->chain_der, json_string(b64));
	free(b64);
	OPENSSL_free(der);
}

static void capture_cert(struct scan__endpoint *ep, SSL *ssl)
{
	struct scan__chain_slot *slot = NULL;
	STACK_OF(X509) *sk = SSL_get_peer_cert_chain(ssl);
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	const unsigned char *ocsp = NULL;
	int64_t now = aclm_time_now();

	ep->cert_ok = true;
	switch (SSL_version(ssl)) {
	case TLS1_VERSION: snprintf(ep->version, sizeof(ep->version), "1.0"); break;
	case TLS1_1_VERSION: snprintf(ep->version, sizeof(ep->version), "1.1"); break;
	case TLS1_2_VERSION: snprintf(ep->version, sizeof(ep->version), "1.2"); break;
	case TLS1_3_VERSION: snprintf(ep->version, sizeof(ep->version), "1.3"); break;
	default: break;
	}
	if (c != NULL && SSL_CIPHER_standard_name(c) != NULL)
		snprintf(ep->cipher, sizeof(ep->cipher), "%s", SSL_CIPHER_standard_name(c));
	capture_group(ep, ssl);
	ep->ocsp_stapled = SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp) > 0 && ocsp != NULL;
	if (chain_from_cache(ep, sk, &slot))
		return;
	ep->chain = json_array();
	for (int i = 0; sk != NULL && i < sk_X509_num(sk) && i < SCAN__CHAIN_MAX; i++) {
		struct aclm_err e = { 0 };
		json_t *facts = NULL;
		int64_t nb, na;

		if (crypto_cert_facts(sk_X509_value(sk, i), &facts, &e) != ACLM_OK) {
			ep_set_error(ep, "certificate %d: %s", i, e.msg);
			break;
		}
		/* RFC 5280 §4.1.2.5 validity: days left is the instance fact the
		 * inventory adds too. */
		if (crypto_cert_validity(sk_X509_value(sk, i), &nb, &na) == ACLM_OK)
			aclm_json_set_int(facts, "days_left", aclm_time_days_between(now, na));
		json_array_append_new(ep->chain, facts);
		if (ep->run->o->keep_der)
			keep_der(ep, sk_X509_value(sk, i));
	}
	if (sk != NULL && sk_X509_num(sk) > 0)
		judge_chain(ep, sk);
	chain_to_cache(ep, slot);
	ERR_clear_error();
}

/* The scan's event loop: one thread owns it (no locks, even inside
 * `aclm serve`, where libevent's threading is on), and epoll changes are
 * batched per turn: a connection going from "writable" to "readable", or
 * closed, costs one epoll_ctl or none instead of two. */
static struct event_base *loop_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK | EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* ---- connections ---- */

static void conn_free(struct scan__conn *c)
{
	struct scan__run *run = c->ep->run;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		run->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->rd != NULL)
		event_free(c->rd);
	if (c->wr != NULL)
		event_free(c->wr);
	if (c->timer != NULL)
		event_free(c->timer);
	SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	if (c->reader != NULL)
		scan_reader_free(c->reader);
	scan_starttls_free(c->stls);
	c->ep->inflight--;
	c->ep->ipc->conns--;
	run->inflight--;
	free(c);
}

/* The probe is over (its outcome recorded): free the connection, maybe
 * the endpoint, and start what the freed slot allows. */
static void conn_done(struct scan__conn *c)
{
	struct scan__endpoint *ep = c->ep;
	struct scan__run *run = ep->run;

	conn_free(c);
	ep_maybe_finish(ep);
	pump(run);
}

static void arm_timer(struct scan__conn *c)
{
	struct timeval tv = { c->ep->run->o->timeout_ms / 1000,
			      (c->ep->run->o->timeout_ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

static int open_socket(struct scan__conn *c)
{
	struct scan__endpoint *ep = c->ep;

	c->early_errno = 0;
	c->fd = socket(ep->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (event_assign(c->rd, ep->run->base, c->fd, EV_READ, conn_event, c) != 0 ||
	    event_assign(c->wr, ep->run->base, c->fd, EV_WRITE, conn_event, c) != 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&ep->sa, ep->salen) != 0 && errno != EINPROGRESS)
		c->early_errno = errno;
	c->state = SCAN__CONNECTING;
	arm_timer(c);
	/* Always through the loop, even when connect() already decided, so
	 * that nothing completes inside pump(). */
	if (c->early_errno != 0)
		event_active(c->wr, EV_WRITE, 0);
	else
		event_add(c->wr, NULL);
	return 0;
}

/* A probe's connection failed before any byte of TLS. */
static void conn_connect_failed(struct scan__conn *c, const char *why)
{
	struct scan__endpoint *ep = c->ep;

	if (c->tries++ == 0) { /* one retry of a failed connect */
		event_del(c->rd);
		event_del(c->wr);
		close(c->fd);
		c->fd = -1;
		if (open_socket(c) == 0)
			return;
	}
	if (!ep->reachable) {
		/* The first probe decides: a dead endpoint is not probed further. */
		ep_set_error(ep, "connect: %s", why);
		ep->dead = true;
		ep->npending = 0;
	} else {
		log_debug("scan %s:%u: a probe could not connect: %s", ep->ip, ep->t.port, why);
	}
	conn_done(c);
}

/* One certificate of the TLCP flight as crypto_cert_facts with days_left. */
static json_t *der_facts(struct scan__endpoint *ep, const unsigned char *der, size_t len)
{
	struct aclm_err e = { 0 };
	X509 *x = NULL;
	json_t *facts = NULL;
	int64_t nb, na;

	if (crypto_cert_from_der(der, len, &x, &e) != ACLM_OK ||
	    crypto_cert_facts(x, &facts, &e) != ACLM_OK) {
		ep_set_error(ep, "TLCP certificate: %s", e.msg);
		goto out;
	}
	if (crypto_cert_validity(x, &nb, &na) == ACLM_OK)
		aclm_json_set_int(facts, "days_left", aclm_time_days_between(aclm_time_now(), na));
out:
	X509_free(x);
	ERR_clear_error();
	return facts;
}

/* GB/T 38636 §6.4.5.3: a TLCP server answers ServerHello 0x0101 and a
 * Certificate with the signing certificate, then the encryption one. */
static void record_tlcp(struct scan__endpoint *ep, enum scan_reply_kind kind,
			const struct scan_reply *r)
{
	if (kind != SCAN_REPLY_SERVER_HELLO || r == NULL || r->version != SCAN_TLCP11 ||
	    r->ncerts < 2)
		return;
	ep->tlcp = true;
	ep->tlcp_sign = der_facts(ep, r->certs[0], r->cert_len[0]);
	ep->tlcp_enc = der_facts(ep, r->certs[1], r->cert_len[1]);
}

static void record_raw(struct scan__conn *c, enum scan_reply_kind kind, const struct scan_reply *r)
{
	struct scan__endpoint *ep = c->ep;
	unsigned i = c->spec.idx;
	bool hello = kind == SCAN_REPLY_SERVER_HELLO || kind == SCAN_REPLY_HRR;

	if (c->spec.kind == SCAN__PROBE_VERSION) {
		ep->ver_probed |= 1u << i;
		/* RFC 8446 §4.1.3/§4.1.4: the version is the one selected in
		 * supported_versions; an HRR already commits to TLS 1.3. */
		if (hello && r != NULL &&
		    (r->version == probe_versions[i] || (i == 3 && kind == SCAN_REPLY_HRR)))
			ep->ver_ok |= 1u << i;
		if (i == 3 && (ep->ver_ok & 8u) && (ep->run->o->checks & SCAN_CHECK_PQC)) {
			ep->pqc_ran = true;
			for (unsigned g = 0; g < SCAN__PQC_GROUPS; g++)
				ep_push(ep, SCAN__PROBE_PQC, g);
		}
	} else if (c->spec.kind == SCAN__PROBE_PQC) {
		/* RFC 8446 §4.1.1: an HRR selecting the only offered group =
		 * supported; an alert (handshake_failure) = not. */
		if (kind == SCAN_REPLY_HRR && r != NULL && r->group == scan__pqc_groups[i])
			ep->pqc_ok |= 1u << i;
	} else if (c->spec.kind == SCAN__PROBE_SM2_TLS13) {
		/* RFC 8998 §3, RFC 8446 §4.1.4: an HRR selecting curveSM2, or a
		 * ServerHello choosing an SM suite. */
		ep->rfc8998 = r != NULL &&
			      ((kind == SCAN_REPLY_HRR && r->group == 0x0029) ||
			       (kind == SCAN_REPLY_SERVER_HELLO && r->version == SCAN_TLS13 &&
				(r->suite == 0x00C6 || r->suite == 0x00C7)));
	} else if (c->spec.kind == SCAN__PROBE_TLCP) {
		record_tlcp(ep, kind, r);
	}
}

static void conn_finish_raw(struct scan__conn *c, enum scan_reply_kind kind,
			    const struct scan_reply *r)
{
	record_raw(c, kind, r);
	conn_done(c);
}

static void conn_handshake(struct scan__conn *c)
{
	struct scan__endpoint *ep = c->ep;
	char why[200];
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_connect(c->ssl);
	if (r == 1) {
		capture_cert(ep, c->ssl);
		conn_done(c);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		event_add(c->rd, NULL);
		return;
	case SSL_ERROR_WANT_WRITE:
		event_add(c->wr, NULL);
		return;
	default:
		ssl_error_text(c->ssl, r, why, sizeof(why));
		ep_set_error(ep, "handshake: %s", why);
		conn_done(c);
	}
}

/* The SM2 probes' hellos (RFC 8998 over TLS 1.3 with an empty key_share;
 * TLCP 1.1 in record and hello, no TLS 1.3 extensions). */
static void sm2_hello(enum scan__probe_kind kind, struct scan_hello_opts *h)
{
	static const uint16_t v13[] = { SCAN_TLS13 };

	if (kind == SCAN__PROBE_SM2_TLS13) {
		h->legacy_version = SCAN_TLS12; /* RFC 8446 §4.1.2 */
		h->versions = v13;
		h->nversions = 1;
		h->suites = suites_sm13;
		h->nsuites = sizeof(suites_sm13) / 2;
		h->groups = groups_sm2;
		h->ngroups = 1;
		h->key_share_empty = true;
		h->sigalgs = sigalgs_sm2;
		h->nsigalgs = 1;
	} else {
		h->record_version = SCAN_TLCP11;
		h->legacy_version = SCAN_TLCP11;
		h->suites = suites_tlcp;
		h->nsuites = sizeof(suites_tlcp) / 2;
		h->sigalgs = NULL;
		h->nsigalgs = 0;
	}
}

/* The TLS step of the probe. May finish (and free) c before returning. */
static aclm_status conn_begin_tls(struct scan__conn *c, struct aclm_err *err)
{
	struct scan__endpoint *ep = c->ep;
	struct scan_hello_opts h = { 0 };
	const char *sni = ep->t.sni[0] != '\0' ? ep->t.sni : NULL;

	if (c->spec.kind == SCAN__PROBE_CERT) {
		c->ssl = SSL_new(ep->run->ssl_ctx);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
		    (sni != NULL && SSL_set_tlsext_host_name(c->ssl, sni) != 1) ||
		    SSL_set_tlsext_status_type(c->ssl, TLSEXT_STATUSTYPE_ocsp) != 1)
			return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "SSL setup");
		c->state = SCAN__HANDSHAKE;
		conn_handshake(c);
		return ACLM_OK;
	}
	h.record_version = SCAN_TLS10;
	h.sni = sni;
	if (c->spec.kind == SCAN__PROBE_SM2_TLS13 || c->spec.kind == SCAN__PROBE_TLCP) {
		sm2_hello(c->spec.kind, &h);
		goto build;
	}
	h.sigalgs = sigalgs;
	h.nsigalgs = sizeof(sigalgs) / sizeof(sigalgs[0]);
	if (c->spec.kind == SCAN__PROBE_VERSION && c->spec.idx < 3) {
		h.legacy_version = probe_versions[c->spec.idx];
		h.suites = c->spec.idx == 2 ? suites_12 : suites_old;
		h.nsuites = c->spec.idx == 2 ? sizeof(suites_12) / 2 : sizeof(suites_old) / 2;
		h.groups = groups_classic;
		h.ngroups = sizeof(groups_classic) / 2;
		if (c->spec.idx < 2) /* signature_algorithms is TLS 1.2's (RFC 5246 §7.4.1.4.1) */
			h.sigalgs = NULL, h.nsigalgs = 0;
	} else {
		static const uint16_t v13[] = { SCAN_TLS13 };

		h.legacy_version = SCAN_TLS12; /* RFC 8446 §4.1.2 */
		h.versions = v13;
		h.nversions = 1;
		h.suites = suites_13;
		h.nsuites = sizeof(suites_13) / 2;
		h.key_share_empty = true;
		if (c->spec.kind == SCAN__PROBE_PQC) {
			h.groups = &scan__pqc_groups[c->spec.idx];
			h.ngroups = 1;
		} else {
			h.groups = groups_13;
			h.ngroups = sizeof(groups_13) / 2;
		}
	}
build:
	if (scan_hello_build(&h, &c->out, &c->outlen, err) != ACLM_OK)
		return err->code;
	c->reader = scan_reader_new(c->spec.kind == SCAN__PROBE_TLCP);
	if (c->reader == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	c->state = SCAN__SENDING;
	event_add(c->wr, NULL);
	return ACLM_OK;
}

static void conn_send(struct scan__conn *c)
{
	ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		event_add(c->wr, NULL);
		return;
	}
	if (n < 0) {
		conn_finish_raw(c, SCAN_REPLY_GARBAGE, NULL);
		return;
	}
	c->outoff += (size_t)n;
	if (c->outoff < c->outlen) {
		event_add(c->wr, NULL);
		return;
	}
	c->state = SCAN__READING;
	event_add(c->rd, NULL);
}

static void conn_read(struct scan__conn *c)
{
	unsigned char buf[READ_CHUNK];
	const struct scan_reply *r = NULL;
	enum scan_reply_kind kind;
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		event_add(c->rd, NULL);
		return;
	}
	if (n <= 0) { /* closed or reset without a reply: not accepted */
		conn_finish_raw(c, SCAN_REPLY_GARBAGE, NULL);
		return;
	}
	kind = scan_reader_feed(c->reader, buf, (size_t)n, &r);
	if (kind == SCAN_REPLY_NEED_MORE) {
		event_add(c->rd, NULL);
		return;
	}
	conn_finish_raw(c, kind, r);
}

/* ---- the STARTTLS preamble (scan_starttls.c decides, this does I/O) ---- */

/* Every probe of the endpoint would meet the same server: stop them. */
static void preamble_failed(struct scan__conn *c, const char *why)
{
	struct scan__endpoint *ep = c->ep;

	ep_set_error(ep, "%s", why);
	ep->starttls_failed = true;
	if (c->stls != NULL && scan_starttls_not_offered(c->stls))
		ep->starttls_missing = true;
	ep->npending = 0;
	conn_done(c);
}

static void conn_tls_step(struct scan__conn *c)
{
	struct aclm_err e = { 0 };

	evtimer_del(c->timer);
	arm_timer(c); /* a new step: the TLS exchange */
	if (conn_begin_tls(c, &e) != ACLM_OK) {
		ep_set_error(c->ep, "probe setup: %s", e.msg);
		conn_done(c);
	}
}

static void preamble_next(struct scan__conn *c, enum scan_starttls_result r)
{
	switch (r) {
	case SCAN_STARTTLS_SEND:
		c->stls_off = 0;
		c->state = SCAN__PRE_SENDING;
		event_add(c->wr, NULL);
		break;
	case SCAN_STARTTLS_NEED_MORE:
		c->state = SCAN__PRE_READING;
		event_add(c->rd, NULL);
		break;
	case SCAN_STARTTLS_DONE:
		scan_starttls_free(c->stls);
		c->stls = NULL;
		conn_tls_step(c);
		break;
	case SCAN_STARTTLS_FAIL:
		preamble_failed(c, scan_starttls_error(c->stls));
		break;
	}
}

static void conn_pre_send(struct scan__conn *c)
{
	size_t len = 0;
	const unsigned char *out = scan_starttls_output(c->stls, &len);
	ssize_t n = write(c->fd, out + c->stls_off, len - c->stls_off);
	char why[160];

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		event_add(c->wr, NULL);
		return;
	}
	if (n < 0) {
		snprintf(why, sizeof(why), "%s: %s", scan_starttls_name(c->ep->proto), strerror(errno));
		preamble_failed(c, why);
		return;
	}
	c->stls_off += (size_t)n;
	if (c->stls_off < len) {
		event_add(c->wr, NULL);
		return;
	}
	evtimer_del(c->timer);
	arm_timer(c); /* each reply has its own timeout */
	c->state = SCAN__PRE_READING;
	event_add(c->rd, NULL);
}

static void conn_pre_read(struct scan__conn *c)
{
	unsigned char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	char why[160];

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		event_add(c->rd, NULL);
		return;
	}
	if (n <= 0) {
		snprintf(why, sizeof(why), "%s: connection %s during STARTTLS",
			 scan_starttls_name(c->ep->proto), n == 0 ? "closed" : strerror(errno));
		preamble_failed(c, why);
		return;
	}
	preamble_next(c, scan_starttls_feed(c->stls, buf, (size_t)n));
}

/* XMPP addresses its stream header to the server's domain: the SNI, or
 * the target as given. */
static void conn_begin_preamble(struct scan__conn *c)
{
	struct scan__endpoint *ep = c->ep;

	c->stls = scan_starttls_new(ep->proto);
	if (c->stls == NULL) {
		preamble_failed(c, "out of memory");
		return;
	}
	preamble_next(c, scan_starttls_start(c->stls, ep->t.sni[0] != '\0' ? ep->t.sni : ep->t.host));
}

static void conn_connected(struct scan__conn *c)
{
	struct scan__endpoint *ep = c->ep;
	struct scan__run *run = ep->run;
	struct aclm_err e = { 0 };
	int soerr = c->early_errno;
	socklen_t len = sizeof(soerr);

	if (soerr == 0 && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		soerr = errno;
	if (soerr != 0) {
		conn_connect_failed(c, strerror(soerr));
		return;
	}
	ep->reachable = true;
	evtimer_del(c->timer);
	arm_timer(c); /* a new step: the preamble or the TLS exchange */
	if (ep->proto != SCAN_STARTTLS_NONE)
		conn_begin_preamble(c);
	else if (conn_begin_tls(c, &e) != ACLM_OK) {
		ep_set_error(ep, "probe setup: %s", e.msg);
		conn_done(c);
		return;
	}
	/* The endpoint answered: its other probes may start now (c and ep
	 * may be gone already). */
	pump(run);
}

static void conn_event(evutil_socket_t fd, short what, void *arg)
{
	struct scan__conn *c = arg;

	(void)fd;
	switch (c->state) {
	case SCAN__CONNECTING:
		conn_connected(c);
		break;
	case SCAN__PRE_SENDING:
		conn_pre_send(c);
		break;
	case SCAN__PRE_READING:
		conn_pre_read(c);
		break;
	case SCAN__HANDSHAKE:
		conn_handshake(c);
		break;
	case SCAN__SENDING:
		conn_send(c);
		break;
	case SCAN__READING:
		conn_read(c);
		break;
	}
}

static void conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct scan__conn *c = arg;
	struct scan__endpoint *ep = c->ep;
	char why[96];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "timed out after %u ms", ep->run->o->timeout_ms);
	if (c->state == SCAN__CONNECTING) {
		conn_connect_failed(c, why);
		return;
	}
	if (c->state == SCAN__PRE_SENDING || c->state == SCAN__PRE_READING) {
		char msg[160];

		snprintf(msg, sizeof(msg), "%s: STARTTLS %s", scan_starttls_name(ep->proto), why);
		preamble_failed(c, msg);
		return;
	}
	if (c->spec.kind == SCAN__PROBE_CERT) {
		ep_set_error(ep, "handshake: %s", why);
		conn_done(c);
		return;
	}
	conn_finish_raw(c, SCAN_REPLY_GARBAGE, NULL);
}

/* Starts the endpoint's next pending probe. */
static void conn_start(struct scan__endpoint *ep)
{
	struct scan__run *run = ep->run;
	struct scan__conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		ep_set_error(ep, "out of memory");
		ep->npending = 0;
		return;
	}
	c->ep = ep;
	c->fd = -1;
	c->spec = ep->pending[0];
	memmove(ep->pending, ep->pending + 1, --ep->npending * sizeof(ep->pending[0]));
	ep->inflight++;
	ep->ipc->conns++;
	run->inflight++;
	c->next = run->conns;
	if (run->conns != NULL)
		run->conns->prev = c;
	run->conns = c;
	c->rd = event_new(run->base, -1, 0, conn_event, c);
	c->wr = event_new(run->base, -1, 0, conn_event, c);
	c->timer = evtimer_new(run->base, conn_timeout, c);
	if (c->rd == NULL || c->wr == NULL || c->timer == NULL || open_socket(c) != 0) {
		ep_set_error(ep, "socket: %s", strerror(errno));
		ep->npending = 0;
		conn_free(c);
	}
}

/* ---- targets and names ---- */

static void resolve_free(struct scan__resolve *rs)
{
	struct scan__run *run = rs->run;

	if (rs->prev != NULL)
		rs->prev->next = rs->next;
	else
		run->resolving = rs->next;
	if (rs->next != NULL)
		rs->next->prev = rs->prev;
	run->nresolving--;
	free(rs);
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct scan__resolve *rs = arg;
	struct scan__run *run = rs->run;
	struct scan__endpoint *ep;
	struct sockaddr_storage seen[SCAN__ADDRS_MAX];
	size_t nseen = 0;

	if (result == EVUTIL_EAI_CANCEL || run->closing) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		resolve_free(rs);
		return;
	}
	if (result != 0 || res == NULL) {
		ep = ep_new(run, &rs->t, NULL, 0);
		if (ep != NULL)
			ep_set_error(ep, "resolve %s: %s", rs->t.host,
				     result != 0 ? evutil_gai_strerror(result) : "no address");
	}
	for (struct evutil_addrinfo *ai = res; ai != NULL && nseen < SCAN__ADDRS_MAX; ai = ai->ai_next) {
		bool dup = false;

		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		for (size_t i = 0; i < nseen && !dup; i++)
			dup = memcmp(&seen[i], ai->ai_addr, ai->ai_addrlen) == 0;
		if (dup)
			continue;
		memset(&seen[nseen], 0, sizeof(seen[nseen]));
		memcpy(&seen[nseen++], ai->ai_addr, ai->ai_addrlen);
		ep_new(run, &rs->t, ai->ai_addr, (socklen_t)ai->ai_addrlen);
	}
	if (res != NULL) /* evutil_freeaddrinfo(NULL) crashes */
		evutil_freeaddrinfo(res);
	resolve_free(rs);
	pump(run);
}

static void target_start(struct scan__run *run, const struct scan_target *t)
{
	struct evutil_addrinfo hints = { 0 };
	struct scan__resolve *rs;

	if (t->is_ip) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len;

		if (t->family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, t->ip, 4);
			len = sizeof(*s4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, t->ip, 16);
			len = sizeof(*s6);
		}
		ep_new(run, t, (struct sockaddr *)&ss, len);
		return;
	}
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL)
		return;
	rs->run = run;
	rs->t = *t;
	rs->next = run->resolving;
	if (run->resolving != NULL)
		run->resolving->prev = rs;
	run->resolving = rs;
	run->nresolving++;
	hints.ai_family = AF_UNSPEC; /* A and AAAA */
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	/* May call on_resolved before returning (hosts file, literals): pump()
	 * guards against that re-entry. */
	evdns_getaddrinfo(run->dns, t->host, NULL, &hints, on_resolved, rs);
}

/* ---- --rate ---- */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void rate_due(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

/* One token per new connection. The bucket holds a twentieth of a second
 * of tokens (at least one), so the rate holds over any 50 ms and a burst
 * never exceeds it by much. When empty, a timer pumps again as the next
 * token is due. */
static bool rate_take(struct scan__run *run)
{
	unsigned rate = run->o->rate;
	double cap = rate >= 20 ? rate / 20.0 : 1.0;
	int64_t now;

	if (rate == 0)
		return true;
	now = mono_ns();
	run->tokens += (double)(now - run->tokens_at_ns) * rate / 1e9;
	if (run->tokens > cap)
		run->tokens = cap;
	run->tokens_at_ns = now;
	if (run->tokens >= 1.0) {
		run->tokens -= 1.0;
		return true;
	}
	if (run->rate_timer != NULL && !evtimer_pending(run->rate_timer, NULL)) {
		int64_t wait_us = (int64_t)((1.0 - run->tokens) * 1e6 / rate) + 1;
		struct timeval tv = { (time_t)(wait_us / 1000000), (suseconds_t)(wait_us % 1000000) };

		evtimer_add(run->rate_timer, &tv);
	}
	return false;
}

/* Starts what the limits allow: pending probes of active endpoints first
 * (finishing endpoints frees memory), then new targets from the iterator,
 * so that at most `concurrency` endpoints are held however many targets. */
static void pump(struct scan__run *run)
{
	const struct scan_run_opts *o = run->o;

	if (run->pumping) {
		run->repump = true;
		return;
	}
	run->pumping = true;
	do {
		struct scan__endpoint *ep, *next;

		run->repump = false;
		for (ep = run->pump_head; ep != NULL && !run->closing; ep = next) {
			next = ep->pump_next;
			while (ep->npending > 0 && run->inflight < o->concurrency &&
			       ep->ipc->conns < o->per_ip && (ep->reachable || ep->inflight == 0) &&
			       rate_take(run))
				conn_start(ep);
			if (ep->npending == 0)
				ep_unwant_pump(ep); /* finished below or by conn_done */
			ep_maybe_finish(ep);
		}
		while (!run->targets_done && !run->closing && run->inflight < o->concurrency &&
		       run->neps + run->nresolving < o->concurrency) {
			struct scan_target t;
			struct aclm_err e = { 0 };
			aclm_status st = scan_targets_next(run->targets, &t, &e);

			if (st == ACLM_ERR_NOTFOUND) {
				run->targets_done = true;
			} else if (st != ACLM_OK) {
				run->st = st;
				aclm_err_set(run->err, st, "%s", e.msg);
				run->closing = true;
			} else {
				target_start(run, &t);
				run->repump = true;
			}
		}
	} while (run->repump && !run->closing);
	run->pumping = false;
	if (run->closing || (run->targets_done && run->neps == 0 && run->nresolving == 0))
		event_base_loopbreak(run->base);
}

/* ---- setup ---- */

/* OpenSSL's own chain verification would run on every handshake (an
 * X509_STORE_CTX and a chain build against an empty store) only for its
 * verdict to be ignored under SSL_VERIFY_NONE: judge_chain judges each
 * distinct chain once, against the real trust store. */
static int skip_openssl_verify(X509_STORE_CTX *ctx, void *arg)
{
	(void)ctx;
	(void)arg;
	return 1;
}

static aclm_status ssl_ctx_new(SSL_CTX **out, struct aclm_err *err)
{
	/* Its certificates decode in the lean context (crypto/lean.c). */
	OSSL_LIB_CTX *lean = crypto_lean_libctx(err);
	SSL_CTX *ctx;

	if (lean == NULL)
		return err->code;
	ctx = SSL_CTX_new_ex(lean, NULL, TLS_client_method());

	/* See what is served, not what OpenSSL's defaults accept: level 0,
	 * TLS 1.0 and up, every cipher; verification is aclm's, afterwards.
	 * PSK and SRP suites are never offered without their callbacks; left
	 * in, every handshake filters their ~55 entries out again. */
	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, 0) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "ALL:!PSK:!SRP:@SECLEVEL=0") != 1) {
		SSL_CTX_free(ctx);
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "scan: TLS client setup");
	}
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, skip_openssl_verify, NULL);
	/* Whole reads instead of a 5-byte header then a body per record: the
	 * server's flight arrives in one or two reads, not a dozen (the
	 * connection ends with the handshake, nothing read ahead is lost). */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_LEGACY_SERVER_CONNECT);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	*out = ctx;
	return ACLM_OK;
}

static aclm_status dns_new(struct scan__run *run, struct aclm_err *err)
{
	char secs[32];

	if (run->o->dns_server != NULL) {
		run->dns = evdns_base_new(run->base, 0);
		if (run->dns != NULL && evdns_base_nameserver_ip_add(run->dns, run->o->dns_server) != 0)
			return aclm_err_set(err, ACLM_ERR_INVALID,
					    "--dns-server %s: expected HOST:PORT with an IP address",
					    run->o->dns_server);
	} else {
		run->dns = evdns_base_new(run->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	}
	if (run->dns == NULL)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "scan: cannot set up the DNS resolver");
	snprintf(secs, sizeof(secs), "%u.%03u", run->o->timeout_ms / 1000, run->o->timeout_ms % 1000);
	evdns_base_set_option(run->dns, "timeout:", secs);
	evdns_base_set_option(run->dns, "attempts:", "2");
	return ACLM_OK;
}

/* Enough descriptors for the connections in flight (soft limit up to the
 * hard one). */
static void raise_fd_limit(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)want + 64)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)want + 64 ? (rlim_t)want + 64
										     : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* libevent's own messages (evdns: "nameserver has failed") are debug
 * detail here: the endpoint's error says what went wrong. */
static void libevent_log(int severity, const char *msg)
{
	(void)severity;
	log_debug("libevent: %s", msg);
}

static void run_cleanup(struct scan__run *run)
{
	run->closing = true;
	while (run->conns != NULL)
		conn_free(run->conns);
	if (run->dns != NULL)
		evdns_base_free(run->dns, 1); /* cancels lookups: on_resolved frees them */
	while (run->resolving != NULL)
		resolve_free(run->resolving);
	while (run->eps != NULL)
		ep_unlink_free(run->eps);
	if (run->rate_timer != NULL)
		event_free(run->rate_timer);
	if (run->base != NULL)
		event_base_free(run->base);
	SSL_CTX_free(run->ssl_ctx);
	X509_STORE_free(run->trust);
	for (size_t i = 0; i < SCAN__CHAIN_CACHE; i++) {
		json_decref(run->chains[i].chain);
		json_decref(run->chains[i].chain_der);
	}
	EVP_MD_free(run->sha256);
}

aclm_status scan_run(const struct scan_run_opts *o, struct scan_targets *t, scan_result_cb cb,
		     void *arg, struct aclm_err *err)
{
	struct scan__run run = { .o = o, .targets = t, .cb = cb, .cb_arg = arg, .err = err };
	aclm_status st;

	if (o->concurrency == 0 || o->per_ip == 0 || o->timeout_ms == 0 || o->checks == 0) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "scan: concurrency, per-IP cap, timeout and "
				  "checks must be positive");
		goto out;
	}
	if ((st = crypto_init(err)) != ACLM_OK)
		goto out;
	if (o->checks & SCAN_CHECK_CERT) {
		const char *bundle = o->ca_bundle != NULL ? o->ca_bundle : DEFAULT_CA_BUNDLE;

		if ((st = scan__trust_load(bundle, &run.trust, err)) != ACLM_OK) {
			aclm_err_prefix(err, "--ca-bundle %s", bundle);
			goto out;
		}
		if ((st = ssl_ctx_new(&run.ssl_ctx, err)) != ACLM_OK)
			goto out;
		run.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); /* NULL: chains not cached */
	}
	raise_fd_limit(o->concurrency);
	event_set_log_callback(libevent_log);
	run.base = loop_new();
	if (run.base == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "scan: cannot create the event loop");
		goto out;
	}
	if ((st = dns_new(&run, err)) != ACLM_OK)
		goto out;
	if (o->rate > 0) {
		run.rate_timer = evtimer_new(run.base, rate_due, &run);
		if (run.rate_timer == NULL) {
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "scan: cannot create the rate timer");
			goto out;
		}
		run.tokens = 1.0; /* the first connection goes at once */
		run.tokens_at_ns = mono_ns();
	}
	pump(&run);
	if (!run.closing && !(run.targets_done && run.neps == 0 && run.nresolving == 0))
		event_base_dispatch(run.base);
	st = run.st;
out:
	run_cleanup(&run);
	return st;
}
