/* The certificate JSON contract written as text: list pages splice the
 * facts, sources and tags JSON the store holds instead of parsing and
 * re-serialising them (docs/BENCHMARKS.md, api). */
#include "inventory/inventory.h"
#include "inventory/inventory_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

#define DEPTH_MAX 32         /* deeper stored JSON takes the parsing path */
#define INT_DIGITS_MAX 18    /* fits int64_t whatever the digits */
#define JSON_TEXT_MAX (16u << 20)

/* ---- the stored form ----
 * The store writes JSON with json_dumps(JSON_COMPACT | JSON_SORT_KEYS)
 * (aclm_json_dump_compact). Text in exactly that form comes out of
 * parse + json_dumps(JSON_COMPACT) unchanged, so it can be copied as is.
 * The checks below accept only that form; anything else (whitespace,
 * escapes jansson does not write, reals, unsorted or duplicate keys,
 * invalid UTF-8, which jansson refuses) takes the parsing path. */

struct scan {
	const char *p, *end;
};

/* jansson escapes '"', '\\' and bytes below 0x20 only, with the short form
 * when there is one and \uXXXX (upper-case hex) otherwise. */
static bool scan_escape(struct scan *s)
{
	unsigned v = 0;

	if (s->end - s->p < 2)
		return false;
	switch (s->p[1]) {
	case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
		s->p += 2;
		return true;
	case 'u':
		break;
	default:
		return false;
	}
	if (s->end - s->p < 6)
		return false;
	for (int i = 2; i < 6; i++) {
		char h = s->p[i];

		if (h >= '0' && h <= '9')
			v = v * 16 + (unsigned)(h - '0');
		else if (h >= 'A' && h <= 'F')
			v = v * 16 + (unsigned)(h - 'A' + 10);
		else
			return false;
	}
	/* \u0000 is refused by the parser; 8, 9, 10, 12, 13 have short forms. */
	if (v == 0 || v >= 0x20 || v == '\b' || v == '\t' || v == '\n' || v == '\f' || v == '\r')
		return false;
	s->p += 6;
	return true;
}

/* One UTF-8 sequence as jansson accepts it: no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
static bool scan_utf8(struct scan *s)
{
	const unsigned char *u = (const unsigned char *)s->p;
	size_t avail = (size_t)(s->end - s->p), n;
	unsigned cp;

	if (u[0] >= 0xC2 && u[0] <= 0xDF)
		n = 2, cp = u[0] & 0x1Fu;
	else if (u[0] >= 0xE0 && u[0] <= 0xEF)
		n = 3, cp = u[0] & 0x0Fu;
	else if (u[0] >= 0xF0 && u[0] <= 0xF4)
		n = 4, cp = u[0] & 0x07u;
	else
		return false;
	if (avail < n)
		return false;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xC0u) != 0x80u)
			return false;
		cp = (cp << 6) | (u[i] & 0x3Fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	s->p += n;
	return true;
}

/* A string at s->p; text and len: its bytes between the quotes. */
static bool scan_string(struct scan *s, const char **text, size_t *len)
{
	const char *start;

	if (s->p >= s->end || *s->p != '"')
		return false;
	start = ++s->p;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;

		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (!scan_escape(s))
				return false;
		} else if (c >= 0x80) {
			if (!scan_utf8(s))
				return false;
		} else {
			s->p++;
		}
	}
	if (s->p >= s->end)
		return false;
	*text = start;
	*len = (size_t)(s->p - start);
	s->p++;
	return true;
}

/* An integer as "%lld" prints it: no '+', no leading zero, no "-0". */
static bool scan_int(struct scan *s)
{
	const char *start = s->p;

	if (*s->p == '-')
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return false;
	if (*s->p == '0' && (s->p - start == 1 || (s->p + 1 < s->end && s->p[1] >= '0' &&
						       s->p[1] <= '9')))
		return false;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	if (s->p - start > INT_DIGITS_MAX)
		return false;
	/* Reals: printed by jansson's own rules, left to it. */
	return s->p >= s->end || (*s->p != '.' && *s->p != 'e' && *s->p != 'E');
}

static bool scan_word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool scan_value(struct scan *s, int depth);

/* Keys in strictly increasing byte order (JSON_SORT_KEYS compares with
 * strcmp): also no duplicates. A key with an escape is left to the parser. */
static bool key_after(const char *k, size_t n, const char *prev, size_t prev_n)
{
	size_t m = n < prev_n ? n : prev_n;
	int c;

	if (memchr(k, '\\', n) != NULL)
		return false;
	if (prev == NULL)
		return true;
	c = memcmp(prev, k, m);
	return c < 0 || (c == 0 && prev_n < n);
}

static bool scan_object(struct scan *s, int depth)
{
	const char *prev = NULL, *k;
	size_t prev_n = 0, n;

	s->p++;
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!scan_string(s, &k, &n) || !key_after(k, n, prev, prev_n) ||
		    s->p >= s->end || *s->p++ != ':' || !scan_value(s, depth + 1) || s->p >= s->end)
			return false;
		prev = k;
		prev_n = n;
		if (*s->p == '}') {
			s->p++;
			return true;
		}
		if (*s->p++ != ',')
			return false;
	}
}

static bool scan_array(struct scan *s, int depth)
{
	s->p++;
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!scan_value(s, depth + 1) || s->p >= s->end)
			return false;
		if (*s->p == ']') {
			s->p++;
			return true;
		}
		if (*s->p++ != ',')
			return false;
	}
}

static bool scan_value(struct scan *s, int depth)
{
	const char *t;
	size_t n;

	if (s->p >= s->end || depth > DEPTH_MAX)
		return false;
	switch (*s->p) {
	case '{': return scan_object(s, depth);
	case '[': return scan_array(s, depth);
	case '"': return scan_string(s, &t, &n);
	case 't': return scan_word(s, "true");
	case 'f': return scan_word(s, "false");
	case 'n': return scan_word(s, "null");
	default: return scan_int(s);
	}
}

/* The whole text is one value in the stored form. */
static bool stored_form(const char *text, size_t len)
{
	struct scan s = { text, text + len };

	return scan_value(&s, 0) && s.p == s.end;
}

/* ---- facts ---- */

/* Keys inventory_cert_json sets itself: facts holding one would have it
 * replaced in place, which only the parsing path reproduces. */
static bool contract_key(const char *k, size_t n)
{
	static const char *const keys[] = {
		"id", "tenant", "days_left", "has_private_key", "key_id", "source", "sources",
		"owner", "tags", "issuer_fingerprint", "created_at", "updated_at",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0)
			return true;
	return false;
}

/* Where facts' members end, and where lifetime_days' value ends (days_left
 * follows it, as json_object_set appends it right after it); NULL: none. */
struct facts_shape {
	const char *body, *body_end;   /* between the braces */
	const char *after_lifetime;
};

static bool facts_shape(const char *text, size_t len, struct facts_shape *out)
{
	struct scan s = { text, text + len };
	const char *prev = NULL, *k;
	size_t prev_n = 0, n;

	out->after_lifetime = NULL;
	if (len < 2 || text[0] != '{')
		return false;
	s.p++;
	out->body = s.p;
	if (*s.p == '}')
		goto end;
	for (;;) {
		bool lifetime;

		if (!scan_string(&s, &k, &n) || !key_after(k, n, prev, prev_n) || contract_key(k, n) ||
		    s.p >= s.end || *s.p++ != ':' || !scan_value(&s, 1) || s.p >= s.end)
			return false;
		lifetime = n == strlen("lifetime_days") && memcmp(k, "lifetime_days", n) == 0;
		if (lifetime)
			out->after_lifetime = s.p;
		prev = k;
		prev_n = n;
		if (*s.p == '}')
			break;
		if (*s.p++ != ',')
			return false;
	}
end:
	out->body_end = s.p;
	return s.p + 1 == s.end;
}

/* ---- writing ---- */

static aclm_status put_string(struct aclm_buf *out, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	aclm_status st = aclm_buf_append(out, "\"", 1);
	const char *run = v;

	for (const char *p = v; st == ACLM_OK && *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[7] = { '\\', 0 };
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		st = aclm_buf_append(out, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"': case '\\': esc[1] = (char)c; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xF];
			n = 6;
		}
		if (st == ACLM_OK)
			st = aclm_buf_append(out, esc, n);
	}
	if (st == ACLM_OK)
		st = aclm_buf_puts(out, run);
	return st == ACLM_OK ? aclm_buf_append(out, "\"", 1) : st;
}

/* Appends member (the text ,"KEY":) and the string, or null. */
static aclm_status put_member_str(struct aclm_buf *out, const char *member, const char *v)
{
	aclm_status st = aclm_buf_puts(out, member);

	if (st != ACLM_OK)
		return st;
	return v != NULL ? put_string(out, v) : aclm_buf_append(out, "null", 4);
}

/* "%lld" without printf, which was a tenth of a page's CPU. */
static aclm_status put_int(struct aclm_buf *out, int64_t v)
{
	char d[24];
	size_t i = sizeof(d);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		d[--i] = '-';
	return aclm_buf_append(out, d + i, sizeof(d) - i);
}

/* inventory__key_id without a query per row when the listing looked the
 * key up: the keystore's id of a key derives from its public key, so no
 * key with the row's SPKI means no key, and a key whose id is the derived
 * one is it; anything else asks the keystore. */
static const char *text_key_id(const struct inventory *inv, const struct store_cert *c,
			       char buf[KEYSTORE_ID_MAX])
{
	const struct store_cert_text *t = c->text;

	if (c->key_id != NULL || t->spki_sha256 == NULL || inv->ks == NULL || !t->keys_checked)
		return inventory__key_id(inv, c->key_id, t->spki_sha256, buf);
	if (t->key_by_spki == NULL)
		return NULL;
	keystore_key_id_from_spki(t->spki_sha256, buf);
	if (strcmp(buf, t->key_by_spki) == 0)
		return buf;
	return inventory__key_id(inv, NULL, t->spki_sha256, buf);
}

/* Everything after facts, in inventory_cert_json's order. */
static aclm_status put_tail(const struct inventory *inv, const struct store_cert *c,
			    struct aclm_buf *out)
{
	const struct store_cert_text *t = c->text;
	char ts[ACLM_TIME_RFC3339_LEN], kbuf[KEYSTORE_ID_MAX];
	const char *key_id = text_key_id(inv, c, kbuf);
	aclm_status st = aclm_buf_puts(out, key_id != NULL ? ",\"has_private_key\":true"
							   : ",\"has_private_key\":false");

	if (st == ACLM_OK)
		st = put_member_str(out, ",\"key_id\":", key_id);
	if (st == ACLM_OK)
		st = put_member_str(out, ",\"source\":", c->source);
	if (st == ACLM_OK)
		st = aclm_buf_puts(out, ",\"sources\":");
	if (st == ACLM_OK)
		st = aclm_buf_append(out, t->sources, t->sources_len);
	if (st == ACLM_OK)
		st = put_member_str(out, ",\"owner\":", c->owner);
	if (st == ACLM_OK)
		st = aclm_buf_puts(out, ",\"tags\":");
	if (st == ACLM_OK)
		st = aclm_buf_append(out, t->tags, t->tags_len);
	if (st == ACLM_OK)
		st = put_member_str(out, ",\"issuer_fingerprint\":",
				    c->issuer_fingerprint[0] != '\0' ? c->issuer_fingerprint : NULL);
	if (st == ACLM_OK)
		st = put_member_str(out, ",\"created_at\":", aclm_time_fmt(c->created_at, ts));
	if (st == ACLM_OK)
		st = put_member_str(out, ",\"updated_at\":", aclm_time_fmt(c->updated_at, ts));
	return st == ACLM_OK ? aclm_buf_append(out, "}", 1) : st;
}

/* {"id":..,"tenant":.., facts with days_left after lifetime_days, tail}. */
static aclm_status put_spliced(const struct inventory *inv, const struct store_cert *c,
			       const struct facts_shape *f, int64_t now, struct aclm_buf *out)
{
	const char *split = f->after_lifetime != NULL ? f->after_lifetime : f->body_end;
	aclm_status st = aclm_buf_puts(out, "{\"id\":\"");

	if (st == ACLM_OK)
		st = put_int(out, c->id);
	if (st == ACLM_OK)
		st = aclm_buf_puts(out, "\",\"tenant\":");
	if (st == ACLM_OK)
		st = put_string(out, inv->tenant);
	if (st == ACLM_OK)
		st = aclm_buf_append(out, ",", 1);
	if (st == ACLM_OK)
		st = aclm_buf_append(out, f->body, (size_t)(split - f->body));
	if (st == ACLM_OK)
		st = aclm_buf_puts(out, split > f->body ? ",\"days_left\":" : "\"days_left\":");
	if (st == ACLM_OK)
		st = put_int(out, aclm_time_days_between(now, c->not_after));
	if (st == ACLM_OK)
		st = aclm_buf_append(out, split, (size_t)(f->body_end - split));
	return st == ACLM_OK ? put_tail(inv, c, out) : st;
}

/* The parsing path: the row as inventory_cert_json builds it. */
static aclm_status put_parsed(const struct inventory *inv, const struct store_cert *c,
			      int64_t now, struct aclm_buf *out, struct aclm_err *err)
{
	struct store_cert row = *c;
	json_t *o = NULL;
	char *text = NULL;
	aclm_status st = ACLM_OK;

	if (c->text != NULL) {
		row.facts = row.sources = row.tags = NULL;
		st = aclm_json_parse(c->text->facts, c->text->facts_len, JSON_TEXT_MAX,
				     "certificate facts", &row.facts, err);
		if (st == ACLM_OK)
			st = aclm_json_parse(c->text->sources, c->text->sources_len, JSON_TEXT_MAX,
					     "certificate sources", &row.sources, err);
		if (st == ACLM_OK)
			st = aclm_json_parse(c->text->tags, c->text->tags_len, JSON_TEXT_MAX,
					     "certificate tags", &row.tags, err);
	}
	if (st == ACLM_OK) {
		o = inventory_cert_json(inv, &row, now);
		text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
		st = text != NULL ? aclm_buf_puts(out, text)
				  : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	free(text);
	json_decref(o);
	if (c->text != NULL) {
		json_decref(row.facts);
		json_decref(row.sources);
		json_decref(row.tags);
	}
	return st;
}

static bool spliceable(const struct store_cert_text *t, struct facts_shape *f)
{
	return facts_shape(t->facts, t->facts_len, f) && stored_form(t->sources, t->sources_len) &&
	       stored_form(t->tags, t->tags_len);
}

bool inventory__cert_text_spliceable(const struct store_cert_text *t)
{
	struct facts_shape f;

	return spliceable(t, &f);
}

aclm_status inventory_cert_json_write(const struct inventory *inv, const struct store_cert *c,
				      int64_t now, struct aclm_buf *out, struct aclm_err *err)
{
	struct facts_shape f;
	aclm_status st;

	if (c->text == NULL || !spliceable(c->text, &f))
		return put_parsed(inv, c, now, out, err);
	st = put_spliced(inv, c, &f, now, out);
	return st == ACLM_OK ? ACLM_OK : aclm_err_set(err, st, "certificate %lld: output too large",
						      (long long)c->id);
}
