/* ca init: per key type a root and an intermediate, their keys in the
 * keystore, their certificates in the inventory and one `cas` row. */
#include "ca/ca.h"
#include "ca/ca_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "core/fs.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/cert.h"

/* Clock skew between this host and relying parties. */
#define CA_BACKDATE_SECONDS 3600

aclm_status ca_name_check(const char *name, struct aclm_err *err)
{
	size_t len = name != NULL ? strlen(name) : 0;

	if (len == 0 || len > CA_NAME_MAX || !isalnum((unsigned char)name[0]))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA name \"%s\": 1 to %d characters, starting with a letter or "
				    "digit", name != NULL ? name : "", CA_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != ' ' && c != '.' && c != '_' && c != '-')
			return aclm_err_set(err, ACLM_ERR_INVALID,
					    "CA name \"%s\": only letters, digits, spaces, '.', '_' "
					    "and '-' are allowed", name);
	}
	return ACLM_OK;
}

void ca_pair_clear(struct ca_pair *p)
{
	X509_free(p->root);
	X509_free(p->intermediate);
	memset(p, 0, sizeof(*p));
}

/* "p256" -> "P256", for subject names. */
static void type_label(enum crypto_key_type t, char out[16])
{
	snprintf(out, 16, "%s", crypto_key_type_name(t));
	for (char *c = out; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
}

static aclm_status set_name(X509_NAME *n, const char *org, const char *cn, struct aclm_err *err)
{
	if (!X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1,
					0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
					0))
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "subject \"%s\"", cn);
	return ACLM_OK;
}

struct cert_spec {
	const char *org, *cn;
	EVP_PKEY *key;             /* the subject's (public) key */
	X509 *issuer;              /* NULL: self-signed */
	EVP_PKEY *issuer_key;
	int64_t not_before;
	long days;
	const char *basic_constraints;
};

static aclm_status build_cert(const struct cert_spec *s, X509 **out, struct aclm_err *err)
{
	X509 *x = X509_new();
	X509_NAME *subject = X509_NAME_new();
	X509V3_CTX ctx;
	time_t nb = (time_t)s->not_before;
	aclm_status st;

	*out = NULL;
	if (x == NULL || subject == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "building a certificate");
		goto out;
	}
	if ((st = set_name(subject, s->org, s->cn, err)) != ACLM_OK ||
	    (st = ca__random_serial(x, err)) != ACLM_OK)
		goto out;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, s->issuer != NULL ? X509_get_subject_name(s->issuer)
						       : subject) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)s->days, 0, &nb) == NULL ||
	    !X509_set_pubkey(x, s->key)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "building certificate \"%s\"", s->cn);
		goto out;
	}
	X509V3_set_ctx(&ctx, s->issuer != NULL ? s->issuer : x, x, NULL, NULL, 0);
	st = ca__add_ext(x, &ctx, NID_basic_constraints, s->basic_constraints, err);
	if (st == ACLM_OK)
		st = ca__add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", err);
	if (st == ACLM_OK)
		st = ca__add_ext(x, &ctx, NID_subject_key_identifier, "hash", err);
	if (st == ACLM_OK && s->issuer != NULL)
		st = ca__add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err);
	if (st != ACLM_OK)
		goto out;
	st = crypto_cert_sign(x, s->issuer_key, err);
	if (st != ACLM_OK)
		goto out;
	*out = x;
	x = NULL;
out:
	X509_NAME_free(subject);
	X509_free(x);
	return st;
}

aclm_status ca_pair_build(struct keystore *ks, int64_t tenant, const char *name,
			  enum crypto_key_type type, int64_t not_before, struct ca_pair *out,
			  struct aclm_err *err)
{
	EVP_PKEY *root_key = NULL, *int_key = NULL;
	char label[16], root_cn[96], int_cn[96];
	struct cert_spec spec = { 0 };
	aclm_status st = ca_name_check(name, err);

	memset(out, 0, sizeof(*out));
	if (st != ACLM_OK)
		return st;
	type_label(type, label);
	snprintf(root_cn, sizeof(root_cn), "%s Root %s", name, label);
	snprintf(int_cn, sizeof(int_cn), "%s Intermediate %s", name, label);
	if (not_before == 0)
		not_before = aclm_time_now() - CA_BACKDATE_SECONDS;
	/* Signing goes through keystore handles, never key bytes. */
	if ((st = keystore_create(ks, tenant, type, out->root_key_id, err)) != ACLM_OK ||
	    (st = keystore_create(ks, tenant, type, out->intermediate_key_id, err)) != ACLM_OK ||
	    (st = keystore_pkey(ks, tenant, out->root_key_id, &root_key, err)) != ACLM_OK ||
	    (st = keystore_pkey(ks, tenant, out->intermediate_key_id, &int_key, err)) != ACLM_OK)
		goto out;
	spec = (struct cert_spec){ .org = name, .cn = root_cn, .key = root_key,
				   .issuer_key = root_key, .not_before = not_before,
				   .days = CA_ROOT_DAYS,
				   .basic_constraints = "critical,CA:TRUE" };
	st = build_cert(&spec, &out->root, err);
	if (st != ACLM_OK)
		goto out;
	spec = (struct cert_spec){ .org = name, .cn = int_cn, .key = int_key,
				   .issuer = out->root, .issuer_key = root_key,
				   .not_before = not_before, .days = CA_INTERMEDIATE_DAYS,
				   .basic_constraints = "critical,CA:TRUE,pathlen:0" };
	st = build_cert(&spec, &out->intermediate, err);
out:
	if (st != ACLM_OK)
		aclm_err_prefix(err, "CA %s (%s)", name, crypto_key_type_name(type));
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	return st;
}

/* ---- ca init ---- */

struct type_seen {
	const char *type;
	bool found;
};

static aclm_status seen_cb(const struct store_ca *ca, void *arg)
{
	struct type_seen *s = arg;

	if (strcmp(ca->key_type, s->type) == 0)
		s->found = true;
	return ACLM_OK;
}

static aclm_status check_new(struct inventory *inv, const struct ca_init_opts *o,
			     struct aclm_err *err)
{
	for (size_t i = 0; i < o->ntypes; i++) {
		struct type_seen s = { .type = crypto_key_type_name(o->types[i]) };
		aclm_status st = store_ca_list(inv->store, inv->tenant_id, o->name, seen_cb, &s, err);

		if (st != ACLM_OK)
			return st;
		if (s.found)
			return aclm_err_set(err, ACLM_ERR_EXISTS,
					    "CA \"%s\" with key type %s already exists", o->name,
					    s.type);
		for (size_t j = 0; j < i; j++)
			if (o->types[j] == o->types[i])
				return aclm_err_set(err, ACLM_ERR_INVALID,
						    "key type %s given twice", s.type);
	}
	return ACLM_OK;
}

/* HOME/ca/NAME-TYPE-root.key (malloc'd). */
static char *offline_path(const struct ca_init_opts *o, enum crypto_key_type t)
{
	char file[CA_NAME_MAX + 32];

	snprintf(file, sizeof(file), "%s-%s-root.key", o->name, crypto_key_type_name(t));
	return aclm_fs_join(o->offline_dir, file);
}

/* The root key leaves the keystore: a 0600 file (audited export), then the
 * keystore row goes (audited delete). An existing file is never replaced:
 * it may hold the only copy of another root's key. */
static aclm_status take_root_offline(struct inventory *inv, const struct ca_init_opts *o,
				     enum crypto_key_type t, const char *key_id,
				     struct aclm_err *err)
{
	char *path = NULL;
	aclm_status st = aclm_fs_mkdirs(o->offline_dir, 0700, err);

	if (st != ACLM_OK)
		return st;
	path = offline_path(o, t);
	if (path == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (access(path, F_OK) == 0)
		st = aclm_err_set(err, ACLM_ERR_EXISTS, "%s exists already; not replacing it", path);
	if (st == ACLM_OK)
		st = keystore_export_pem(inv->ks, inv->tenant_id, key_id, path, inv->actor, err);
	if (st == ACLM_OK)
		st = keystore_delete(inv->ks, inv->tenant_id, key_id, inv->actor, err);
	free(path);
	return st;
}

/* Adds cert (source "ca") in the caller's transaction; its inventory id. */
static aclm_status import_one(struct inventory *inv, X509 *cert, int64_t *id,
			      struct aclm_err *err)
{
	struct inventory_import_opts io = { .source = "ca" };

	return inventory_add_cert(inv, cert, &io, id, err);
}

static aclm_status init_type(struct inventory *inv, const struct ca_init_opts *o,
			     enum crypto_key_type t, bool *exported, struct aclm_err *err)
{
	struct ca_pair p = { 0 };
	struct store_ca row = { .tenant_id = inv->tenant_id };
	int64_t id = 0;
	aclm_status st = ca_pair_build(inv->ks, inv->tenant_id, o->name, t, 0, &p, err);

	/* Offline first, so that the root's inventory row never records a key
	 * id the keystore does not hold. */
	if (st == ACLM_OK && o->offline_root) {
		st = take_root_offline(inv, o, t, p.root_key_id, err);
		*exported = st == ACLM_OK;
	}
	if (st == ACLM_OK)
		st = import_one(inv, p.root, &row.root_cert_id, err);
	if (st == ACLM_OK)
		st = import_one(inv, p.intermediate, &row.intermediate_cert_id, err);
	if (st == ACLM_OK) {
		row.name = (char *)o->name;
		row.key_type = (char *)crypto_key_type_name(t);
		row.root_key_id = p.root_key_id;
		row.intermediate_key_id = p.intermediate_key_id;
		row.offline_root = o->offline_root;
		row.created_at = aclm_time_now();
		st = store_ca_put(inv->store, &row, &id, err);
	}
	if (st == ACLM_OK) {
		json_t *detail = json_pack("{s:s, s:s, s:b}", "name", o->name, "key_type",
					   row.key_type, "offline_root", o->offline_root);

		st = inventory_audit(inv, "ca.init", o->name, detail, err);
		json_decref(detail);
	}
	ca_pair_clear(&p);
	return st;
}

aclm_status ca_init(struct inventory *inv, const struct ca_init_opts *o, struct aclm_err *err)
{
	bool exported[CRYPTO_KEY_TYPE_COUNT] = { false };
	aclm_status st = ca_name_check(o->name, err);

	if (st == ACLM_OK && o->ntypes > CRYPTO_KEY_TYPE_COUNT)
		st = aclm_err_set(err, ACLM_ERR_INVALID, "CA %s: too many key types", o->name);

	if (st == ACLM_OK && o->ntypes == 0)
		st = aclm_err_set(err, ACLM_ERR_INVALID, "CA %s: no key type", o->name);
	if (st == ACLM_OK && o->offline_root && o->offline_dir == NULL)
		st = aclm_err_set(err, ACLM_ERR_INVALID, "CA %s: no directory for offline roots",
				  o->name);
	if (st == ACLM_OK)
		st = check_new(inv, o, err);
	if (st != ACLM_OK || (st = store_begin(inv->store, err)) != ACLM_OK)
		return st;
	/* One transaction: keys, certificates, CA rows and audit events land
	 * together or not at all; root key files written before a failure are
	 * removed (their keys were never committed). */
	for (size_t i = 0; st == ACLM_OK && i < o->ntypes; i++)
		st = init_type(inv, o, o->types[i], &exported[i], err);
	if (st == ACLM_OK)
		st = store_commit(inv->store, err);
	if (st != ACLM_OK) {
		store_rollback(inv->store);
		/* Only the files this run wrote: an existing one is never touched. */
		for (size_t i = 0; i < o->ntypes; i++) {
			char *path = exported[i] ? offline_path(o, o->types[i]) : NULL;

			if (path != NULL)
				unlink(path);
			free(path);
		}
	}
	return st;
}
