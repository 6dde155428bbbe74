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
 * intermediate_fingerprint, intermediate_key_id, offline_root, created_at};
 * name NULL lists all. */
aclm_status ca_list_json(struct inventory *inv, const char *name, json_t **out,
			 struct aclm_err *err);

/* The CA's roots (every key type) as PEM appended to out. name NULL is
 * allowed when the tenant has exactly one CA (else ACLM_ERR_AMBIGUOUS);
 * an unknown name -> ACLM_ERR_NOTFOUND. */
aclm_status ca_roots_pem(struct inventory *inv, const char *name, struct aclm_buf *out,
			 struct aclm_err *err);

#endif
