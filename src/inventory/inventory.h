/* inventory/: the certificate inventory on top of store/, crypto/ and
 * keystore/: importing files, the JSON contract (docs/JSON.md), resolving
 * ids and fingerprints, chains and summaries. Shared by the CLI now and by
 * the REST API, the ACME client and the scanner later. */
#ifndef ACLM_INVENTORY_H
#define ACLM_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/status.h"
#include "keystore/keystore.h"
#include "store/store.h"

struct inventory {
	struct store *store;
	struct keystore *ks;
	int64_t tenant_id;
	const char *tenant;        /* name, for output */
	const char *actor;         /* audit actor, e.g. "cli:root" */
	size_t max_file_bytes;     /* cap on one imported file */
};

struct inventory_import_opts {
	const char *password;      /* PKCS#12 / encrypted PEM; may be NULL */
	json_t *tags;              /* object string -> string, merged into each row; may be NULL */
	const char *owner;         /* may be NULL */
	const char *source;        /* "import" when NULL */
};

enum inventory_file_status {
	INVENTORY_FILE_ADDED = 0,  /* at least one certificate or key was new */
	INVENTORY_FILE_PRESENT,    /* everything was already there */
	INVENTORY_FILE_FAILED,     /* nothing changed; err says why */
	INVENTORY_FILE_SKIPPED     /* inside a directory: not a certificate file */
};
const char *inventory_file_status_name(enum inventory_file_status s);

struct inventory_file_result {
	const char *path;
	enum inventory_file_status status;
	int added, present, keys;
	json_t *certs;             /* [{id, fingerprint_sha256, status}] */
	struct aclm_err err;
};

typedef void (*inventory_import_cb)(const struct inventory_file_result *r, void *arg);

/* Imports a file, or every file under a directory (recursively, sorted),
 * one transaction per file; cb receives each file's result. Returns ACLM_OK
 * when no file failed, else the first failure's status. */
aclm_status inventory_import_path(struct inventory *inv, const char *path,
				  const struct inventory_import_opts *opts, inventory_import_cb cb,
				  void *arg);
/* Imports one buffer named `name` in one transaction; fills r (caller frees
 * r->certs with json_decref). */
aclm_status inventory_import_data(struct inventory *inv, const unsigned char *data, size_t len,
				  const char *name, const struct inventory_import_opts *opts,
				  struct inventory_file_result *r);

/* Adds one parsed certificate inside the caller's transaction (no
 * begin/commit, no audit event: the caller records what it did); *id is
 * its row, existing or new. For the CA, which commits the certificate with
 * its own rows in one transaction. */
aclm_status inventory_add_cert(struct inventory *inv, X509 *cert,
			       const struct inventory_import_opts *opts, int64_t *id,
			       struct aclm_err *err);
/* The certificate object of docs/JSON.md; days_left relative to now. */
json_t *inventory_cert_json(const struct inventory *inv, const struct store_cert *c, int64_t now);

/* The same object as compact JSON text, appended to out: byte for byte
 * what json_dumps(inventory_cert_json(), JSON_COMPACT) writes. Rows of a
 * stored_json listing (c->text) copy the store's JSON text when it is in the
 * form the store writes, without parsing it; other rows are built as
 * inventory_cert_json builds them. */
aclm_status inventory_cert_json_write(const struct inventory *inv, const struct store_cert *c,
				      int64_t now, struct aclm_buf *out, struct aclm_err *err);

/* ID or a fingerprint prefix of >= 8 hex digits (colons allowed) -> id. */
aclm_status inventory_resolve(struct inventory *inv, const char *ref, int64_t *id,
			      struct aclm_err *err);

/* The certificate and the issuers the inventory knows, leaf first, without
 * a self-signed root. Free with sk_X509_pop_free(chain, X509_free). */
aclm_status inventory_chain(struct inventory *inv, int64_t id, STACK_OF(X509) **out,
			    struct aclm_err *err);

/* The summary report as JSON (docs/CLI.md, report summary). */
aclm_status inventory_summary(struct inventory *inv, int64_t now, json_t **out,
			      struct aclm_err *err);

/* Appends an audit event by inv->actor; detail is borrowed. */
aclm_status inventory_audit(struct inventory *inv, const char *action, const char *object,
			    json_t *detail, struct aclm_err *err);

#endif
