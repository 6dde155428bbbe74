/* ca cross-sign: another root signs a copy of a CA's intermediate (same
 * subject, key and subject key identifier, another issuer), so that leaves
 * of the intermediate also chain to that root. The ACME server offers the
 * copy as an alternate chain (RFC 8555 §7.4.2, Link rel="alternate"): the
 * way a CA moves to a new root while relying parties still trust the old
 * one, or serves clients that trust only one key family's root. */
#include "ca/ca.h"
#include "ca/ca_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/time.h"
#include "crypto/cert.h"

#define CROSS_BACKDATE_SECONDS 3600 /* as ca init: clock skew of relying parties */
#define ROOT_KEY_FILE_MAX (64 * 1024)

/* The CA row of name (NULL: the tenant's only CA) and key_type (NULL: the
 * CA's only key type). */
struct row_pick {
	const char *key_type;
	struct store_ca *row;
	size_t n;
	char types[128];
};

static aclm_status pick_cb(const struct store_ca *ca, void *arg)
{
	struct row_pick *p = arg;
	size_t len = strlen(p->types);

	snprintf(p->types + len, sizeof(p->types) - len, "%s%s", len > 0 ? ", " : "",
		 ca->key_type);
	if (p->key_type != NULL && strcmp(p->key_type, ca->key_type) != 0)
		return ACLM_OK;
	p->n++;
	if (p->row == NULL) {
		p->row = calloc(1, sizeof(*p->row));
		if (p->row == NULL)
			return ACLM_ERR_NOMEM;
		*p->row = *ca;
		p->row->name = strdup(ca->name);
		p->row->key_type = strdup(ca->key_type);
		p->row->root_key_id = strdup(ca->root_key_id);
		p->row->intermediate_key_id = strdup(ca->intermediate_key_id);
		if (p->row->name == NULL || p->row->key_type == NULL ||
		    p->row->root_key_id == NULL || p->row->intermediate_key_id == NULL)
			return ACLM_ERR_NOMEM;
	}
	return ACLM_OK;
}

static aclm_status pick_row(struct inventory *inv, const char *name, const char *key_type,
			    const char *what, struct store_ca **out, struct aclm_err *err)
{
	char resolved[CA_NAME_MAX + 1];
	struct row_pick p = { .key_type = key_type };
	aclm_status st = ca_resolve_name(inv, name, resolved, err);

	*out = NULL;
	if (st == ACLM_OK)
		st = store_ca_list(inv->store, inv->tenant_id, resolved, pick_cb, &p, err);
	if (st == ACLM_ERR_NOMEM && err->code == ACLM_OK)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st == ACLM_OK && p.n == 0)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "%s: CA \"%s\" has no key type %s (it has %s)",
				  what, resolved, key_type != NULL ? key_type : "", p.types);
	else if (st == ACLM_OK && p.n > 1)
		st = aclm_err_set(err, ACLM_ERR_AMBIGUOUS,
				  "%s: CA \"%s\" has several key types (%s): name one", what,
				  resolved, p.types);
	if (st == ACLM_OK)
		*out = p.row;
	else
		store_ca_free(p.row);
	return st;
}

/* The signing root's key: from the keystore, or from the file an offline
 * root was exported to (it must be that root's key). */
static aclm_status signer_key(struct inventory *inv, const struct store_ca *by, X509 *root,
			      const char *key_file, EVP_PKEY **out, struct aclm_err *err)
{
	struct aclm_buf pem;
	aclm_status st;

	if (!by->offline_root)
		return keystore_pkey(inv->ks, inv->tenant_id, by->root_key_id, out, err);
	if (key_file == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "the root of CA \"%s\" (%s) is offline: give its key file with "
				    "--root-key", by->name, by->key_type);
	aclm_buf_init(&pem, ROOT_KEY_FILE_MAX);
	st = aclm_buf_read_file(&pem, key_file, err);
	if (st == ACLM_OK)
		st = crypto_key_from_pem((const char *)pem.data, pem.len, NULL, out, err);
	if (st == ACLM_OK && EVP_PKEY_eq(*out, X509_get0_pubkey(root)) != 1) {
		EVP_PKEY_free(*out);
		*out = NULL;
		st = aclm_err_set(err, ACLM_ERR_INVALID, "%s: not the key of \"%s\"'s %s root",
				  key_file, by->name, by->key_type);
	}
	if (st != ACLM_OK)
		aclm_err_prefix(err, "--root-key %s", key_file);
	OPENSSL_cleanse(pem.data, pem.cap);
	aclm_buf_free(&pem);
	return st;
}

/* The earlier of two certificate times, as the later one's notAfter cap. */
static const ASN1_TIME *earlier(const ASN1_TIME *a, const ASN1_TIME *b)
{
	int day = 0, sec = 0;

	if (!ASN1_TIME_diff(&day, &sec, a, b))
		return a;
	return day < 0 || sec < 0 ? b : a;
}

/* The copy: the intermediate's subject, key and SKI extension verbatim
 * (its leaves' AKI names that SKI), root as issuer with its AKI, CA:TRUE
 * pathlen:0, the root's signature. Valid from now (backdated like ca init)
 * until the intermediate or the root ends, or `days` when sooner. */
static aclm_status build_cross(X509 *inter, X509 *root, EVP_PKEY *root_key, long days, X509 **out,
			       struct aclm_err *err)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	time_t nb = (time_t)(aclm_time_now() - CROSS_BACKDATE_SECONDS);
	int ski = X509_get_ext_by_NID(inter, NID_subject_key_identifier, -1);
	const ASN1_TIME *end = earlier(X509_get0_notAfter(inter), X509_get0_notAfter(root));
	aclm_status st;

	*out = NULL;
	if (x == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	st = ca__random_serial(x, err);
	if (st == ACLM_OK &&
	    (!X509_set_version(x, X509_VERSION_3) ||
	     !X509_set_subject_name(x, X509_get_subject_name(inter)) ||
	     !X509_set_issuer_name(x, X509_get_subject_name(root)) ||
	     X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb) == NULL ||
	     !X509_set1_notAfter(x, end) ||
	     (days > 0 && X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, &nb) == NULL) ||
	     !X509_set_pubkey(x, X509_get0_pubkey(inter)) ||
	     (ski >= 0 && !X509_add_ext(x, X509_get_ext(inter, ski), -1))))
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "building the cross-signed certificate");
	if (st == ACLM_OK && days > 0)
		(void)X509_set1_notAfter(x, earlier(X509_get0_notAfter(x), end));
	X509V3_set_ctx(&ctx, root, x, NULL, NULL, 0);
	if (st == ACLM_OK)
		st = ca__add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", err);
	if (st == ACLM_OK)
		st = ca__add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", err);
	if (st == ACLM_OK && ski < 0)
		st = ca__add_ext(x, &ctx, NID_subject_key_identifier, "hash", err);
	if (st == ACLM_OK)
		st = ca__add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err);
	if (st == ACLM_OK)
		st = crypto_cert_sign(x, root_key, err);
	if (st == ACLM_OK) {
		*out = x;
		x = NULL;
	}
	X509_free(x);
	return st;
}

/* Inventory row, cross row and audit event in one transaction. */
static aclm_status store_cross(struct inventory *inv, const struct store_ca *ca,
			       const struct store_ca *by, X509 *cross, int64_t *cert_id,
			       struct aclm_err *err)
{
	struct inventory_import_opts io = { .source = "ca" };
	aclm_status st = store_begin(inv->store, err);
	json_t *detail;

	if (st != ACLM_OK)
		return st;
	st = inventory_add_cert(inv, cross, &io, cert_id, err);
	if (st == ACLM_OK)
		st = store_ca_cross_put(inv->store, inv->tenant_id, ca->id, *cert_id, err);
	if (st == ACLM_OK) {
		detail = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", ca->name, "key_type",
				   ca->key_type, "by", by->name, "by_key_type", by->key_type,
				   "cert_id", (json_int_t)*cert_id);
		st = inventory_audit(inv, "ca.cross_sign", ca->name, detail, err);
		json_decref(detail);
	}
	if (st == ACLM_OK)
		st = store_commit(inv->store, err);
	if (st != ACLM_OK)
		store_rollback(inv->store);
	return st;
}

aclm_status ca_cross_sign(struct inventory *inv, const struct ca_cross_opts *o, int64_t *cert_id,
			  struct aclm_err *err)
{
	struct store_ca *ca = NULL, *by = NULL;
	X509 *inter = NULL, *root = NULL, *cross = NULL;
	EVP_PKEY *key = NULL;
	aclm_status st;

	if (o->by == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID, "cross-sign: name the signing CA (--by)");
	st = pick_row(inv, o->name, o->key_type, "cross-sign", &ca, err);
	if (st == ACLM_OK)
		st = pick_row(inv, o->by, o->by_key_type, "cross-sign --by", &by, err);
	if (st == ACLM_OK && ca->id == by->id)
		st = aclm_err_set(err, ACLM_ERR_INVALID,
				  "cross-sign: CA \"%s\" (%s) is already signed by its own root; "
				  "name another CA or key type with --by", ca->name, ca->key_type);
	if (st == ACLM_OK)
		st = ca__load_cert(inv, ca->intermediate_cert_id, &inter, err);
	if (st == ACLM_OK)
		st = ca__load_cert(inv, by->root_cert_id, &root, err);
	if (st == ACLM_OK)
		st = signer_key(inv, by, root, o->root_key_file, &key, err);
	if (st == ACLM_OK)
		st = build_cross(inter, root, key, o->days, &cross, err);
	if (st == ACLM_OK)
		st = store_cross(inv, ca, by, cross, cert_id, err);
	X509_free(cross);
	X509_free(inter);
	X509_free(root);
	EVP_PKEY_free(key);
	store_ca_free(ca);
	store_ca_free(by);
	return st;
}
