/* The certificate JSON contract, id resolution, chains, summaries, audit. */
#include "inventory/inventory.h"
#include "inventory/inventory_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/crypto.h"

#define CHAIN_MAX_DEPTH 10

const char *inventory__key_id(const struct inventory *inv, const char *key_id, const char *spki,
			      char buf[KEYSTORE_ID_MAX])
{
	if (key_id != NULL)
		return key_id;
	if (spki == NULL || inv->ks == NULL)
		return NULL;
	keystore_key_id_from_spki(spki, buf);
	return keystore_exists(inv->ks, inv->tenant_id, buf, NULL) == ACLM_OK ? buf : NULL;
}

json_t *inventory_cert_json(const struct inventory *inv, const struct store_cert *c, int64_t now)
{
	json_t *o = json_object();
	const char *k;
	json_t *v;
	char ids[24], ts[ACLM_TIME_RFC3339_LEN], kbuf[KEYSTORE_ID_MAX];
	const char *key_id = inventory__key_id(inv, c->key_id, aclm_json_str(c->facts, "spki_sha256"),
					       kbuf);

	if (o == NULL)
		return NULL;
	snprintf(ids, sizeof(ids), "%lld", (long long)c->id);
	aclm_json_set_str(o, "id", ids);
	aclm_json_set_str(o, "tenant", inv->tenant);
	json_object_foreach(c->facts, k, v) {
		json_object_set(o, k, v);
		if (strcmp(k, "lifetime_days") == 0)
			aclm_json_set_int(o, "days_left", aclm_time_days_between(now, c->not_after));
	}
	if (json_object_get(o, "days_left") == NULL)
		aclm_json_set_int(o, "days_left", aclm_time_days_between(now, c->not_after));
	aclm_json_set_bool(o, "has_private_key", key_id != NULL);
	aclm_json_set_str(o, "key_id", key_id);
	aclm_json_set_str(o, "source", c->source);
	/* _new with a reference of our own: the default is a fresh value, which
	 * json_object_set would have leaked. */
	json_object_set_new(o, "sources", c->sources != NULL ? json_incref(c->sources) : json_array());
	aclm_json_set_str(o, "owner", c->owner);
	json_object_set_new(o, "tags", c->tags != NULL ? json_incref(c->tags) : json_object());
	aclm_json_set_str(o, "issuer_fingerprint",
			  c->issuer_fingerprint[0] != '\0' ? c->issuer_fingerprint : NULL);
	aclm_json_set_str(o, "created_at", aclm_time_fmt(c->created_at, ts));
	aclm_json_set_str(o, "updated_at", aclm_time_fmt(c->updated_at, ts));
	return o;
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

aclm_status inventory_resolve(struct inventory *inv, const char *ref, int64_t *id,
			      struct aclm_err *err)
{
	char hex[65];
	size_t n = 0;
	aclm_status st;

	/* Short all-digit references are ids; longer ones may be either. */
	if (all_digits(ref) && strlen(ref) <= 18) {
		struct store_cert *c = NULL;
		int64_t cand = strtoll(ref, NULL, 10);

		st = store_cert_get(inv->store, inv->tenant_id, cand, &c, NULL);
		store_cert_free(c);
		if (st == ACLM_OK) {
			*id = cand;
			return ACLM_OK;
		}
		if (strlen(ref) < 8)
			return aclm_err_set(err, ACLM_ERR_NOTFOUND, "no certificate with id %s", ref);
	}
	for (const char *p = ref; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p) || n >= 64)
			return aclm_err_set(err, ACLM_ERR_INVALID,
					    "%s: not an id or a SHA-256 fingerprint (prefix)", ref);
		hex[n++] = (char)tolower((unsigned char)*p);
	}
	hex[n] = '\0';
	if (n < 8)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "%s: a fingerprint prefix needs at least 8 hex digits", ref);
	st = store_cert_find_fingerprint(inv->store, inv->tenant_id, hex, id, err);
	if (st == ACLM_ERR_NOTFOUND)
		aclm_err_set(err, st, "no certificate with fingerprint %s…", hex);
	else if (st == ACLM_ERR_AMBIGUOUS)
		aclm_err_set(err, st, "fingerprint prefix %s matches several certificates; give more digits",
			     hex);
	return st;
}

static bool row_self_signed(const struct store_cert *c)
{
	return aclm_json_bool(c->facts, "self_signed");
}

aclm_status inventory_chain(struct inventory *inv, int64_t id, STACK_OF(X509) **out,
			    struct aclm_err *err)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct store_cert *c = NULL;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (chain == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (int depth = 0; depth < CHAIN_MAX_DEPTH; depth++) {
		X509 *x = NULL;
		bool last;

		st = store_cert_get(inv->store, inv->tenant_id, id, &c, err);
		if (st != ACLM_OK)
			break;
		if (depth > 0 && row_self_signed(c))
			break; /* roots are trusted by configuration, not sent */
		st = crypto_cert_from_der(c->der, c->der_len, &x, err);
		if (st != ACLM_OK || !sk_X509_push(chain, x)) {
			X509_free(x);
			st = st != ACLM_OK ? st : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
			break;
		}
		last = c->issuer_fingerprint[0] == '\0' || row_self_signed(c);
		if (!last)
			st = store_cert_find_fingerprint(inv->store, inv->tenant_id,
							 c->issuer_fingerprint, &id, err);
		store_cert_free(c);
		c = NULL;
		if (last || st != ACLM_OK)
			break;
	}
	store_cert_free(c);
	if (st != ACLM_OK) {
		sk_X509_pop_free(chain, X509_free);
		return st;
	}
	*out = chain;
	return ACLM_OK;
}

static json_t *buckets_json(const struct store_summary_bucket *b, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "name", b[i].name, "count",
						   (json_int_t)b[i].count));
	return a;
}

aclm_status inventory_summary(struct inventory *inv, int64_t now, json_t **out,
			      struct aclm_err *err)
{
	struct store_summary s = { 0 };
	aclm_status st = store_cert_summary(inv->store, inv->tenant_id, now, &s, err);
	char ts[ACLM_TIME_RFC3339_LEN];

	*out = NULL;
	if (st != ACLM_OK)
		return st;
	*out = json_pack("{s:s, s:s, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:o, s:o, s:o}", "tenant",
			 inv->tenant, "at", aclm_time_fmt(now, ts), "total", (json_int_t)s.total,
			 "expiry", "expired", (json_int_t)s.expired, "lt7", (json_int_t)s.lt7, "lt30",
			 (json_int_t)s.lt30, "lt90", (json_int_t)s.lt90, "later",
			 (json_int_t)s.later, "issuers", buckets_json(s.by_issuer, s.n_issuer),
			 "key_types", buckets_json(s.by_key_type, s.n_key_type),
			 "signature_algorithms", buckets_json(s.by_sig_alg, s.n_sig_alg));
	store_summary_free(&s);
	return *out != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
}

aclm_status inventory_audit(struct inventory *inv, const char *action, const char *object,
			    json_t *detail, struct aclm_err *err)
{
	struct store_audit_event ev = { .tenant_id = inv->tenant_id, .actor = inv->actor,
					.action = action, .object = object, .detail = detail };

	return store_audit_append(inv->store, &ev, err);
}
