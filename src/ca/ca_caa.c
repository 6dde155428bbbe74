/* CAA (RFC 8659, with RFC 8657's accounturi and validationmethods): finds
 * the relevant RRset by climbing from the name to its parents, parses its
 * records and decides whether this CA may issue for the name. */
#include "ca/ca_va_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CAA_RRS_MAX 64               /* records of one RRset considered */
#define CAA_FLAG_CRITICAL 0x80       /* RFC 8659 §4.1: Issuer Critical Flag */

/* ---- one record (RFC 8659 §4.1) ---- */

static bool caa_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

aclm_status ca_caa_parse_rdata(const unsigned char *rdata, size_t len, struct ca_caa_rr *out,
			       struct aclm_err *err)
{
	size_t taglen, vlen;

	memset(out, 0, sizeof(*out));
	if (rdata == NULL || len < 2)
		return aclm_err_set(err, ACLM_ERR_PARSE, "CAA record of %zu octets: no room for "
				    "flags and tag length", rdata == NULL ? 0 : len);
	taglen = rdata[1];
	if (taglen == 0 || taglen > len - 2)
		return aclm_err_set(err, ACLM_ERR_PARSE, "CAA record: tag length %zu in %zu octets",
				    taglen, len);
	/* §4.1: tags SHOULD be at most 15 characters; longer ones are refused. */
	if (taglen >= sizeof(out->tag))
		return aclm_err_set(err, ACLM_ERR_TOOBIG, "CAA record: tag of %zu characters (at "
				    "most %zu)", taglen, sizeof(out->tag) - 1);
	for (size_t i = 0; i < taglen; i++)
		if (!caa_alnum(rdata[2 + i]))
			return aclm_err_set(err, ACLM_ERR_PARSE, "CAA record: tag with octet 0x%02x "
					    "(letters and digits only)", rdata[2 + i]);
	vlen = len - 2 - taglen;
	if (vlen >= sizeof(out->value))
		return aclm_err_set(err, ACLM_ERR_TOOBIG, "CAA record: value of %zu octets (at "
				    "most %zu)", vlen, sizeof(out->value) - 1);
	if (memchr(rdata + 2 + taglen, '\0', vlen) != NULL)
		return aclm_err_set(err, ACLM_ERR_PARSE, "CAA record: value with a NUL octet");
	out->flags = rdata[0];
	memcpy(out->tag, rdata + 2, taglen);
	memcpy(out->value, rdata + 2 + taglen, vlen);
	return ACLM_OK;
}

/* ---- issue / issuewild values (RFC 8659 §4.2) ---- */

static const char *caa_skip_wsp(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* label *("." label), label = (ALPHA / DIGIT) [*(ALPHA / DIGIT / "-")
 * (ALPHA / DIGIT)]. */
static bool caa_domain_valid(const char *d, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && d[i] != '.')
			continue;
		if (i == start || !caa_alnum(d[start]) || !caa_alnum(d[i - 1]))
			return false;
		start = i + 1;
	}
	return true;
}

/* One parameter "tag *WSP = *WSP value" at *pp (RFC 8659 §4.2); the two of
 * RFC 8657 are kept, the others ignored. */
static aclm_status caa_param(const char **pp, struct ca__caa_issue *out, struct aclm_err *err)
{
	const char *p = *pp, *tag = p, *val;
	size_t taglen, vlen;
	char *dst = NULL;
	bool *has = NULL;

	while (caa_alnum(*p) || (*p == '-' && p != tag))
		p++;
	taglen = (size_t)(p - tag);
	if (taglen == 0 || tag[taglen - 1] == '-')
		return aclm_err_set(err, ACLM_ERR_PARSE, "CAA parameter: bad tag at \"%.32s\"", tag);
	p = caa_skip_wsp(p);
	if (*p != '=')
		return aclm_err_set(err, ACLM_ERR_PARSE, "CAA parameter %.*s: no '='", (int)taglen,
				    tag);
	val = p = caa_skip_wsp(p + 1);
	while (*p >= 0x21 && *p <= 0x7e && *p != ';')
		p++;
	vlen = (size_t)(p - val);
	if (taglen == 10 && strncasecmp(tag, "accounturi", 10) == 0) {
		dst = out->accounturi;
		has = &out->has_accounturi;
	} else if (taglen == 17 && strncasecmp(tag, "validationmethods", 17) == 0) {
		dst = out->methods;
		has = &out->has_methods;
	}
	if (has != NULL && *has) /* RFC 8657 §3, §4: at most once */
		return aclm_err_set(err, ACLM_ERR_PARSE, "CAA parameter %.*s given twice",
				    (int)taglen, tag);
	if (has != NULL && vlen >= sizeof(out->accounturi))
		return aclm_err_set(err, ACLM_ERR_PARSE, "CAA parameter %.*s: value too long",
				    (int)taglen, tag);
	if (has != NULL) {
		*has = true;
		memcpy(dst, val, vlen);
		dst[vlen] = '\0';
	}
	*pp = p;
	return ACLM_OK;
}

aclm_status ca__caa_issue_parse(const char *value, struct ca__caa_issue *out,
				struct aclm_err *err)
{
	const char *p = caa_skip_wsp(value), *d = p;
	size_t dlen;
	aclm_status st = ACLM_OK;

	memset(out, 0, sizeof(*out));
	while (caa_alnum(*p) || *p == '.' || *p == '-')
		p++;
	dlen = (size_t)(p - d);
	if (dlen > 0 && (dlen >= sizeof(out->domain) || !caa_domain_valid(d, dlen)))
		return aclm_err_set(err, ACLM_ERR_PARSE, "CAA value \"%.64s\": bad issuer domain "
				    "name", value);
	memcpy(out->domain, d, dlen);
	p = caa_skip_wsp(p);
	if (*p != '\0' && *p != ';')
		return aclm_err_set(err, ACLM_ERR_PARSE, "CAA value \"%.64s\": ';' expected after "
				    "the issuer domain name", value);
	if (*p == ';')
		p = caa_skip_wsp(p + 1);
	/* parameters, each followed by ";" but the last (a final ";" tolerated) */
	while (*p != '\0' && st == ACLM_OK) {
		st = caa_param(&p, out, err);
		p = caa_skip_wsp(p);
		if (st == ACLM_OK && *p != '\0' && *p != ';')
			st = aclm_err_set(err, ACLM_ERR_PARSE, "CAA value \"%.64s\": ';' expected "
					  "between parameters", value);
		if (*p == ';')
			p = caa_skip_wsp(p + 1);
	}
	return st;
}

/* ---- the decision (RFC 8659 §4.2, §4.3; RFC 8657) ---- */

static bool caa_tag_known(const char *tag)
{
	return strcasecmp(tag, "issue") == 0 || strcasecmp(tag, "issuewild") == 0 ||
	       strcasecmp(tag, "iodef") == 0;
}

static bool caa_is_ours(const char *domain, const json_t *identities)
{
	size_t i;
	json_t *v;

	json_array_foreach(identities, i, v)
		if (json_is_string(v) && strcasecmp(json_string_value(v), domain) == 0)
			return true;
	return false;
}

static bool caa_method_listed(const char *list, const char *method)
{
	size_t mlen = method != NULL ? strlen(method) : 0;

	for (const char *p = list; mlen > 0 && *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n == mlen && strncmp(p, method, n) == 0)
			return true;
		p += n + (p[n] == ',' ? 1 : 0);
	}
	return false;
}

/* Whether one issue/issuewild record authorizes this request; why names
 * the reason when it does not. */
static bool caa_authorizes(const struct ca_caa_rr *rr, const json_t *identities,
			   const char *method, const char *account_uri, char *why, size_t whylen)
{
	struct ca__caa_issue v;
	struct aclm_err perr = { 0 };

	if (ca__caa_issue_parse(rr->value, &v, &perr) != ACLM_OK)
		snprintf(why, whylen, "%s \"%.80s\" does not parse", rr->tag, rr->value);
	else if (v.domain[0] == '\0')
		snprintf(why, whylen, "%s \"%.80s\" forbids every CA", rr->tag, rr->value);
	else if (!caa_is_ours(v.domain, identities))
		snprintf(why, whylen, "%s \"%.80s\" names another CA", rr->tag, rr->value);
	else if (v.has_accounturi && (account_uri == NULL || strcmp(v.accounturi, account_uri) != 0))
		snprintf(why, whylen, "%s \"%.80s\" is for another account", rr->tag, rr->value);
	else if (v.has_methods && !caa_method_listed(v.methods, method))
		snprintf(why, whylen, "%s \"%.80s\" does not allow %s", rr->tag, rr->value,
			 method != NULL ? method : "this method");
	else
		return true;
	return false;
}

aclm_status ca__caa_decide(const struct ca_caa_rr *rrs, size_t n, const json_t *identities,
			   bool wildcard, const char *method, const char *account_uri,
			   struct aclm_err *err)
{
	const char *want = "issue";
	char why[200] = "", other[200];
	size_t relevant = 0;

	for (size_t i = 0; i < n; i++) {
		if ((rrs[i].flags & CAA_FLAG_CRITICAL) != 0 && !caa_tag_known(rrs[i].tag))
			return aclm_err_set(err, ACLM_ERR_VERIFY, "the unknown tag \"%s\" is flagged "
					    "critical (RFC 8659 §4.1)", rrs[i].tag);
		/* §4.3: for a wildcard, issuewild records replace the issue ones */
		if (wildcard && strcasecmp(rrs[i].tag, "issuewild") == 0)
			want = "issuewild";
	}
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(rrs[i].tag, want) != 0)
			continue;
		/* the first refusal is the one reported */
		if (caa_authorizes(&rrs[i], identities, method, account_uri,
				   relevant == 0 ? why : other, sizeof(why)))
			return ACLM_OK;
		relevant++;
	}
	/* §4.2: a set without issue (issuewild) properties restricts no one */
	if (relevant == 0)
		return ACLM_OK;
	return aclm_err_set(err, ACLM_ERR_VERIFY, "%s%s", why,
			    relevant > 1 ? ", and no other record names this CA" : "");
}

/* ---- climbing (RFC 8659 §3) ---- */

struct caa_set {
	struct ca_caa_rr rr[CAA_RRS_MAX];
	size_t n;
};

/* A record that does not parse restricts nothing unless it is flagged
 * critical: then it is an unknown property we must honour (§4.1). */
static aclm_status caa_on_rdata(void *arg, const unsigned char *rdata, size_t len,
				struct aclm_err *err)
{
	struct caa_set *s = arg;
	struct aclm_err perr = { 0 };

	if (s->n >= CAA_RRS_MAX)
		return aclm_err_set(err, ACLM_ERR_VERIFY, "more than %d records", CAA_RRS_MAX);
	if (ca_caa_parse_rdata(rdata, len, &s->rr[s->n], &perr) == ACLM_OK)
		s->n++;
	else if (len > 0 && (rdata[0] & CAA_FLAG_CRITICAL) != 0)
		return aclm_err_set(err, ACLM_ERR_VERIFY, "a record flagged critical does not "
				    "parse: %s", perr.msg);
	return ACLM_OK;
}

/* The CAA records in one level's answer q: ACLM_OK with s->n == 0 when
 * there are none. */
static aclm_status caa_read(const struct dns_raw *q, struct caa_set *s, const char **problem,
			    struct aclm_err *err)
{
	aclm_status st = q->st;

	s->n = 0;
	if (st == ACLM_ERR_NOTFOUND) /* NXDOMAIN or no CAA: the parent decides */
		return ACLM_OK;
	if (st == ACLM_OK)
		st = dns_answer_each(q->msg, q->len, DNS_TYPE_CAA, caa_on_rdata, s, err);
	else if (err != NULL)
		*err = q->err;
	if (st == ACLM_ERR_VERIFY) {
		*problem = "caa";
		aclm_err_prefix(err, "CAA at %s", q->name);
	} else if (st != ACLM_OK) {
		/* A failed lookup is no permission: "dns" (RFC 8659 §3 leaves
		 * issuance on lookup failure to the CA; we refuse). */
		*problem = "dns";
	}
	return st;
}

static aclm_status caa_name(const char *name, char *buf, size_t size, struct aclm_err *err)
{
	size_t len = name != NULL ? strlen(name) : 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len >= size)
		return aclm_err_set(err, ACLM_ERR_INVALID, "CAA: \"%.64s\" is not a DNS name",
				    name != NULL ? name : "");
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	buf[len] = '\0';
	return ACLM_OK;
}

aclm_status ca__caa_levels_init(const char *name, struct ca__caa_levels *l,
				struct aclm_err *err)
{
	size_t levels = 1;
	aclm_status st;

	memset(l, 0, sizeof(*l));
	if ((st = caa_name(name, l->name, sizeof(l->name), err)) != ACLM_OK)
		return st;
	for (const char *p = l->name; *p != '\0'; p++)
		levels += *p == '.';
	if (levels > DNS_RAW_MANY_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "CAA: \"%.64s\" is not a DNS name",
				    l->name);
	if ((l->q = calloc(levels, sizeof(*l->q))) == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "CAA: out of memory");
	/* §3: the name, then each parent (the TLD included, the root not) */
	for (const char *cur = l->name, *dot; cur != NULL; l->n++) {
		l->q[l->n] = (struct dns_raw){ .name = cur, .type = DNS_TYPE_CAA };
		dot = strchr(cur, '.');
		cur = dot != NULL ? dot + 1 : NULL;
	}
	return ACLM_OK;
}

void ca__caa_levels_free(struct ca__caa_levels *l)
{
	dns_raw_free(l->q, l->n);
	free(l->q);
	l->q = NULL;
	l->n = 0;
	l->asked = false;
}

aclm_status ca__caa_levels_decide(const struct ca_va_config *c, const struct ca__caa_levels *l,
				  bool wildcard, const char *method, const char *account_uri,
				  const char **problem, struct aclm_err *err)
{
	struct caa_set *s = calloc(1, sizeof(*s));
	const char *cur = NULL;
	aclm_status st = ACLM_OK;

	*problem = NULL;
	if (s == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "CAA: out of memory");
		goto out;
	}
	/* §3: the relevant set is the name's, else its parent's, and so on (a
	 * wildcard's base name is the start). The levels were asked at once, in
	 * one round trip, as Let's Encrypt's Boulder does; read in climbing
	 * order, the outcome is the climb's: the first level with CAA records
	 * decides, and a failed lookup below it is no permission (one above it
	 * is not looked at). */
	for (size_t i = 0; i < l->n && s->n == 0 && st == ACLM_OK; i++) {
		cur = l->q[i].name;
		st = caa_read(&l->q[i], s, problem, err);
	}
	if (st != ACLM_OK || s->n == 0)
		goto out; /* no CAA anywhere up the tree: any CA may issue */
	st = ca__caa_decide(s->rr, s->n, c->caa_identities, wildcard, method, account_uri, err);
	if (st != ACLM_OK) {
		*problem = "caa";
		aclm_err_prefix(err, "CAA at %s forbids issuance for %s%s", cur,
				wildcard ? "*." : "", l->name);
	}
out:
	free(s);
	return st;
}

aclm_status ca_caa_check(const struct ca_va_config *c, const char *name, bool wildcard,
			 const char *method, const char *account_uri, const char **problem,
			 struct aclm_err *err)
{
	long timeout = c->timeout_ms > 0 ? c->timeout_ms : CA__VA_TIMEOUT_DEFAULT_MS;
	struct ca__caa_levels l = { 0 };
	aclm_status st;

	*problem = NULL;
	if (!c->caa_check)
		return ACLM_OK;
	if ((st = ca__caa_levels_init(name, &l, err)) != ACLM_OK)
		goto out;
	st = dns_query_raw_many(c->dns_server, l.q, l.n, timeout, err);
	if (st != ACLM_OK) {
		*problem = st == ACLM_ERR_CONFIG ? NULL : "dns";
		goto out;
	}
	st = ca__caa_levels_decide(c, &l, wildcard, method, account_uri, problem, err);
out:
	ca__caa_levels_free(&l);
	return st;
}
