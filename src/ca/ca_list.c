/* ca list, ca roots: the CAs of a tenant and their root certificates, read
 * back from the store rows and the inventory. */
#include "ca/ca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"
#include "crypto/cert.h"

static json_t *fingerprint_of(struct inventory *inv, int64_t id)
{
	struct store_cert *c = NULL;
	json_t *v = json_null();

	if (store_cert_get(inv->store, inv->tenant_id, id, &c, NULL) == ACLM_OK) {
		json_decref(v);
		v = json_string(c->fingerprint);
	}
	store_cert_free(c);
	return v;
}

struct list_ctx {
	struct inventory *inv;
	json_t *arr;
	struct aclm_err *err;
};

/* "cross_cert_ids": the inventory ids of the intermediate's cross-signed
 * copies (ca cross-sign). */
static aclm_status cross_ids(struct list_ctx *l, const struct store_ca *ca, json_t *o)
{
	int64_t ids[CA_CROSS_MAX];
	size_t n = 0;
	json_t *arr = json_array();
	aclm_status st;

	if (arr == NULL || json_object_set_new(o, "cross_cert_ids", arr) != 0)
		return ACLM_ERR_NOMEM;
	st = store_ca_cross_list(l->inv->store, l->inv->tenant_id, ca->id, ids, CA_CROSS_MAX, &n,
				 l->err);
	if (st != ACLM_OK)
		return st;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(arr, json_integer(ids[i])) != 0)
			return ACLM_ERR_NOMEM;
	return ACLM_OK;
}

static aclm_status list_cb(const struct store_ca *ca, void *arg)
{
	struct list_ctx *l = arg;
	char ts[ACLM_TIME_RFC3339_LEN];
	json_t *o;

	aclm_time_fmt(ca->created_at, ts);
	o = json_pack("{s:s, s:s, s:I, s:o, s:s, s:I, s:o, s:s, s:b, s:s}", "name", ca->name,
		      "key_type", ca->key_type, "root_cert_id", (json_int_t)ca->root_cert_id,
		      "root_fingerprint", fingerprint_of(l->inv, ca->root_cert_id),
		      "root_key_id", ca->root_key_id, "intermediate_cert_id",
		      (json_int_t)ca->intermediate_cert_id, "intermediate_fingerprint",
		      fingerprint_of(l->inv, ca->intermediate_cert_id), "intermediate_key_id",
		      ca->intermediate_key_id, "offline_root", ca->offline_root, "created_at", ts);
	if (o == NULL || json_array_append_new(l->arr, o) != 0)
		return ACLM_ERR_NOMEM;
	return cross_ids(l, ca, o);
}

aclm_status ca_list_json(struct inventory *inv, const char *name, json_t **out,
			 struct aclm_err *err)
{
	struct list_ctx l = { .inv = inv, .arr = json_array(), .err = err };
	aclm_status st;

	*out = NULL;
	if (l.arr == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	st = store_ca_list(inv->store, inv->tenant_id, name, list_cb, &l, err);
	if (st == ACLM_ERR_NOMEM && err != NULL && err->code == ACLM_OK)
		aclm_err_set(err, st, "listing CAs: out of memory");
	if (st != ACLM_OK) {
		json_decref(l.arr);
		return st;
	}
	*out = l.arr;
	return ACLM_OK;
}

/* The CA name to use: name, or the tenant's only one when name is NULL. */
static aclm_status pick_name(json_t *all, const char *name, const char **out,
			     struct aclm_err *err)
{
	size_t i;
	json_t *ca;

	*out = name;
	if (json_array_size(all) == 0)
		return name != NULL ? aclm_err_set(err, ACLM_ERR_NOTFOUND,
						   "no CA \"%s\" (aclm ca list)", name)
				    : aclm_err_set(err, ACLM_ERR_NOTFOUND,
						   "no CA yet; create one with aclm ca init --name NAME");
	if (name != NULL)
		return ACLM_OK;
	json_array_foreach(all, i, ca) {
		const char *n = aclm_json_str(ca, "name");

		if (*out == NULL)
			*out = n;
		else if (strcmp(*out, n) != 0)
			return aclm_err_set(err, ACLM_ERR_AMBIGUOUS,
					    "several CAs (%s, %s, ...): name one with --ca", *out, n);
	}
	return ACLM_OK;
}

aclm_status ca_resolve_name(struct inventory *inv, const char *name, char out[CA_NAME_MAX + 1],
			    struct aclm_err *err)
{
	json_t *all = NULL;
	const char *pick = NULL;
	aclm_status st = ca_list_json(inv, name, &all, err);

	if (st == ACLM_OK)
		st = pick_name(all, name, &pick, err);
	if (st == ACLM_OK)
		snprintf(out, CA_NAME_MAX + 1, "%s", pick);
	json_decref(all);
	return st;
}

aclm_status ca_roots_pem(struct inventory *inv, const char *name, struct aclm_buf *out,
			 struct aclm_err *err)
{
	json_t *all = NULL, *ca;
	const char *pick = NULL;
	X509 *x = NULL;
	size_t i;
	aclm_status st = ca_list_json(inv, name, &all, err);

	if (st == ACLM_OK)
		st = pick_name(all, name, &pick, err);
	json_array_foreach(all, i, ca) {
		struct store_cert *c = NULL;

		if (st != ACLM_OK)
			break;
		if (strcmp(aclm_json_str(ca, "name"), pick) != 0)
			continue;
		st = store_cert_get(inv->store, inv->tenant_id,
				    (int64_t)json_integer_value(json_object_get(ca, "root_cert_id")),
				    &c, err);
		if (st == ACLM_OK)
			st = crypto_cert_from_der(c->der, c->der_len, &x, err);
		if (st == ACLM_OK)
			st = crypto_cert_to_pem(x, out, err);
		X509_free(x);
		x = NULL;
		store_cert_free(c);
	}
	json_decref(all);
	return st;
}
