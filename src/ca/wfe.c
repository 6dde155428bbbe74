/* ca/wfe: the ACME server's request layer: routing, the directory and
 * new-nonce, the checks every POST passes (RFC 8555 §6.2-6.5: media type,
 * size, JWS, nonce, url, account, signature) and the responses. */
#include "ca/wfe.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/rand.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

enum wfe_auth { AUTH_NONE, AUTH_KID, AUTH_JWK, AUTH_ANY };

struct wfe_route {
	const char *prefix;        /* after "/acme/"; ends with '/' when an id follows */
	enum wfe_auth auth;        /* AUTH_NONE: GET/HEAD, else POST with this JWS key */
	void (*fn)(struct wfe_req *r);
};

static void wfe_directory(struct wfe_req *r);
static void wfe_new_nonce(struct wfe_req *r);

static const struct wfe_route wfe_routes[] = {
	{ "directory", AUTH_NONE, wfe_directory },
	{ "new-nonce", AUTH_NONE, wfe_new_nonce },
	{ "new-account", AUTH_JWK, wfe_new_account },
	{ "new-order", AUTH_KID, wfe_new_order },
	{ "revoke-cert", AUTH_ANY, wfe_revoke },
	{ "key-change", AUTH_KID, wfe_key_change },
	{ "acct/", AUTH_KID, wfe_account },
	{ "order/", AUTH_KID, wfe_order },
	{ "authz/", AUTH_KID, wfe_authz },
	{ "chall/", AUTH_KID, wfe_challenge },
	{ "finalize/", AUTH_KID, wfe_finalize },
	{ "cert/", AUTH_KID, wfe_cert },
	{ "renewal-info/", AUTH_NONE, wfe_renewal_info },
	{ "crl/", AUTH_NONE, wfe_crl },
};

#define N_ROUTES (sizeof(wfe_routes) / sizeof(wfe_routes[0]))

/* ---- responses ---- */

#define WFE_ONE_RECORD_MAX 16384 /* TLS's largest record payload (RFC 8446 §5.1) */

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

static void common_headers(struct wfe_req *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	char nonce[WFE_NONCE_LEN + 1], link[WFE_BASE_MAX + 64];

	wfe_nonce_new(&r->srv->nonces, nonce);
	evhttp_add_header(h, "Replay-Nonce", nonce);
	evhttp_add_header(h, "Cache-Control", "no-store");
	snprintf(link, sizeof(link), "<%s/acme/directory>;rel=\"index\"", r->base);
	evhttp_add_header(h, "Link", link);
}

static aclm_status store_sync_cb(void *arg, struct aclm_err *err)
{
	return store_sync(arg, err);
}

static void reply_problem_status(struct wfe_req *r, const char *name, int status,
				 const char *detail);

/* No answer before the durable commits it reveals are synced (wfe_sync);
 * if the sync fails, a serverInternal problem instead of the answer. */
static bool reply_synced(struct wfe_req *r)
{
	struct aclm_err err = { 0 };
	uint64_t target = r->sync_target;

	r->sync_target = 0;
	if (target == 0 ||
	    wfe_sync_wait(&r->srv->sync, target, store_sync_cb, r->w->store, &err) == ACLM_OK)
		return true;
	aclm_log(ACLM_LOG_ERROR, "ca: %s: %s", evhttp_request_get_uri(r->ev), err.msg);
	evhttp_clear_headers(evhttp_request_get_output_headers(r->ev));
	reply_problem_status(r, "serverInternal", 500, "the server could not store the result");
	return false;
}

/* evhttp queues the head and the body as separate chains of the
 * connection's output; bufferevent_openssl writes each chain with its own
 * SSL_write, i.e. its own TLS record and write(2) (and loopback segment).
 * The write happens later, from the loop, so joining the chains here makes
 * the whole response one record and one write. The copy is a few KB. */
static void one_record(struct evhttp_connection *c)
{
	struct bufferevent *bev = c != NULL ? evhttp_connection_get_bufferevent(c) : NULL;
	struct evbuffer *out = bev != NULL ? bufferevent_get_output(bev) : NULL;

	if (out != NULL && evbuffer_get_length(out) <= WFE_ONE_RECORD_MAX)
		(void)evbuffer_pullup(out, -1);
}

void wfe_reply_raw(struct wfe_req *r, int status, const char *content_type,
		   const unsigned char *body, size_t len)
{
	struct evhttp_connection *c = evhttp_request_get_connection(r->ev);
	struct evbuffer *b = NULL;

	if (r->answered || !reply_synced(r))
		return;
	b = evbuffer_new();
	r->answered = true;
	common_headers(r);
	if (content_type != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Content-Type",
				  content_type);
	if (b != NULL && body != NULL && len > 0)
		evbuffer_add(b, body, len);
	evhttp_send_reply(r->ev, status, reason_phrase(status), b);
	one_record(c);
	if (b != NULL)
		evbuffer_free(b);
}

/* One line, members in the order the handlers set them (jansson keeps
 * insertion order): indenting and sorting every response cost more than
 * writing it. The ": " and ", " separators stay, as clients log them
 * (the certbot and uacme tests grep '"type": "urn:...'). */
#define WFE_JSON_FLAGS 0

void wfe_reply_json(struct wfe_req *r, int status, json_t *body, const char *location)
{
	char *text = body != NULL ? json_dumps(body, WFE_JSON_FLAGS) : NULL;

	if (location != NULL && !r->answered)
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Location", location);
	if (body != NULL && text == NULL) {
		wfe_reply_problem(r, "serverInternal", "out of memory");
		return;
	}
	wfe_reply_raw(r, status, "application/json", (const unsigned char *)text,
		      text != NULL ? strlen(text) : 0);
	free(text);
}

static void reply_problem_status(struct wfe_req *r, const char *name, int status,
				 const char *detail)
{
	json_t *doc = acme_problem_json(name, detail);
	char *text = NULL;

	if (status == 0)
		status = acme_problem_http_status(name);
	if (doc != NULL) {
		json_object_set_new(doc, "status", json_integer(status));
		/* RFC 8555 §6.2: badSignatureAlgorithm lists the accepted ones. */
		if (strcmp(name, "badSignatureAlgorithm") == 0)
			json_object_set_new(doc, "algorithms", acme_jws_algs_json());
		text = json_dumps(doc, WFE_JSON_FLAGS);
	}
	aclm_log(ACLM_LOG_DEBUG, "ca: %s %s -> %d %s: %s", r->peer,
		 evhttp_request_get_uri(r->ev), status, name, detail);
	wfe_reply_raw(r, status, "application/problem+json", (const unsigned char *)text,
		      text != NULL ? strlen(text) : 0);
	free(text);
	json_decref(doc);
}

void wfe_reply_problem(struct wfe_req *r, const char *name, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	reply_problem_status(r, name, 0, detail);
}

void wfe_reply_problem_status(struct wfe_req *r, const char *name, int status, const char *fmt,
			      ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	reply_problem_status(r, name, status, detail);
}

void wfe_add_header(struct wfe_req *r, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), name, value);
}

void wfe_reply_err(struct wfe_req *r, const char *problem, const struct aclm_err *err)
{
	if (problem != NULL) {
		wfe_reply_problem(r, problem, "%s", err->msg);
		return;
	}
	/* Internal failures are logged in full, answered without internals. */
	aclm_log(ACLM_LOG_ERROR, "ca: %s: %s", evhttp_request_get_uri(r->ev), err->msg);
	wfe_reply_problem(r, "serverInternal", "the server failed to handle the request");
}

void wfe_reply_limited(struct wfe_req *r, int64_t retry_after, const char *what)
{
	char ra[24];

	snprintf(ra, sizeof(ra), "%lld", (long long)(retry_after > 0 ? retry_after : 1));
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", ra);
	wfe_reply_problem(r, "rateLimited", "%s; retry after %s seconds", what, ra);
}

void wfe_url(const struct wfe_req *r, const char *kind, const char *id, char *out, size_t len)
{
	if (id != NULL)
		snprintf(out, len, "%s/acme/%s/%s", r->base, kind, id);
	else
		snprintf(out, len, "%s/acme/%s", r->base, kind);
}

void wfe_new_id(char out[STORE_CA_ID_MAX])
{
	unsigned char raw[16];
	char *s;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		abort(); /* no randomness: ids would collide; nothing sane to do */
	s = acme_b64url_encode(raw, sizeof(raw));
	if (s == NULL)
		abort();
	snprintf(out, STORE_CA_ID_MAX, "%s", s);
	free(s);
}

/* ---- write transactions ---- */

static void wfe_write_end(struct wfe_req *r);

/* The connection stays synchronous=NORMAL: no PRAGMA per transaction; a
 * durable one is made so by wfe_sync after its commit. */
aclm_status wfe_write_begin(struct wfe_req *r, struct aclm_err *err)
{
	aclm_status st;

	pthread_mutex_lock(&r->srv->write_lock);
	st = store_begin(r->w->store, err);
	if (st != ACLM_OK)
		wfe_write_end(r);
	return st;
}

aclm_status wfe_write_begin_durable(struct wfe_req *r, struct aclm_err *err)
{
	r->durable_tx = true;
	r->ndurable_keys = 0;
	return wfe_write_begin(r, err);
}

void wfe_write_durable_key(struct wfe_req *r, const char *key)
{
	if (r->durable_tx && key != NULL && r->ndurable_keys < WFE_DURABLE_KEYS)
		r->durable_keys[r->ndurable_keys++] = key;
}

static void wfe_write_end(struct wfe_req *r)
{
	r->durable_tx = false;
	r->ndurable_keys = 0;
	pthread_mutex_unlock(&r->srv->write_lock);
}

/* A durable commit takes its number before COMMIT and ends it after, both
 * under the write lock; the sync comes with the answer (wfe_reply_raw),
 * after the lock is released, so the next writer does not queue behind it. */
aclm_status wfe_write_commit(struct wfe_req *r, struct aclm_err *err)
{
	struct wfe_sync *sync = &r->srv->sync;
	uint64_t seq = r->durable_tx ? wfe_sync_begin(sync, r->durable_keys, r->ndurable_keys) : 0;
	aclm_status st = store_commit(r->w->store, err);

	if (st != ACLM_OK)
		store_rollback(r->w->store);
	if (seq > 0)
		wfe_sync_end(sync, seq);
	if (st == ACLM_OK && seq > r->sync_target)
		r->sync_target = seq;
	wfe_write_end(r);
	return st;
}

void wfe_write_abort(struct wfe_req *r)
{
	store_rollback(r->w->store);
	wfe_write_end(r);
}

void wfe_sync_saw(struct wfe_req *r, const char *key)
{
	uint64_t seen = wfe_sync_seen(&r->srv->sync, key);

	if (seen > r->sync_target)
		r->sync_target = seen;
}

/* ---- directory and nonces ---- */

static void wfe_directory(struct wfe_req *r)
{
	static const char *const kinds[][2] = {
		{ "newNonce", "new-nonce" },   { "newAccount", "new-account" },
		{ "newOrder", "new-order" },   { "revokeCert", "revoke-cert" },
		{ "keyChange", "key-change" }, { "renewalInfo", "renewal-info" },
	};
	const struct wfe_server *srv = r->srv;
	json_t *dir = json_object(), *meta = json_object(), *profiles = json_object();
	char url[WFE_BASE_MAX + 64];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		wfe_url(r, kinds[i][1], NULL, url, sizeof(url));
		aclm_json_set_str(dir, kinds[i][0], url);
	}
	for (size_t i = 0; i < srv->nprofiles; i++)
		aclm_json_set_str(profiles, srv->profiles[i].name,
				  srv->profiles[i].description != NULL
					  ? srv->profiles[i].description
					  : srv->profiles[i].name);
	if (srv->o->terms_of_service != NULL)
		aclm_json_set_str(meta, "termsOfService", srv->o->terms_of_service);
	aclm_json_set_bool(meta, "externalAccountRequired", srv->o->eab_required);
	aclm_json_set_new(meta, "profiles", profiles);
	json_object_set(meta, "caaIdentities", srv->caa_identities);
	aclm_json_set_new(dir, "meta", meta);
	wfe_reply_json(r, 200, dir, NULL);
	json_decref(dir);
}

/* RFC 8555 §7.2: HEAD -> 200, GET -> 204, both with a fresh nonce. */
static void wfe_new_nonce(struct wfe_req *r)
{
	bool head = evhttp_request_get_command(r->ev) == EVHTTP_REQ_HEAD;

	wfe_reply_raw(r, head ? 200 : 204, NULL, NULL, 0);
}

/* ---- the checks of every POST ---- */

static bool content_type_ok(struct wfe_req *r)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(r->ev),
					    "Content-Type");
	size_t n = sizeof("application/jose+json") - 1;

	return ct != NULL && strncasecmp(ct, "application/jose+json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The first entry of id's set in a cache of n entries (FNV-1a of the id). */
static size_t set_of(const char *id, size_t n)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h % (n / WFE_CACHE_WAYS) * WFE_CACHE_WAYS;
}

/* One cache for every worker thread: each account key is built once, not
 * once per thread that happens to serve the account (a JWK to EVP_PKEY
 * costs several signature checks). Entries are only read under the lock;
 * callers get their own reference, which outlives any replacement. */
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wfe_key_slot key_cache[WFE_KEY_CACHE_SLOTS];
static uint64_t key_cache_tick;

aclm_status wfe_account_key(struct wfe_worker *w, const struct store_ca_account *a,
			    EVP_PKEY **out, struct aclm_err *err)
{
	struct wfe_key_slot *set = &key_cache[set_of(a->id, WFE_KEY_CACHE_SLOTS)];
	aclm_status st;

	(void)w;
	*out = NULL;
	pthread_mutex_lock(&key_cache_lock);
	for (size_t i = 0; i < WFE_CACHE_WAYS && *out == NULL; i++)
		if (set[i].key != NULL && strcmp(set[i].id, a->id) == 0 &&
		    strcmp(set[i].thumbprint, a->thumbprint) == 0 && EVP_PKEY_up_ref(set[i].key)) {
			*out = set[i].key;
			set[i].used = ++key_cache_tick;
		}
	pthread_mutex_unlock(&key_cache_lock);
	if (*out != NULL)
		return ACLM_OK;
	st = acme_jwk_to_pkey(a->jwk, out, err);
	if (st == ACLM_OK)
		wfe_account_key_remember(a, *out);
	return st;
}

/* In id's set: the entry already holding id, else an empty one, else the
 * least recently used. */
static struct wfe_key_slot *key_victim(struct wfe_key_slot *set, const char *id)
{
	struct wfe_key_slot *v = &set[0];

	for (size_t i = 0; i < WFE_CACHE_WAYS; i++) {
		if (set[i].key != NULL && strcmp(set[i].id, id) == 0)
			return &set[i];
		if (v->key != NULL && (set[i].key == NULL || set[i].used < v->used))
			v = &set[i];
	}
	return v;
}

void wfe_account_key_remember(const struct store_ca_account *a, EVP_PKEY *key)
{
	struct wfe_key_slot *s;
	EVP_PKEY *old = NULL;

	if (key == NULL || !EVP_PKEY_up_ref(key))
		return;
	pthread_mutex_lock(&key_cache_lock);
	s = key_victim(&key_cache[set_of(a->id, WFE_KEY_CACHE_SLOTS)], a->id);
	old = s->key;
	s->key = key;
	s->used = ++key_cache_tick;
	snprintf(s->id, sizeof(s->id), "%s", a->id);
	snprintf(s->thumbprint, sizeof(s->thumbprint), "%s", a->thumbprint);
	pthread_mutex_unlock(&key_cache_lock);
	EVP_PKEY_free(old);
}

void wfe_key_cache_clear(struct wfe_worker *w)
{
	pthread_mutex_lock(&key_cache_lock);
	for (size_t i = 0; i < WFE_KEY_CACHE_SLOTS; i++) {
		EVP_PKEY_free(key_cache[i].key);
		key_cache[i].key = NULL;
	}
	pthread_mutex_unlock(&key_cache_lock);
	for (size_t i = 0; i < WFE_ACCT_CACHE_SLOTS; i++) {
		store_ca_account_free(w->accts[i].a);
		w->accts[i].a = NULL;
		acme_jws_verifier_clear(&w->accts[i].v);
	}
}

void wfe_accounts_changed(struct wfe_server *srv)
{
	__atomic_add_fetch(&srv->acct_gen, 1, __ATOMIC_SEQ_CST);
}

/* A copy the request may change and free; the JSON values are shared by
 * reference (handlers replace them, never edit them in place, and both
 * copies stay on this thread). */
static struct store_ca_account *acct_dup(const struct store_ca_account *a)
{
	struct store_ca_account *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	*c = *a;
	c->ca_name = a->ca_name != NULL ? strdup(a->ca_name) : NULL;
	c->status = a->status != NULL ? strdup(a->status) : NULL;
	c->eab_kid = a->eab_kid != NULL ? strdup(a->eab_kid) : NULL;
	c->jwk = json_incref(a->jwk);
	c->contact = json_incref(a->contact);
	c->allow = json_incref(a->allow);
	if ((a->ca_name != NULL && c->ca_name == NULL) || (a->status != NULL && c->status == NULL) ||
	    (a->eab_kid != NULL && c->eab_kid == NULL)) {
		store_ca_account_free(c);
		c = NULL;
	}
	return c;
}

/* This worker's entry for account id: the one holding it, else an empty
 * one, else the least recently used of its set. */
static struct wfe_acct_slot *acct_slot(struct wfe_worker *w, const char *id)
{
	struct wfe_acct_slot *set = &w->accts[set_of(id, WFE_ACCT_CACHE_SLOTS)], *v = &set[0];

	for (size_t i = 0; i < WFE_CACHE_WAYS; i++) {
		if (set[i].a != NULL && strcmp(set[i].a->id, id) == 0)
			return &set[i];
		if (v->a != NULL && (set[i].a == NULL || set[i].used < v->used))
			v = &set[i];
	}
	return v;
}

/* The account row (a copy for the request), from this worker's cache when
 * no account was written since it was read. The generation is read before
 * the row: a write committed after that read bumps it, and the next
 * request reads the row again. */
static aclm_status account_get(struct wfe_worker *w, const char *id,
			       struct store_ca_account **out, struct aclm_err *err)
{
	struct wfe_acct_slot *s = acct_slot(w, id);
	uint64_t gen = __atomic_load_n(&w->srv->acct_gen, __ATOMIC_SEQ_CST);
	struct store_ca_account *fresh = NULL;
	aclm_status st;

	*out = NULL;
	if (s->a != NULL && s->gen == gen && strcmp(s->a->id, id) == 0) {
		s->used = ++w->acct_tick;
		*out = acct_dup(s->a);
		return *out != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	st = store_ca_account_get(w->store, w->srv->tenant, w->srv->ca_name, id, out, err);
	if (st != ACLM_OK)
		return st;
	fresh = acct_dup(*out);
	if (fresh != NULL) {
		if (s->a != NULL && strcmp(s->a->id, id) != 0)
			acme_jws_verifier_clear(&s->v); /* another account's key */
		store_ca_account_free(s->a);
		s->a = fresh;
		s->gen = gen;
		s->used = ++w->acct_tick;
	}
	return ACLM_OK;
}

/* This worker's verifier for an account's key (acme_jws_verifier): kept
 * beside the account's row while requests keep bringing the same key
 * object (the shared key cache hands out one per account and thumbprint);
 * NULL when one cannot be made (the request then verifies without). */
static struct acme_jws_verifier *account_verifier(struct wfe_worker *w, const char *id,
						 EVP_PKEY *key)
{
	struct wfe_acct_slot *s = acct_slot(w, id);
	struct acme_jws_verifier *v = &s->v;
	struct aclm_err err = { 0 };

	if (s->a == NULL || strcmp(s->a->id, id) != 0)
		return NULL; /* not cached (account_get ran out of memory) */
	if (v->key == key)
		return v;
	acme_jws_verifier_clear(v);
	return acme_jws_verifier_init(v, key, &err) == ACLM_OK ? v : NULL;
}

/* The account id in a kid URL: whatever follows "/acme/acct/" (any
 * authority: a client may have registered through another name of ours). */
static const char *kid_account_id(const char *kid)
{
	const char *p = strncmp(kid, "https://", 8) == 0 ? strstr(kid + 8, "/acme/acct/") : NULL;

	if (p == NULL)
		return NULL;
	p += sizeof("/acme/acct/") - 1;
	if (*p == '\0' || strlen(p) >= STORE_CA_ID_MAX || strchr(p, '/') != NULL)
		return NULL;
	return p;
}

static bool post_account(struct wfe_req *r)
{
	struct aclm_err err = { 0 };
	const char *id = kid_account_id(r->jws.kid);
	aclm_status st;

	if (id == NULL) {
		wfe_reply_problem(r, "malformed", "kid \"%.200s\" is not an account URL of this server",
				  r->jws.kid);
		return false;
	}
	st = account_get(r->w, id, &r->acct, &err);
	/* Whatever follows reveals the row (its status, its key). */
	wfe_sync_saw(r, id);
	if (st == ACLM_ERR_NOTFOUND) {
		wfe_reply_problem(r, "accountDoesNotExist", "no account %s", id);
		return false;
	}
	if (st != ACLM_OK) {
		wfe_reply_err(r, NULL, &err);
		return false;
	}
	if (strcmp(r->acct->status, "valid") != 0) {
		wfe_reply_problem(r, "unauthorized", "account %s is %s", id, r->acct->status);
		return false;
	}
	if (wfe_account_key(r->w, r->acct, &r->key, &err) != ACLM_OK) {
		wfe_reply_err(r, NULL, &err);
		return false;
	}
	r->verifier = account_verifier(r->w, id, r->key);
	return true;
}

/* RFC 8555 §6.5.1: base64url, no padding (a length of 4n+1 cannot be). */
static bool nonce_syntax_ok(const char *nonce)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789-_";
	size_t len = strlen(nonce);

	return len > 0 && strspn(nonce, b64url) == len && len % 4 != 1;
}

static bool post_checks(struct wfe_req *r, enum wfe_auth auth)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	size_t len = evbuffer_get_length(in);
	struct aclm_err err = { 0 };
	const char *problem = NULL;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(r->ev));
	char url[WFE_BASE_MAX + 512];

	if (!content_type_ok(r)) {
		reply_problem_status(r, "malformed", 415,
				     "Content-Type must be application/jose+json (RFC 8555 §6.2)");
		return false;
	}
	if (len > ACME_JWS_BODY_MAX) {
		reply_problem_status(r, "malformed", 413, "the request body exceeds 65536 bytes");
		return false;
	}
	if (acme_jws_parse((const char *)evbuffer_pullup(in, -1), len, &r->jws, &problem, &err) !=
	    ACLM_OK) {
		wfe_reply_err(r, problem != NULL ? problem : "malformed", &err);
		return false;
	}
	if (r->jws.nonce != NULL && !nonce_syntax_ok(r->jws.nonce)) {
		wfe_reply_problem(r, "malformed", "the nonce is not base64url (RFC 8555 §6.5.2)");
		return false;
	}
	if (r->jws.nonce == NULL || !wfe_nonce_redeem(&r->srv->nonces, r->jws.nonce)) {
		wfe_reply_problem(r, "badNonce", r->jws.nonce == NULL ? "the JWS has no nonce"
								    : "the nonce is unknown, used or too old");
		return false;
	}
	snprintf(url, sizeof(url), "%s%s", r->base, path != NULL ? path : "");
	if (strcmp(r->jws.url, url) != 0) {
		/* RFC 8555 §6.4: the "url" header must be the request URL. */
		wfe_reply_problem(r, "unauthorized", "the JWS url \"%.200s\" is not %s", r->jws.url,
				  url);
		return false;
	}
	if (r->jws.kid != NULL && auth == AUTH_JWK) {
		wfe_reply_problem(r, "malformed", "this request must be signed with a \"jwk\", not a \"kid\"");
		return false;
	}
	if (r->jws.jwk != NULL && auth == AUTH_KID) {
		wfe_reply_problem(r, "malformed", "this request must be signed with a \"kid\", not a \"jwk\"");
		return false;
	}
	if (r->jws.kid != NULL && !post_account(r))
		return false;
	if (r->jws.jwk != NULL && acme_jwk_to_pkey(r->jws.jwk, &r->key, &err) != ACLM_OK) {
		wfe_reply_problem(r, "badPublicKey", "%s", err.msg);
		return false;
	}
	problem = NULL;
	if ((r->verifier != NULL ? acme_jws_verify_with(&r->jws, r->verifier, &problem, &err)
				 : acme_jws_verify(&r->jws, r->key, &problem, &err)) != ACLM_OK) {
		wfe_reply_err(r, problem != NULL ? problem : "malformed", &err);
		return false;
	}
	return true;
}

/* ---- dispatch ---- */

/* "https://" + Host, refusing anything that is not a plain host[:port]. */
static bool request_base(struct wfe_req *r)
{
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(r->ev), "Host");

	if (host == NULL || host[0] == '\0' || strlen(host) > 255)
		return false;
	for (const char *p = host; *p != '\0'; p++)
		if (!(*p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']' ||
		      (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z')))
			return false;
	snprintf(r->base, sizeof(r->base), "https://%s", host);
	return true;
}

static void request_peer(struct wfe_req *r)
{
	struct evhttp_connection *c = evhttp_request_get_connection(r->ev);
	char *addr = NULL;
	ev_uint16_t port = 0;

	if (c != NULL)
		evhttp_connection_get_peer(c, &addr, &port);
	snprintf(r->peer, sizeof(r->peer), "%s", addr != NULL ? addr : "?");
}

static const struct wfe_route *route_find(const char *path, const char **rest)
{
	static const char prefix[] = "/acme/";

	if (path == NULL || strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	path += sizeof(prefix) - 1;
	for (size_t i = 0; i < N_ROUTES; i++) {
		const char *p = wfe_routes[i].prefix;
		size_t n = strlen(p);

		if (p[n - 1] == '/' ? strncmp(path, p, n) == 0 && path[n] != '\0'
				    : strcmp(path, p) == 0) {
			*rest = path + n;
			return &wfe_routes[i];
		}
	}
	return NULL;
}

static void method_not_allowed(struct wfe_req *r, const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Allow", allow);
	reply_problem_status(r, "malformed", 405, "method not allowed");
}

void wfe_on_request(struct evhttp_request *ev, void *arg);
void wfe_on_request(struct evhttp_request *ev, void *arg)
{
	struct wfe_req r = { .w = arg, .ev = ev };
	enum evhttp_cmd_type cmd = evhttp_request_get_command(ev);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(ev));
	const struct wfe_route *route;

	r.srv = r.w->srv;
	request_peer(&r);
	if (!request_base(&r)) {
		snprintf(r.base, sizeof(r.base), "https://localhost");
		wfe_reply_problem(&r, "malformed", "the request has no usable Host header");
		return;
	}
	route = route_find(path, &r.rest);
	if (route == NULL) {
		reply_problem_status(&r, "malformed", 404, "no such resource");
		return;
	}
	if (route->auth == AUTH_NONE) {
		if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
			method_not_allowed(&r, "GET, HEAD");
		else
			route->fn(&r);
		goto out;
	}
	if (cmd != EVHTTP_REQ_POST) {
		/* RFC 8555 §6.3: resources are fetched with POST-as-GET. */
		method_not_allowed(&r, "POST");
		goto out;
	}
	if (post_checks(&r, route->auth))
		route->fn(&r);
out:
	if (!r.answered)
		wfe_reply_problem(&r, "serverInternal", "no response");
	acme_jws_req_free(&r.jws);
	store_ca_account_free(r.acct);
	EVP_PKEY_free(r.key);
}
