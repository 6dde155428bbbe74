/* store/: persistence behind one ops table. SQLite is the embedded default;
 * PostgreSQL will be one more file implementing struct store_ops. Callers use
 * only the store_* functions below, never a backend directly.
 *
 * Every tenant-owned row carries its tenant and every call that touches one
 * takes the tenant id: there is no query without a tenant. */
#ifndef ACLM_STORE_H
#define ACLM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/status.h"

struct store;

/* ---- certificates ---- */

/* A row's JSON columns as the store wrote them (compact, keys sorted),
 * for listings that only print rows (store_cert_filter.stored_json). The
 * text is borrowed and valid until the row callback returns. */
struct store_cert_text {
	const char *facts, *sources, *tags;
	size_t facts_len, sources_len, tags_len;
	const char *spki_sha256;   /* facts' spki_sha256, or NULL */
	/* For a row without key_id, looked up with it (keys_checked): a stored
	 * key with that public key (the smallest id), or NULL when none. */
	bool keys_checked;
	const char *key_by_spki;
};

/* One inventory row. Strings and JSON are owned by the struct
 * (store_cert_free) when returned by the store; on insert they are borrowed. */
struct store_cert {
	int64_t id;
	int64_t tenant_id;
	char fingerprint[65];      /* SHA-256 of the DER, lowercase hex */
	json_t *facts;             /* crypto_cert_facts() object */
	int64_t not_before, not_after;
	unsigned char *der;
	size_t der_len;
	char *key_id;              /* keystore id of its private key, or NULL */
	char *source;              /* how it first arrived: import|acme|ca|scan|manual */
	json_t *sources;           /* array of every source seen */
	char *owner;               /* free text or NULL */
	json_t *tags;              /* object string -> string */
	char issuer_fingerprint[65]; /* "" when the issuer is not in the inventory */
	int64_t created_at, updated_at;
	/* Set only in a stored_json listing, whose rows are borrowed (never
	 * passed to store_cert_free): facts, sources and tags are NULL and the
	 * DER is not read. */
	const struct store_cert_text *text;
};

void store_cert_free(struct store_cert *c);

/* Filters of `cert list`; zero/NULL fields do not filter. */
struct store_cert_filter {
	int64_t tenant_id;
	int64_t now;               /* reference time for expiry filters */
	int64_t expiring_within;   /* > 0: now <= not_after <= now + this many seconds */
	bool expired;              /* not_after < now */
	const char *issuer;        /* substring of the issuer DN, case-insensitive */
	const char *key_type;      /* rsa|ec|sm2|ed25519 */
	const char *search;        /* substring of CN, SANs, subject or fingerprint */
	int64_t after_id;          /* cursor: only ids > after_id (ordered by id) */
	int64_t limit;             /* 0: no limit */
	bool by_expiry;            /* order by not_after, id instead of id */
	/* A by_expiry cursor (the REST API's pages): only rows with
	 * (not_after, id) > (after_not_after, after_id). */
	bool after_expiry;
	int64_t after_not_after;
	/* Rows with c->text instead of parsed JSON and DER (a backend may
	 * ignore this and send full rows): lists that only print their rows. */
	bool stored_json;
};

/* Called once per row; the row is freed after the callback returns. A
 * non-OK return stops the listing and is returned by store_cert_list. */
typedef aclm_status (*store_cert_cb)(const struct store_cert *c, void *arg);

/* Counts for `report summary`. */
struct store_summary_bucket {
	char *name;
	int64_t count;
};
struct store_summary {
	int64_t total;
	int64_t expired, lt7, lt30, lt90, later;       /* by days left */
	struct store_summary_bucket *by_issuer;        /* top 50, largest first */
	size_t n_issuer;
	struct store_summary_bucket *by_key_type;      /* "rsa 2048", "ec P-256", "sm2" */
	size_t n_key_type;
	struct store_summary_bucket *by_sig_alg;
	size_t n_sig_alg;
};
void store_summary_free(struct store_summary *s);

/* ---- keys (sealed by keystore/, opaque to the store) ---- */
struct store_key {
	int64_t tenant_id;
	char id[64];
	char type[16];             /* key type name, e.g. "p256", "rsa2048", "sm2" */
	char spki_sha256[65];
	unsigned char *sealed;
	size_t sealed_len;
	int64_t created_at;
};
void store_key_free(struct store_key *k);

/* ---- audit log (append-only, hash-chained) ---- */
struct store_audit_event {
	int64_t tenant_id;
	const char *actor;         /* "cli:root", "api:token-id" */
	const char *action;        /* "cert.import", "key.export", ... */
	const char *object;        /* id or path the action touched */
	json_t *detail;            /* borrowed; may be NULL */
};
/* One audit row as listed (strings live until the callback returns). */
struct store_audit_row {
	int64_t id, at, tenant_id;
	const char *actor, *action, *object;
	const char *detail;        /* compact JSON or NULL */
	const char *hash;
};
typedef aclm_status (*store_audit_cb)(const struct store_audit_row *r, void *arg);

/* ---- ACME accounts (client side: accounts aclm holds at ACME servers) ---- */
struct store_acme_account {
	int64_t id;
	int64_t tenant_id;
	char *server;              /* directory URL */
	char *key_id;              /* keystore id of the account key */
	char *url;                 /* account URL ("kid") once registered, else NULL */
	json_t *contact;           /* array of "mailto:..." */
	char *status;              /* "valid", "deactivated", "revoked" */
	int64_t created_at, updated_at;
};
void store_acme_account_free(struct store_acme_account *a);
typedef aclm_status (*store_acme_account_cb)(const struct store_acme_account *a, void *arg);

/* ---- lineages: what to renew, and the order in flight ---- */
struct store_lineage {
	int64_t id;
	int64_t tenant_id;
	char *name;                /* e.g. "example.com", "example.com-sm2" */
	char *server;              /* directory URL */
	int64_t account_id;        /* store_acme_account id */
	json_t *names;             /* array of identifiers: DNS names and IP addresses */
	char *key_type;            /* crypto key type name, e.g. "p256", "sm2" */
	json_t *options;           /* object: challenge, solver options, hooks, profile, ... */
	int64_t cert_id;           /* current certificate in the inventory, or 0 */
	char *order_url;           /* order in flight (resume after a crash), or NULL */
	char *order_state;         /* last step stored for it, or NULL */
	char *ari_id;              /* RFC 9773 certificate identifier of cert_id, or NULL */
	int64_t next_check;        /* do not ask the CA before this (Retry-After), or 0 */
	int64_t created_at, updated_at;
	char *lock_owner;          /* read only (lineage_lock sets it): holder, or NULL */
	int64_t lock_until;        /* read only */
};
void store_lineage_free(struct store_lineage *l);
typedef aclm_status (*store_lineage_cb)(const struct store_lineage *l, void *arg);

/* ---- the built-in CA: one row per (tenant, name, key type) ---- */
struct store_ca {
	int64_t id;
	int64_t tenant_id;
	char *name;
	char *key_type;            /* crypto key type name: "p256", "rsa3072", "sm2", ... */
	int64_t root_cert_id, intermediate_cert_id;   /* inventory rows */
	char *root_key_id;         /* keystore id; the key is gone when offline_root */
	char *intermediate_key_id;
	bool offline_root;         /* the root key lives only in an exported file */
	int64_t created_at;
};
void store_ca_free(struct store_ca *ca);
typedef aclm_status (*store_ca_cb)(const struct store_ca *ca, void *arg);

/* ---- the built-in CA's ACME server (ca/server): accounts, orders,
 * authorizations, issued certificates, EAB keys. Every row belongs to the
 * tenant that owns the CA (tenant_id) and to one CA name; ids are random
 * base64url strings (they appear in URLs, so they are unguessable). ---- */
#define STORE_CA_ID_MAX 48         /* random ids: 22 base64url chars; kids up to 43 */

struct store_ca_account {
	char id[STORE_CA_ID_MAX];
	int64_t tenant_id;         /* the CA's tenant */
	char *ca_name;
	int64_t member_tenant;     /* tenant its certificates are filed under */
	char thumbprint[44];       /* RFC 7638 of jwk; unique per (tenant, ca_name) */
	json_t *jwk;               /* public key */
	json_t *contact;           /* array of "mailto:..." (may be empty) */
	char *status;              /* "valid", "deactivated", "revoked" */
	char *eab_kid;             /* the EAB key it was bound with, or NULL */
	json_t *allow;             /* array of name patterns (from the EAB key), or NULL: any */
	int64_t created_at, updated_at;
};
void store_ca_account_free(struct store_ca_account *a);

struct store_ca_order {
	char id[STORE_CA_ID_MAX];
	int64_t tenant_id;
	char *ca_name;
	char *account_id;
	char *status;              /* pending|ready|processing|valid|invalid (RFC 8555 §7.1.6) */
	json_t *identifiers;       /* [{"type":"dns"|"ip","value":...}] */
	json_t *authz_ids;         /* array of authorization ids, same order */
	char *profile;             /* or NULL */
	int64_t not_before, not_after; /* requested (0: none) */
	int64_t expires;
	json_t *error;             /* problem document or NULL */
	char *cert_serial;         /* once valid */
	char *replaces;            /* RFC 9773 certificate identifier, or NULL */
	int64_t created_at, updated_at;
};
void store_ca_order_free(struct store_ca_order *o);

struct store_ca_authz {
	char id[STORE_CA_ID_MAX];
	int64_t tenant_id;
	char *ca_name;
	char *account_id;
	char *ident_type;          /* "dns" | "ip" */
	char *ident_value;         /* without "*." */
	bool wildcard;
	char *status;              /* pending|valid|invalid|deactivated|expired|revoked */
	int64_t expires;
	json_t *challenges;        /* [{"type","token","status","validated"?,"error"?}] */
	bool va_pending;           /* a challenge is being validated (re-queued at start) */
	int64_t created_at, updated_at;
};
void store_ca_authz_free(struct store_ca_authz *a);
typedef aclm_status (*store_ca_authz_cb)(const struct store_ca_authz *a, void *arg);

struct store_ca_issued {
	char serial[41];           /* lowercase hex, as in the certificate */
	int64_t tenant_id;
	char *ca_name;
	char *key_type;            /* the intermediate that signed it ("p256", "sm2", ...) */
	char *account_id;
	char *order_id;
	int64_t cert_id;           /* inventory row (in the account's member tenant), or 0 */
	unsigned char *der;
	size_t der_len;
	int64_t not_before, not_after;
	char *profile;             /* or NULL */
	bool revoked;
	int64_t revoked_at;
	int reason;                /* RFC 5280 CRLReason code when revoked */
	char *replaced_by;         /* order id that named it in "replaces", or NULL */
	int64_t created_at;
};
void store_ca_issued_free(struct store_ca_issued *c);
typedef aclm_status (*store_ca_issued_cb)(const struct store_ca_issued *c, void *arg);

struct store_ca_eab {
	char kid[STORE_CA_ID_MAX];
	int64_t tenant_id;
	char *ca_name;
	int64_t member_tenant;     /* accounts bound with it belong to this tenant */
	unsigned char *hmac_sealed; /* sealed by the keystore (keystore_secret_seal) */
	size_t hmac_sealed_len;
	json_t *allow;             /* array of patterns or NULL */
	char *account_id;          /* bound account, or NULL while unused */
	int64_t created_at;
};
void store_ca_eab_free(struct store_ca_eab *e);

/* ---- the backend interface ---- */
/* Areas added after the inventory and the CA keep their rows, their ops
 * table and their store_* calls in a header of their own (store_auth.h,
 * store_sched.h, store_notify.h, store_scan.h, store_deploy.h); the
 * backend's ops table points at one table per area. */
struct store_auth_ops;
struct store_sched_ops;
struct store_notify_ops;
struct store_scan_ops;
struct store_deploy_ops;

#define STORE_CAP_BACKUP 0x1u  /* online consistent copy to a file */

struct store_options {
	const char *home;          /* state directory; relative sqlite paths live here */
	long busy_timeout_ms;
	long cache_kib;            /* page cache per connection; 0 = 16 MiB */
	bool durable;              /* fsync every commit (SQLite synchronous=FULL) */
};

struct store_ops {
	const char *scheme;        /* URL scheme: "sqlite" */
	unsigned caps;
	aclm_status (*open)(const char *target, const struct store_options *opt, void **state,
			    struct aclm_err *err);
	void (*close)(void *state);
	aclm_status (*begin)(void *state, struct aclm_err *err);
	aclm_status (*commit)(void *state, struct aclm_err *err);
	void (*rollback)(void *state);

	aclm_status (*tenant_ensure)(void *state, const char *name, int64_t *id, struct aclm_err *err);
	aclm_status (*tenant_find)(void *state, const char *name, int64_t *id, struct aclm_err *err);

	aclm_status (*cert_insert)(void *state, const struct store_cert *c, int64_t *id, bool *created,
				   struct aclm_err *err);
	aclm_status (*cert_get)(void *state, int64_t tenant, int64_t id, struct store_cert **out,
				struct aclm_err *err);
	aclm_status (*cert_find_fingerprint)(void *state, int64_t tenant, const char *prefix,
					     int64_t *id, struct aclm_err *err);
	aclm_status (*cert_update)(void *state, const struct store_cert *c, struct aclm_err *err);
	aclm_status (*cert_delete)(void *state, int64_t tenant, int64_t id, struct aclm_err *err);
	aclm_status (*cert_list)(void *state, const struct store_cert_filter *f, store_cert_cb cb,
				 void *arg, struct aclm_err *err);
	aclm_status (*cert_link_issuers)(void *state, int64_t tenant, int64_t id, struct aclm_err *err);
	aclm_status (*cert_summary)(void *state, int64_t tenant, int64_t now, struct store_summary *out,
				    struct aclm_err *err);

	aclm_status (*key_put)(void *state, const struct store_key *k, struct aclm_err *err);
	aclm_status (*key_get)(void *state, int64_t tenant, const char *id, struct store_key **out,
			       struct aclm_err *err);
	aclm_status (*key_delete)(void *state, int64_t tenant, const char *id, struct aclm_err *err);

	aclm_status (*audit_last_hash)(void *state, char out[65], struct aclm_err *err);
	aclm_status (*audit_insert)(void *state, const struct store_audit_event *e, int64_t at,
				    const char *detail_json, const char *prev_hash, const char *hash,
				    struct aclm_err *err);
	aclm_status (*audit_verify)(void *state, int64_t *count, struct aclm_err *err);
	aclm_status (*audit_list)(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				  store_audit_cb cb, void *arg, struct aclm_err *err);

	aclm_status (*backup)(void *state, const char *path, struct aclm_err *err);
	aclm_status (*set_durable)(void *state, bool durable, struct aclm_err *err);
	aclm_status (*sync)(void *state, struct aclm_err *err);
	aclm_status (*reserve_log)(void *state, struct aclm_err *err);

	aclm_status (*acme_account_put)(void *state, const struct store_acme_account *a, int64_t *id,
					struct aclm_err *err);
	aclm_status (*acme_account_get)(void *state, int64_t tenant, int64_t id,
					struct store_acme_account **out, struct aclm_err *err);
	aclm_status (*acme_account_find)(void *state, int64_t tenant, const char *server,
					 struct store_acme_account **out, struct aclm_err *err);
	aclm_status (*acme_account_list)(void *state, int64_t tenant, store_acme_account_cb cb,
					 void *arg, struct aclm_err *err);
	aclm_status (*acme_account_page)(void *state, int64_t tenant, int64_t after_id,
					 int64_t limit, store_acme_account_cb cb, void *arg,
					 struct aclm_err *err);

	aclm_status (*lineage_put)(void *state, const struct store_lineage *l, int64_t *id,
				   struct aclm_err *err);
	aclm_status (*lineage_get)(void *state, int64_t tenant, const char *name,
				   struct store_lineage **out, struct aclm_err *err);
	aclm_status (*lineage_list)(void *state, int64_t tenant, store_lineage_cb cb, void *arg,
				    struct aclm_err *err);
	aclm_status (*lineage_page)(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				    store_lineage_cb cb, void *arg, struct aclm_err *err);
	aclm_status (*lineage_lock)(void *state, int64_t tenant, const char *name, const char *owner,
				    int64_t until, struct aclm_err *err);
	aclm_status (*lineage_unlock)(void *state, int64_t tenant, const char *name,
				      const char *owner, struct aclm_err *err);

	aclm_status (*ca_put)(void *state, const struct store_ca *ca, int64_t *id,
			      struct aclm_err *err);
	aclm_status (*ca_list)(void *state, int64_t tenant, const char *name, store_ca_cb cb,
			       void *arg, struct aclm_err *err);
	aclm_status (*ca_cross_put)(void *state, int64_t tenant, int64_t ca_id, int64_t cert_id,
				    struct aclm_err *err);
	aclm_status (*ca_cross_list)(void *state, int64_t tenant, int64_t ca_id, int64_t *cert_ids,
				     size_t max, size_t *n, struct aclm_err *err);

	aclm_status (*ca_account_put)(void *state, const struct store_ca_account *a,
				      struct aclm_err *err);
	aclm_status (*ca_account_get)(void *state, int64_t tenant, const char *ca_name,
				      const char *id, struct store_ca_account **out,
				      struct aclm_err *err);
	aclm_status (*ca_account_find)(void *state, int64_t tenant, const char *ca_name,
				       const char *thumbprint, struct store_ca_account **out,
				       struct aclm_err *err);
	aclm_status (*ca_order_put)(void *state, const struct store_ca_order *o,
				    struct aclm_err *err);
	aclm_status (*ca_order_get)(void *state, int64_t tenant, const char *ca_name,
				    const char *id, struct store_ca_order **out, struct aclm_err *err);
	aclm_status (*ca_authz_put)(void *state, const struct store_ca_authz *a,
				    struct aclm_err *err);
	aclm_status (*ca_authz_get)(void *state, int64_t tenant, const char *ca_name,
				    const char *id, struct store_ca_authz **out, struct aclm_err *err);
	aclm_status (*ca_authz_find_valid)(void *state, int64_t tenant, const char *ca_name,
					   const char *account_id, const char *ident_type,
					   const char *ident_value, bool wildcard, int64_t now,
					   int64_t min_expires, struct store_ca_authz **out,
					   struct aclm_err *err);
	aclm_status (*ca_authz_list_va_pending)(void *state, int64_t tenant, const char *ca_name,
						store_ca_authz_cb cb, void *arg,
						struct aclm_err *err);
	aclm_status (*ca_issued_put)(void *state, const struct store_ca_issued *c,
				     struct aclm_err *err);
	aclm_status (*ca_issued_get)(void *state, int64_t tenant, const char *ca_name,
				     const char *serial, struct store_ca_issued **out,
				     struct aclm_err *err);
	aclm_status (*ca_issued_revoke)(void *state, int64_t tenant, const char *ca_name,
					const char *serial, int reason, int64_t at,
					struct aclm_err *err);
	aclm_status (*ca_issued_replace)(void *state, int64_t tenant, const char *ca_name,
					 const char *serial, const char *order_id,
					 struct aclm_err *err);
	aclm_status (*ca_issued_list)(void *state, int64_t tenant, const char *ca_name,
				      const char *key_type, bool revoked_only,
				      store_ca_issued_cb cb, void *arg, struct aclm_err *err);
	aclm_status (*ca_eab_put)(void *state, const struct store_ca_eab *e, struct aclm_err *err);
	aclm_status (*ca_eab_get)(void *state, int64_t tenant, const char *ca_name,
				  const char *kid, struct store_ca_eab **out, struct aclm_err *err);
	aclm_status (*ca_eab_bind)(void *state, int64_t tenant, const char *ca_name,
				   const char *kid, const char *account_id, struct aclm_err *err);

	/* The later areas; NULL when the backend lacks one. */
	const struct store_auth_ops *auth;
	const struct store_sched_ops *sched;
	const struct store_notify_ops *notify;
	const struct store_scan_ops *scan;
	const struct store_deploy_ops *deploy;
};

/* Opens the store named by url ("sqlite:PATH"; a relative PATH is under
 * opt->home) and runs pending migrations. */
aclm_status store_open(const char *url, const struct store_options *opt, struct store **out,
		       struct aclm_err *err);
/* Drops a reference (store_share); the last one closes the store. */
void store_close(struct store *s);

/* Transactions do not nest. */
aclm_status store_begin(struct store *s, struct aclm_err *err);
aclm_status store_commit(struct store *s, struct aclm_err *err);
void store_rollback(struct store *s);

aclm_status store_tenant_ensure(struct store *s, const char *name, int64_t *id, struct aclm_err *err);
/* ACLM_ERR_NOTFOUND when the tenant does not exist. */
aclm_status store_tenant_find(struct store *s, const char *name, int64_t *id, struct aclm_err *err);

/* Inserts c unless (tenant, fingerprint) exists; either way *id is the row
 * and *created says which. Indexed columns (subject, issuer, key type, ...)
 * are taken from c->facts. */
aclm_status store_cert_insert(struct store *s, const struct store_cert *c, int64_t *id,
			      bool *created, struct aclm_err *err);
aclm_status store_cert_get(struct store *s, int64_t tenant, int64_t id, struct store_cert **out,
			   struct aclm_err *err);
/* A unique fingerprint prefix (>= 8 hex digits) -> id; ACLM_ERR_AMBIGUOUS or
 * ACLM_ERR_NOTFOUND otherwise. */
aclm_status store_cert_find_fingerprint(struct store *s, int64_t tenant, const char *prefix,
					int64_t *id, struct aclm_err *err);
/* Updates key_id, sources, owner, tags of the row (c->tenant_id, c->id). */
aclm_status store_cert_update(struct store *s, const struct store_cert *c, struct aclm_err *err);
aclm_status store_cert_delete(struct store *s, int64_t tenant, int64_t id, struct aclm_err *err);
aclm_status store_cert_list(struct store *s, const struct store_cert_filter *f, store_cert_cb cb,
			    void *arg, struct aclm_err *err);
/* Records chain links between row id and the certificates in the same tenant
 * that issued it or that it issued (issuer DN = subject DN, and AKI = SKI when
 * both are present). */
aclm_status store_cert_link_issuers(struct store *s, int64_t tenant, int64_t id,
				    struct aclm_err *err);
aclm_status store_cert_summary(struct store *s, int64_t tenant, int64_t now,
			       struct store_summary *out, struct aclm_err *err);

aclm_status store_key_put(struct store *s, const struct store_key *k, struct aclm_err *err);
aclm_status store_key_get(struct store *s, int64_t tenant, const char *id, struct store_key **out,
			  struct aclm_err *err);
/* ACLM_ERR_NOTFOUND when the tenant holds no such key. */
aclm_status store_key_delete(struct store *s, int64_t tenant, const char *id,
			     struct aclm_err *err);

/* Appends an event: hash = SHA-256 over prev_hash, at, tenant, actor,
 * action, object and detail (compact JSON), each as "LENGTH:BYTES", in the
 * caller's transaction when one is open. */
aclm_status store_audit_append(struct store *s, const struct store_audit_event *e,
			       struct aclm_err *err);
/* Re-computes the hash chain; ACLM_ERR_VERIFY names the first broken row. */
aclm_status store_audit_verify(struct store *s, int64_t *count, struct aclm_err *err);
/* The tenant's audit rows with id > after_id, in id order, at most limit
 * (0: all); a non-OK return of cb stops the listing and is returned. */
aclm_status store_audit_list(struct store *s, int64_t tenant, int64_t after_id, int64_t limit,
			     store_audit_cb cb, void *arg, struct aclm_err *err);

/* From the next transaction on, fsync (or not) at each commit, as
 * store_options.durable; outside a transaction. (The CA server used it per
 * transaction; it now group-commits with store_sync instead.) */
aclm_status store_set_durable(struct store *s, bool durable, struct aclm_err *err);

/* Makes every transaction committed so far, on any connection of this
 * store, survive a power loss: what synchronous=FULL does at each commit,
 * done once for any number of commits (group commit). Call it outside a
 * transaction, after the commits it must cover returned. The CA server
 * commits without a sync, lets the next writer in, then calls this before it
 * answers (ca/wfe_sync.c). SQLite: fdatasync of the -wal file (sqlite.c). */
aclm_status store_sync(struct store *s, struct aclm_err *err);

/* Another reference to an open store, for another thread. Threads sharing a
 * store take turns: each call, and each transaction from store_begin to its
 * commit or rollback, holds the store's lock (other threads' calls wait, so
 * none runs inside another's transaction); store_sync does not. store_close
 * drops one reference and closes the store with the last. Why share: one
 * SQLite connection keeps its page cache, while a connection of its own per
 * thread drops its cache each time another connection commits. */
struct store *store_share(struct store *s);

/* Gives the write-ahead log its full size now, so that later commits
 * overwrite it instead of extending it: for a server that syncs often (the
 * CA's durable commits). Outside a transaction. SQLite: the -wal file filled
 * with zeros up to journal_size_limit (sqlite.c, sqlite_reserve_log). */
aclm_status store_reserve_log(struct store *s, struct aclm_err *err);

/* Consistent online copy to path (SQLite backup API). */
aclm_status store_backup(struct store *s, const char *path, struct aclm_err *err);

/* Inserts a (tenant, server, key_id) account or updates its url, contact,
 * status and updated_at; *id is the row. */
aclm_status store_acme_account_put(struct store *s, const struct store_acme_account *a, int64_t *id,
				   struct aclm_err *err);
aclm_status store_acme_account_get(struct store *s, int64_t tenant, int64_t id,
				   struct store_acme_account **out, struct aclm_err *err);
/* The newest "valid" account of the tenant at server; ACLM_ERR_NOTFOUND if none. */
aclm_status store_acme_account_find(struct store *s, int64_t tenant, const char *server,
				    struct store_acme_account **out, struct aclm_err *err);
aclm_status store_acme_account_list(struct store *s, int64_t tenant, store_acme_account_cb cb,
				    void *arg, struct aclm_err *err);
/* One page of the tenant's accounts in id order (the API's cursor lists):
 * ids above after_id, at most limit rows (limit > 0). */
aclm_status store_acme_account_page(struct store *s, int64_t tenant, int64_t after_id,
				    int64_t limit, store_acme_account_cb cb, void *arg,
				    struct aclm_err *err);

/* Inserts or replaces (by tenant + name) every field of the lineage except
 * the lock; *id is the row. */
aclm_status store_lineage_put(struct store *s, const struct store_lineage *l, int64_t *id,
			      struct aclm_err *err);
aclm_status store_lineage_get(struct store *s, int64_t tenant, const char *name,
			      struct store_lineage **out, struct aclm_err *err);
aclm_status store_lineage_list(struct store *s, int64_t tenant, store_lineage_cb cb, void *arg,
			       struct aclm_err *err);
/* One page of the tenant's lineages in id order (the API's cursor lists):
 * ids above after_id, at most limit rows (limit > 0). */
aclm_status store_lineage_page(struct store *s, int64_t tenant, int64_t after_id, int64_t limit,
			       store_lineage_cb cb, void *arg, struct aclm_err *err);
/* Takes the lineage's lock for owner until `until` (epoch s) when it is free,
 * expired or already owner's; ACLM_ERR_BUSY naming the holder otherwise, so
 * two processes never run an order for one lineage. Atomic (one UPDATE). */
aclm_status store_lineage_lock(struct store *s, int64_t tenant, const char *name, const char *owner,
			       int64_t until, struct aclm_err *err);
aclm_status store_lineage_unlock(struct store *s, int64_t tenant, const char *name,
				 const char *owner, struct aclm_err *err);

/* Inserts a CA row; an existing (tenant, name, key_type) -> ACLM_ERR_EXISTS.
 * Both certificates must be rows of the same tenant. */
aclm_status store_ca_put(struct store *s, const struct store_ca *ca, int64_t *id,
			 struct aclm_err *err);
/* The tenant's CA rows ordered by name, then id; name NULL lists every CA. */
aclm_status store_ca_list(struct store *s, int64_t tenant, const char *name, store_ca_cb cb,
			  void *arg, struct aclm_err *err);
/* Records inventory certificate cert_id as a cross-signed copy of CA row
 * ca_id's intermediate (same subject and key, another issuer: the
 * alternate chains of RFC 8555 §7.4.2). Both rows must be the tenant's;
 * recording the same pair twice is ACLM_ERR_EXISTS. */
aclm_status store_ca_cross_put(struct store *s, int64_t tenant, int64_t ca_id, int64_t cert_id,
			       struct aclm_err *err);
/* The inventory ids of CA row ca_id's cross-signed intermediates, oldest
 * first, at most max of them in cert_ids; *n how many. */
aclm_status store_ca_cross_list(struct store *s, int64_t tenant, int64_t ca_id, int64_t *cert_ids,
				size_t max, size_t *n, struct aclm_err *err);

/* ---- the CA's ACME server state (see struct store_ca_account & co) ----
 * Every call takes the CA's tenant and CA name; rows of another tenant or
 * CA are never seen (ACLM_ERR_NOTFOUND). */

/* Inserts or replaces by (tenant, ca_name, id); a second account with the
 * same thumbprint -> ACLM_ERR_EXISTS. */
aclm_status store_ca_account_put(struct store *s, const struct store_ca_account *a,
				 struct aclm_err *err);
aclm_status store_ca_account_get(struct store *s, int64_t tenant, const char *ca_name,
				 const char *id, struct store_ca_account **out,
				 struct aclm_err *err);
/* By RFC 7638 thumbprint of its current key; ACLM_ERR_NOTFOUND if none. */
aclm_status store_ca_account_find(struct store *s, int64_t tenant, const char *ca_name,
				  const char *thumbprint, struct store_ca_account **out,
				  struct aclm_err *err);
/* Inserts or replaces by (tenant, ca_name, id). */
aclm_status store_ca_order_put(struct store *s, const struct store_ca_order *o,
			       struct aclm_err *err);
aclm_status store_ca_order_get(struct store *s, int64_t tenant, const char *ca_name,
			       const char *id, struct store_ca_order **out, struct aclm_err *err);
/* Inserts or replaces by (tenant, ca_name, id). */
aclm_status store_ca_authz_put(struct store *s, const struct store_ca_authz *a,
			       struct aclm_err *err);
aclm_status store_ca_authz_get(struct store *s, int64_t tenant, const char *ca_name,
			       const char *id, struct store_ca_authz **out, struct aclm_err *err);
/* The account's newest "valid" authorization for the identifier (same
 * wildcard flag) that expires after min_expires and after now (reuse, RFC
 * 8555 §7.1.3); ACLM_ERR_NOTFOUND if none. */
aclm_status store_ca_authz_find_valid(struct store *s, int64_t tenant, const char *ca_name,
				      const char *account_id, const char *ident_type,
				      const char *ident_value, bool wildcard, int64_t now,
				      int64_t min_expires, struct store_ca_authz **out,
				      struct aclm_err *err);
/* Every authorization with va_pending set (to re-queue after a restart). */
aclm_status store_ca_authz_list_va_pending(struct store *s, int64_t tenant, const char *ca_name,
					   store_ca_authz_cb cb, void *arg, struct aclm_err *err);
/* Inserts an issued certificate; an existing serial -> ACLM_ERR_EXISTS. */
aclm_status store_ca_issued_put(struct store *s, const struct store_ca_issued *c,
				struct aclm_err *err);
aclm_status store_ca_issued_get(struct store *s, int64_t tenant, const char *ca_name,
				const char *serial, struct store_ca_issued **out,
				struct aclm_err *err);
/* Marks it revoked with reason at `at`; already revoked -> ACLM_ERR_EXISTS. */
aclm_status store_ca_issued_revoke(struct store *s, int64_t tenant, const char *ca_name,
				   const char *serial, int reason, int64_t at, struct aclm_err *err);
/* Records that order_id replaces it (RFC 9773 §5): atomic; already replaced
 * by another order -> ACLM_ERR_EXISTS; by the same order -> ACLM_OK. */
aclm_status store_ca_issued_replace(struct store *s, int64_t tenant, const char *ca_name,
				    const char *serial, const char *order_id,
				    struct aclm_err *err);
/* Issued certificates ordered by created_at then serial; key_type NULL:
 * every intermediate; revoked_only for CRLs. */
aclm_status store_ca_issued_list(struct store *s, int64_t tenant, const char *ca_name,
				 const char *key_type, bool revoked_only, store_ca_issued_cb cb,
				 void *arg, struct aclm_err *err);
/* Inserts an EAB key; an existing kid -> ACLM_ERR_EXISTS. */
aclm_status store_ca_eab_put(struct store *s, const struct store_ca_eab *e, struct aclm_err *err);
aclm_status store_ca_eab_get(struct store *s, int64_t tenant, const char *ca_name,
			     const char *kid, struct store_ca_eab **out, struct aclm_err *err);
/* Binds the key to account_id when unused (atomic); bound to another
 * account -> ACLM_ERR_EXISTS; to the same one -> ACLM_OK. */
aclm_status store_ca_eab_bind(struct store *s, int64_t tenant, const char *ca_name,
			      const char *kid, const char *account_id, struct aclm_err *err);

/* The registered backends (store.c holds the one list). */
extern const struct store_ops store_sqlite_ops;

#endif
