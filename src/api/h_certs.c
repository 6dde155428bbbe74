/* api/h_certs: /api/v1/certificates: list (the inventory's filters, cursor
 * pages), get (docs/JSON.md), import (PEM or DER body), export (the PEM
 * chain, never a key), delete. Every query is in the caller's tenant; an
 * id of another tenant answers exactly as an absent one. */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "core/json.h"
#include "core/time.h"
#include "crypto/cert.h"

#define FILTER_TEXT_MAX 256

/* A page is written as text as the rows arrive: the rows' JSON comes from
 * the store's text (inventory_cert_json_write) without building jansson
 * values, which cost most of a page's CPU (docs/BENCHMARKS.md, api). */
struct list_ctx {
	struct api__req *r;
	struct aclm_buf body;
	struct aclm_err err;
	int64_t limit, n;
	struct api__cursor last;
	bool more;
};

static aclm_status list_row(const struct store_cert *c, void *arg)
{
	struct list_ctx *l = arg;
	aclm_status st = ACLM_OK;

	/* The store was asked for one row more than the page: it only says
	 * whether a next page exists. */
	if (l->n == l->limit) {
		l->more = true;
		return ACLM_OK;
	}
	if (l->n > 0)
		st = aclm_buf_append(&l->body, ",", 1);
	if (st == ACLM_OK)
		st = inventory_cert_json_write(&l->r->inv, c, l->r->now, &l->body, &l->err);
	if (st != ACLM_OK)
		return l->err.code != ACLM_OK ? st : aclm_err_set(&l->err, st, "list: out of memory");
	l->n++;
	l->last.id = c->id;
	l->last.key = c->not_after;
	return ACLM_OK;
}

/* {"items":[...],"next_cursor":"..."|null}, as json_pack("{s:O, s:s?}")
 * wrote it. */
static aclm_status list_end(struct list_ctx *l, bool by_expiry)
{
	char cursor[API__CURSOR_MAX];
	aclm_status st = aclm_buf_puts(&l->body, "],\"next_cursor\":");

	l->last.has_key = by_expiry;
	api__cursor_encode(&l->last, cursor);
	if (st == ACLM_OK)
		st = l->more ? aclm_json_write_string(&l->body, cursor)
			     : aclm_buf_puts(&l->body, "null");
	return st == ACLM_OK ? aclm_buf_append(&l->body, "}", 1) : st;
}

static bool text_param(struct api__req *r, const char *name, const char **out)
{
	*out = api__query(r, name);
	if (*out != NULL && (strlen(*out) == 0 || strlen(*out) > FILTER_TEXT_MAX)) {
		api__problem(r, 400, "invalid-parameter", "%s: 1 to %d characters", name,
			     FILTER_TEXT_MAX);
		return false;
	}
	return true;
}

static bool filters(struct api__req *r, struct store_cert_filter *f, struct api__cursor *after)
{
	const char *exp = api__query(r, "expiring"), *expired = api__query(r, "expired");
	char *end = NULL;

	f->tenant_id = r->p.tenant_id;
	f->now = r->now;
	if (exp != NULL) {
		long long days = strtoll(exp, &end, 10);

		if (end == exp || *end != '\0' || days < 0 || days > 36500) {
			api__problem(r, 400, "invalid-parameter", "expiring: days from 0 to 36500");
			return false;
		}
		/* 0 days still means "valid now": the store treats 0 as no filter. */
		f->expiring_within = days > 0 ? days * 86400 : 1;
	}
	if (expired != NULL) {
		if (strcmp(expired, "true") != 0 && strcmp(expired, "1") != 0 &&
		    strcmp(expired, "false") != 0 && strcmp(expired, "0") != 0) {
			api__problem(r, 400, "invalid-parameter", "expired: true or false");
			return false;
		}
		f->expired = strcmp(expired, "true") == 0 || strcmp(expired, "1") == 0;
	}
	/* Expiry filters list in expiry order (as `cert list`), walking the
	 * (tenant, not_after) index; the cursor then holds (not_after, id). */
	f->by_expiry = f->expiring_within > 0 || f->expired;
	if (!text_param(r, "issuer", &f->issuer) || !text_param(r, "key_type", &f->key_type) ||
	    !text_param(r, "search", &f->search) || !api__page(r, &f->limit, after))
		return false;
	if (after->id > 0 && after->has_key != f->by_expiry) {
		api__problem(r, 400, "invalid-parameter", "cursor: not a cursor of this list");
		return false;
	}
	f->after_id = after->id;
	f->after_expiry = after->has_key;
	f->after_not_after = after->key;
	return true;
}

void api__h_cert_list(struct api__req *r)
{
	struct store_cert_filter f = { .stored_json = true };
	struct list_ctx l = { .r = r };
	struct aclm_err err = { 0 };
	struct api__cursor after;

	aclm_buf_init(&l.body, API__REPLY_MAX);
	if (!filters(r, &f, &after))
		goto out;
	l.limit = f.limit;
	f.limit++;
	if (aclm_buf_puts(&l.body, "{\"items\":[") != ACLM_OK ||
	    store_cert_list(r->w->store, &f, list_row, &l, &err) != ACLM_OK ||
	    list_end(&l, f.by_expiry) != ACLM_OK) {
		if (l.err.code != ACLM_OK)
			err = l.err;
		if (err.code == ACLM_OK)
			aclm_err_set(&err, ACLM_ERR_NOMEM, "out of memory");
		api__problem_err(r, &err);
		goto out;
	}
	api__reply_raw(r, 200, "application/json", l.body.data, l.body.len);
out:
	aclm_buf_free(&l.body);
}

/* The {id} of the path in the caller's tenant; on failure the answer is
 * sent, the same for absent and for another tenant's certificate. */
static bool cert_id(struct api__req *r, int64_t *id)
{
	struct aclm_err err = { 0 };

	if (inventory_resolve(&r->inv, r->params[0], id, &err) == ACLM_OK)
		return true;
	if (err.code == ACLM_ERR_NOTFOUND || err.code == ACLM_ERR_INVALID ||
	    err.code == ACLM_ERR_PARSE || err.code == ACLM_ERR_AMBIGUOUS)
		api__problem(r, 404, "not-found", "no such certificate");
	else
		api__problem_err(r, &err);
	return false;
}

static bool cert_row(struct api__req *r, struct store_cert **row)
{
	struct aclm_err err = { 0 };
	int64_t id;

	*row = NULL;
	if (!cert_id(r, &id))
		return false;
	if (store_cert_get(r->w->store, r->p.tenant_id, id, row, &err) == ACLM_OK)
		return true;
	if (err.code == ACLM_ERR_NOTFOUND)
		api__problem(r, 404, "not-found", "no such certificate");
	else
		api__problem_err(r, &err);
	return false;
}

void api__h_cert_get(struct api__req *r)
{
	struct store_cert *row = NULL;
	json_t *o;

	if (!cert_row(r, &row))
		return;
	o = inventory_cert_json(&r->inv, row, r->now);
	if (o == NULL)
		api__problem(r, 500, "internal", "out of memory");
	else
		api__reply_json(r, 200, o);
	store_cert_free(row);
}

void api__h_cert_export(struct api__req *r)
{
	struct store_cert *row = NULL;
	STACK_OF(X509) *chain = NULL;
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	json_t *detail = json_pack("{s:s}", "format", "pem");
	char ids[24];
	aclm_status st = ACLM_OK;

	aclm_buf_init(&pem, 16 << 20);
	if (!cert_row(r, &row))
		goto out;
	snprintf(ids, sizeof(ids), "%lld", (long long)row->id);
	st = inventory_chain(&r->inv, row->id, &chain, &err);
	for (int i = 0; st == ACLM_OK && i < sk_X509_num(chain); i++)
		st = crypto_cert_to_pem(sk_X509_value(chain, i), &pem, &err);
	if (st == ACLM_OK)
		st = api__audit(r, "cert.export", ids, detail, &err);
	if (st != ACLM_OK)
		api__problem_err(r, &err);
	else
		api__reply_raw(r, 200, "application/pem-certificate-chain", pem.data, pem.len);
out:
	sk_X509_pop_free(chain, X509_free);
	aclm_buf_free(&pem);
	json_decref(detail);
	store_cert_free(row);
}

void api__h_cert_delete(struct api__req *r)
{
	struct aclm_err err = { 0 };
	json_t *detail = json_pack("{s:s}", "ref", r->params[0]);
	int64_t id;
	char ids[24];

	if (!cert_id(r, &id))
		goto out;
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	if (store_begin(r->w->store, &err) != ACLM_OK) {
		api__problem_err(r, &err);
		goto out;
	}
	if (store_cert_delete(r->w->store, r->p.tenant_id, id, &err) != ACLM_OK ||
	    api__audit(r, "cert.rm", ids, detail, &err) != ACLM_OK ||
	    store_commit(r->w->store, &err) != ACLM_OK) {
		store_rollback(r->w->store);
		if (err.code == ACLM_ERR_NOTFOUND)
			api__problem(r, 404, "not-found", "no such certificate");
		else
			api__problem_err(r, &err);
		goto out;
	}
	api__reply_empty(r, 204);
out:
	json_decref(detail);
}

static bool import_type_ok(const char *ct)
{
	static const char *const ok[] = { "application/pem-certificate-chain",
					  "application/x-pem-file", "application/pkix-cert",
					  "application/octet-stream", "text/plain" };

	for (size_t i = 0; ct != NULL && i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t n = strlen(ok[i]);

		if (strncasecmp(ct, ok[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';'))
			return true;
	}
	return false;
}

void api__h_cert_import(struct api__req *r)
{
	struct inventory_import_opts opts = { .source = "import" };
	struct inventory_file_result res = { 0 };
	unsigned char *body = NULL;
	size_t len = 0;

	if (!import_type_ok(api__req_header(r, "Content-Type"))) {
		api__problem(r, 415, "unsupported-media-type",
			     "send application/pem-certificate-chain (PEM) or application/pkix-cert "
			     "(DER)");
		return;
	}
	body = api__body_raw(r, &len);
	if (body == NULL)
		return;
	opts.owner = api__query(r, "owner");
	if (inventory_import_data(&r->inv, body, len, "api", &opts, &res) != ACLM_OK) {
		if (res.err.code == ACLM_ERR_PARSE || res.err.code == ACLM_ERR_INVALID ||
		    res.err.code == ACLM_ERR_UNSUPPORTED || res.err.code == ACLM_ERR_PASSWORD)
			api__problem(r, 400, "invalid-certificate", "%s", res.err.msg);
		else
			api__problem_err(r, &res.err);
	} else {
		api__reply_json(r, res.status == INVENTORY_FILE_ADDED ? 201 : 200,
				json_pack("{s:s, s:i, s:i, s:i, s:o}", "status",
					  inventory_file_status_name(res.status), "added", res.added,
					  "present", res.present, "keys", res.keys, "certificates",
					  res.certs != NULL ? json_incref(res.certs)
							    : json_array()));
	}
	json_decref(res.certs);
	free(body);
}
