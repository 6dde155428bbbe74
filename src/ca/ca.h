/* ca/: aclm's own certificate authority. This first slice makes CAs: per key
 * type a self-signed root and an intermediate it signs (keys in the
 * keystore, certificates in the inventory with source "ca", one store row
 * per name and key type), lists them and prints their roots. The ACME
 * server that issues from the intermediates comes later (issue 4). */
#ifndef ACLM_CA_H
#define ACLM_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/status.h"
#include "crypto/key.h"
#include "inventory/inventory.h"
#include "keystore/keystore.h"

#define CA_NAME_MAX 40             /* "NAME Intermediate RSA4096" fits a 64-char CN */
#define CA_ROOT_DAYS 7305          /* 20 years */
#define CA_INTERMEDIATE_DAYS 3653  /* 10 years */
#define CA_SERIAL_BYTES 16

/* A CA name is 1..CA_NAME_MAX letters, digits, spaces, '.', '_' or '-',
 * starting with a letter or digit (it becomes part of file names). */
aclm_status ca_name_check(const char *name, struct aclm_err *err);

/* One key type's pair, built and signed but not yet stored. */
struct ca_pair {
	X509 *root, *intermediate;
	char root_key_id[KEYSTORE_ID_MAX];
	char intermediate_key_id[KEYSTORE_ID_MAX];
};
void ca_pair_clear(struct ca_pair *p);

/* Creates both keys in the keystore and both certificates: the root
 * self-signed ("CN=NAME Root TYPE, O=NAME"; CA:TRUE and keyCertSign+cRLSign,
 * both critical; SKI; CA_ROOT_DAYS), the intermediate ("NAME Intermediate
 * TYPE"; CA:TRUE pathlen:0; AKI/SKI; CA_INTERMEDIATE_DAYS) signed by the
 * root. Serials are CA_SERIAL_BYTES random octets (126 random bits: the
 * top bit clear so the INTEGER stays positive, the next set so it keeps 16
 * octets). SM2 signs SM2-with-SM3 with the standard ID. not_before 0 = now. */
aclm_status ca_pair_build(struct keystore *ks, int64_t tenant, const char *name,
			  enum crypto_key_type type, int64_t not_before, struct ca_pair *out,
			  struct aclm_err *err);

struct ca_init_opts {
	const char *name;
	const enum crypto_key_type *types;
	size_t ntypes;
	bool offline_root;         /* export root keys to offline_dir, then delete them */
	const char *offline_dir;   /* e.g. HOME/ca; files NAME-TYPE-root.key, 0600 */
};

/* Makes the CA's pairs (ca_pair_build), imports the certificates into the
 * inventory (source "ca") and records one store row per key type. A name +
 * type that exists -> ACLM_ERR_EXISTS before anything is created. */
aclm_status ca_init(struct inventory *inv, const struct ca_init_opts *o, struct aclm_err *err);

/* The tenant's CAs as a JSON array of {name, key_type, root_cert_id,
 * root_fingerprint, root_key_id, intermediate_cert_id,
 * intermediate_fingerprint, intermediate_key_id, offline_root, created_at,
 * cross_cert_ids (inventory ids of cross-signed copies, ca cross-sign)};
 * name NULL lists all. */
aclm_status ca_list_json(struct inventory *inv, const char *name, json_t **out,
			 struct aclm_err *err);

/* The CA to use: name when it exists, or the tenant's only CA when name is
 * NULL; none -> ACLM_ERR_NOTFOUND, several -> ACLM_ERR_AMBIGUOUS. */
aclm_status ca_resolve_name(struct inventory *inv, const char *name, char out[CA_NAME_MAX + 1],
			    struct aclm_err *err);

/* The CA's roots (every key type) as PEM appended to out. name NULL is
 * allowed when the tenant has exactly one CA (else ACLM_ERR_AMBIGUOUS);
 * an unknown name -> ACLM_ERR_NOTFOUND. */
aclm_status ca_roots_pem(struct inventory *inv, const char *name, struct aclm_buf *out,
			 struct aclm_err *err);

/* ---- cross-signed intermediates (ca_cross.c) ---- */

#define CA_CROSS_MAX 4             /* alternate chains served per intermediate */

struct ca_cross_opts {
	const char *name;          /* CA whose intermediate is copied; NULL: the only CA */
	const char *key_type;      /* which of its intermediates; NULL: its only key type */
	const char *by;            /* the CA whose root signs */
	const char *by_key_type;   /* that root's key type; NULL: its only key type */
	const char *root_key_file; /* PEM key of that root when it is offline */
	long days;                 /* 0: until the intermediate or the root ends */
};
/* Cross-signs: a certificate with the intermediate's subject, key and
 * subject key identifier, issued and signed by the other root (the same
 * CA's root of another key type, or another CA's). It enters the
 * inventory (source "ca") and the CA's cross list in one transaction,
 * audited; the ACME server then offers it as an alternate chain (RFC 8555
 * §7.4.2). An offline root needs root_key_file, checked against the root. */
aclm_status ca_cross_sign(struct inventory *inv, const struct ca_cross_opts *o, int64_t *cert_id,
			  struct aclm_err *err);

/* ---- administration of the ACME server's state (ca_admin.c) ---- */
#define CA_EAB_HMAC_BYTES 32

/* A new External Account Binding key for CA ca_name (NULL: the only CA):
 * a random key id (kid_out) and HMAC-SHA256 key (hmac_out, base64url in the
 * returned string for the user), sealed in the store by the keystore.
 * Accounts bound with it belong to member_tenant and may only get names
 * matching allow (array of "*.corp.example", "host.example", "10.0.0.0/8"
 * patterns; NULL: any). Audited. *hmac_b64 is freed with free(). */
aclm_status ca_eab_create(struct inventory *inv, const char *ca_name, int64_t member_tenant,
			  const json_t *allow, char kid_out[STORE_CA_ID_MAX], char **hmac_b64,
			  struct aclm_err *err);

/* Issued certificates of the CA as a JSON array of {serial, key_type,
 * account, order, cert_id, not_before, not_after, profile, status
 * (valid|revoked|expired), revoked_at, reason, replaced_by}. */
aclm_status ca_certs_json(struct inventory *inv, const char *ca_name, json_t **out,
			  struct aclm_err *err);

/* Revokes an issued certificate by serial (hex, colons allowed) with an
 * RFC 5280 reason code; audited. Unknown -> ACLM_ERR_NOTFOUND, already
 * revoked -> ACLM_ERR_EXISTS. */
aclm_status ca_revoke_serial(struct inventory *inv, const char *ca_name, const char *serial,
			     int reason, struct aclm_err *err);

/* The current CRL of the CA's key_type intermediate as PEM appended to out. */
aclm_status ca_crl_pem(struct inventory *inv, const char *ca_name, const char *key_type,
		       struct aclm_buf *out, struct aclm_err *err);

/* ---- the ACME server (`aclm ca serve`; RFC 8555, RFC 8738, RFC 8737,
 * RFC 9773) ---- */
#define CA_PROFILE_NAME_MAX 32
struct ca_profile {
	char name[CA_PROFILE_NAME_MAX];
	int64_t lifetime_s;
	bool encryption;           /* "sm2-enc": an SM2 encryption certificate (TLCP) */
	const char *description;
};

/* classic 90 days, tlsserver 45 days, shortlived 160 hours, sm2-enc. */
extern const struct ca_profile ca_default_profiles[];
extern const size_t ca_default_profiles_n;

struct ca_serve_opts {
	const char *store_url;     /* each worker opens its own connection */
	const struct store_options *store_opt;
	const char *home;
	int64_t tenant_id;         /* the CA's tenant */
	const char *name;          /* CA name; NULL: the tenant's only CA */
	const char *listen;        /* "ADDR:PORT", "[V6]:PORT" */
	const char *tls_cert, *tls_key; /* NULL: a serving certificate from the CA itself */
	int http01_port, tlsalpn01_port; /* where the VA connects (80, 443) */
	const char *dns_server;    /* "HOST:PORT" for the VA; NULL: the system's */
	bool eab_required;
	const struct ca_profile *profiles; /* NULL: classic, tlsserver, shortlived, sm2-enc */
	size_t nprofiles;
	const char *default_profile; /* NULL: "classic" */
	const char *terms_of_service; /* URL or NULL */
	json_t *caa_identities;    /* borrowed; NULL: ["aclm.invalid"]-like default from the name */
	int workers;               /* HTTP threads; 0: 4 */
	int va_workers;            /* validation threads; 0: 8 */
	int64_t authz_reuse_s;     /* reuse valid authorizations this long; 0: never */
	int limit_orders;          /* new orders per account per minute; 0: no limit */
	int limit_accounts;        /* new accounts per IP per minute; 0: no limit */
	/* Called once the directory answers (from the main thread). */
	void (*ready)(const char *directory_url, void *arg);
	void *ready_arg;
};

/* The certificate aclm's servers present when given no files (ca/ca_tls.c):
 * a fresh P-256 key in memory only, SANs from ca_serving_names(listen),
 * valid `days`, signed by the first non-SM2 intermediate of the CA `name`
 * (NULL: the tenant's only CA); *chain is that intermediate (the caller
 * frees cert, key and chain). A CA with SM2 keys only -> ACLM_ERR_NOTFOUND. */
aclm_status ca_serving_cert(struct inventory *inv, const char *name, const char *listen, int days,
			    X509 **cert, EVP_PKEY **key, X509 **chain, struct aclm_err *err);
/* SANs of such a certificate, as ACME identifiers: localhost, 127.0.0.1,
 * ::1, and the host of listen ("ADDR:PORT") when it is another specific
 * address. */
json_t *ca_serving_names(const char *listen);

/* Serves until SIGINT or SIGTERM (blocked in every thread; the calling
 * thread waits for them). Challenges left processing by a previous run are
 * validated again at start. */
aclm_status ca_serve(const struct ca_serve_opts *o, struct aclm_err *err);

/* The same ACME server inside another HTTPS server (`aclm serve` hosts it
 * at /acme/ beside the API): everything ca_serve sets up but the socket,
 * TLS and the signal wait. o->listen is the outer server's address (the
 * URLs in directories, CRL distribution points and CAA checks use it); o
 * must outlive the handle; tls_cert, tls_key, workers and ready are
 * unused. The outer server has nworkers threads; thread i hands its /acme/
 * requests to ca_embedded_handle(e, i, req), never concurrently for one i. */
struct ca_embedded;
struct evhttp_request;
aclm_status ca_embedded_start(const struct ca_serve_opts *o, int nworkers, struct ca_embedded **out,
			      struct aclm_err *err);
void ca_embedded_handle(struct ca_embedded *e, int worker, struct evhttp_request *req);
/* After the outer server stopped; NULL is fine. */
void ca_embedded_stop(struct ca_embedded *e);

#endif
