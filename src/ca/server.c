/* ca/server: `aclm ca serve`: loads the CA's intermediates, sets up TLS,
 * starts the HTTP workers (one libevent loop, store connection and
 * keystore each, all accepting on one socket) and the validation threads,
 * and waits for SIGINT/SIGTERM. */
#include "ca/wfe.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/log.h"
#include "core/time.h"
#include "crypto/cert.h"
#include "net/httpd.h"
#include "net/net.h"

#define SERVE_WORKERS 4
#define SERVE_VA_WORKERS 8
#define SERVE_MAX_WORKERS HTTPD_MAX_WORKERS
#define SERVE_HTTP_TIMEOUT_S 30
#define SERVE_MAX_HEADERS 16384
#define SERVE_MAX_BODY (1024 * 1024) /* evhttp's hard cap; ACME_JWS_BODY_MAX is checked first */
#define SERVE_TLS_CERT_DAYS 90

void wfe_on_request(struct evhttp_request *ev, void *arg);

/* RFC 8555 has no profile names; these follow Let's Encrypt's (2025). */
const struct ca_profile ca_default_profiles[] = {
	{ "classic", 90 * 86400, false, "90-day certificate (the default)" },
	{ "tlsserver", 45 * 86400, false, "45-day TLS server certificate" },
	{ "shortlived", 160 * 3600, false, "160-hour certificate" },
	{ "sm2-enc", 90 * 86400, true,
	  "SM2 encryption certificate for TLCP (GB/T 38636); the CSR key must be SM2" },
};

const size_t ca_default_profiles_n = sizeof(ca_default_profiles) / sizeof(ca_default_profiles[0]);

/* ---- the CA's intermediates ---- */

static aclm_status load_issuers(struct wfe_server *srv, struct store *store, struct keystore *ks,
				struct aclm_err *err)
{
	struct inventory inv = { .store = store, .ks = ks, .tenant_id = srv->tenant };
	aclm_status st = ca_resolve_name(&inv, srv->o->name, srv->ca_name, err);

	if (st == ACLM_OK)
		st = ca_issuers_load(&inv, srv->ca_name, srv->acme_base, &srv->issuers,
				     &srv->nissuers, err);
	return st;
}

/* ---- TLS ---- */

static aclm_status tls_setup(struct wfe_server *srv, struct aclm_err *err)
{
	const struct ca_serve_opts *o = srv->o;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	const struct ca_issuer *via = NULL;
	aclm_status st = ACLM_OK;

	srv->tls = SSL_CTX_new(TLS_server_method());
	if (srv->tls == NULL)
		return aclm_err_set(err, ACLM_ERR_CRYPTO, "TLS: cannot create a context");
	SSL_CTX_set_min_proto_version(srv->tls, TLS1_2_VERSION);
	if (o->tls_cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(srv->tls, o->tls_cert) != 1)
			return aclm_err_set(err, ACLM_ERR_CONFIG, "--tls-cert %s: not a PEM certificate chain",
					    o->tls_cert);
		if (SSL_CTX_use_PrivateKey_file(srv->tls, o->tls_key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(srv->tls) != 1)
			return aclm_err_set(err, ACLM_ERR_CONFIG,
					    "--tls-key %s: not the private key of %s", o->tls_key,
					    o->tls_cert);
		return ACLM_OK;
	}
	/* Without --tls-cert: a certificate from the CA itself (ca_tls.c). */
	st = ca__serving_cert(srv->issuers, srv->nissuers, srv->ca_name, o->listen,
			      SERVE_TLS_CERT_DAYS, &cert, &key, &via, err);
	if (st == ACLM_OK &&
	    (SSL_CTX_use_certificate(srv->tls, cert) != 1 ||
	     SSL_CTX_use_PrivateKey(srv->tls, key) != 1 ||
	     SSL_CTX_add1_chain_cert(srv->tls, via->intermediate) != 1))
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, "TLS: cannot use the serving certificate");
	X509_free(cert);
	EVP_PKEY_free(key);
	return st;
}

/* ---- workers ---- */

aclm_status wfe_open_store(struct wfe_server *srv, struct store **store, struct keystore **ks,
			   struct aclm_err *err)
{
	struct store_options opt = *srv->o->store_opt;
	aclm_status st;

	/* synchronous=NORMAL: durable commits are group-synced (wfe_sync.c). */
	opt.durable = false;
	*store = NULL;
	*ks = NULL;
	if (srv->store != NULL) {
		*store = store_share(srv->store);
		st = ACLM_OK;
	} else if ((st = store_open(srv->o->store_url, &opt, store, err)) == ACLM_OK) {
		srv->store = *store;
	}
	if (st == ACLM_OK)
		st = keystore_open(*store, srv->o->home, ks, err);
	return st;
}

static void workers_close(struct wfe_worker *workers, int n)
{
	for (int i = 0; workers != NULL && i < n; i++) {
		wfe_key_cache_clear(&workers[i]);
		keystore_close(workers[i].ks);
		store_close(workers[i].store);
	}
}

/* One store connection and keystore per HTTP worker. */
static aclm_status workers_open(struct wfe_server *srv, struct wfe_worker *workers, void **args,
				int n, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	for (int i = 0; i < n && st == ACLM_OK; i++) {
		workers[i].srv = srv;
		args[i] = &workers[i];
		st = wfe_open_store(srv, &workers[i].store, &workers[i].ks, err);
	}
	return st;
}

/* ---- setup ---- */

static aclm_status server_init(struct wfe_server *srv, const struct ca_serve_opts *o,
			       struct aclm_err *err)
{
	char *host = srv->listen_host, port[8];
	aclm_status st;

	memset(srv, 0, sizeof(*srv));
	srv->o = o;
	srv->tenant = o->tenant_id;
	/* The locks first: server_free destroys them whatever fails below. */
	pthread_mutex_init(&srv->write_lock, NULL);
	wfe_sync_init(&srv->sync);
	wfe_limits_init(&srv->limits);
	st = wfe_nonces_init(&srv->nonces, err);
	if (st != ACLM_OK)
		return st;
	srv->profiles = o->profiles != NULL ? o->profiles : ca_default_profiles;
	srv->nprofiles = o->profiles != NULL ? o->nprofiles : ca_default_profiles_n;
	for (size_t i = 0; i < srv->nprofiles; i++)
		if (strcmp(srv->profiles[i].name,
			   o->default_profile != NULL ? o->default_profile : "classic") == 0)
			srv->default_profile = &srv->profiles[i];
	if (srv->default_profile == NULL)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "default profile \"%s\" is not defined",
				    o->default_profile != NULL ? o->default_profile : "classic");
	st = net_listen_split("ca serve --listen", o->listen, host, sizeof(srv->listen_host), port,
			      sizeof(port), err);
	if (st != ACLM_OK)
		return st;
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
		snprintf(host, sizeof(srv->listen_host), "localhost");
	snprintf(srv->acme_base, sizeof(srv->acme_base), "https://%s%s%s:%s/acme/",
		 strchr(host, ':') != NULL ? "[" : "", host, strchr(host, ':') != NULL ? "]" : "",
		 port);
	srv->va.http01_port = o->http01_port > 0 ? o->http01_port : 80;
	srv->va.tlsalpn01_port = o->tlsalpn01_port > 0 ? o->tlsalpn01_port : 443;
	srv->va.dns_server = o->dns_server;
	srv->va.timeout_ms = 10000;
	return ACLM_OK;
}

static void caa_identities(struct wfe_server *srv)
{
	char name[CA_NAME_MAX + 16];

	if (srv->o->caa_identities != NULL) {
		srv->caa_identities = json_incref(srv->o->caa_identities);
	} else {
		/* A private CA's identity: its name, lowercased, under .aclm
		 * (not a public suffix: CAA records naming it are deliberate). */
		size_t j = 0;

		for (const char *p = srv->ca_name; *p != '\0' && j < sizeof(name) - 6; p++)
			if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')
				name[j++] = *p;
			else if (*p >= 'A' && *p <= 'Z')
				name[j++] = (char)(*p - 'A' + 'a');
		snprintf(name + j, sizeof(name) - j, ".aclm");
		srv->caa_identities = json_pack("[s]", name);
	}
	srv->va.caa_identities = srv->caa_identities;
	srv->va.caa_check = json_array_size(srv->caa_identities) > 0;
}

static void server_free(struct wfe_server *srv)
{
	ca_issuers_free(srv->issuers, srv->nissuers);
	if (srv->tls != NULL)
		SSL_CTX_free(srv->tls);
	json_decref(srv->caa_identities);
	wfe_nonces_destroy(&srv->nonces);
	wfe_limits_destroy(&srv->limits);
	pthread_mutex_destroy(&srv->write_lock);
	wfe_sync_destroy(&srv->sync);
}

struct requeue_ctx {
	struct wfe_server *srv;
	int n;
};

static aclm_status requeue_cb(const struct store_ca_authz *a, void *arg)
{
	struct requeue_ctx *q = arg;
	size_t i;
	json_t *ch;

	json_array_foreach(a->challenges, i, ch) {
		const char *status = json_string_value(json_object_get(ch, "status"));

		if (status != NULL && strcmp(status, "processing") == 0) {
			wfe_va_enqueue(q->srv, a->id,
				       json_string_value(json_object_get(ch, "type")));
			q->n++;
		}
	}
	return ACLM_OK;
}

/* The CA without its socket: server state, issuers, CAA identities, the
 * workers' stores, the validation threads and the validations a previous
 * run left processing. ca_serve puts it behind its own HTTPS socket; `aclm
 * serve` behind the API's (ca_embedded_*). */
struct ca_embedded {
	struct wfe_server srv;
	struct wfe_worker *workers;
	void **args;
	int n;
	struct store *store;
	struct keystore *ks;
	bool va_started;
};

/* Each issuance syncs the WAL (wfe_sync.c): a WAL of its full size makes
 * those syncs cheaper (store_reserve_log). Without one (no room on the disk,
 * a store without a log) the CA still works: a warning, not an error. */
static void reserve_log(struct store *store)
{
	struct aclm_err err = { 0 };
	aclm_status st = store_reserve_log(store, &err);

	if (st != ACLM_OK && st != ACLM_ERR_UNSUPPORTED)
		aclm_log(ACLM_LOG_WARN, "ca: cannot reserve the store's log: %s", err.msg);
}

static aclm_status engine_start(struct ca_embedded *e, const struct ca_serve_opts *o, int n,
				struct aclm_err *err)
{
	struct requeue_ctx q = { .srv = &e->srv };
	aclm_status st;

	e->n = n;
	st = server_init(&e->srv, o, err);
	if (st == ACLM_OK)
		st = net_loop_threads("ca serve", err);
	if (st == ACLM_OK)
		st = wfe_open_store(&e->srv, &e->store, &e->ks, err);
	if (st == ACLM_OK)
		reserve_log(e->store);
	if (st == ACLM_OK)
		st = load_issuers(&e->srv, e->store, e->ks, err);
	if (st == ACLM_OK)
		caa_identities(&e->srv);
	if (st == ACLM_OK && ((e->workers = calloc((size_t)n, sizeof(*e->workers))) == NULL ||
			      (e->args = calloc((size_t)n, sizeof(*e->args))) == NULL))
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st == ACLM_OK)
		st = workers_open(&e->srv, e->workers, e->args, n, err);
	if (st == ACLM_OK && (st = wfe_va_start(&e->srv, err)) == ACLM_OK)
		e->va_started = true;
	if (st == ACLM_OK)
		st = store_ca_authz_list_va_pending(e->store, e->srv.tenant, e->srv.ca_name,
						    requeue_cb, &q, err);
	if (st == ACLM_OK && q.n > 0)
		aclm_log_note("ca serve: %d validation(s) left processing by the last run queued again",
			      q.n);
	return st;
}

/* After the HTTP side stopped: no request runs any more. */
static void engine_stop(struct ca_embedded *e)
{
	/* How well the group commit groups (docs/BENCHMARKS.md, acme-ca). */
	if (e->srv.sync.reserved > 0)
		aclm_log_note("ca: %llu durable commits, %llu syncs",
			      (unsigned long long)e->srv.sync.reserved,
			      (unsigned long long)e->srv.sync.syncs);
	workers_close(e->workers, e->n);
	if (e->va_started)
		wfe_va_stop(&e->srv);
	free(e->args);
	free(e->workers);
	keystore_close(e->ks);
	store_close(e->store);
	server_free(&e->srv);
}

static void log_directory(struct wfe_server *srv, const char *where)
{
	char url[WFE_BASE_MAX + 32];

	snprintf(url, sizeof(url), "%sdirectory", srv->acme_base);
	aclm_log_note("%s: CA %s (%zu key type(s)) at %s", where, srv->ca_name, srv->nissuers, url);
	if (srv->o->ready != NULL)
		srv->o->ready(url, srv->o->ready_arg);
}

aclm_status ca_embedded_start(const struct ca_serve_opts *o, int nworkers, struct ca_embedded **out,
			      struct aclm_err *err)
{
	struct ca_embedded *e = calloc(1, sizeof(*e));
	aclm_status st;

	*out = NULL;
	if (e == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	st = engine_start(e, o, nworkers, err);
	if (st != ACLM_OK) {
		engine_stop(e);
		free(e);
		return st;
	}
	log_directory(&e->srv, "serve");
	*out = e;
	return ACLM_OK;
}

void ca_embedded_handle(struct ca_embedded *e, int worker, struct evhttp_request *req)
{
	wfe_on_request(req, &e->workers[worker]);
}

void ca_embedded_stop(struct ca_embedded *e)
{
	if (e == NULL)
		return;
	engine_stop(e);
	free(e);
}

aclm_status ca_serve(const struct ca_serve_opts *o, struct aclm_err *err)
{
	struct ca_embedded e = { 0 };
	struct httpd *httpd = NULL;
	int n = o->workers > 0 ? o->workers : SERVE_WORKERS;
	sigset_t set, old;
	int sig = 0;
	aclm_status st;

	if (n > SERVE_MAX_WORKERS)
		n = SERVE_MAX_WORKERS;
	/* Every thread created from here on inherits the blocked set, so only
	 * sigwait sees SIGINT/SIGTERM; SIGPIPE from a closed client is ignored. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	st = engine_start(&e, o, n, err);
	if (st == ACLM_OK)
		st = tls_setup(&e.srv, err);
	if (st == ACLM_OK) {
		struct httpd_opts h = { .who = "ca serve",
					.listen = o->listen,
					.tls = e.srv.tls,
					.workers = n,
					.max_headers = SERVE_MAX_HEADERS,
					.max_body = SERVE_MAX_BODY,
					.timeout_s = SERVE_HTTP_TIMEOUT_S,
					.on_request = wfe_on_request,
					.worker_args = e.args };

		st = httpd_start(&h, &httpd, err);
	}
	if (st == ACLM_OK) {
		log_directory(&e.srv, "ca serve");
		sigdelset(&set, SIGPIPE);
		while (sigwait(&set, &sig) != 0)
			;
		aclm_log_note("ca serve: %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	}
	/* Loops first (no request runs after this), then their stores. */
	httpd_stop(httpd);
	engine_stop(&e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return st;
}
