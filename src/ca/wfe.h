/* The ACME server's web front end (WFE, as Boulder calls it): shared state,
 * per-thread workers, the request context and the handlers' interface.
 * Internal to ca/ (ca.h has ca_serve). URLs live under BASE/acme/ where
 * BASE is "https://" + the request's Host (as Pebble does), so every name
 * in the serving certificate works. */
#ifndef ACLM_CA_WFE_H
#define ACLM_CA_WFE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "acme/acme.h"
#include "ca/ca.h"
#include "ca/ca_int.h"
#include "keystore/keystore.h"
#include "store/store.h"

struct evhttp_request;
struct event_base;
struct evhttp;

#define WFE_BASE_MAX 300
#define WFE_MAX_IDENTIFIERS 100
#define WFE_ORDER_LIFETIME_S (7 * 86400)
#define WFE_AUTHZ_PENDING_S (7 * 86400)
#define WFE_AUTHZ_VALID_S (30 * 86400)

/* ---- nonces (wfe_nonce.c): RFC 8555 §6.5 ----
 * A nonce is base64url(counter || HMAC-SHA256(key, counter)[0..8]): the
 * tag makes it unpredictable, the counter indexes a bitmap of the last
 * WFE_NONCE_WINDOW issued ones, so a nonce is accepted once, only when
 * recent, in O(1) and bounded memory. A restart changes the key: old nonces
 * get badNonce and clients retry. */
#define WFE_NONCE_WINDOW 65536
#define WFE_NONCE_LEN 22           /* 16 bytes in base64url */
struct wfe_nonces {
	pthread_mutex_t lock;
	unsigned char key[32];
	EVP_MAC_CTX *mac;          /* HMAC-SHA256 keyed once; each tag works on a copy */
	uint64_t next;
	unsigned char unused[WFE_NONCE_WINDOW / 8];
};
aclm_status wfe_nonces_init(struct wfe_nonces *n, struct aclm_err *err);
void wfe_nonces_destroy(struct wfe_nonces *n);
void wfe_nonce_new(struct wfe_nonces *n, char out[WFE_NONCE_LEN + 1]);
/* True once for each nonce issued among the last WFE_NONCE_WINDOW. */
bool wfe_nonce_redeem(struct wfe_nonces *n, const char *nonce);

/* ---- rate limits (wfe_limit.c): fixed one-minute windows per key ---- */
#define WFE_LIMIT_SLOTS 4096
struct wfe_limit_slot {
	char key[64];
	int64_t window;            /* minute the count belongs to */
	int count;
};
struct wfe_limits {
	pthread_mutex_t lock;
	struct wfe_limit_slot slots[WFE_LIMIT_SLOTS];
};
void wfe_limits_init(struct wfe_limits *l);
void wfe_limits_destroy(struct wfe_limits *l);
/* Counts one event for key ("order:ACCOUNT", "account:IP") when fewer than
 * max happened this minute: true. Else false and *retry_after (seconds to
 * the next window). max 0: no limit. */
bool wfe_limit_take(struct wfe_limits *l, const char *key, int max, int64_t now,
		    int64_t *retry_after);

/* ---- the validation queue (wfe_va.c) ---- */
struct wfe_va_job {
	struct wfe_va_job *next;
	char authz_id[STORE_CA_ID_MAX];
	char challenge[16];
};
struct wfe_va_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct wfe_va_job *head, *tail;
	bool stopping;
	pthread_t *threads;
	int nthreads;
};

/* ---- group commit (wfe_sync.c) ----
 * A durable transaction (an issued or revoked certificate, an account)
 * commits under synchronous=NORMAL, so its frames are in the WAL but not on
 * disk, and lets the next writer in; its answer waits until a store_sync
 * that began after the commit ended. Concurrent commits share that sync.
 * Commits are numbered (wfe_sync_begin, before COMMIT, under the write lock;
 * wfe_sync_end after it); "synced" is the highest number a finished sync
 * covers. A request that read rows a durable commit wrote (the order, the
 * certificate, the account) may have seen that commit before its sync, on
 * another connection: it waits for the number marked on those rows' key
 * (loaded after its read) before it answers, so no answer reveals a state a
 * power loss could undo. */
#define WFE_SYNC_MARKS 4096
struct wfe_sync {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t reserved;         /* atomic: numbers handed out (from 1) */
	uint64_t committed;        /* under lock: COMMIT returned for 1..committed */
	uint64_t synced;           /* atomic, written under lock: 1..synced are on disk */
	bool syncing;              /* under lock: a waiter runs the sync */
	uint64_t syncs;            /* under lock: syncs done (tests, logs) */
	uint64_t marks[WFE_SYNC_MARKS]; /* atomic: by key hash, the last number that wrote it */
};
typedef aclm_status (*wfe_sync_fn)(void *arg, struct aclm_err *err);
void wfe_sync_init(struct wfe_sync *s);
void wfe_sync_destroy(struct wfe_sync *s);
/* Under the write lock, before COMMIT: the commit's number; marks the keys
 * (ids of the rows it writes) with it. */
uint64_t wfe_sync_begin(struct wfe_sync *s, const char *const *keys, size_t n);
/* Under the write lock, after COMMIT returned (committed or not). */
void wfe_sync_end(struct wfe_sync *s, uint64_t seq);
/* After reading key's rows: the number to wait for (key NULL: every commit
 * begun so far, for answers that summarise many rows). */
uint64_t wfe_sync_seen(struct wfe_sync *s, const char *key);
/* Returns once commits 1..target are synced; runs fn (store_sync) itself
 * when no other waiter does. Not under the write lock. */
aclm_status wfe_sync_wait(struct wfe_sync *s, uint64_t target, wfe_sync_fn fn, void *arg,
			  struct aclm_err *err);

/* ---- the server ---- */
struct wfe_server {
	const struct ca_serve_opts *o;
	struct store *store;       /* shared by every thread (store_share); NULL until open */
	char ca_name[CA_NAME_MAX + 1];
	int64_t tenant;
	struct ca_issuer *issuers;
	size_t nissuers;
	const struct ca_profile *profiles;
	size_t nprofiles;
	const struct ca_profile *default_profile;
	struct ca_va_config va;
	json_t *caa_identities;
	SSL_CTX *tls;
	char listen_host[64];      /* numeric listen address, "localhost" for a wildcard one */
	char acme_base[WFE_BASE_MAX]; /* "https://LISTEN/acme/": URLs that outlive a request
					 (CRL DP in leaves, CAA accounturi) */
	struct wfe_nonces nonces;
	struct wfe_limits limits;
	struct wfe_va_queue vaq;
	pthread_mutex_t write_lock; /* one writer at a time: no SQLite busy sleeps */
	struct wfe_sync sync;      /* group commit of the durable transactions */
	uint64_t acct_gen;         /* bumped (atomically) after every account write */
};

/* Both caches below are set-associative: an account id hashes to a set of
 * WFE_CACHE_WAYS entries and takes the least recently used one, so two busy
 * accounts whose ids share a set do not keep evicting each other (with one
 * entry per set, 32 accounts in 512 entries collided about once: 7 % of
 * the requests rebuilt a key). */
#define WFE_CACHE_WAYS 4

/* Account keys as EVP_PKEYs, by account id and thumbprint, in one cache
 * shared by the workers (wfe.c): building one from its JWK costs more than
 * verifying a signature with it. */
#define WFE_KEY_CACHE_SLOTS 512
struct wfe_key_slot {
	char id[STORE_CA_ID_MAX];
	char thumbprint[44];
	EVP_PKEY *key;
	uint64_t used;             /* tick of the last hit or fill */
};

/* Account rows by id, each tagged with the server's account generation
 * when it was read: a row read under an older generation is read again, so
 * an update or deactivation on any thread counts from its commit on, while
 * the other POSTs of a certificate skip the SELECT. */
#define WFE_ACCT_CACHE_SLOTS 256
struct wfe_acct_slot {
	uint64_t gen;
	uint64_t used;             /* the worker's tick of the last hit or fill */
	struct store_ca_account *a;
	struct acme_jws_verifier v; /* the key of the account last verified here */
};

/* One HTTP thread: its own event loop, store connection, keystore and
 * account row cache (no locks: only this thread uses them). */
struct wfe_worker {
	struct wfe_server *srv;
	struct store *store;
	struct keystore *ks;
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	struct wfe_acct_slot accts[WFE_ACCT_CACHE_SLOTS];
	uint64_t acct_tick;
};
/* The account's key (a new reference), from the shared cache or its JWK. */
aclm_status wfe_account_key(struct wfe_worker *w, const struct store_ca_account *a,
			    EVP_PKEY **out, struct aclm_err *err);
/* Puts an account's key, already built from its JWK, in the shared cache
 * (newAccount: the account's next request then finds it). */
void wfe_account_key_remember(const struct store_ca_account *a, EVP_PKEY *key);
/* Frees the shared account key cache and the worker's account rows. */
void wfe_key_cache_clear(struct wfe_worker *w);
/* After any write to an account row (new account, update, deactivation,
 * key change): every worker reads accounts from the store again. */
void wfe_accounts_changed(struct wfe_server *srv);

#define WFE_DURABLE_KEYS 4
/* One request while its handler runs. */
struct wfe_req {
	struct wfe_worker *w;
	struct wfe_server *srv;
	struct evhttp_request *ev;
	char base[WFE_BASE_MAX];   /* "https://HOST[:PORT]" */
	char peer[64];             /* client IP */
	const char *rest;          /* path after the route's prefix */
	struct acme_jws_req jws;   /* POST: parsed and verified */
	struct store_ca_account *acct; /* POST with kid: the account */
	EVP_PKEY *key;             /* the key that signed the request */
	struct acme_jws_verifier *verifier; /* kid: the worker's, for key; else NULL */
	bool answered;
	bool durable_tx;           /* the open write transaction is durable */
	const char *durable_keys[WFE_DURABLE_KEYS]; /* ids it writes (wfe_sync_begin) */
	size_t ndurable_keys;
	uint64_t sync_target;      /* the answer waits until this commit is synced */
};

/* The store for one more thread (workers and VA): the first call opens it,
 * the others share it (store_share: one SQLite connection and page cache for
 * the CA; its threads take turns per call and per transaction), each with
 * a keystore of its own. store_close each as before. */
aclm_status wfe_open_store(struct wfe_server *srv, struct store **store, struct keystore **ks,
			   struct aclm_err *err);

/* ---- responses (wfe.c); each adds Replay-Nonce and Link rel="index" ---- */
void wfe_reply_json(struct wfe_req *r, int status, json_t *body, const char *location);
void wfe_reply_problem(struct wfe_req *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with another HTTP status than the problem's usual one. */
void wfe_reply_problem_status(struct wfe_req *r, const char *name, int status, const char *fmt,
			      ...) __attribute__((format(printf, 4, 5)));
void wfe_add_header(struct wfe_req *r, const char *name, const char *value);
/* problem NULL: serverInternal with err's message logged, not shown. */
void wfe_reply_err(struct wfe_req *r, const char *problem, const struct aclm_err *err);
void wfe_reply_raw(struct wfe_req *r, int status, const char *content_type,
		   const unsigned char *body, size_t len);
/* A rateLimited problem with Retry-After. */
void wfe_reply_limited(struct wfe_req *r, int64_t retry_after, const char *what);

/* URL of a resource: BASE/acme/KIND/ID (id NULL: BASE/acme/KIND). */
void wfe_url(const struct wfe_req *r, const char *kind, const char *id, char *out, size_t len);
/* A fresh random id: 22 base64url characters. */
void wfe_new_id(char out[STORE_CA_ID_MAX]);

/* Write transactions: the server-wide lock, then store_begin. The durable
 * variant (issued and revoked certificates, accounts) survives a power
 * loss: its commit is group-synced (wfe_sync above) before the request's
 * answer goes out; the others survive a crash of the process, not a power
 * loss (orders and validations, which a client can redo). */
aclm_status wfe_write_begin(struct wfe_req *r, struct aclm_err *err);
aclm_status wfe_write_begin_durable(struct wfe_req *r, struct aclm_err *err);
/* In a durable transaction: an id of a row it writes (order id, serial,
 * account id), for readers of that row (wfe_sync_saw); key must live until
 * the commit. At most WFE_DURABLE_KEYS; more are ignored. */
void wfe_write_durable_key(struct wfe_req *r, const char *key);
aclm_status wfe_write_commit(struct wfe_req *r, struct aclm_err *err);
void wfe_write_abort(struct wfe_req *r);
/* After reading rows by key (NULL: many rows): the answer waits until the
 * durable commits that may have written them are synced. */
void wfe_sync_saw(struct wfe_req *r, const char *key);

/* ---- handlers (wfe_account.c, wfe_order.c, wfe_cert.c) ---- */
void wfe_new_account(struct wfe_req *r);
void wfe_account(struct wfe_req *r);
void wfe_key_change(struct wfe_req *r);
void wfe_new_order(struct wfe_req *r);
void wfe_order(struct wfe_req *r);
void wfe_authz(struct wfe_req *r);
void wfe_challenge(struct wfe_req *r);
void wfe_finalize(struct wfe_req *r);
void wfe_cert(struct wfe_req *r);
void wfe_revoke(struct wfe_req *r);
void wfe_renewal_info(struct wfe_req *r);
void wfe_crl(struct wfe_req *r);

/* JSON of an authorization / order as served. */
json_t *wfe_authz_json(const struct wfe_req *r, const struct store_ca_authz *a);
/* Brings an order's status up to date from its authorizations (pending ->
 * ready or invalid; expiry), storing a change; *o stays the caller's. */
aclm_status wfe_order_refresh(struct wfe_req *r, struct store_ca_order *o, struct aclm_err *err);
/* The account's order by id, refreshed; NULL after replying 404 or 500. */
struct store_ca_order *wfe_order_load(struct wfe_req *r, const char *id);
/* The same, the refreshed status not stored: for finalize, whose own
 * transaction stores the order (the status is derived again on every load
 * until then, so a failed finalize loses nothing). */
struct store_ca_order *wfe_order_load_unsaved(struct wfe_req *r, const char *id);
json_t *wfe_order_json(const struct wfe_req *r, const struct store_ca_order *o);

/* ---- validation (wfe_va.c) ---- */
aclm_status wfe_va_start(struct wfe_server *srv, struct aclm_err *err);
void wfe_va_stop(struct wfe_server *srv);
/* Queues a validation (after its "processing" state is committed). */
void wfe_va_enqueue(struct wfe_server *srv, const char *authz_id, const char *challenge);

#endif
