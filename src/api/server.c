/* api/server: starting and stopping the REST API: the serving certificate
 * (given files, else one from aclm's own CA, else self-signed in memory),
 * one store connection and keystore per worker, the net/httpd pool. */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/cert.h"
#include "crypto/key.h"
#include "net/httpd.h"
#include "net/net.h"

#define API_WORKERS 4
#define API_TLS_DAYS 90

/* ---- the serving certificate ---- */

/* A leaf from the default tenant's only CA (ca_serving_cert).
 * ACLM_ERR_NOTFOUND when there is none to use. */
static aclm_status ca_cert(struct api_server *srv, struct store *store, struct keystore *ks,
			   X509 **cert, EVP_PKEY **key, X509 **chain, struct aclm_err *err)
{
	struct inventory inv = { .store = store, .ks = ks };
	aclm_status st = store_tenant_find(store, "default", &inv.tenant_id, err);

	if (st == ACLM_OK)
		st = ca_serving_cert(&inv, NULL, srv->o.listen, API_TLS_DAYS, cert, key, chain, err);
	if (st == ACLM_OK)
		aclm_log_note("api: serving certificate issued by aclm's own CA");
	return st;
}

static aclm_status add_san(X509 *x, const char *listen)
{
	char san[512];
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	json_t *ids = ca_serving_names(listen), *v;
	size_t i, used = 0;

	san[0] = '\0';
	json_array_foreach(ids, i, v) {
		int k = snprintf(san + used, sizeof(san) - used, "%s%s:%s", used > 0 ? "," : "",
				 strcmp(json_string_value(json_object_get(v, "type")), "ip") == 0
					 ? "IP"
					 : "DNS",
				 json_string_value(json_object_get(v, "value")));

		if (k > 0 && (size_t)k < sizeof(san) - used)
			used += (size_t)k;
	}
	json_decref(ids);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
	if (ext == NULL)
		return ACLM_ERR_CRYPTO;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ACLM_OK;
}

/* Last resort: a self-signed P-256 certificate that lives in memory only. */
static aclm_status self_signed(struct api_server *srv, X509 **cert, EVP_PKEY **key,
			       struct aclm_err *err)
{
	X509 *x = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	aclm_status st = crypto_key_generate(CRYPTO_KEY_P256, key, err);

	if (st != ACLM_OK)
		goto out;
	if (x == NULL || RAND_bytes(serial, sizeof(serial)) != 1) {
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, "api: cannot build a certificate");
		goto out;
	}
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	X509_set_version(x, X509_VERSION_3);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	X509_gmtime_adj(X509_getm_notBefore(x), -300);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)API_TLS_DAYS * 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"aclm api (self-signed)", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, *key);
	if (add_san(x, srv->o.listen) != ACLM_OK) {
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, "api: cannot add the SANs");
		goto out;
	}
	st = crypto_cert_sign(x, *key, err);
	if (st == ACLM_OK) {
		*cert = x;
		x = NULL;
	}
out:
	BN_free(bn);
	X509_free(x);
	return st;
}

static void fingerprint(struct api_server *srv, X509 *cert)
{
	char hex[65];
	size_t j = 0;

	if (crypto_cert_fingerprint(cert, hex) != ACLM_OK)
		return;
	for (size_t i = 0; i < 64 && j + 3 < sizeof(srv->fingerprint); i += 2) {
		srv->fingerprint[j++] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
		srv->fingerprint[j++] = (char)(hex[i + 1] >= 'a' ? hex[i + 1] - 32 : hex[i + 1]);
		srv->fingerprint[j++] = i + 2 < 64 ? ':' : '\0';
	}
	srv->fingerprint[sizeof(srv->fingerprint) - 1] = '\0';
}

static aclm_status tls_files(struct api_server *srv, struct aclm_err *err)
{
	const struct api_opts *o = &srv->o;
	X509 *leaf;

	if (SSL_CTX_use_certificate_chain_file(srv->tls, o->tls_cert) != 1)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "tls_cert %s: not a PEM certificate chain",
				    o->tls_cert);
	if (o->tls_key == NULL || SSL_CTX_use_PrivateKey_file(srv->tls, o->tls_key,
							      SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(srv->tls) != 1)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "tls_key %s: not the private key of %s",
				    o->tls_key != NULL ? o->tls_key : "(none)", o->tls_cert);
	leaf = SSL_CTX_get0_certificate(srv->tls);
	if (leaf != NULL)
		fingerprint(srv, leaf);
	return ACLM_OK;
}

static aclm_status tls_setup(struct api_server *srv, struct store *store, struct keystore *ks,
			     struct aclm_err *err)
{
	X509 *cert = NULL, *chain = NULL;
	EVP_PKEY *key = NULL;
	struct aclm_err ca_err = { 0 };
	aclm_status st = ACLM_OK;

	srv->tls = SSL_CTX_new(TLS_server_method());
	if (srv->tls == NULL)
		return aclm_err_set(err, ACLM_ERR_CRYPTO, "TLS: cannot create a context");
	SSL_CTX_set_min_proto_version(srv->tls, TLS1_2_VERSION);
	if (srv->o.tls_cert != NULL && srv->o.tls_cert[0] != '\0')
		return tls_files(srv, err);
	if (ca_cert(srv, store, ks, &cert, &key, &chain, &ca_err) != ACLM_OK) {
		if (ca_err.code != ACLM_ERR_NOTFOUND)
			log_warn("api: no certificate from aclm's CA (%s); self-signed", ca_err.msg);
		EVP_PKEY_free(key);
		key = NULL;
		st = self_signed(srv, &cert, &key, err);
	}
	if (st == ACLM_OK &&
	    (SSL_CTX_use_certificate(srv->tls, cert) != 1 ||
	     SSL_CTX_use_PrivateKey(srv->tls, key) != 1 ||
	     (chain != NULL && SSL_CTX_add1_chain_cert(srv->tls, chain) != 1)))
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, "TLS: cannot use the serving certificate");
	if (st == ACLM_OK)
		fingerprint(srv, cert);
	X509_free(cert);
	X509_free(chain);
	EVP_PKEY_free(key);
	return st;
}

/* ---- workers ---- */

static aclm_status open_store(const struct api_opts *o, struct store **store,
			      struct keystore **ks, struct aclm_err *err)
{
	struct store_options opt = { .home = o->home, .busy_timeout_ms = 5000 };
	aclm_status st;

	*store = NULL;
	*ks = NULL;
	st = store_open(o->db != NULL ? o->db : "sqlite:aclm.db", &opt, store, err);
	if (st == ACLM_OK)
		st = keystore_open(*store, o->home, ks, err);
	return st;
}

static void server_free(struct api_server *s)
{
	for (int i = 0; s->workers != NULL && i < s->nworkers; i++) {
		keystore_close(s->workers[i].ks);
		store_close(s->workers[i].store);
	}
	free(s->workers);
	free(s->worker_args);
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	api__limit_destroy(&s->login_ip);
	api__limit_destroy(&s->login_user);
	free(s);
}

static aclm_status workers_open(struct api_server *s, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	s->workers = calloc((size_t)s->nworkers, sizeof(*s->workers));
	s->worker_args = calloc((size_t)s->nworkers, sizeof(*s->worker_args));
	if (s->workers == NULL || s->worker_args == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (int i = 0; i < s->nworkers && st == ACLM_OK; i++) {
		s->workers[i].srv = s;
		s->workers[i].index = i;
		s->worker_args[i] = &s->workers[i];
		st = open_store(&s->o, &s->workers[i].store, &s->workers[i].ks, err);
	}
	return st;
}

aclm_status api_server_start(const struct api_opts *o, struct api_server **out,
			     struct aclm_err *err)
{
	struct api_server *s = calloc(1, sizeof(*s));
	struct httpd_opts h = { .who = "api",
				.max_headers = API__MAX_HEADERS,
				.max_body = API__MAX_BODY,
				.timeout_s = API__TIMEOUT_S,
				.on_request = api__on_request };
	aclm_status st;

	*out = NULL;
	if (s == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	s->o = *o;
	if (s->o.listen == NULL)
		s->o.listen = "127.0.0.1:8443";
	s->nworkers = o->workers > 0 ? o->workers : API_WORKERS;
	if (s->nworkers > API__MAX_WORKERS)
		s->nworkers = API__MAX_WORKERS;
	api__limit_init(&s->login_ip, API__LOGIN_IP_PER_MIN, 60);
	api__limit_init(&s->login_user, API__LOGIN_USER_PER_MIN, 60);
	st = workers_open(s, err);
	if (st == ACLM_OK)
		st = tls_setup(s, s->workers[0].store, s->workers[0].ks, err);
	if (st == ACLM_OK) {
		h.listen = s->o.listen;
		h.tls = s->tls;
		h.workers = s->nworkers;
		h.worker_args = s->worker_args;
		st = httpd_start(&h, &s->httpd, err);
	}
	if (st != ACLM_OK) {
		server_free(s);
		return st;
	}
	aclm_log_note("api: serving https://%s/ (%d workers); certificate SHA-256 %s",
		      s->o.listen, s->nworkers, s->fingerprint);
	*out = s;
	return ACLM_OK;
}

void api_server_set_ready(struct api_server *s, bool ready)
{
	atomic_store(&s->ready, ready);
}

void api_server_stop(struct api_server *s)
{
	if (s == NULL)
		return;
	httpd_stop(s->httpd);
	server_free(s);
}
