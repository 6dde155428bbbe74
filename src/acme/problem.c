/* acme/problem: ACME problem documents (RFC 8555 §6.7, RFC 7807): one table
 * from error URN to aclm status, the parser, and the one-line message. */
#include "acme/acme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define PROBLEM_MAX_BYTES (64 * 1024)
#define PROBLEM_MAX_SUBPROBLEMS_SHOWN 5
#define PROBLEM_SUB_DETAIL_MAX 96

struct problem_entry {
	const char *name;        /* after ACME_URN_PREFIX */
	int http_status;         /* what aclm's CA answers with */
	aclm_status status;
	const char *description; /* used when the document has no detail */
};

/* RFC 8555 §6.7 Table, RFC 9773 §7.4 alreadyReplaced, draft-aaron-acme-
 * profiles invalidProfile. Sorted by name. Statuses say what the client
 * does: BUSY retries, VERIFY is a failed validation, CONFIG needs the user.
 * HTTP statuses are the server's: RFC 8555 names few (§6.5 badNonce 400,
 * §6.6 rateLimited 429, §7.4 orderNotReady 403, RFC 9773 alreadyReplaced
 * 409); the rest follow Boulder and Pebble: a refused request 400, a
 * refused authorization 403. */
static const struct problem_entry problem_table[] = {
	{ "accountDoesNotExist", 400, ACLM_ERR_NOTFOUND, "the account does not exist" },
	{ "alreadyReplaced", 409, ACLM_ERR_EXISTS, "the certificate has already been replaced" },
	{ "alreadyRevoked", 400, ACLM_ERR_EXISTS, "the certificate has already been revoked" },
	{ "badCSR", 400, ACLM_ERR_INVALID, "the CSR is unacceptable" },
	{ "badNonce", 400, ACLM_ERR_BUSY, "the nonce was not acceptable (retry with a fresh one)" },
	{ "badPublicKey", 400, ACLM_ERR_UNSUPPORTED, "the JWS public key is not supported" },
	{ "badRevocationReason", 400, ACLM_ERR_INVALID, "the revocation reason is not allowed" },
	{ "badSignatureAlgorithm", 400, ACLM_ERR_UNSUPPORTED,
	  "the JWS algorithm is not supported" },
	{ "caa", 403, ACLM_ERR_VERIFY, "CAA records forbid the CA from issuing" },
	{ "compound", 400, ACLM_ERR_INVALID, "several errors (see the subproblems)" },
	{ "connection", 400, ACLM_ERR_VERIFY,
	  "the server could not connect to the validation target" },
	{ "dns", 400, ACLM_ERR_VERIFY, "there was a problem with a DNS query during validation" },
	{ "externalAccountRequired", 400, ACLM_ERR_CONFIG,
	  "the server requires external account binding (EAB key id and HMAC key)" },
	{ "incorrectResponse", 403, ACLM_ERR_VERIFY, "the challenge response did not match" },
	{ "invalidContact", 400, ACLM_ERR_INVALID, "a contact URL is invalid" },
	{ "invalidProfile", 400, ACLM_ERR_INVALID, "the requested profile is not offered" },
	{ "malformed", 400, ACLM_ERR_INVALID, "the request message was malformed" },
	{ "orderNotReady", 403, ACLM_ERR_BUSY, "the order is not ready to be finalized" },
	{ "rateLimited", 429, ACLM_ERR_BUSY, "the request exceeds a rate limit" },
	{ "rejectedIdentifier", 400, ACLM_ERR_INVALID,
	  "the server will not issue for the identifier" },
	{ "serverInternal", 500, ACLM_ERR_IO, "the server had an internal error" },
	{ "tls", 400, ACLM_ERR_VERIFY, "the server received a TLS error during validation" },
	{ "unauthorized", 403, ACLM_ERR_VERIFY, "the client lacks sufficient authorization" },
	{ "unsupportedContact", 400, ACLM_ERR_UNSUPPORTED,
	  "a contact URL scheme is not supported" },
	{ "unsupportedIdentifier", 400, ACLM_ERR_UNSUPPORTED,
	  "the identifier type is not supported" },
	{ "userActionRequired", 403, ACLM_ERR_CONFIG,
	  "visit the \"instance\" URL and take the actions it names" },
};

#define N_PROBLEMS (sizeof(problem_table) / sizeof(problem_table[0]))

static const struct problem_entry *problem_by_name(const char *name)
{
	const struct problem_entry *e = NULL;

	for (size_t i = 0; name != NULL && i < N_PROBLEMS; i++)
		if (strcmp(problem_table[i].name, name) == 0)
			e = &problem_table[i];
	return e;
}

static const struct problem_entry *problem_lookup(const char *type)
{
	const size_t plen = sizeof(ACME_URN_PREFIX) - 1;
	const struct problem_entry *e = NULL;

	if (type != NULL && strncmp(type, ACME_URN_PREFIX, plen) == 0)
		e = problem_by_name(type + plen);
	return e;
}

aclm_status acme_problem_status(const char *type)
{
	const struct problem_entry *e = problem_lookup(type);

	return e != NULL ? e->status : ACLM_ERR_PARSE;
}

const char *acme_problem_name(const char *type)
{
	const size_t plen = sizeof(ACME_URN_PREFIX) - 1;
	const char *name = type != NULL ? type : "";

	if (strncmp(name, ACME_URN_PREFIX, plen) == 0 && name[plen] != '\0')
		name += plen;
	return name;
}

bool acme_problem_is(const struct acme_problem *p, const char *name)
{
	const size_t plen = sizeof(ACME_URN_PREFIX) - 1;

	return p != NULL && name != NULL && strncmp(p->type, ACME_URN_PREFIX, plen) == 0 &&
	       strcmp(p->type + plen, name) == 0;
}

int acme_problem_http_status(const char *name)
{
	const struct problem_entry *e = problem_by_name(name);

	return e != NULL ? e->http_status : 500;
}

/* RFC 8555 §6.7: type, detail; RFC 7807 §3.1: status repeats the HTTP one.
 * A detail that is not UTF-8 (jansson refuses it) gives way to the table's
 * description rather than to no document at all. */
json_t *acme_problem_json(const char *name, const char *detail)
{
	const struct problem_entry *e;
	json_t *doc = NULL, *d = NULL;
	char *type = NULL;

	if (name == NULL || name[0] == '\0')
		name = "serverInternal";
	e = problem_by_name(name);
	if (asprintf(&type, "%s%s", ACME_URN_PREFIX, name) < 0) {
		type = NULL;
		goto out;
	}
	if (detail != NULL)
		d = json_string(detail);
	if (d == NULL)
		d = json_string(e != NULL ? e->description : "");
	doc = json_pack("{s:s,s:o,s:i}", "type", type, "detail", d, "status",
			acme_problem_http_status(name));
	d = NULL; /* "o" stole it, even on failure */
out:
	json_decref(d);
	free(type);
	return doc;
}

/* Copies at most max-1 bytes of a server's text, never cutting a UTF-8
 * sequence, with control characters (terminal escapes) made spaces. */
static void copy_text(char *dst, size_t max, const char *src, size_t len)
{
	size_t n = len < max - 1 ? len : max - 1;

	/* Back up to the start of a sequence if the cut falls inside one. */
	if (n < len)
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c < 0x20 || c == 0x7F ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

static void problem_reset(struct acme_problem *p)
{
	p->type[0] = '\0';
	p->detail[0] = '\0';
	p->status = 0;
	p->subproblems = NULL;
	p->algorithms[0] = '\0';
}

/* RFC 8555 §6.2 "algorithms": JWS alg names (RFC 7518 §3.1: short ASCII
 * tokens). Strings only, each cut to 16 bytes, at most ACME_PROBLEM_MAX_ALGS;
 * anything else in the array is skipped, so a hostile list stays one short
 * printable run. */
static void problem_algorithms(const json_t *algs, char *out, size_t max)
{
	size_t off = 0, kept = 0, i;
	const json_t *a;

	out[0] = '\0';
	json_array_foreach(algs, i, a) {
		char name[17];
		int w;

		if (!json_is_string(a) || json_string_length(a) == 0 || kept == ACME_PROBLEM_MAX_ALGS)
			continue;
		copy_text(name, sizeof(name), json_string_value(a), json_string_length(a));
		w = snprintf(out + off, max - off, "%s%s", kept > 0 ? ", " : "", name);
		if (w < 0 || (size_t)w >= max - off) {
			out[off] = '\0'; /* no half name */
			break;
		}
		off += (size_t)w;
		kept++;
	}
}

/* RFC 7807 §3.1 defaults an absent type to "about:blank"; an ACME server
 * always sends one, so a body without it is taken for something else. */
static aclm_status problem_fields(const json_t *doc, struct acme_problem *out,
				  struct aclm_err *err)
{
	const json_t *type = json_object_get(doc, "type");
	const json_t *detail = json_object_get(doc, "detail");
	const json_t *status = json_object_get(doc, "status");
	const json_t *subs = json_object_get(doc, "subproblems");
	aclm_status st = ACLM_OK;

	if (!json_is_string(type) || json_string_length(type) == 0 ||
	    json_string_length(type) >= sizeof(out->type)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "problem: \"type\" is %s",
				  type == NULL		    ? "missing"
				  : !json_is_string(type)	    ? "not a string"
				  : json_string_length(type) == 0 ? "empty"
								  : "too long");
		goto out;
	}
	copy_text(out->type, sizeof(out->type), json_string_value(type), json_string_length(type));
	if (json_is_string(detail))
		copy_text(out->detail, sizeof(out->detail), json_string_value(detail),
			  json_string_length(detail));
	if (json_is_integer(status) && json_integer_value(status) >= 100 &&
	    json_integer_value(status) <= 599)
		out->status = (int)json_integer_value(status);
	if (json_is_array(subs))
		out->subproblems = json_incref((json_t *)subs);
	problem_algorithms(json_object_get(doc, "algorithms"), out->algorithms,
			   sizeof(out->algorithms));
out:
	return st;
}

aclm_status acme_problem_parse(const char *body, size_t len, struct acme_problem *out,
			       struct aclm_err *err)
{
	json_t *doc = NULL;
	aclm_status st;

	problem_reset(out);
	if (body == NULL) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "problem: no body");
		goto out;
	}
	st = aclm_json_parse(body, len, PROBLEM_MAX_BYTES, "problem", &doc, err);
	if (st != ACLM_OK)
		goto out;
	if (!json_is_object(doc)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "problem: not a JSON object");
		goto out;
	}
	st = problem_fields(doc, out, err);
out:
	json_decref(doc);
	return st;
}

void acme_problem_free(struct acme_problem *p)
{
	if (p == NULL)
		return;
	json_decref(p->subproblems);
	problem_reset(p);
}

/* Appends to a fixed line; what does not fit is cut (the line stays a line). */
struct line {
	char buf[ACLM_ERR_MSG_MAX];
	size_t len;
};

static void line_add(struct line *l, const char *s, size_t max)
{
	size_t room = sizeof(l->buf) - l->len;
	char tmp[ACLM_ERR_MSG_MAX];

	if (s == NULL || room <= 1)
		return;
	copy_text(tmp, max + 1 < room ? max + 1 : room, s, strlen(s));
	memcpy(l->buf + l->len, tmp, strlen(tmp) + 1);
	l->len += strlen(tmp);
}

static void line_name_detail(struct line *l, const char *type, const char *detail,
			     size_t detail_max)
{
	const struct problem_entry *e = problem_lookup(type);

	line_add(l, type != NULL && type[0] != '\0' ? acme_problem_name(type) : "(no type)", 127);
	line_add(l, ": ", 2);
	if (detail == NULL || detail[0] == '\0')
		detail = e != NULL ? e->description : "(no detail)";
	line_add(l, detail, detail_max);
}

/* RFC 8555 §6.7.1: each subproblem may name the identifier it concerns. */
static void line_subproblems(struct line *l, const json_t *subs)
{
	size_t n = json_array_size(subs), shown = 0;
	char more[64];

	for (size_t i = 0; i < n && shown < PROBLEM_MAX_SUBPROBLEMS_SHOWN; i++, shown++) {
		const json_t *sub = json_array_get(subs, i);
		const char *value = aclm_json_str(json_object_get(sub, "identifier"), "value");

		line_add(l, "; ", 2);
		if (value != NULL) {
			line_add(l, value, 255);
			line_add(l, ": ", 2);
		}
		line_name_detail(l, aclm_json_str(sub, "type"), aclm_json_str(sub, "detail"),
				 PROBLEM_SUB_DETAIL_MAX);
	}
	if (n > shown) {
		snprintf(more, sizeof(more), "; \xE2\x80\xA6 %zu more", n - shown);
		line_add(l, more, sizeof(more));
	}
}

aclm_status acme_problem_to_err(const struct acme_problem *p, const char *context,
				struct aclm_err *err)
{
	struct line l = { .len = 0 };
	aclm_status st;

	l.buf[0] = '\0';
	if (p == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "%s%sno problem document",
				  context != NULL ? context : "", context != NULL ? ": " : "");
		goto out;
	}
	if (context != NULL && context[0] != '\0') {
		line_add(&l, context, 128);
		line_add(&l, ": ", 2);
	}
	line_name_detail(&l, p->type, p->detail, sizeof(p->detail));
	if (p->status != 0 && acme_problem_status(p->type) == ACLM_ERR_PARSE) {
		char http[32];

		snprintf(http, sizeof(http), " (HTTP %d)", p->status);
		line_add(&l, http, sizeof(http));
	}
	if (p->algorithms[0] != '\0') {
		line_add(&l, " (the server accepts ", 21);
		line_add(&l, p->algorithms, sizeof(p->algorithms));
		line_add(&l, ")", 1);
	}
	line_subproblems(&l, p->subproblems);
	st = aclm_err_set(err, acme_problem_status(p->type), "%s", l.buf);
out:
	return st;
}
