/* dns-rfc2136: answers dns-01 (RFC 8555 §8.4) with RFC 2136 dynamic updates
 * signed with TSIG (RFC 8945) and sent to one authoritative server; owns the
 * strict parser of BIND key files. The propagation wait is dns_check.c's. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <ldns/ldns.h>
#include <openssl/crypto.h>

#include "acme/acme.h"
#include "core/encode.h"
#include "core/log.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define R2136_WHO "dns-rfc2136"
#define R2136_TTL 60
#define R2136_FUDGE 300              /* RFC 8945 §5.2.3: the usual 5 minutes */
#define R2136_NET_TIMEOUT_S 10       /* per DNS exchange */
#define R2136_CHECK_TIMEOUT_S 60
#define R2136_CNAME_MAX 8            /* chain length before we call it a loop */
#define R2136_KEYFILE_MAX 65536
#define R2136_TOKEN_MAX 512

/* RFC 8945 §6 TSIG error codes, in the TSIG RR of the answer. */
#define TSIG_BADSIG 16
#define TSIG_BADKEY 17
#define TSIG_BADTIME 18

struct r2136_state {
	struct sockaddr_storage server;
	socklen_t server_len;
	char server_str[80];       /* as configured: messages, default resolver */
	struct solver__tsig_key key;
	char alg_dname[32];        /* "hmac-sha256." as ldns wants it */
	char *resolver;            /* NULL: no check, or the system resolver when authoritative */
	bool check, authoritative; /* check at resolver, or at the zone's NS set */
	long check_timeout_s;
};

/* ---- the BIND key file: key "NAME" { algorithm ALG; secret "B64"; }; ---- */

enum tsig_tok { TOK_EOF, TOK_WORD, TOK_STRING, TOK_PUNCT };

struct tsig_lex {
	const char *file, *p, *end;
	unsigned line, tok_line;
	enum tsig_tok kind;
	char tok[R2136_TOKEN_MAX];
};

static aclm_status tsig_err(const struct tsig_lex *lx, struct aclm_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static aclm_status tsig_err(const struct tsig_lex *lx, struct aclm_err *err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return aclm_err_set(err, ACLM_ERR_PARSE, "%.200s:%u: %s", lx->file, lx->tok_line, msg);
}

/* Skips blanks and the three comment styles of named.conf (#, //, C). */
static aclm_status tsig_skip(struct tsig_lex *lx, struct aclm_err *err)
{
	while (lx->p < lx->end) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->p++;
		} else if (isspace((unsigned char)*lx->p)) {
			lx->p++;
		} else if (*lx->p == '#' || (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			lx->tok_line = lx->line;
			for (lx->p += 2; lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/');
			     lx->p++)
				lx->line += *lx->p == '\n';
			if (lx->p + 1 >= lx->end)
				return tsig_err(lx, err, "unterminated /* comment");
			lx->p += 2;
		} else {
			break;
		}
	}
	return ACLM_OK;
}

static aclm_status tsig_next(struct tsig_lex *lx, struct aclm_err *err)
{
	size_t n = 0;
	aclm_status st = tsig_skip(lx, err);

	if (st != ACLM_OK)
		return st;
	lx->tok[0] = '\0';
	if (lx->p >= lx->end) {
		lx->kind = TOK_EOF; /* keeps tok_line: errors point at the last token */
		return ACLM_OK;
	}
	lx->tok_line = lx->line;
	if (strchr("{};", *lx->p) != NULL) {
		lx->kind = TOK_PUNCT;
		lx->tok[0] = *lx->p++;
		lx->tok[1] = '\0';
		return ACLM_OK;
	}
	if (*lx->p == '"') {
		lx->kind = TOK_STRING;
		for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
			if (*lx->p == '\n' || *lx->p == '\\' || *lx->p == '\0')
				return tsig_err(lx, err, "unterminated or escaped string");
			if (n + 1 >= sizeof(lx->tok))
				return tsig_err(lx, err, "string longer than %d characters", R2136_TOKEN_MAX - 1);
			lx->tok[n++] = *lx->p;
		}
		if (lx->p >= lx->end)
			return tsig_err(lx, err, "unterminated string");
		lx->p++;
		lx->tok[n] = '\0';
		return ACLM_OK;
	}
	lx->kind = TOK_WORD;
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) && strchr("{};\"#", *lx->p) == NULL) {
		if (!isprint((unsigned char)*lx->p))
			return tsig_err(lx, err, "unexpected byte in a word");
		if (n + 1 >= sizeof(lx->tok))
			return tsig_err(lx, err, "word longer than %d characters", R2136_TOKEN_MAX - 1);
		lx->tok[n++] = *lx->p++;
	}
	lx->tok[n] = '\0';
	return ACLM_OK;
}

static aclm_status tsig_expect(struct tsig_lex *lx, const char *punct, struct aclm_err *err)
{
	aclm_status st = tsig_next(lx, err);

	if (st == ACLM_OK && (lx->kind != TOK_PUNCT || strcmp(lx->tok, punct) != 0))
		st = tsig_err(lx, err, "expected \"%s\"%s", punct,
			      lx->kind == TOK_EOF ? " at the end of the file" : "");
	return st;
}

static bool tsig_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= SOLVER__DNS_NAME_MAX + 1 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == n &&
	       strstr(s, "..") == NULL && s[0] != '.';
}

/* RFC 4648 §4 alphabet with padding only at the end; decodes to >= 1 byte. */
static bool tsig_secret_ok(const char *s)
{
	unsigned char out[R2136_TOKEN_MAX];
	size_t n = strlen(s), body = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					       "0123456789+/");

	if (n == 0 || n % 4 != 0 || strspn(s + body, "=") != n - body || n - body > 2)
		return false;
	return aclm_base64_decode(s, out, sizeof(out)) > 0;
}

static const char *const tsig_algorithms[] = { "hmac-sha256", "hmac-sha384", "hmac-sha512" };

/* One statement inside the braces: "algorithm ALG;" or "secret "B64";". */
static aclm_status tsig_statement(struct tsig_lex *lx, struct solver__tsig_key *key,
				  struct aclm_err *err)
{
	bool alg = strcmp(lx->tok, "algorithm") == 0;
	size_t i;
	aclm_status st;

	if (lx->kind != TOK_WORD || (!alg && strcmp(lx->tok, "secret") != 0))
		return tsig_err(lx, err, "expected algorithm, secret or \"}\", got \"%.64s\"", lx->tok);
	if (alg ? key->algorithm[0] != '\0' : key->secret[0] != '\0')
		return tsig_err(lx, err, "%s given twice", alg ? "algorithm" : "secret");
	if ((st = tsig_next(lx, err)) != ACLM_OK)
		return st;
	if (alg) {
		for (i = 0; i < sizeof(tsig_algorithms) / sizeof(tsig_algorithms[0]); i++)
			if (lx->kind != TOK_PUNCT && strcasecmp(lx->tok, tsig_algorithms[i]) == 0)
				break;
		if (i == sizeof(tsig_algorithms) / sizeof(tsig_algorithms[0]))
			return tsig_err(lx, err, "algorithm \"%.64s\": expected hmac-sha256, hmac-sha384 "
					"or hmac-sha512", lx->tok);
		snprintf(key->algorithm, sizeof(key->algorithm), "%s", tsig_algorithms[i]);
	} else {
		if (lx->kind != TOK_STRING || !tsig_secret_ok(lx->tok))
			return tsig_err(lx, err, "secret: expected a quoted base64 string");
		snprintf(key->secret, sizeof(key->secret), "%.511s", lx->tok);
	}
	return tsig_expect(lx, ";", err);
}

aclm_status solver__tsig_parse(const char *file, const char *text, size_t len,
			       struct solver__tsig_key *key, struct aclm_err *err)
{
	struct tsig_lex lx = { .file = file, .p = text, .end = text + len, .line = 1, .tok_line = 1 };
	aclm_status st;

	memset(key, 0, sizeof(*key));
	if (memchr(text, '\0', len) != NULL)
		return aclm_err_set(err, ACLM_ERR_PARSE, "%.200s: a key file holds no NUL bytes", file);
	if ((st = tsig_next(&lx, err)) != ACLM_OK)
		goto out;
	if (lx.kind != TOK_WORD || strcmp(lx.tok, "key") != 0) {
		st = tsig_err(&lx, err, "expected key \"NAME\" { ... };");
		goto out;
	}
	if ((st = tsig_next(&lx, err)) != ACLM_OK)
		goto out;
	if ((lx.kind != TOK_STRING && lx.kind != TOK_WORD) || !tsig_name_ok(lx.tok)) {
		st = tsig_err(&lx, err, "key name \"%.64s\" is not a DNS name", lx.tok);
		goto out;
	}
	snprintf(key->name, sizeof(key->name), "%.255s", lx.tok);
	if ((st = tsig_expect(&lx, "{", err)) != ACLM_OK)
		goto out;
	for (;;) {
		if ((st = tsig_next(&lx, err)) != ACLM_OK)
			goto out;
		if (lx.kind == TOK_PUNCT && strcmp(lx.tok, "}") == 0)
			break;
		if (lx.kind == TOK_EOF) {
			st = tsig_err(&lx, err, "missing \"}\" before the end of the file");
			goto out;
		}
		if ((st = tsig_statement(&lx, key, err)) != ACLM_OK)
			goto out;
	}
	if (key->algorithm[0] == '\0' || key->secret[0] == '\0') {
		st = tsig_err(&lx, err, "key has no %s", key->algorithm[0] == '\0' ? "algorithm" : "secret");
		goto out;
	}
	if ((st = tsig_expect(&lx, ";", err)) != ACLM_OK || (st = tsig_next(&lx, err)) != ACLM_OK)
		goto out;
	if (lx.kind != TOK_EOF)
		st = tsig_err(&lx, err, "one key per file: unexpected \"%.64s\"", lx.tok);
out:
	if (st != ACLM_OK)
		OPENSSL_cleanse(key, sizeof(*key));
	return st;
}

aclm_status solver__tsig_load(const char *file, struct solver__tsig_key *key, struct aclm_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = fopen(file, "r");
	aclm_status st = ACLM_OK;

	if (fp == NULL) {
		st = aclm_err_set(err, ACLM_ERR_IO, "tsig file %.200s: %s", file, strerror(errno));
		goto out;
	}
	text = malloc(R2136_KEYFILE_MAX + 1);
	if (text == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "tsig file %.200s: out of memory", file);
		goto out;
	}
	len = fread(text, 1, R2136_KEYFILE_MAX + 1, fp);
	if (ferror(fp))
		st = aclm_err_set(err, ACLM_ERR_IO, "tsig file %.200s: read error", file);
	else if (len > R2136_KEYFILE_MAX)
		st = aclm_err_set(err, ACLM_ERR_TOOBIG, "tsig file %.200s: larger than %d bytes", file,
				  R2136_KEYFILE_MAX);
	else
		st = solver__tsig_parse(file, text, len, key, err);
out:
	if (text != NULL) {
		OPENSSL_cleanse(text, R2136_KEYFILE_MAX + 1);
		free(text);
	}
	if (fp != NULL)
		fclose(fp);
	return st;
}

/* ---- names ---- */

static const char *r2136_rcode_name(unsigned rcode)
{
	ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, (int)rcode);

	return t != NULL ? t->name : "unknown rcode";
}

/* ---- one DNS exchange over TCP ---- */

/* Sends q (signed with the key when sign) and returns the parsed answer;
 * a signed exchange's answer must carry a TSIG that verifies, unless its
 * rcode already says what went wrong. */
static aclm_status r2136_exchange(const struct r2136_state *s, ldns_pkt *q, bool sign,
				  ldns_pkt **answer, struct aclm_err *err)
{
	ldns_buffer *qb = ldns_buffer_new(LDNS_MAX_PACKETLEN);
	uint8_t *wire = NULL;
	size_t wlen = 0;
	struct timeval tv = { .tv_sec = R2136_NET_TIMEOUT_S };
	ldns_rdf *mac;
	ldns_status ls;
	aclm_status st = ACLM_OK;

	*answer = NULL;
	if (qb == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, R2136_WHO ": out of memory");
		goto out;
	}
	ldns_pkt_set_random_id(q);
	if (sign && (ls = ldns_pkt_tsig_sign(q, s->key.name, s->key.secret, R2136_FUDGE,
					     s->alg_dname, NULL)) != LDNS_STATUS_OK) {
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, R2136_WHO ": TSIG signing with key %s: %s",
				  s->key.name, ldns_get_errorstr_by_id(ls));
		goto out;
	}
	if ((ls = ldns_pkt2buffer_wire(qb, q)) != LDNS_STATUS_OK) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, R2136_WHO ": encoding a query: %s",
				  ldns_get_errorstr_by_id(ls));
		goto out;
	}
	ls = ldns_tcp_send(&wire, qb, &s->server, s->server_len, tv, &wlen);
	if (ls != LDNS_STATUS_OK || wire == NULL) {
		st = aclm_err_set(err, ACLM_ERR_IO, R2136_WHO ": %s: no answer over TCP (%s)",
				  s->server_str, ldns_get_errorstr_by_id(ls));
		goto out;
	}
	if ((ls = ldns_wire2pkt(answer, wire, wlen)) != LDNS_STATUS_OK) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, R2136_WHO ": %s: malformed answer: %s",
				  s->server_str, ldns_get_errorstr_by_id(ls));
		goto out;
	}
	if (ldns_pkt_id(*answer) != ldns_pkt_id(q)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, R2136_WHO ": %s: answer to another query",
				  s->server_str);
		goto out;
	}
	/* RFC 8945 §5.3: errors may come unsigned; a success must be signed. */
	mac = sign ? ldns_rr_rdf(ldns_pkt_tsig(q), 3) : NULL;
	if (sign && ldns_pkt_get_rcode(*answer) == LDNS_RCODE_NOERROR &&
	    (ldns_pkt_tsig(*answer) == NULL ||
	     !ldns_pkt_tsig_verify(*answer, wire, wlen, s->key.name, s->key.secret, mac)))
		st = aclm_err_set(err, ACLM_ERR_VERIFY, R2136_WHO ": %s: the answer is not signed "
				  "with key %s (RFC 8945 §5.3)", s->server_str, s->key.name);
out:
	if (st != ACLM_OK && *answer != NULL) {
		ldns_pkt_free(*answer);
		*answer = NULL;
	}
	free(wire);
	ldns_buffer_free(qb);
	return st;
}

/* A plain, unsigned, non-recursive query. */
static aclm_status r2136_query(const struct r2136_state *s, const ldns_rdf *name,
			       ldns_rr_type type, ldns_pkt **answer, struct aclm_err *err)
{
	ldns_rdf *qname = ldns_rdf_clone(name);
	ldns_pkt *q = qname != NULL ? ldns_pkt_query_new(qname, type, LDNS_RR_CLASS_IN, 0) : NULL;
	aclm_status st;

	if (q == NULL) {
		ldns_rdf_deep_free(qname);
		return aclm_err_set(err, ACLM_ERR_NOMEM, R2136_WHO ": out of memory");
	}
	st = r2136_exchange(s, q, false, answer, err);
	ldns_pkt_free(q);
	return st;
}

/* The first RR of type in list whose owner is name (or any owner when
 * name is NULL). */
static const ldns_rr *r2136_find(const ldns_rr_list *list, ldns_rr_type type, const ldns_rdf *name)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);

		if (ldns_rr_get_type(rr) == type &&
		    (name == NULL || ldns_dname_compare(ldns_rr_owner(rr), name) == 0))
			return rr;
	}
	return NULL;
}

/* The name to update: _acme-challenge.NAME, or where its CNAME chain
 * leads (a common delegation of the challenge to another zone). */
static aclm_status r2136_target(const struct r2136_state *s, const char *fqdn, ldns_rdf **target,
				struct aclm_err *err)
{
	ldns_rdf *name = ldns_dname_new_frm_str(fqdn), *next;
	ldns_pkt *a = NULL;
	const ldns_rr *cname;
	aclm_status st = ACLM_OK;
	int hops;

	*target = NULL;
	if (name == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID, R2136_WHO ": %s: not a DNS name", fqdn);
	for (hops = 0; hops <= R2136_CNAME_MAX; hops++) {
		if ((st = r2136_query(s, name, LDNS_RR_TYPE_CNAME, &a, err)) != ACLM_OK)
			goto out;
		cname = ldns_pkt_get_rcode(a) == LDNS_RCODE_NOERROR ?
			r2136_find(ldns_pkt_answer(a), LDNS_RR_TYPE_CNAME, name) : NULL;
		if (cname == NULL || ldns_rr_rd_count(cname) < 1)
			break;
		next = ldns_rdf_clone(ldns_rr_rdf(cname, 0));
		ldns_pkt_free(a);
		a = NULL;
		if (next == NULL) {
			st = aclm_err_set(err, ACLM_ERR_NOMEM, R2136_WHO ": out of memory");
			goto out;
		}
		ldns_rdf_deep_free(name);
		name = next;
	}
	if (hops > R2136_CNAME_MAX) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, R2136_WHO ": %s: CNAME chain longer than %d "
				  "at %s", fqdn, R2136_CNAME_MAX, s->server_str);
		goto out;
	}
	*target = name;
	name = NULL;
out:
	ldns_pkt_free(a);
	ldns_rdf_deep_free(name);
	return st;
}

/* RFC 2136 §4.2: the update names the zone. Asks the server for the SOA of
 * name, then of its parents, until it answers authoritatively: the SOA in
 * the answer (name is the apex) or in the authority section (below it). */
static aclm_status r2136_zone(const struct r2136_state *s, const ldns_rdf *name, ldns_rdf **zone,
			      struct aclm_err *err)
{
	ldns_rdf *cur = ldns_rdf_clone(name), *up;
	ldns_pkt *a = NULL;
	const ldns_rr *soa = NULL;
	char *str = ldns_rdf2str(name), last[64] = "no answer";
	aclm_status st = ACLM_OK;

	*zone = NULL;
	while (cur != NULL) {
		if ((st = r2136_query(s, cur, LDNS_RR_TYPE_SOA, &a, err)) != ACLM_OK)
			goto out;
		snprintf(last, sizeof(last), "%.24s%s", r2136_rcode_name(ldns_pkt_get_rcode(a)),
			 ldns_pkt_aa(a) ? "" : ", not authoritative");
		if (ldns_pkt_aa(a) && (ldns_pkt_get_rcode(a) == LDNS_RCODE_NOERROR ||
				       ldns_pkt_get_rcode(a) == LDNS_RCODE_NXDOMAIN)) {
			soa = r2136_find(ldns_pkt_answer(a), LDNS_RR_TYPE_SOA, cur);
			if (soa == NULL)
				soa = r2136_find(ldns_pkt_authority(a), LDNS_RR_TYPE_SOA, NULL);
			if (soa != NULL && (ldns_dname_compare(ldns_rr_owner(soa), name) == 0 ||
					    ldns_dname_is_subdomain(name, ldns_rr_owner(soa))))
				break;
			soa = NULL;
		}
		ldns_pkt_free(a);
		a = NULL;
		up = ldns_dname_label_count(cur) > 0 ? ldns_dname_left_chop(cur) : NULL;
		ldns_rdf_deep_free(cur);
		cur = up;
	}
	if (soa == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, R2136_WHO ": %s is not authoritative for %s "
				  "or any parent zone (last answer: %s)", s->server_str,
				  str != NULL ? str : "?", last);
		goto out;
	}
	*zone = ldns_rdf_clone(ldns_rr_owner(soa));
	if (*zone == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, R2136_WHO ": out of memory");
out:
	ldns_pkt_free(a);
	ldns_rdf_deep_free(cur);
	free(str);
	return st;
}

/* ---- the update ---- */

static const char *r2136_hint(unsigned rcode, unsigned tsig_error)
{
	switch (tsig_error) {
	case TSIG_BADSIG: return "BADSIG: the server computes another MAC: wrong secret for the key";
	case TSIG_BADKEY: return "BADKEY: the server does not know this key name and algorithm";
	case TSIG_BADTIME: return "BADTIME: the clocks differ by more than the 300 s fudge";
	default: break;
	}
	switch (rcode) {
	case LDNS_RCODE_REFUSED:
		return "the server refuses: check the zone's update-policy/allow-update for the key";
	case LDNS_RCODE_NOTAUTH: return "the server is not authoritative for the zone";
	case LDNS_RCODE_NOTZONE: return "the name is outside the zone";
	case LDNS_RCODE_SERVFAIL: return "the server failed (see its log)";
	default: return "see the server's log";
	}
}

/* RFC 2136 §2.5.1 (add to an RRset: class IN) or §2.5.4 (delete one RR:
 * class NONE, TTL 0) of name TXT "value" in zone, signed with the key. */
static aclm_status r2136_update(const struct r2136_state *s, const ldns_rdf *zone,
				const ldns_rdf *name, const char *value, bool add,
				struct aclm_err *err)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rr_list *up = ldns_rr_list_new();
	ldns_rdf *owner = ldns_rdf_clone(name), *zname = ldns_rdf_clone(zone), *txt = NULL;
	ldns_pkt *q = NULL, *a = NULL;
	char *zstr = ldns_rdf2str(zone), *nstr = ldns_rdf2str(name);
	unsigned rcode, terr = 0;
	aclm_status st = ACLM_OK;

	if (rr == NULL || up == NULL || owner == NULL || zname == NULL || zstr == NULL ||
	    nstr == NULL || ldns_str2rdf_str(&txt, value) != LDNS_STATUS_OK) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, R2136_WHO ": out of memory");
		goto out;
	}
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_owner(rr, owner);
	owner = NULL;
	ldns_rr_push_rdf(rr, txt);
	txt = NULL;
	ldns_rr_set_class(rr, add ? LDNS_RR_CLASS_IN : LDNS_RR_CLASS_NONE);
	ldns_rr_set_ttl(rr, add ? R2136_TTL : 0);
	ldns_rr_list_push_rr(up, rr);
	q = ldns_update_pkt_new(zname, LDNS_RR_CLASS_IN, NULL, up, NULL);
	if (q == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, R2136_WHO ": out of memory");
		goto out;
	}
	zname = NULL; /* the packet owns it */
	ldns_pkt_set_rd(q, false); /* RFC 2136 §2.2: no RD in an UPDATE header */
	if ((st = r2136_exchange(s, q, true, &a, err)) != ACLM_OK) {
		aclm_err_prefix(err, "%s TXT %s in zone %s", add ? "adding" : "deleting", nstr, zstr);
		goto out;
	}
	rcode = ldns_pkt_get_rcode(a);
	if (ldns_pkt_tsig(a) != NULL && ldns_rr_rd_count(ldns_pkt_tsig(a)) > 5)
		terr = ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(a), 5));
	if (rcode != LDNS_RCODE_NOERROR || terr != 0) {
		st = aclm_err_set(err, rcode == LDNS_RCODE_REFUSED || terr != 0 ? ACLM_ERR_VERIFY :
				  ACLM_ERR_IO, R2136_WHO ": %s: UPDATE %s TXT %s in zone %s with key %s: "
				  "%s (%s)", s->server_str, add ? "adding" : "deleting", nstr, zstr,
				  s->key.name, r2136_rcode_name(rcode), r2136_hint(rcode, terr));
		goto out;
	}
	log_debug(R2136_WHO ": %s: %s TXT %s in zone %s", s->server_str, add ? "added" : "deleted",
		  nstr, zstr);
out:
	ldns_pkt_free(a);
	ldns_pkt_free(q);
	ldns_rr_list_deep_free(up);
	ldns_rdf_deep_free(owner);
	ldns_rdf_deep_free(zname);
	ldns_rdf_deep_free(txt);
	free(zstr);
	free(nstr);
	return st;
}

/* The name to change (CNAME followed) and its zone, for a challenge. */
static aclm_status r2136_locate(const struct r2136_state *s, const struct solver_challenge *ch,
				char value[44], ldns_rdf **name, ldns_rdf **zone,
				struct aclm_err *err)
{
	char fqdn[SOLVER__DNS01_FQDN_MAX];
	aclm_status st = solver__check_keyauth(R2136_WHO, ch, err); /* TOKEN.THUMBPRINT, §8.1 */

	*name = *zone = NULL;
	if (st == ACLM_OK)
		st = solver__dns01_fqdn(R2136_WHO, ch->identifier, fqdn, sizeof(fqdn), err);
	if (st == ACLM_OK)
		st = acme_dns01_txt(ch->key_authorization, value, err);
	if (st == ACLM_OK)
		st = r2136_target(s, fqdn, name, err);
	if (st == ACLM_OK)
		st = r2136_zone(s, *name, zone, err);
	return st;
}

/* ---- solver_ops ---- */

static void r2136_stop(void *state)
{
	struct r2136_state *s = state;

	if (s == NULL)
		return;
	free(s->resolver);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* "HOST:PORT" or "[V6]:PORT", numeric. */
static aclm_status r2136_server(const char *spec, struct r2136_state *s, struct aclm_err *err)
{
	char host[64];
	const char *colon = strrchr(spec, ':'), *h = spec;
	size_t hlen;
	char *end;
	long port;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&s->server;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&s->server;

	if (colon == NULL || strlen(spec) >= sizeof(s->server_str))
		goto bad;
	hlen = (size_t)(colon - spec);
	if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 1 || port > 65535)
		goto bad;
	memset(&s->server, 0, sizeof(s->server));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		s->server_len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		s->server_len = sizeof(*v6);
	} else {
		goto bad;
	}
	memcpy(s->server_str, spec, strlen(spec) + 1); /* length checked above */
	return ACLM_OK;
bad:
	return aclm_err_set(err, ACLM_ERR_CONFIG, R2136_WHO ": dns_rfc2136 \"%.100s\": expected "
			    "numeric HOST:PORT or [V6]:PORT", spec);
}

/* "resolver" asks dns_resolver, or else the server itself (it is
 * authoritative); "authoritative", the default without dns_resolver, asks
 * every NS of the zone, found through dns_resolver or the system resolver. */
static aclm_status r2136_check_config(const struct solver_config *cfg, struct r2136_state *s,
				      struct aclm_err *err)
{
	const char *mode = cfg->dns_propagation;
	bool have = cfg->dns_resolver != NULL && cfg->dns_resolver[0] != '\0';
	const char *resolver = have ? cfg->dns_resolver : s->server_str;

	if (cfg->dns_timeout_s < 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG, R2136_WHO ": timeouts must not be negative");
	if (mode == NULL || mode[0] == '\0')
		mode = have ? "resolver" : "authoritative";
	if (strcmp(mode, "off") == 0)
		return ACLM_OK;
	if (strcmp(mode, "authoritative") == 0) {
		s->authoritative = true;
		resolver = have ? cfg->dns_resolver : NULL;
	} else if (strcmp(mode, "resolver") != 0) {
		return aclm_err_set(err, ACLM_ERR_CONFIG, R2136_WHO ": dns_propagation \"%.32s\": "
				    "expected \"authoritative\", \"resolver\" or \"off\"", mode);
	}
	s->check = true;
	if (resolver != NULL && (s->resolver = strdup(resolver)) == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, R2136_WHO ": out of memory");
	return ACLM_OK;
}

/* The key file as an absolute path, so that what is loaded and named in
 * messages does not depend on the working directory (renew runs from
 * anywhere). A file realpath cannot resolve is loaded as given, so the
 * loader's message names it. */
static aclm_status r2136_load_key(const char *file, struct r2136_state *s, struct aclm_err *err)
{
	char abs[PATH_MAX];

	return solver__tsig_load(realpath(file, abs) != NULL ? abs : file, &s->key, err);
}

/* RFC 8555 §8.4 wait for qname's TXT value. Authoritative: at every NS of
 * the zone; a zone that is not delegated (a test BIND, a hidden primary)
 * has no NS set the resolver can find, and then the server we updated, the
 * one authority we know of, is checked instead (logged at info level). */
static aclm_status r2136_wait(const struct r2136_state *s, const char *qname, const char *value,
			      struct aclm_err *err)
{
	struct aclm_err ns_err = { 0 };
	aclm_status st;

	if (!s->authoritative)
		return solver__dns_txt_wait(s->resolver, qname, value, s->check_timeout_s, err);
	st = solver__dns_txt_wait_authoritative(s->resolver, qname, value, s->server_str,
						s->check_timeout_s, &ns_err);
	if (st == ACLM_ERR_NOTFOUND) {
		log_info(R2136_WHO ": %s; checking %s itself", ns_err.msg, s->server_str);
		return solver__dns_txt_wait(s->server_str, qname, value, s->check_timeout_s, err);
	}
	if (st != ACLM_OK)
		aclm_err_set(err, st, "%s", ns_err.msg);
	return st;
}

static aclm_status r2136_start(const struct solver_config *cfg, void **state, struct aclm_err *err)
{
	struct r2136_state *s = NULL;
	aclm_status st;

	*state = NULL;
	if (cfg == NULL || cfg->dns_rfc2136 == NULL || cfg->dns_rfc2136[0] == '\0') {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, R2136_WHO ": no dns_rfc2136 server configured");
		goto out;
	}
	if (cfg->tsig_file == NULL || cfg->tsig_file[0] == '\0') {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, R2136_WHO ": dns_rfc2136 needs tsig_file "
				  "(a BIND key file)");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, R2136_WHO ": out of memory");
		goto out;
	}
	if ((st = r2136_server(cfg->dns_rfc2136, s, err)) != ACLM_OK ||
	    (st = r2136_check_config(cfg, s, err)) != ACLM_OK)
		goto out;
	if ((st = r2136_load_key(cfg->tsig_file, s, err)) != ACLM_OK) {
		aclm_err_prefix(err, R2136_WHO);
		goto out;
	}
	snprintf(s->alg_dname, sizeof(s->alg_dname), "%.15s.", s->key.algorithm);
	s->check_timeout_s = cfg->dns_timeout_s > 0 ? cfg->dns_timeout_s : R2136_CHECK_TIMEOUT_S;
	*state = s;
	s = NULL;
out:
	r2136_stop(s);
	return st;
}

/* A record that never shows is deleted again, so a failed present leaves
 * nothing behind (the caller cleans up only what was presented). */
static aclm_status r2136_present(void *state, const struct solver_challenge *ch,
				 struct aclm_err *err)
{
	const struct r2136_state *s = state;
	ldns_rdf *name = NULL, *zone = NULL;
	char value[44], *qname = NULL;
	size_t n;
	aclm_status st = r2136_locate(s, ch, value, &name, &zone, err);

	if (st == ACLM_OK)
		st = r2136_update(s, zone, name, value, true, err);
	if (st != ACLM_OK || !s->check)
		goto out;
	qname = ldns_rdf2str(name);
	if (qname == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, R2136_WHO ": out of memory");
		goto out;
	}
	n = strlen(qname);
	if (n > 1 && qname[n - 1] == '.')
		qname[n - 1] = '\0'; /* the query name, without the root dot */
	st = r2136_wait(s, qname, value, err);
	if (st != ACLM_OK)
		r2136_update(s, zone, name, value, false, NULL);
out:
	free(qname);
	ldns_rdf_deep_free(name);
	ldns_rdf_deep_free(zone);
	return st;
}

static aclm_status r2136_cleanup(void *state, const struct solver_challenge *ch,
				 struct aclm_err *err)
{
	const struct r2136_state *s = state;
	ldns_rdf *name = NULL, *zone = NULL;
	char value[44];
	aclm_status st = r2136_locate(s, ch, value, &name, &zone, err);

	if (st == ACLM_OK)
		st = r2136_update(s, zone, name, value, false, err);
	ldns_rdf_deep_free(name);
	ldns_rdf_deep_free(zone);
	return st;
}

const struct solver_ops solver_rfc2136_ops = {
	.name = "dns-rfc2136",
	.types = SOLVER_DNS01,
	.start = r2136_start,
	.present = r2136_present,
	.cleanup = r2136_cleanup,
	.stop = r2136_stop,
};
