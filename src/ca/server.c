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

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/log.h"
#include "core/time.h"
#include "crypto/cert.h"
#include "net/net.h"

#define SERVE_WORKERS 4
#define SERVE_VA_WORKERS 8
#define SERVE_MAX_WORKERS 64
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

struct serve_worker {
	struct wfe_worker w;
	struct net_loop loop;
};

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

/* Without --tls-cert the CA serves a certificate of its own: a fresh P-256
 * key kept in memory only (never stored), SANs localhost, 127.0.0.1, ::1
 * and the listen host, from the first non-SM2 intermediate (TLS clients
 * rarely speak SM2). */
static aclm_status self_cert(struct wfe_server *srv, X509 **cert, EVP_PKEY **key,
			     const struct ca_issuer **via, struct aclm_err *err)
{
	const struct ca_issuer *iss = NULL;
	json_t *ids = json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "type", "dns", "value",
				"localhost", "type", "ip", "value", "127.0.0.1", "type", "ip",
				"value", "::1");
	struct ca_leaf_req req = { .identifiers = ids };
	aclm_status st;

	for (size_t i = 0; i < srv->nissuers && iss == NULL; i++)
		if (srv->issuers[i].key_type != CRYPTO_KEY_SM2)
			iss = &srv->issuers[i];
	if (iss == NULL) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG,
				  "CA %s has only SM2 keys: give --tls-cert and --tls-key", srv->ca_name);
		goto out;
	}
	/* Listen addresses are numeric: an IP SAN unless it is one of the above. */
	if (strcmp(srv->listen_host, "localhost") != 0 && strcmp(srv->listen_host, "127.0.0.1") != 0 &&
	    strcmp(srv->listen_host, "::1") != 0)
		json_array_append_new(ids, json_pack("{s:s,s:s}", "type", "ip", "value",
						     srv->listen_host));
	st = crypto_key_generate(CRYPTO_KEY_P256, key, err);
	if (st != ACLM_OK)
		goto out;
	req.pub = *key;
	req.not_before = aclm_time_now() - 300;
	req.not_after = req.not_before + SERVE_TLS_CERT_DAYS * 86400;
	st = ca_leaf_sign(iss, &req, cert, err);
	*via = iss;
out:
	json_decref(ids);
	return st;
}

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
	st = self_cert(srv, &cert, &key, &via, err);
	if (st == ACLM_OK &&
	    (SSL_CTX_use_certificate(srv->tls, cert) != 1 ||
	     SSL_CTX_use_PrivateKey(srv->tls, key) != 1 ||
	     SSL_CTX_add1_chain_cert(srv->tls, via->intermediate) != 1))
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, "TLS: cannot use the serving certificate");
	X509_free(cert);
	EVP_PKEY_free(key);
	return st;
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);

	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

/* ---- workers ---- */

aclm_status wfe_open_store(struct wfe_server *srv, struct store **store, struct keystore **ks,
			   struct aclm_err *err)
{
	struct store_options opt = *srv->o->store_opt;
	aclm_status st;

	/* Durable commits are chosen per transaction (wfe_write_begin_durable). */
	opt.durable = false;
	*store = NULL;
	*ks = NULL;
	st = store_open(srv->o->store_url, &opt, store, err);
	if (st == ACLM_OK)
		st = keystore_open(*store, srv->o->home, ks, err);
	return st;
}

static aclm_status worker_start(struct wfe_server *srv, struct serve_worker *sw,
				struct aclm_err *err)
{
	aclm_status st;

	sw->w.srv = srv;
	st = wfe_open_store(srv, &sw->w.store, &sw->w.ks, err);
	if (st == ACLM_OK)
		st = net_loop_new("ca serve", &sw->loop, err);
	if (st != ACLM_OK)
		return st;
	sw->w.base = sw->loop.base;
	sw->w.http = evhttp_new(sw->loop.base);
	if (sw->w.http == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "ca serve: cannot create an HTTP server");
	evhttp_set_allowed_methods(sw->w.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						       EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_max_headers_size(sw->w.http, SERVE_MAX_HEADERS);
	evhttp_set_max_body_size(sw->w.http, SERVE_MAX_BODY);
	evhttp_set_timeout(sw->w.http, SERVE_HTTP_TIMEOUT_S);
	evhttp_set_bevcb(sw->w.http, tls_bev, srv->tls);
	evhttp_set_gencb(sw->w.http, wfe_on_request, &sw->w);
	if (evhttp_accept_socket_with_handle(sw->w.http, srv->listen_fd) == NULL)
		return aclm_err_set(err, ACLM_ERR_IO, "ca serve: cannot accept on %s", srv->o->listen);
	return net_loop_start("ca serve", &sw->loop, err);
}

static void worker_stop(struct serve_worker *sw)
{
	net_loop_stop(&sw->loop);
	if (sw->w.http != NULL)
		evhttp_free(sw->w.http);
	net_loop_free(&sw->loop);
	wfe_key_cache_clear(&sw->w);
	keystore_close(sw->w.ks);
	store_close(sw->w.store);
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
	srv->listen_fd = -1;
	/* The locks first: server_free destroys them whatever fails below. */
	pthread_mutex_init(&srv->write_lock, NULL);
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
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	json_decref(srv->caa_identities);
	wfe_nonces_destroy(&srv->nonces);
	wfe_limits_destroy(&srv->limits);
	pthread_mutex_destroy(&srv->write_lock);
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

static aclm_status serve_run(struct wfe_server *srv, struct serve_worker *workers, int n,
			     struct store *store, struct aclm_err *err)
{
	struct requeue_ctx q = { .srv = srv };
	char url[WFE_BASE_MAX + 32];
	sigset_t set;
	int sig = 0;
	aclm_status st;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	st = wfe_va_start(srv, err);
	for (int i = 0; i < n && st == ACLM_OK; i++)
		st = worker_start(srv, &workers[i], err);
	if (st == ACLM_OK)
		st = store_ca_authz_list_va_pending(store, srv->tenant, srv->ca_name, requeue_cb, &q,
						    err);
	if (st != ACLM_OK)
		return st;
	if (q.n > 0)
		aclm_log_note("ca serve: %d validation(s) left processing by the last run queued again",
			      q.n);
	snprintf(url, sizeof(url), "%sdirectory", srv->acme_base);
	aclm_log_note("ca serve: CA %s (%zu key type(s)) at %s", srv->ca_name, srv->nissuers, url);
	if (srv->o->ready != NULL)
		srv->o->ready(url, srv->o->ready_arg);
	while (sigwait(&set, &sig) != 0)
		;
	aclm_log_note("ca serve: %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	return ACLM_OK;
}

aclm_status ca_serve(const struct ca_serve_opts *o, struct aclm_err *err)
{
	struct wfe_server srv;
	struct serve_worker *workers = NULL;
	struct store *store = NULL;
	struct keystore *ks = NULL;
	int n = o->workers > 0 ? o->workers : SERVE_WORKERS;
	sigset_t set, old;
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
	st = server_init(&srv, o, err);
	if (st == ACLM_OK)
		st = net_loop_threads("ca serve", err);
	if (st == ACLM_OK)
		st = wfe_open_store(&srv, &store, &ks, err);
	if (st == ACLM_OK)
		st = load_issuers(&srv, store, ks, err);
	if (st == ACLM_OK) {
		caa_identities(&srv);
		st = tls_setup(&srv, err);
	}
	if (st == ACLM_OK)
		st = net_listen_socket("ca serve", o->listen, &srv.listen_fd, err);
	if (st == ACLM_OK && (workers = calloc((size_t)n, sizeof(*workers))) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st == ACLM_OK)
		st = serve_run(&srv, workers, n, store, err);
	for (int i = 0; workers != NULL && i < n; i++)
		worker_stop(&workers[i]);
	wfe_va_stop(&srv);
	free(workers);
	keystore_close(ks);
	store_close(store);
	server_free(&srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return st;
}
