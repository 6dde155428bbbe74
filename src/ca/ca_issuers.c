/* ca/ca_issuers: a CA's intermediates ready to sign (certificate, root,
 * key handle from the keystore), shared by `ca serve` and the admin
 * commands, and the CRL of one of them built from the store. */
#include "ca/ca.h"
#include "ca/ca_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "crypto/cert.h"

#define CRL_NEXT_UPDATE_S (24 * 3600)

struct load_ctx {
	struct inventory *inv;
	const char *crl_base;
	struct ca_issuer *iss;
	size_t n;
	struct aclm_err *err;
};

aclm_status ca__load_cert(struct inventory *inv, int64_t id, X509 **out, struct aclm_err *err)
{
	struct store_cert *c = NULL;
	aclm_status st = store_cert_get(inv->store, inv->tenant_id, id, &c, err);

	if (st == ACLM_OK)
		st = crypto_cert_from_der(c->der, c->der_len, out, err);
	store_cert_free(c);
	return st;
}

/* The intermediate's cross-signed copies (ca cross-sign). */
static aclm_status load_cross(struct inventory *inv, int64_t ca_id, struct ca_issuer *iss,
			      struct aclm_err *err)
{
	int64_t ids[CA_CROSS_MAX];
	size_t n = 0;
	aclm_status st = store_ca_cross_list(inv->store, inv->tenant_id, ca_id, ids, CA_CROSS_MAX,
					     &n, err);

	for (size_t i = 0; st == ACLM_OK && i < n; i++) {
		st = ca__load_cert(inv, ids[i], &iss->cross[i], err);
		if (st == ACLM_OK)
			iss->ncross++;
	}
	return st;
}

static aclm_status load_cb(const struct store_ca *ca, void *arg)
{
	struct load_ctx *l = arg;
	struct ca_issuer *iss, *grown;
	int t = crypto_key_type_parse(ca->key_type);
	aclm_status st;

	if (t < 0)
		return aclm_err_set(l->err, ACLM_ERR_INVALID, "CA %s: unknown key type %s", ca->name,
				    ca->key_type);
	grown = realloc(l->iss, (l->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return aclm_err_set(l->err, ACLM_ERR_NOMEM, "out of memory");
	l->iss = grown;
	iss = &l->iss[l->n++];
	memset(iss, 0, sizeof(*iss));
	iss->key_type = (enum crypto_key_type)t;
	st = ca__load_cert(l->inv, ca->intermediate_cert_id, &iss->intermediate, l->err);
	if (st == ACLM_OK)
		st = ca__load_cert(l->inv, ca->root_cert_id, &iss->root, l->err);
	if (st == ACLM_OK)
		st = load_cross(l->inv, ca->id, iss, l->err);
	if (st == ACLM_OK)
		st = keystore_pkey(l->inv->ks, ca->tenant_id, ca->intermediate_key_id, &iss->key,
				   l->err);
	if (l->crl_base != NULL)
		snprintf(iss->crl_url, sizeof(iss->crl_url), "%scrl/%s.crl", l->crl_base,
			 ca->key_type);
	return st;
}

aclm_status ca_issuers_load(struct inventory *inv, const char *ca_name, const char *crl_base,
			    struct ca_issuer **out, size_t *n, struct aclm_err *err)
{
	struct load_ctx l = { .inv = inv, .crl_base = crl_base, .err = err };
	aclm_status st = store_ca_list(inv->store, inv->tenant_id, ca_name, load_cb, &l, err);

	if (st == ACLM_OK && l.n == 0)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "no CA \"%s\"", ca_name);
	if (st != ACLM_OK) {
		ca_issuers_free(l.iss, l.n);
		l.iss = NULL;
		l.n = 0;
	}
	*out = l.iss;
	*n = l.n;
	return st;
}

void ca_issuers_free(struct ca_issuer *iss, size_t n)
{
	for (size_t i = 0; iss != NULL && i < n; i++) {
		X509_free(iss[i].intermediate);
		X509_free(iss[i].root);
		EVP_PKEY_free(iss[i].key);
		for (size_t k = 0; k < iss[i].ncross; k++)
			X509_free(iss[i].cross[k]);
	}
	free(iss);
}

const struct ca_issuer *ca_issuer_by_type(const struct ca_issuer *iss, size_t n,
					  const char *key_type)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(crypto_key_type_name(iss[i].key_type), key_type) == 0)
			return &iss[i];
	return NULL;
}

/* ---- CRLs ---- */

struct crl_collect {
	struct ca_crl_entry *e;
	char (*serials)[41];
	size_t n, cap;
};

static aclm_status crl_collect_cb(const struct store_ca_issued *c, void *arg)
{
	struct crl_collect *cc = arg;

	if (cc->n == cc->cap) {
		size_t cap = cc->cap ? cc->cap * 2 : 64;
		struct ca_crl_entry *e = realloc(cc->e, cap * sizeof(*e));
		char(*s)[41];

		if (e == NULL)
			return ACLM_ERR_NOMEM;
		cc->e = e;
		s = realloc(cc->serials, cap * sizeof(*s));
		if (s == NULL)
			return ACLM_ERR_NOMEM;
		cc->serials = s;
		cc->cap = cap;
	}
	snprintf(cc->serials[cc->n], sizeof(cc->serials[cc->n]), "%s", c->serial);
	cc->e[cc->n].revoked_at = c->revoked_at;
	cc->e[cc->n].reason = c->reason;
	cc->n++;
	return ACLM_OK;
}

aclm_status ca_crl_current(struct store *store, int64_t tenant, const char *ca_name,
			   const struct ca_issuer *iss, X509_CRL **out, struct aclm_err *err)
{
	struct crl_collect cc = { 0 };
	aclm_status st = store_ca_issued_list(store, tenant, ca_name,
					      crypto_key_type_name(iss->key_type), true,
					      crl_collect_cb, &cc, err);

	if (st == ACLM_ERR_NOMEM && err != NULL && err->code == ACLM_OK)
		aclm_err_set(err, st, "CRL: out of memory");
	for (size_t i = 0; st == ACLM_OK && i < cc.n; i++)
		cc.e[i].serial_hex = cc.serials[i];
	if (st == ACLM_OK)
		st = ca_crl_build(iss, cc.e, cc.n, aclm_time_now(), CRL_NEXT_UPDATE_S, out, err);
	free(cc.e);
	free(cc.serials);
	return st;
}
