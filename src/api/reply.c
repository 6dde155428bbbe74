/* api/reply: what every handler answers with: JSON bodies, problem
 * documents (RFC 9457, application/problem+json), request bodies and query
 * parameters read with caps, list paging, audit events. */
#include "api/api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "core/json.h"
#include "core/log.h"

static const struct {
	int status;
	const char *title;
} titles[] = {
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 409, "Conflict" },
	{ 413, "Content Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 429, "Too Many Requests" },
	{ 500, "Internal Server Error" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
};

static const char *title_of(int status)
{
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (titles[i].status == status)
			return titles[i].title;
	return "Error";
}

json_t *api__problem_body(int status, const char *slug, const char *detail)
{
	char type[96];

	snprintf(type, sizeof(type), "urn:aclm:problem:%s", slug);
	return json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", title_of(status), "status",
			 status, "detail", detail != NULL ? detail : "");
}

void api__header(struct api__req *r, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), name, value);
}

const char *api__req_header(struct api__req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
}

void api__reply_raw(struct api__req *r, int status, const char *content_type, const void *data,
		    size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (content_type != NULL)
		api__header(r, "Content-Type", content_type);
	api__header(r, "Cache-Control", "no-store");
	api__header(r, "X-Content-Type-Options", "nosniff");
	if (b != NULL && len > 0 && r->method != EVHTTP_REQ_HEAD)
		evbuffer_add(b, data, len);
	r->status = status;
	evhttp_send_reply(r->ev, status, NULL, b);
	if (b != NULL)
		evbuffer_free(b);
}

void api__reply_empty(struct api__req *r, int status)
{
	api__reply_raw(r, status, NULL, NULL, 0);
}

static void reply_json_typed(struct api__req *r, int status, const char *type, json_t *body)
{
	struct aclm_buf text;

	aclm_buf_init(&text, API__REPLY_MAX);
	if (body == NULL || aclm_json_write(&text, body) != ACLM_OK) {
		static const char oom[] = "{\"type\":\"urn:aclm:problem:internal\",\"title\":"
					  "\"Internal Server Error\",\"status\":500,\"detail\":\"\"}";

		api__reply_raw(r, 500, "application/problem+json", oom, sizeof(oom) - 1);
	} else {
		api__reply_raw(r, status, type, text.data, text.len);
	}
	aclm_buf_free(&text);
	json_decref(body);
}

void api__reply_json(struct api__req *r, int status, json_t *body)
{
	reply_json_typed(r, status, "application/json", body);
}

void api__problem(struct api__req *r, int status, const char *slug, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* RFC 6750 §3: a 401 names the scheme to use. */
	if (status == 401)
		api__header(r, "WWW-Authenticate", "Bearer realm=\"aclm\"");
	reply_json_typed(r, status, "application/problem+json",
			 api__problem_body(status, slug, detail));
}

void api__problem_err(struct api__req *r, const struct aclm_err *err)
{
	switch (err->code) {
	case ACLM_ERR_NOTFOUND:
		api__problem(r, 404, "not-found", "%s", err->msg);
		break;
	case ACLM_ERR_EXISTS:
		api__problem(r, 409, "exists", "%s", err->msg);
		break;
	case ACLM_ERR_INVALID:
	case ACLM_ERR_PARSE:
	case ACLM_ERR_AMBIGUOUS:
		api__problem(r, 400, "invalid", "%s", err->msg);
		break;
	case ACLM_ERR_TOOBIG:
		api__problem(r, 413, "too-large", "%s", err->msg);
		break;
	case ACLM_ERR_PASSWORD:
		api__problem(r, 401, "unauthorized", "%s", err->msg);
		break;
	case ACLM_ERR_BUSY:
		api__header(r, "Retry-After", "1");
		api__problem(r, 503, "busy", "the store is busy; try again");
		break;
	default:
		/* Internal details (paths, SQL) go to the log, not to clients. */
		log_error("api: %s %s: %s", api__method_name(r->method), r->path, err->msg);
		api__problem(r, 500, "internal", "internal error; see the server log");
		break;
	}
}

unsigned char *api__body_raw(struct api__req *r, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	size_t n = evbuffer_get_length(in);
	unsigned char *out;

	/* evhttp already refuses bodies over API__MAX_BODY; this is the
	 * second line. */
	if (n > API__MAX_BODY) {
		api__problem(r, 413, "too-large", "the body is larger than %d bytes", API__MAX_BODY);
		return NULL;
	}
	out = malloc(n + 1);
	if (out == NULL) {
		api__problem(r, 500, "internal", "out of memory");
		return NULL;
	}
	evbuffer_remove(in, out, n);
	out[n] = '\0';
	*len = n;
	return out;
}

/* The media type without parameters ("application/json; charset=utf-8"). */
static bool media_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return ct != NULL && strncasecmp(ct, want, n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

json_t *api__body_json(struct api__req *r)
{
	struct aclm_err err = { 0 };
	unsigned char *raw = NULL;
	json_t *j = NULL;
	size_t len = 0;

	if (!media_is(api__req_header(r, "Content-Type"), "application/json")) {
		api__problem(r, 415, "unsupported-media-type", "send application/json");
		goto out;
	}
	raw = api__body_raw(r, &len);
	if (raw == NULL)
		goto out;
	if (aclm_json_parse((const char *)raw, len, API__MAX_BODY, "request body", &j, &err) !=
	    ACLM_OK) {
		api__problem(r, 400, "malformed", "%s", err.msg);
	} else if (!json_is_object(j)) {
		api__problem(r, 400, "malformed", "the body must be a JSON object");
		json_decref(j);
		j = NULL;
	}
out:
	free(raw);
	return j;
}

/* The value of cookie name in a Cookie header (RFC 6265 §4.2.1), capped. */
bool api__cookie(struct api__req *r, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p = api__req_header(r, "Cookie");

	while (p != NULL && *p != '\0') {
		size_t vlen;

		while (*p == ' ' || *p == ';')
			p++;
		vlen = strcspn(p, ";");
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			vlen -= nlen + 1;
			if (vlen == 0 || vlen >= outlen)
				return false;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		p += vlen;
	}
	return false;
}

const char *api__query(struct api__req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

bool api__page(struct api__req *r, int64_t *limit, struct api__cursor *after)
{
	const char *l = api__query(r, "limit"), *c = api__query(r, "cursor");
	char *end = NULL;
	long long v;

	*limit = API__LIST_DEFAULT;
	memset(after, 0, sizeof(*after));
	if (l != NULL) {
		v = strtoll(l, &end, 10);
		if (end == l || *end != '\0' || v < 1) {
			api__problem(r, 400, "invalid-parameter", "limit: expected a number >= 1");
			return false;
		}
		*limit = v > API__LIST_MAX ? API__LIST_MAX : v;
	}
	if (c != NULL && !api__cursor_decode(c, after)) {
		api__problem(r, 400, "invalid-parameter", "cursor: not a cursor of this API");
		return false;
	}
	return true;
}

bool api__idpage_begin(struct api__req *r, struct api__idpage *pg)
{
	struct api__cursor after;

	memset(pg, 0, sizeof(*pg));
	if (!api__page(r, &pg->limit, &after))
		return false;
	if (after.has_key) {
		api__problem(r, 400, "invalid-parameter", "cursor: not a cursor of this list");
		return false;
	}
	pg->after_id = after.id;
	pg->items = json_array(); /* NULL: api__idpage_reply says out of memory */
	return true;
}

bool api__idpage_full(struct api__idpage *pg)
{
	if (pg->n == pg->limit)
		pg->more = true;
	return pg->more;
}

aclm_status api__idpage_add(struct api__idpage *pg, int64_t id, json_t *o)
{
	if (o == NULL || pg->items == NULL || json_array_append_new(pg->items, o) != 0)
		return ACLM_ERR_NOMEM;
	pg->n++;
	pg->last_id = id;
	return ACLM_OK;
}

void api__idpage_reply(struct api__req *r, struct api__idpage *pg, aclm_status st,
		       struct aclm_err *err)
{
	struct api__cursor next = { .id = pg->last_id };
	char cursor[API__CURSOR_MAX];

	if (st == ACLM_OK && pg->items == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st != ACLM_OK) {
		if (err->code == ACLM_OK)
			aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		api__problem_err(r, err);
	} else {
		api__cursor_encode(&next, cursor);
		api__reply_json(r, 200, json_pack("{s:O, s:s?}", "items", pg->items, "next_cursor",
						  pg->more ? cursor : NULL));
	}
	json_decref(pg->items);
	pg->items = NULL;
}

aclm_status api__audit(struct api__req *r, const char *action, const char *object,
		       json_t *detail, struct aclm_err *err)
{
	/* "From where": the peer address joins the detail. */
	json_t *d = detail != NULL ? json_incref(detail) : json_object();
	struct store_audit_event e = { .tenant_id = r->p.tenant_id,
				       .actor = r->p.actor,
				       .action = action,
				       .object = object,
				       .detail = d };
	aclm_status st;

	if (d != NULL)
		json_object_set_new(d, "ip", json_string(r->peer));
	st = store_audit_append(r->w->store, &e, err);
	json_decref(d);
	return st;
}
