/* client/: the ACME client (RFC 8555): a connection to one server (directory,
 * nonces, signed requests, problems), accounts, and the order state machine
 * that turns names into an inventory certificate and a certbot-style lineage. */
#ifndef ACLM_CLIENT_H
#define ACLM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "acme/acme.h"
#include "core/status.h"
#include "http/http.h"
#include "inventory/inventory.h"
#include "keystore/keystore.h"
#include "solvers/solver.h"
#include "store/store.h"

#define CLIENT_DEFAULT_SERVER "https://acme-v02.api.letsencrypt.org/directory"

/* Server names users may type instead of a URL. NULL when not a known name. */
const char *client_server_url(const char *name_or_url);

struct client_opts {
	const char *server;        /* directory URL */
	const char *ca_bundle;     /* roots for the server's TLS, NULL = system */
	const char *email;         /* account contact, may be NULL */
	bool agree_tos;
	const char *eab_kid;       /* External Account Binding, may be NULL */
	const unsigned char *eab_key;
	size_t eab_keylen;
	long poll_timeout_s;       /* authorizations and orders; 0 = 120 */
	/* --account-key-type: the key a new account gets (register), or the
	 * one rollover moves to. Not set: P-256 (ES256) for a new account, the
	 * current type for a rollover. An existing account keeps its key:
	 * client_account_ensure refuses one whose key is of another type. */
	bool account_key_type_set;
	enum crypto_key_type account_key_type;
};

/* The JWS algorithm an account key of type t signs with (RFC 7518 §3.1,
 * RFC 8037 §3.1): p256 ES256, p384 ES384, rsa* RS256, ed25519 EdDSA; NULL
 * for SM2 (no JWS algorithm exists) and unknown types. */
const char *client_account_key_alg(enum crypto_key_type t);

struct client_conn;

/* Fetches the directory and prepares signing with the tenant's account key
 * (none yet is fine: client_account_ensure makes one). */
aclm_status client_conn_open(struct inventory *inv, const struct client_opts *opts,
			     struct client_conn **out, struct aclm_err *err);
void client_conn_close(struct client_conn *c);

/* Signed POST (payload NULL = POST-as-GET) with bounded badNonce retries. A
 * problem document becomes an error (acme_problem_to_err) prefixed by what. */
aclm_status client_post(struct client_conn *c, const char *url, const json_t *payload,
			const char *what, struct http_response *resp, struct aclm_err *err);
/* POST-as-GET returning the parsed JSON body. */
aclm_status client_get_json(struct client_conn *c, const char *url, const char *what,
			    json_t **out, struct http_response *resp, struct aclm_err *err);

/* The tenant's valid account at the server: found in the store, or
 * registered now (needs agree_tos when the server has terms). With
 * opts.account_key_type_set, a stored account whose key is of another type
 * is refused (ACLM_ERR_EXISTS naming its type and `account rollover`). */
aclm_status client_account_ensure(struct client_conn *c, struct aclm_err *err);
/* The tenant's valid account at the server from the store; ACLM_ERR_NOTFOUND
 * when there is none (nothing is registered). */
aclm_status client_account_use_existing(struct client_conn *c, struct aclm_err *err);
/* Registers a new account even when one exists, with a new keystore key of
 * opts.account_key_type (default P-256). A server refusing the algorithm
 * (badSignatureAlgorithm) gets an error listing what it accepts. */
aclm_status client_account_register(struct client_conn *c, struct aclm_err *err);
const char *client_account_url(const struct client_conn *c);
/* Keystore id of the key requests are signed with. */
const char *client_account_key_id(const struct client_conn *c);
/* Type of that key (crypto_key_type_of), -1 before an account is used. */
int client_account_key_type(const struct client_conn *c);

/* RFC 8555 §7.3.3: POST-as-GET of the tenant's account at the server (the
 * valid one, else the newest stored row at the server, whatever its status).
 * *out (json_decref) holds "id", "server", "url", "status", "contact",
 * "key_id", "key_type" ("p256", "ed25519", ...), "alg" (its JWS
 * algorithm), "created" (RFC 3339) and "stored_status"; status and contact are
 * the server's answer. ACLM_ERR_NOTFOUND when the store has no account
 * there; the server's refusal (unauthorized: ACLM_ERR_VERIFY) is returned
 * as an error with *out still filled from the store. */
aclm_status client_account_show(struct client_conn *c, json_t **out, struct aclm_err *err);
/* RFC 8555 §7.3.6: deactivates the tenant's valid account at the server and
 * marks its row deactivated; the next client_account_ensure registers a new
 * one. */
aclm_status client_account_deactivate(struct client_conn *c, struct aclm_err *err);
/* RFC 8555 §7.3.5: replaces the account key with a new keystore key of
 * opts.account_key_type (default: the current key's type); the store's
 * valid row for the account then carries the new key_id and later requests
 * are signed with it. */
aclm_status client_account_rollover(struct client_conn *c, struct aclm_err *err);

/* One certificate to obtain. */
struct client_request {
	const char *lineage;       /* name of the lineage */
	const char *const *names;  /* DNS names and IP addresses, normalised */
	size_t nnames;
	enum crypto_key_type key_type;
	const char *challenge;     /* "http-01", "dns-01", "tls-alpn-01" */
	const struct solver_config *solver;
	const char *live_dir;      /* HOME/live */
	/* Run after each issuance, split like shell words, no shell (client/hook.c);
	 * stored with the lineage so renew replays it. NULL: none. */
	const char *deploy_hook;
	/* RFC 8555 §7.4.2: among the default chain and the alternates, the first
	 * whose topmost certificate was issued by this CN (certbot's match);
	 * none matching keeps the default. NULL: the default chain. */
	const char *preferred_chain;
	/* issue --csr: the user's CSR (its key stays with the user; the lineage
	 * gets no privkey.pem). csr_der is sent as is; when NULL, csr_path is
	 * read with client_csr_load (renew). csr_path is stored with the lineage
	 * (absolute). Both NULL: a fresh keystore key of key_type. */
	const char *csr_path;
	const unsigned char *csr_der;
	size_t csr_len;
	/* A solver the caller started and shares between concurrent orders
	 * (batch); NULL: client_issue starts and stops its own. */
	const struct solver_ops *shared_ops;
	void *shared_state;
	/* draft-aaron-acme-profiles: "profile" in newOrder. Refused before any
	 * order when the directory's meta.profiles does not list it; stored
	 * with the lineage. NULL: the server's default. */
	const char *profile;
	/* TLCP (GB/T 38636): after the SM2 signing certificate, a second
	 * certificate for the same names with a fresh SM2 key and the profile
	 * "sm2-enc" (live/LINEAGE/enc-cert.pem, enc-privkey.pem). key_type must
	 * be SM2 and no CSR given; stored with the lineage (renew renews both). */
	bool tlcp;
};

struct client_result {
	int64_t cert_id;
	char lineage_dir[1024];
	char fingerprint[65];
	char not_after[32];
	/* Set with a failed deploy hook: the certificate above is issued and
	 * stored all the same; client_issue's error says what the hook did. */
	bool deploy_hook_failed;
	/* RFC 9773 §5: the certificate identifier the new order named in
	 * "replaces"; "" when none (or the CA answered alreadyReplaced). */
	char replaced[160];
	/* req->tlcp: the encryption certificate; enc_cert_id 0 otherwise. */
	int64_t enc_cert_id;
	char enc_fingerprint[65];
	char enc_not_after[32];
};

/* Runs an order for req to the end: identifiers, authorizations solved with
 * the configured solver, CSR from a fresh keystore key (or req's CSR), finalize, download,
 * inventory import (source acme), lineage files (0600 key), lineage row. The
 * lineage is locked in the store for the duration. Then req->deploy_hook, if
 * any, runs (unlocked); when it fails, res is filled, res->deploy_hook_failed
 * is set and the error is the hook's. */
aclm_status client_issue(struct client_conn *c, const struct client_request *req,
			 struct client_result *res, struct aclm_err *err);

/* RFC 8555 §7.6: revokes cert with the account key, or with the
 * certificate's own key (from the keystore) when the tenant has no account
 * at the server. reason is an RFC 5280 CRLReason code. */
aclm_status client_revoke(struct client_conn *c, X509 *cert, int reason, struct aclm_err *err);
/* "keyCompromise" -> 1 ...; -1 when not a reason ACME accepts. */
int client_revocation_reason(const char *name);

/* Renewal schedule without ARI (issue 3): due when 1/3 of the lifetime is
 * left, 1/2 for lifetimes of 10 days or less. Returns true when due at now;
 * *due_at (may be NULL) receives the moment it becomes due. */
bool client_renewal_due(int64_t not_before, int64_t not_after, int64_t now, int64_t *due_at);

/* draft-aaron-acme-profiles: ACLM_OK when the server's directory lists
 * profile in meta.profiles; else ACLM_ERR_UNSUPPORTED naming the offered
 * ones ("profile \"x\" is not offered by URL (offered: a, b)"). */
aclm_status client_profile_check(const struct client_conn *c, const char *profile,
				 struct aclm_err *err);

/* ---- ACME Renewal Information (RFC 9773, client/renewal.c) ----
 * The lineage row keeps the current certificate's identifier (ari_id) and
 * next_check, the earliest time to ask the CA again (Retry-After). The
 * window last received and the time chosen in it live in the lineage
 * options as "ari": {"start", "end", "renew_at" (epoch s),
 * "explanation_url"?}, so repeated runs keep the chosen time instead of
 * drawing a new one; a new certificate (or its revocation by aclm) drops
 * them. */
#define CLIENT_ARI_MIN_RETRY 60             /* s: Retry-After below this is raised */
#define CLIENT_ARI_MAX_RETRY (6 * 3600)     /* s: and above this lowered; the default */

struct client_ari_window {
	int64_t start, end;        /* suggestedWindow (RFC 9773 §4.2) */
	char explanation_url[256]; /* "" when absent (or too long to keep) */
	int64_t retry_after;       /* seconds from the answer's header, -1 when absent */
};
/* A renewalInfo answer (untrusted): {"suggestedWindow": {"start", "end"},
 * "explanationURL"?}; RFC 3339 times, end not before start; anything else
 * -> ACLM_ERR_PARSE. */
aclm_status client_ari_parse(const char *body, size_t len, struct client_ari_window *out,
			     struct aclm_err *err);
/* RFC 9773 §4.1: unauthenticated GET of renewalInfo/ARI_ID. No renewalInfo
 * in the directory -> ACLM_ERR_UNSUPPORTED; an HTTP error (404 for a
 * certificate the CA does not know) -> ACLM_ERR_IO naming the status. */
aclm_status client_ari_fetch(struct client_conn *c, const char *ari_id,
			     struct client_ari_window *out, struct aclm_err *err);
/* A uniformly distributed time in [start, end] from the random value rnd
 * (RFC 9773 §4.2); start when end <= start. */
int64_t client_ari_pick(int64_t start, int64_t end, uint64_t rnd);

/* The time chosen in a window, kept between runs. */
struct client_ari_choice {
	int64_t start, end;        /* the window it was chosen in (0, 0: none) */
	int64_t renew_at;
};
/* RFC 9773 §4.2 for a window just received: the same window keeps the
 * time chosen before (runs do not re-roll); another window gets a new
 * uniform time from rnd; a window that has ended (end <= now) means renew
 * now (renew_at = now: the CA wants the certificate replaced, e.g.
 * revoked). */
void client_ari_choose(struct client_ari_choice *ch, int64_t start, int64_t end, int64_t now,
		       uint64_t rnd);
/* When to ask again: now + Retry-After within [CLIENT_ARI_MIN_RETRY,
 * CLIENT_ARI_MAX_RETRY]; CLIENT_ARI_MAX_RETRY when absent (< 0). */
int64_t client_ari_next_check(int64_t now, int64_t retry_after);

/* True when renew should ask the CA about lineage l now: it has an ari_id
 * and now >= next_check, or no window is kept yet. */
bool client_ari_should_ask(const struct store_lineage *l, int64_t now);
/* Asks the CA (client_ari_fetch) about the lineage's certificate and keeps
 * the answer on its row: options "ari" (client_ari_choose, random draw from
 * the OpenSSL RNG) and next_check. A lineage without ari_id: nothing. */
aclm_status client_ari_refresh(struct client_conn *c, const char *lineage, int64_t now,
			       struct aclm_err *err);

/* What renew decides for a lineage. */
struct client_renewal {
	bool due;
	int64_t due_at;            /* when it became or becomes due */
	bool by_ari;               /* decided by the CA's window */
	char why[512];             /* "due since T (ARI window S – E), N days left", ... */
};
/* Decides from what l keeps (no I/O): the time chosen in the ARI window
 * when l has an ari_id, a kept window and ari_error is NULL; else the
 * lifetime rule of client_renewal_due, the reason saying why ARI was not
 * used (ari_error: the failure to report). A window whose time lies after
 * not_after is ignored (lifetime rule). A TLCP lineage without its
 * encryption certificate (or whose encryption certificate aclm revoked)
 * is due. */
void client_renewal_decide(const struct store_lineage *l, int64_t not_before, int64_t not_after,
			   int64_t now, const char *ari_error, struct client_renewal *out);

/* ---- renewing one lineage (client/renew_one.c): `aclm renew` and the
 * scheduler's renew jobs ---- */
/* The connection to l's server with the trust and contact stored with it;
 * opened into *conn when still NULL (the caller closes it). */
aclm_status client_renew_conn(struct inventory *inv, const struct store_lineage *l,
			      struct client_conn **conn, struct aclm_err *err);
/* Whether l is due now, as `aclm renew` says it: no certificate yet,
 * forced, or client_renewal_decide after asking the CA for ARI when it is
 * time (opening *conn then). */
void client_renew_due(struct inventory *inv, const struct store_lineage *l, bool force,
		      struct client_conn **conn, struct client_renewal *out);
/* Renews l now, replaying what `aclm issue` stored with it (server, names,
 * key type, challenge and solver options, profile, TLCP, deploy hook) into
 * HOME/live; res as client_issue fills it. */
aclm_status client_renew_one(struct inventory *inv, const char *home,
			     const struct store_lineage *l, struct client_conn **conn,
			     struct client_result *res, struct aclm_err *err);

/* ---- batches: many orders at once (issue --batch) ---- */
struct client_batch_job {
	char *lineage;
	char **names;
	size_t nnames;
	enum crypto_key_type key_type;
	char *challenge;
	char *profile;             /* profile= of the line, or NULL (client_batch.profile) */
	bool tlcp;                 /* tlcp=yes on the line: this SM2 job is a TLCP pair */
	aclm_status status;        /* filled by the run */
	struct client_result res;
	struct aclm_err err;
};

struct client_batch {
	/* how each worker opens its own store connection and keystore */
	const char *db_url;
	struct store_options store_opts;
	const char *home;
	const char *tenant;
	const char *actor;
	size_t max_file_bytes;
	struct client_opts co;
	const struct solver_config *solver;
	const char *deploy_hook;   /* run after each job's issuance, may be NULL */
	const char *preferred_chain; /* client_request.preferred_chain, may be NULL */
	const char *profile;       /* for jobs without profile=, may be NULL */
	struct client_batch_job *jobs;
	size_t njobs;
	int concurrency;
	/* called (serialised) as each job ends */
	void (*done)(const struct client_batch_job *job, void *arg);
	void *arg;
};

/* Runs the jobs on `concurrency` threads, each with its own store
 * connection, keystore and HTTP connection; one solver per challenge type is
 * shared. The account is ensured once before the workers start, and every
 * job's profile is checked against the directory then (one not offered
 * fails the batch before any order). Returns ACLM_OK when every job
 * succeeded. */
aclm_status client_batch_run(struct client_batch *b, struct aclm_err *err);
void client_batch_job_free(struct client_batch_job *job);
/* A batch file's text (batch_file.c; untrusted, modified in place) into jobs
 * for client_batch_run: per line, names plus name=, key-type=, challenge=
 * overriding the defaults key_types ("p256,rsa2048") and challenge,
 * profile= (checked against the directory by client_batch_run) and
 * tlcp=yes|no (the line's SM2 key type becomes a TLCP pair); '#'
 * starts a comment. Errors name NAME:LINE. On success the caller frees each
 * job with client_batch_job_free, then *jobs. */
aclm_status client_batch_parse_text(const char *name, char *text, const char *key_types,
				    const char *challenge, struct client_batch_job **jobs,
				    size_t *njobs, struct aclm_err *err);

/* A CSR the user brings (issue --csr, client/csr.c). */
struct client_csr {
	unsigned char *der;
	size_t len;
	char **names;              /* subjectAltName DNS names and IPs, normalised */
	size_t nnames;
	enum crypto_key_type key_type; /* closest match of the CSR's key, for display */
};
/* Reads a PEM or DER CSR from path, checks its signature and takes its names
 * (ACLM_ERR_INVALID when it has none). Free with client_csr_free. */
aclm_status client_csr_load(const char *path, struct client_csr *out, struct aclm_err *err);
void client_csr_free(struct client_csr *c);

/* Identifier checks and normalisation (IDNs to punycode, IDNA2008 with UTS#46
 * non-transitional mapping; (lowercase, no trailing dot; IPs in
 * canonical form); ACLM_ERR_INVALID naming the bad name. *out is malloc'd. */
aclm_status client_normalise_name(const char *in, char **out, bool *is_ip, struct aclm_err *err);
/* True for an IPv4 or IPv6 address (an "ip" identifier, RFC 8738). */
bool client_name_is_ip(const char *name);
/* A lineage name becomes a directory under live/: one path component (no
 * '/', not "." or ".."), printable, at most 200 bytes. */
bool client_lineage_name_ok(const char *name);
/* LINEAGE default: first name without "*.", ':' -> '-'. */
void client_default_lineage(const char *first, char *out, size_t outlen);

#endif
