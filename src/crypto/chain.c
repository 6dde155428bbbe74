/* Trust stores (bundle file, directory, memory) and chain verification for
 * RSA, ECDSA and SM2 certificates. */
#include "crypto/chain.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "crypto/bundle.h"
#include "crypto/key.h"

#define TRUST_FILE_MAX (64u << 20) /* one trust file; the Mozilla bundle is ~200 KiB */
#define SUBJECT_MAX 256            /* subject text in error messages */

/* ---- SM2 user IDs ----
 * OpenSSL 3.0 applies no SM2 ID by default, and X509_verify uses the ID set
 * on the certificate being verified (the subject, not the issuer). So every
 * SM2-signed certificate whose signature gets checked needs the GB/T 32918
 * default ID; other certificates must not carry one. */

/* Leaves a certificate that already has an ID alone: the caller chose it,
 * and replacing it would free an object another thread may be reading. */
static bool sm2_set_id(X509 *x)
{
	ASN1_OCTET_STRING *id = NULL;
	bool ok = true;

	if (x == NULL || X509_get_signature_nid(x) != NID_SM2_with_SM3 ||
	    X509_get0_distinguishing_id(x) != NULL)
		goto out;
	id = ASN1_OCTET_STRING_new();
	if (id == NULL ||
	    !ASN1_OCTET_STRING_set(id, (const unsigned char *)CRYPTO_SM2_ID, (int)strlen(CRYPTO_SM2_ID))) {
		ASN1_OCTET_STRING_free(id);
		ok = false;
		goto out;
	}
	X509_set0_distinguishing_id(x, id);
out:
	return ok;
}

static bool sm2_set_ids_stack(STACK_OF(X509) *sk)
{
	bool ok = true;
	int i;

	for (i = 0; i < sk_X509_num(sk) && ok; i++)
		ok = sm2_set_id(sk_X509_value(sk, i));
	return ok;
}

/* The anchors need it too: a store may hold intermediates (whose signatures
 * are then checked), and X509_V_FLAG_CHECK_SS_SIGNATURE checks the roots'. */
static aclm_status sm2_set_ids_store(X509_STORE *store, struct aclm_err *err)
{
	STACK_OF(X509_OBJECT) *objs;
	bool ok = true;
	aclm_status st = ACLM_OK;
	int i;

	if (!X509_STORE_lock(store)) {
		st = aclm_err_ssl(err, ACLM_ERR_INTERNAL, "cannot lock the trust store");
		goto out;
	}
	objs = X509_STORE_get0_objects(store);
	for (i = 0; i < sk_X509_OBJECT_num(objs) && ok; i++)
		ok = sm2_set_id(X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i)));
	X509_STORE_unlock(store);
	if (!ok)
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "out of memory setting SM2 IDs");
out:
	return st;
}

/* ---- trust stores ---- */

static aclm_status trust_add_certs(X509_STORE *store, X509 *const *certs, size_t n,
				   struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	size_t i;

	/* X509_STORE_add_cert up-refs, and since OpenSSL 1.1.1 a duplicate is no error. */
	for (i = 0; i < n && st == ACLM_OK; i++)
		if (X509_STORE_add_cert(store, certs[i]) != 1)
			st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "cannot add a certificate to the trust store");
	return st;
}

/* Any file our bundle reader understands: PEM (with other blocks), DER. */
static aclm_status trust_add_bundle_file(X509_STORE *store, const char *path, size_t *added,
					 struct aclm_err *err)
{
	struct aclm_buf buf;
	struct crypto_bundle *b = NULL;
	aclm_status st;

	aclm_buf_init(&buf, TRUST_FILE_MAX);
	st = aclm_buf_read_file(&buf, path, err);
	if (st != ACLM_OK)
		goto out;
	st = crypto_bundle_parse(buf.data, buf.len, NULL, &b, err);
	if (st != ACLM_OK) {
		aclm_err_prefix(err, "%s", path);
		goto out;
	}
	st = trust_add_certs(store, b->certs, b->ncerts, err);
	if (st == ACLM_OK && added != NULL)
		*added += b->ncerts;
out:
	crypto_bundle_free(b);
	aclm_buf_free(&buf);
	return st;
}

static aclm_status trust_load_file(X509_STORE *store, const char *path, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	/* X509_STORE_load_file reads PEM (certificates and CRLs); DER files and
	 * damaged PEM go through our reader, which also says what is wrong. */
	ERR_set_mark();
	if (X509_STORE_load_file(store, path) != 1)
		st = ACLM_ERR_PARSE;
	ERR_pop_to_mark();
	if (st != ACLM_OK)
		st = trust_add_bundle_file(store, path, NULL, err);
	return st;
}

static bool trust_dir_wants(const char *name)
{
	const char *dot = strrchr(name, '.');

	return name[0] != '.' && dot != NULL &&
	       (strcasecmp(dot, ".pem") == 0 || strcasecmp(dot, ".crt") == 0 || strcasecmp(dot, ".cer") == 0);
}

/* Reads every regular *.pem, *.crt, *.cer file instead of relying on
 * hashed names (c_rehash), which most hand-made directories lack. Files
 * that cannot be read or hold no certificate are skipped. */
static aclm_status trust_load_dir(X509_STORE *store, const char *path, struct aclm_err *err)
{
	DIR *dir = NULL;
	struct dirent *de;
	struct stat sb;
	struct aclm_err ferr;
	char *file = NULL;
	size_t added = 0;
	aclm_status st = ACLM_OK;

	dir = opendir(path);
	if (dir == NULL) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!trust_dir_wants(de->d_name))
			continue;
		free(file);
		file = aclm_fs_join(path, de->d_name);
		if (file == NULL) {
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		aclm_err_clear(&ferr);
		if (trust_add_bundle_file(store, file, &added, &ferr) != ACLM_OK)
			log_debug("trust directory: skipping %s", ferr.msg);
	}
	if (added == 0)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND,
				  "%s: no certificate in any *.pem, *.crt or *.cer file", path);
out:
	free(file);
	if (dir != NULL)
		closedir(dir);
	return st;
}

aclm_status crypto_trust_load(const char *path, X509_STORE **out, struct aclm_err *err)
{
	X509_STORE *store = NULL;
	struct stat sb;
	aclm_status st;

	*out = NULL;
	if (stat(path, &sb) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	store = X509_STORE_new();
	if (store == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (S_ISDIR(sb.st_mode))
		st = trust_load_dir(store, path, err);
	else
		st = trust_load_file(store, path, err);
	if (st == ACLM_OK)
		st = sm2_set_ids_store(store, err);
	if (st == ACLM_OK) {
		*out = store;
		store = NULL;
	}
out:
	X509_STORE_free(store);
	return st;
}

aclm_status crypto_trust_from_certs(X509 *const *certs, size_t n, X509_STORE **out,
				    struct aclm_err *err)
{
	X509_STORE *store = NULL;
	aclm_status st;

	*out = NULL;
	store = X509_STORE_new();
	if (store == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	st = trust_add_certs(store, certs, n, err);
	if (st == ACLM_OK)
		st = sm2_set_ids_store(store, err);
	if (st == ACLM_OK) {
		*out = store;
		store = NULL;
	}
out:
	X509_STORE_free(store);
	return st;
}

/* ---- verification ---- */

static void subject_text(X509 *x, char out[SUBJECT_MAX])
{
	BIO *bio = NULL;
	int n = 0;

	out[0] = '\0';
	bio = BIO_new(BIO_s_mem());
	if (x == NULL || bio == NULL)
		goto out;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_read(bio, out, SUBJECT_MAX - 1);
	out[n > 0 ? n : 0] = '\0';
out:
	BIO_free(bio);
}

static aclm_status verify_error(X509_STORE_CTX *ctx, X509 *leaf, struct aclm_err *err)
{
	int code = X509_STORE_CTX_get_error(ctx);
	X509 *x = X509_STORE_CTX_get_current_cert(ctx);
	char subject[SUBJECT_MAX];

	subject_text(x != NULL ? x : leaf, subject);
	return aclm_err_set(err, ACLM_ERR_VERIFY, "certificate verify failed at depth %d (subject %s): %s",
			    X509_STORE_CTX_get_error_depth(ctx), subject[0] != '\0' ? subject : "empty",
			    X509_verify_cert_error_string(code));
}

aclm_status crypto_chain_verify(X509 *leaf, STACK_OF(X509) *untrusted, X509_STORE *trust,
				int64_t at, STACK_OF(X509) **chain, struct aclm_err *err)
{
	X509_STORE_CTX *ctx = NULL;
	bool verified;
	aclm_status st;

	if (chain != NULL)
		*chain = NULL;
	if (leaf == NULL || trust == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "crypto_chain_verify: no certificate or trust store");
		goto out;
	}
	/* The store may come from elsewhere than crypto_trust_*: set the IDs
	 * on every side (a no-op for certificates that already carry one). */
	if (!sm2_set_id(leaf) || !sm2_set_ids_stack(untrusted)) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "out of memory setting SM2 IDs");
		goto out;
	}
	st = sm2_set_ids_store(trust, err);
	if (st != ACLM_OK)
		goto out;
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, trust, leaf, untrusted) != 1) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "cannot set up certificate verification");
		goto out;
	}
	if (at != 0)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at);
	ERR_set_mark();
	verified = X509_verify_cert(ctx) == 1;
	if (!verified && X509_STORE_CTX_get_error(ctx) == X509_V_OK) {
		/* an internal failure, not a verdict on the chain */
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "certificate verification could not run");
		goto out;
	}
	ERR_pop_to_mark(); /* signature failures queue low-level noise */
	if (!verified) {
		st = verify_error(ctx, leaf, err);
		goto out;
	}
	if (chain != NULL) {
		*chain = X509_STORE_CTX_get1_chain(ctx);
		if (*chain == NULL)
			st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "out of memory copying the chain");
	}
out:
	X509_STORE_CTX_free(ctx);
	return st;
}
