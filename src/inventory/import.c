/* Importing certificates (and their keys) from files and directories: one
 * transaction per file, idempotent by SHA-256 fingerprint. */
#include "inventory/inventory.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/crypto.h"

#define IMPORT_MAX_DEPTH 16

const char *inventory_file_status_name(enum inventory_file_status s)
{
	static const char *const names[] = { "added", "present", "failed", "skipped" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

/* Merges what this import says about an existing row; true when it changed. */
static bool merge_meta(struct store_cert *row, const char *source, const char *owner,
		       json_t *tags, const char *key_id)
{
	bool changed = false;
	size_t i;
	json_t *v;
	const char *k;

	json_array_foreach(row->sources, i, v)
		if (strcmp(json_string_value(v), source) == 0)
			break;
	if (i == json_array_size(row->sources)) {
		json_array_append_new(row->sources, json_string(source));
		changed = true;
	}
	if (owner != NULL && (row->owner == NULL || strcmp(row->owner, owner) != 0)) {
		free(row->owner);
		row->owner = strdup(owner);
		changed = true;
	}
	json_object_foreach(tags, k, v) {
		if (!json_equal(json_object_get(row->tags, k), v)) {
			json_object_set(row->tags, k, v);
			changed = true;
		}
	}
	if (key_id != NULL && row->key_id == NULL) {
		row->key_id = strdup(key_id);
		changed = true;
	}
	return changed;
}

static aclm_status update_existing(struct inventory *inv, int64_t id, const char *source,
				   const struct inventory_import_opts *o, const char *key_id,
				   struct aclm_err *err)
{
	struct store_cert *row = NULL;
	aclm_status st = store_cert_get(inv->store, inv->tenant_id, id, &row, err);

	if (st == ACLM_OK && merge_meta(row, source, o->owner, o->tags, key_id)) {
		row->updated_at = aclm_time_now();
		st = store_cert_update(inv->store, row, err);
	}
	store_cert_free(row);
	return st;
}

/* The key id for a certificate: the key found beside it, else a key the
 * keystore already holds for the same public key. */
static const char *cert_key_id(struct inventory *inv, const json_t *facts, const char *paired,
			       char buf[KEYSTORE_ID_MAX])
{
	const char *spki = aclm_json_str(facts, "spki_sha256");

	if (paired != NULL)
		return paired;
	if (spki == NULL)
		return NULL;
	keystore_key_id_from_spki(spki, buf);
	return keystore_exists(inv->ks, inv->tenant_id, buf, NULL) == ACLM_OK ? buf : NULL;
}

static aclm_status import_cert(struct inventory *inv, X509 *x, const char *paired_key,
			       const struct inventory_import_opts *o,
			       struct inventory_file_result *r)
{
	const char *source = o->source != NULL ? o->source : "import";
	struct store_cert c = { .tenant_id = inv->tenant_id };
	char keybuf[KEYSTORE_ID_MAX];
	json_t *tags = o->tags != NULL ? json_incref(o->tags) : json_object();
	bool created = false;
	int64_t id = 0;
	aclm_status st;

	c.sources = json_pack("[s]", source);
	st = crypto_cert_facts(x, &c.facts, &r->err);
	if (st == ACLM_OK)
		st = crypto_cert_validity(x, &c.not_before, &c.not_after);
	if (st == ACLM_OK)
		st = crypto_cert_to_der(x, &c.der, &c.der_len, &r->err);
	if (st != ACLM_OK)
		goto out;
	snprintf(c.fingerprint, sizeof(c.fingerprint), "%s",
		 aclm_json_str(c.facts, "fingerprint_sha256"));
	c.key_id = (char *)cert_key_id(inv, c.facts, paired_key, keybuf);
	c.source = (char *)source;
	c.owner = (char *)o->owner;
	c.tags = tags;
	c.created_at = c.updated_at = aclm_time_now();
	st = store_cert_insert(inv->store, &c, &id, &created, &r->err);
	if (st == ACLM_OK && created)
		st = store_cert_link_issuers(inv->store, inv->tenant_id, id, &r->err);
	else if (st == ACLM_OK)
		st = update_existing(inv, id, source, o, c.key_id, &r->err);
	if (st != ACLM_OK)
		goto out;
	created ? r->added++ : r->present++;
	{
		char ids[24];

		snprintf(ids, sizeof(ids), "%lld", (long long)id);
		json_array_append_new(r->certs,
				      json_pack("{s:s, s:s, s:s}", "id", ids, "fingerprint_sha256",
						c.fingerprint, "status", created ? "added" : "present"));
	}
out:
	json_decref(c.facts);
	json_decref(c.sources);
	json_decref(tags);
	OPENSSL_free(c.der);
	return st;
}

aclm_status inventory_add_cert(struct inventory *inv, X509 *cert,
			       const struct inventory_import_opts *opts, int64_t *id,
			       struct aclm_err *err)
{
	struct inventory_file_result r = { .path = "certificate" };
	aclm_status st;

	r.certs = json_array();
	if (r.certs == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	st = import_cert(inv, cert, NULL, opts, &r);
	if (st == ACLM_OK)
		*id = (int64_t)strtoll(aclm_json_str(json_array_get(r.certs, 0), "id"), NULL, 10);
	else
		*err = r.err;
	json_decref(r.certs);
	return st;
}

static aclm_status import_bundle(struct inventory *inv, const struct crypto_bundle *b,
				 const struct inventory_import_opts *o,
				 struct inventory_file_result *r)
{
	char (*ids)[KEYSTORE_ID_MAX] = NULL;
	aclm_status st = ACLM_OK;

	if (b->nkeys > 0 && (ids = calloc(b->nkeys, sizeof(*ids))) == NULL)
		return aclm_err_set(&r->err, ACLM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < b->nkeys && st == ACLM_OK; i++) {
		bool created = false;

		st = keystore_import(inv->ks, inv->tenant_id, b->keys[i], ids[i], &created, &r->err);
		r->keys += created;
	}
	for (size_t i = 0; i < b->ncerts && st == ACLM_OK; i++)
		st = import_cert(inv, b->certs[i], b->cert_key[i] >= 0 ? ids[b->cert_key[i]] : NULL,
				 o, r);
	free(ids);
	return st;
}

/* A file with only a private key (certbot's privkey.pem, lego's .key): the
 * key goes to the keystore. Certificates imported later find it by id at
 * their import; rows imported earlier find it at output time
 * (inventory_cert_json), since the id derives from the public key. */
static aclm_status parse_key_only(const unsigned char *data, size_t len, const char *password,
				  struct crypto_bundle **out, struct aclm_err *err)
{
	struct crypto_bundle *b = NULL;
	EVP_PKEY *key = NULL;
	aclm_status st;

	*out = NULL;
	if (memmem(data, len, "PRIVATE KEY-----", 16) == NULL)
		return ACLM_ERR_PARSE;
	st = crypto_key_from_pem((const char *)data, len, password, &key, err);
	if (st != ACLM_OK)
		return st;
	b = calloc(1, sizeof(*b));
	if (b == NULL || (b->keys = calloc(1, sizeof(*b->keys))) == NULL) {
		free(b);
		EVP_PKEY_free(key);
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	b->keys[0] = key;
	b->nkeys = 1;
	*out = b;
	return ACLM_OK;
}

aclm_status inventory_import_data(struct inventory *inv, const unsigned char *data, size_t len,
				  const char *name, const struct inventory_import_opts *opts,
				  struct inventory_file_result *r)
{
	struct crypto_bundle *b = NULL;
	aclm_status st;
	bool in_tx = false;

	r->path = name;
	r->added = r->present = r->keys = 0;
	r->certs = json_array();
	aclm_err_clear(&r->err);
	st = crypto_bundle_parse(data, len, opts->password, &b, &r->err);
	if (st == ACLM_ERR_PARSE && parse_key_only(data, len, opts->password, &b, NULL) == ACLM_OK) {
		aclm_err_clear(&r->err);
		st = ACLM_OK;
	}
	if (st != ACLM_OK)
		goto out;
	st = store_begin(inv->store, &r->err);
	if (st != ACLM_OK)
		goto out;
	in_tx = true;
	st = import_bundle(inv, b, opts, r);
	if (st == ACLM_OK) {
		json_t *detail = json_pack("{s:s, s:i, s:i, s:i}", "file", name, "added", r->added,
					   "present", r->present, "keys", r->keys);

		st = inventory_audit(inv, "cert.import", name, detail, &r->err);
		json_decref(detail);
	}
	if (st == ACLM_OK)
		st = store_commit(inv->store, &r->err);
	in_tx = st != ACLM_OK;
out:
	if (in_tx)
		store_rollback(inv->store);
	crypto_bundle_free(b);
	if (st != ACLM_OK) {
		r->status = INVENTORY_FILE_FAILED;
		r->added = r->present = r->keys = 0;
		json_array_clear(r->certs);
		if (r->err.code == ACLM_OK)
			aclm_err_set(&r->err, st, "%s", aclm_status_name(st));
	} else {
		r->status = r->added > 0 || r->keys > 0 ? INVENTORY_FILE_ADDED
							: INVENTORY_FILE_PRESENT;
	}
	return st;
}

/* File names that promise a certificate or key: a file with one of these
 * that does not parse fails; others are skipped inside directories (certbot's
 * README, lego's .json). */
static bool looks_like_cert_file(const char *name)
{
	static const char *const exts[] = { ".pem", ".crt", ".cer", ".cert", ".der", ".key",
					    ".p12", ".pfx", ".chain" };
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return false;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcasecmp(dot, exts[i]) == 0)
			return true;
	return false;
}

static void import_file(struct inventory *inv, const char *path, bool in_dir,
			const struct inventory_import_opts *o, inventory_import_cb cb, void *arg,
			aclm_status *first_fail)
{
	struct inventory_file_result r = { .path = path };
	struct aclm_buf data;
	aclm_status st;

	aclm_buf_init(&data, inv->max_file_bytes);
	st = aclm_buf_read_file(&data, path, &r.err);
	if (st == ACLM_OK) {
		st = inventory_import_data(inv, data.data, data.len, path, o, &r);
		if (st != ACLM_OK)
			aclm_err_prefix(&r.err, "%s", path);
	} else {
		r.status = INVENTORY_FILE_FAILED;
		r.certs = json_array();
	}
	if (st == ACLM_ERR_PARSE && in_dir && !looks_like_cert_file(path)) {
		r.status = INVENTORY_FILE_SKIPPED;
		st = ACLM_OK;
	}
	if (st != ACLM_OK && *first_fail == ACLM_OK)
		*first_fail = st;
	cb(&r, arg);
	json_decref(r.certs);
	aclm_buf_free_secret(&data);
}

static int skip_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void import_walk(struct inventory *inv, const char *path, int depth, bool in_dir,
			const struct inventory_import_opts *o, inventory_import_cb cb, void *arg,
			aclm_status *first_fail)
{
	struct dirent **names = NULL;
	struct stat sb;
	int n;

	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && in_dir)
			return; /* sockets, fifos, devices inside a tree */
		import_file(inv, path, in_dir, o, cb, arg, first_fail);
		return;
	}
	if (depth >= IMPORT_MAX_DEPTH)
		return;
	n = scandir(path, &names, skip_hidden, alphasort);
	if (n < 0) {
		struct inventory_file_result r = { .path = path, .status = INVENTORY_FILE_FAILED };

		aclm_err_set(&r.err, ACLM_ERR_IO, "%s: cannot read directory: %s", path,
			     strerror(errno));
		if (*first_fail == ACLM_OK)
			*first_fail = ACLM_ERR_IO;
		r.certs = json_array();
		cb(&r, arg);
		json_decref(r.certs);
		return;
	}
	for (int i = 0; i < n; i++) {
		char *child = aclm_fs_join(path, names[i]->d_name);

		if (child != NULL)
			import_walk(inv, child, depth + 1, true, o, cb, arg, first_fail);
		free(child);
		free(names[i]);
	}
	free(names);
}

aclm_status inventory_import_path(struct inventory *inv, const char *path,
				  const struct inventory_import_opts *opts, inventory_import_cb cb,
				  void *arg)
{
	aclm_status first_fail = ACLM_OK;

	import_walk(inv, path, 0, false, opts, cb, arg, &first_fail);
	return first_fail;
}
