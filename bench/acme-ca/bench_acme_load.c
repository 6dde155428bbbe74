/* Load generator for bench/acme-ca: issues N single-name certificates from an
 * ACME server (RFC 8555), each with a fresh http-01 validation, from C worker
 * threads, and reports the rate, the latency per certificate and where the
 * time went.
 *
 *   bench_acme_load --directory URL --http01-listen ADDR:PORT --certs N
 *                   --concurrency C [--key-type p256|sm2] [--accounts K]
 *                   [--ca-bundle FILE] [--profile NAME] [--poll-ms MS]
 *                   [--retry-after-max-ms MS] [--cert-timeout S]
 *                   [--time-limit S] [--max-failures F] [--stall-timeout S]
 *                   [--tag T] [--json]
 *
 * It knows nothing of the server under test: it speaks the protocol over the
 * project's libcurl client (one keep-alive handle per thread), signs with
 * acme/ (ES256 account keys) and answers http-01 with the built-in responder
 * of solvers/ (one libevent thread, thread-safe token table). K accounts
 * (default C) are registered first; worker w uses account w % K. A
 * certificate is: newOrder for "b<TAG>-<i>.bench.test", the authorization,
 * the challenge POST, authorization polls until valid, a fresh key (P-256 or
 * SM2) and CSR, finalize, order polls until valid, the certificate download
 * (checked: a PEM certificate for the name). Polls come every --poll-ms
 * (25), or after the server's Retry-After when it is at most
 * --retry-after-max-ms (1000), as a client honouring it would wait. Workers
 * go on until N certificates are issued, more than F have failed (default
 * N/10 + 10), the time limit (900 s), or no certificate for --stall-timeout
 * (30 s): then the report is printed and the process leaves its hung
 * workers. The rate is the issued certificates over the wall time from the
 * first newOrder to the last download. Exit status 0 when all N were
 * issued. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme/acme.h"
#include "core/status.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "solvers/solver.h"

#define LOAD_MAX_CONCURRENCY 1024
#define LOAD_MAX_CERTS 1000000
#define LOAD_NONCE_TRIES 10         /* tries per request while the answer is badNonce */
#define LOAD_MAX_ERRORS 32          /* distinct error messages kept */
#define LOAD_ERR_LEN 400
#define LOAD_BODY_MAX (256u * 1024u)

struct load_opts {
	const char *directory, *ca_bundle, *http01_listen, *profile;
	long certs, concurrency, accounts;
	enum crypto_key_type key_type;
	long poll_ms, retry_after_max_ms, cert_timeout_s, time_limit_s, max_failures, stall_s;
	char tag[16];
	bool json;
};

struct load_account {
	EVP_PKEY *key;
	json_t *jwk;
	char thumbprint[44];
	char *kid;
};

struct load_error {
	char key[LOAD_ERR_LEN];     /* the kind (load_err_key) */
	char msg[LOAD_ERR_LEN];     /* its first instance */
	long count;
};

/* Where a certificate's time goes (the report's phase_ms). */
enum load_phase { LOAD_ORDER, LOAD_VALIDATION, LOAD_FINALIZE, LOAD_DOWNLOAD, LOAD_PHASES };
static const char *const load_phase_names[LOAD_PHASES] = { "new_order", "validation", "finalize",
							    "download" };

struct load_stats {
	double phase_s[LOAD_PHASES];
	long polls;                 /* authorization and order polls */
	long retry_after_waits;     /* polls that waited for the server's Retry-After */
};

/* What the workers share: the schedule, results and error tally (lock). */
struct load_run {
	const struct load_opts *o;
	struct acme_directory dir;
	struct load_account *accounts;
	const struct solver_ops *solver;
	void *solver_state;
	pthread_mutex_t lock;
	pthread_cond_t ended;       /* a worker ended */
	long running;               /* workers still running */
	long next_index, in_flight, issued, failed;
	double *latency_ms;         /* one per issued certificate */
	double t_first, t_last;     /* first newOrder, last download (monotonic s) */
	double deadline;
	double t_progress;          /* last issued certificate (or the start) */
	bool stalled;
	struct load_error errors[LOAD_MAX_ERRORS];
	long errors_other;
	struct load_stats sum;      /* over the issued certificates */
};

struct load_worker {
	struct load_run *run;
	struct load_account *acct;
	struct http_client *http;
	struct acme_signer signer;
	char *nonce;
	struct load_stats cur;      /* the certificate in progress */
	pthread_t thread;
};

/* One certificate's URLs and deadline. */
struct load_cert {
	char name[96];
	char *order_url, *authz_url, *finalize_url, *cert_url;
	double deadline;
};

static double load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void load_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static aclm_status load_sign(void *arg, const unsigned char *msg, size_t len, unsigned char **sig,
			     size_t *siglen, struct aclm_err *err)
{
	return crypto_sign(arg, NULL, NULL, msg, len, sig, siglen, err);
}

/* ---- the error tally ---- */

/* Errors are counted by kind: URLs shrink to their first path segment
 * ("https://h:1/authz/XYZ" -> "/authz"), base64url words of 16 characters
 * or more (nonces, tokens) to '*' and runs of digits to '#', so that "order
 * 17 timed out after 30001 ms" and "order 18 ... 30002 ms" are one kind. */
#define LOAD_B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
static void load_err_key(const char *msg, char *key, size_t len)
{
	size_t k = 0, word;

	while (*msg != '\0' && k + 1 < len) {
		word = strspn(msg, LOAD_B64URL);
		if (word >= 16) {
			key[k++] = '*';
			msg += word;
			continue;
		}
		if (strncmp(msg, "https://", 8) == 0 || strncmp(msg, "http://", 7) == 0) {
			msg = strstr(msg, "//") + 2;
			msg += strcspn(msg, "/ ");
			if (*msg == '/')
				key[k++] = *msg++;
			while (*msg != '\0' && strchr("/: ", *msg) == NULL && k + 1 < len)
				key[k++] = *msg++;
			msg += strcspn(msg, ": ");
			continue;
		}
		if (*msg >= '0' && *msg <= '9') {
			key[k++] = '#';
			msg += strspn(msg, "0123456789");
		} else if (word > 0) {
			for (; word > 0 && k + 1 < len; word--)
				key[k++] = *msg++;
		} else {
			key[k++] = *msg++;
		}
	}
	key[k] = '\0';
}

static void load_note_error(struct load_run *run, const char *msg)
{
	char key[LOAD_ERR_LEN];
	size_t i;

	load_err_key(msg, key, sizeof(key));
	pthread_mutex_lock(&run->lock);
	for (i = 0; i < LOAD_MAX_ERRORS && run->errors[i].count > 0; i++)
		if (strcmp(run->errors[i].key, key) == 0)
			break;
	if (i == LOAD_MAX_ERRORS) {
		run->errors_other++;
	} else {
		if (run->errors[i].count == 0) {
			memcpy(run->errors[i].key, key, sizeof(key));
			snprintf(run->errors[i].msg, sizeof(run->errors[i].msg), "%.*s",
				 (int)sizeof(run->errors[i].msg) - 1, msg);
		}
		run->errors[i].count++;
	}
	pthread_mutex_unlock(&run->lock);
}

/* ---- requests ---- */

static const char *load_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static aclm_status load_fresh_nonce(struct load_worker *w, struct aclm_err *err)
{
	struct http_response resp;
	aclm_status st = http_request(w->http, "HEAD", w->run->dir.new_nonce, NULL, NULL, 0, &resp,
				      err);

	if (st == ACLM_OK && resp.replay_nonce == NULL)
		st = aclm_err_set(err, ACLM_ERR_PARSE, "newNonce: HTTP %ld without Replay-Nonce",
				  resp.status);
	if (st == ACLM_OK) {
		free(w->nonce);
		w->nonce = resp.replay_nonce;
		resp.replay_nonce = NULL;
	}
	http_response_free(&resp);
	return st;
}

/* A problem document in resp -> err ("WHAT: HTTP N: type: detail"). */
static aclm_status load_http_error(const struct http_response *resp, const char *what,
				   struct aclm_err *err)
{
	struct acme_problem p = { 0 };
	struct aclm_err perr = { 0 };
	aclm_status st;

	if (acme_problem_parse((const char *)resp->body.data, resp->body.len, &p, &perr) == ACLM_OK) {
		st = aclm_err_set(err, acme_problem_status(p.type), "%s: HTTP %ld: %s: %.300s", what,
				  resp->status, acme_problem_name(p.type), p.detail);
		acme_problem_free(&p);
	} else {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "%s: HTTP %ld: %.80s", what, resp->status,
				  resp->body.data != NULL ? (const char *)resp->body.data : "");
	}
	return st;
}

static bool load_is_bad_nonce(const struct http_response *resp)
{
	struct acme_problem p = { 0 };
	struct aclm_err perr = { 0 };
	bool bad = false;

	if (resp->status == 400 &&
	    acme_problem_parse((const char *)resp->body.data, resp->body.len, &p, &perr) == ACLM_OK) {
		bad = acme_problem_is(&p, "badNonce");
		acme_problem_free(&p);
	}
	return bad;
}

/* A JWS POST (payload NULL: POST-as-GET, RFC 8555 §6.3); badNonce is retried
 * with the nonce its answer carries (§6.5). Any other status is the
 * caller's to judge; resp is always to be freed. */
static aclm_status load_post(struct load_worker *w, const char *url, const json_t *payload,
			     struct http_response *resp, struct aclm_err *err)
{
	char *jws = NULL;
	aclm_status st = ACLM_OK;

	memset(resp, 0, sizeof(*resp));
	for (int tries = 0; tries < LOAD_NONCE_TRIES; tries++) {
		if (w->nonce == NULL && (st = load_fresh_nonce(w, err)) != ACLM_OK)
			goto out;
		free(jws);
		jws = NULL;
		st = acme_jws_sign(&w->signer, url, w->nonce, payload, &jws, err);
		free(w->nonce);
		w->nonce = NULL;
		if (st != ACLM_OK)
			goto out;
		http_response_free(resp);
		st = http_request(w->http, "POST", url, "application/jose+json", jws, strlen(jws), resp,
				  err);
		if (st != ACLM_OK)
			goto out;
		w->nonce = resp->replay_nonce;
		resp->replay_nonce = NULL;
		if (!load_is_bad_nonce(resp))
			goto out;
	}
	st = load_http_error(resp, url, err);
out:
	free(jws);
	return st;
}

/* POST, then require one of the two statuses and a JSON object body. */
static aclm_status load_post_json(struct load_worker *w, const char *what, const char *url,
				  const json_t *payload, long ok1, long ok2, json_t **out,
				  struct http_response *resp, struct aclm_err *err)
{
	aclm_status st = load_post(w, url, payload, resp, err);

	*out = NULL;
	if (st != ACLM_OK)
		goto out;
	if (resp->status != ok1 && resp->status != ok2) {
		st = load_http_error(resp, what, err);
		goto out;
	}
	*out = json_loadb((const char *)resp->body.data, resp->body.len, 0, NULL);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		st = aclm_err_set(err, ACLM_ERR_PARSE, "%s: HTTP %ld: body is not a JSON object", what,
				  resp->status);
	}
out:
	return st;
}

/* ---- accounts ---- */

static aclm_status load_register(struct load_run *run, struct http_client *http,
				 struct load_account *a, struct aclm_err *err)
{
	struct load_worker w = { .run = run, .http = http };
	struct http_response resp = { 0 };
	json_t *payload = json_pack("{s:b}", "termsOfServiceAgreed", 1), *body = NULL;
	aclm_status st = crypto_key_generate(CRYPTO_KEY_P256, &a->key, err);

	if (st != ACLM_OK || (st = acme_jwk_from_pkey(a->key, &a->jwk, err)) != ACLM_OK ||
	    (st = acme_jwk_thumbprint(a->jwk, a->thumbprint, err)) != ACLM_OK)
		goto out;
	w.signer = (struct acme_signer){ .alg = acme_jws_alg(a->key), .jwk = a->jwk,
					 .sign = load_sign, .arg = a->key };
	st = load_post_json(&w, "newAccount", run->dir.new_account, payload, 201, 200, &body, &resp,
			    err);
	if (st != ACLM_OK)
		goto out;
	if (resp.location == NULL) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "newAccount: no Location");
		goto out;
	}
	a->kid = resp.location;
	resp.location = NULL;
out:
	free(w.nonce);
	json_decref(payload);
	json_decref(body);
	http_response_free(&resp);
	return st;
}

/* ---- one certificate ---- */

static bool load_expired(const struct load_cert *c, struct aclm_err *err)
{
	if (load_now() < c->deadline)
		return false;
	aclm_err_set(err, ACLM_ERR_BUSY, "certificate not issued within the per-certificate timeout");
	return true;
}

/* Sleeps before the next poll: the poll interval, or the server's
 * Retry-After (RFC 8555 §7.5.1, §7.4) when it is within the cap. */
static void load_poll_wait(struct load_worker *w, const struct http_response *resp)
{
	const struct load_opts *o = w->run->o;
	long ms = o->poll_ms;

	if (resp->retry_after > 0)
		ms = resp->retry_after * 1000 <= o->retry_after_max_ms ?
			     (long)resp->retry_after * 1000 : o->retry_after_max_ms;
	if (ms > o->poll_ms)
		w->cur.retry_after_waits++;
	else
		ms = o->poll_ms;
	w->cur.polls++;
	load_sleep_ms(ms);
}

static aclm_status load_new_order(struct load_worker *w, struct load_cert *c, json_t **order,
				  struct aclm_err *err)
{
	struct http_response resp;
	json_t *payload = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type", "dns", "value", c->name);
	json_t *authzs;
	aclm_status st;

	if (payload != NULL && w->run->o->profile != NULL)
		json_object_set_new(payload, "profile", json_string(w->run->o->profile));
	st = load_post_json(w, "newOrder", w->run->dir.new_order, payload, 201, 201, order, &resp,
			    err);
	if (st != ACLM_OK)
		goto out;
	authzs = json_object_get(*order, "authorizations");
	if (resp.location == NULL || load_str(*order, "finalize") == NULL ||
	    json_array_size(authzs) != 1 || !json_is_string(json_array_get(authzs, 0))) {
		st = aclm_err_set(err, ACLM_ERR_PARSE,
				  "newOrder: no Location, finalize or single authorization");
		goto out;
	}
	c->order_url = resp.location;
	resp.location = NULL;
	c->finalize_url = strdup(load_str(*order, "finalize"));
	c->authz_url = strdup(json_string_value(json_array_get(authzs, 0)));
	if (c->finalize_url == NULL || c->authz_url == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
out:
	json_decref(payload);
	http_response_free(&resp);
	return st;
}

/* The error of an invalid authorization: its challenge's problem. */
static aclm_status load_authz_invalid(const json_t *authz, struct aclm_err *err)
{
	const json_t *ch;
	size_t i;

	json_array_foreach(json_object_get(authz, "challenges"), i, ch) {
		const json_t *e = json_object_get(ch, "error");

		if (e != NULL)
			return aclm_err_set(err, ACLM_ERR_VERIFY, "authorization invalid: %s: %.360s",
					    acme_problem_name(load_str(e, "type") ? load_str(e, "type") : ""),
					    load_str(e, "detail") ? load_str(e, "detail") : "");
	}
	return aclm_err_set(err, ACLM_ERR_VERIFY, "authorization invalid (no challenge error)");
}

/* Polls the authorization until it leaves pending/processing. */
static aclm_status load_poll_authz(struct load_worker *w, struct load_cert *c,
				   struct aclm_err *err)
{
	struct http_response resp = { 0 };
	json_t *authz = NULL;
	const char *status;
	aclm_status st;

	for (;;) {
		json_decref(authz);
		http_response_free(&resp);
		st = load_post_json(w, "authorization", c->authz_url, NULL, 200, 200, &authz, &resp, err);
		if (st != ACLM_OK)
			goto out;
		status = load_str(authz, "status") ? load_str(authz, "status") : "";
		if (strcmp(status, "valid") == 0)
			goto out;
		if (strcmp(status, "pending") != 0 && strcmp(status, "processing") != 0) {
			st = load_authz_invalid(authz, err);
			goto out;
		}
		if (load_expired(c, err)) {
			st = ACLM_ERR_BUSY;
			goto out;
		}
		load_poll_wait(w, &resp);
	}
out:
	json_decref(authz);
	http_response_free(&resp);
	return st;
}

/* The http-01 challenge of an authorization, NULL when there is none. */
static const json_t *load_http01(const json_t *authz)
{
	const json_t *ch;
	size_t i;

	json_array_foreach(json_object_get(authz, "challenges"), i, ch) {
		const char *type = load_str(ch, "type");

		if (type != NULL && strcmp(type, "http-01") == 0 && load_str(ch, "token") != NULL &&
		    load_str(ch, "url") != NULL)
			return ch;
	}
	return NULL;
}

/* Authorization, key authorization to the responder, challenge POST, polls. */
static aclm_status load_validate(struct load_worker *w, struct load_cert *c,
				 struct aclm_err *err)
{
	struct http_response resp = { 0 };
	json_t *authz = NULL, *chresp = NULL, *empty = json_object();
	const json_t *ch;
	struct solver_challenge sc = { .type = "http-01", .identifier = c->name };
	char *ka = NULL;
	bool presented = false;
	aclm_status st;

	st = load_post_json(w, "authorization", c->authz_url, NULL, 200, 200, &authz, &resp, err);
	if (st != ACLM_OK)
		goto out;
	if (load_str(authz, "status") != NULL && strcmp(load_str(authz, "status"), "valid") == 0)
		goto out; /* reused: nothing to validate */
	if ((ch = load_http01(authz)) == NULL) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "authorization without an http-01 challenge");
		goto out;
	}
	sc.token = load_str(ch, "token");
	ka = acme_key_authorization(sc.token, w->acct->thumbprint);
	if (ka == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	sc.key_authorization = ka;
	if ((st = w->run->solver->present(w->run->solver_state, &sc, err)) != ACLM_OK)
		goto out;
	presented = true;
	http_response_free(&resp);
	/* RFC 8555 §7.5.1: the client says it is ready with an empty object. */
	st = load_post_json(w, "challenge", load_str(ch, "url"), empty, 200, 200, &chresp, &resp, err);
	if (st == ACLM_OK)
		st = load_poll_authz(w, c, err);
out:
	if (presented)
		w->run->solver->cleanup(w->run->solver_state, &sc, NULL);
	free(ka);
	json_decref(empty);
	json_decref(chresp);
	json_decref(authz);
	http_response_free(&resp);
	return st;
}

/* The CSR of an EC P-256/P-384 key as crypto_csr_new writes it (CN and one
 * dNSName SAN, signed with SHA-256/SHA-384), with the SubjectPublicKeyInfo
 * set from the curve and the point: X509_REQ_set_pubkey would run the key
 * through OpenSSL 3.0's encoder and decoder, which cost the generator more
 * than the rest of a certificate's client work. NULL req: not such a key. */
static aclm_status load_csr_ec(EVP_PKEY *key, const char *name, X509_REQ **out,
			       struct aclm_err *err)
{
	unsigned char point[1 + 2 * 48], *enc = NULL;
	char group[32];
	size_t plen = 0, glen = 0;
	int curve = NID_undef;
	X509_REQ *req = NULL;
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   &glen) == 1)
		curve = OBJ_sn2nid(group);
	if ((curve != NID_X9_62_prime256v1 && curve != NID_secp384r1) ||
	    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
					    sizeof(point), &plen) != 1)
		goto out; /* crypto_csr_new's way */
	if ((req = X509_REQ_new()) == NULL || (enc = OPENSSL_memdup(point, plen)) == NULL ||
	    !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_PUBKEY_set0_param(X509_REQ_get_X509_PUBKEY(req),
				    OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
				    OBJ_nid2obj(curve), enc, (int)plen)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "building a request");
		goto out;
	}
	enc = NULL; /* the request's now */
	if ((gens = GENERAL_NAMES_new()) == NULL || (gn = GENERAL_NAME_new()) == NULL ||
	    (ia5 = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(ia5, name, (int)strlen(name))) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "building subjectAltName");
		goto out;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	ia5 = NULL;
	if (!sk_GENERAL_NAME_push(gens, gn)) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "building subjectAltName");
		goto out;
	}
	gn = NULL;
	exts = sk_X509_EXTENSION_new_null();
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
	if (exts == NULL || ext == NULL || !sk_X509_EXTENSION_push(exts, ext)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "building subjectAltName");
		goto out;
	}
	ext = NULL;
	if (!X509_REQ_add_extensions(req, exts) ||
	    (strlen(name) <= 64 && /* RFC 5280 ub-common-name, as crypto_csr_new */
	     !X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName,
					 MBSTRING_UTF8, (const unsigned char *)name, -1, -1, 0)) ||
	    X509_REQ_sign(req, key, curve == NID_secp384r1 ? EVP_sha384() : EVP_sha256()) <= 0) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "signing the request");
		goto out;
	}
	*out = req;
	req = NULL;
out:
	OPENSSL_free(enc);
	X509_REQ_free(req);
	GENERAL_NAMES_free(gens);
	GENERAL_NAME_free(gn);
	ASN1_IA5STRING_free(ia5);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_EXTENSION_free(ext);
	return st;
}

/* A fresh key and a CSR for the name, base64url DER (RFC 8555 §7.4). */
static aclm_status load_csr(const struct load_run *run, const struct load_cert *c, char **out,
			    struct aclm_err *err)
{
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	const char *dns[1] = { c->name };
	struct crypto_csr_req r = { .dns = dns, .ndns = 1 };
	unsigned char *der = NULL;
	int len;
	aclm_status st = crypto_key_generate(run->o->key_type, &key, err);

	*out = NULL;
	if (st == ACLM_OK)
		st = load_csr_ec(key, c->name, &req, err);
	if (st != ACLM_OK || (req == NULL && (st = crypto_csr_new(key, &r, &req, err)) != ACLM_OK))
		goto out;
	len = i2d_X509_REQ(req, &der);
	if (len <= 0) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "CSR encoding");
		goto out;
	}
	*out = acme_b64url_encode(der, (size_t)len);
	if (*out == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
out:
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return st;
}

/* Finalize, then polls the order until it is valid. */
static aclm_status load_finalize(struct load_worker *w, struct load_cert *c,
				 struct aclm_err *err)
{
	struct http_response resp = { 0 };
	json_t *payload = NULL, *order = NULL;
	char *csr = NULL;
	const char *status;
	aclm_status st = load_csr(w->run, c, &csr, err);

	if (st != ACLM_OK)
		goto out;
	payload = json_pack("{s:s}", "csr", csr);
	st = load_post_json(w, "finalize", c->finalize_url, payload, 200, 200, &order, &resp, err);
	for (;;) {
		if (st != ACLM_OK)
			goto out;
		status = load_str(order, "status") ? load_str(order, "status") : "";
		if (strcmp(status, "valid") == 0)
			break;
		if (strcmp(status, "processing") != 0) {
			st = aclm_err_set(err, ACLM_ERR_VERIFY, "order %s after finalize", status);
			goto out;
		}
		if (load_expired(c, err)) {
			st = ACLM_ERR_BUSY;
			goto out;
		}
		load_poll_wait(w, &resp);
		json_decref(order);
		http_response_free(&resp);
		st = load_post_json(w, "order", c->order_url, NULL, 200, 200, &order, &resp, err);
	}
	if (load_str(order, "certificate") == NULL) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "valid order without a certificate URL");
		goto out;
	}
	if ((c->cert_url = strdup(load_str(order, "certificate"))) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
out:
	free(csr);
	json_decref(payload);
	json_decref(order);
	http_response_free(&resp);
	return st;
}

/* A certificate as RFC 5280 §4.1 lays it out, the SubjectPublicKeyInfo kept
 * as its two parts: d2i_X509 would decode the key through OpenSSL 3.0's
 * decoder look-ups, for a check that only reads the names. */
typedef struct {
	X509_ALGOR *algor;
	ASN1_BIT_STRING *key;
} LOAD_SPKI;

typedef struct {
	ASN1_INTEGER *version;
	ASN1_INTEGER *serial;
	X509_ALGOR *sig_alg;
	X509_NAME *issuer;
	X509_VAL *validity;
	X509_NAME *subject;
	LOAD_SPKI *spki;
	ASN1_BIT_STRING *issuer_uid;
	ASN1_BIT_STRING *subject_uid;
	STACK_OF(X509_EXTENSION) *extensions;
} LOAD_TBS;

typedef struct {
	LOAD_TBS *tbs;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *signature;
} LOAD_CERT;

ASN1_SEQUENCE(LOAD_SPKI) = {
	ASN1_SIMPLE(LOAD_SPKI, algor, X509_ALGOR),
	ASN1_SIMPLE(LOAD_SPKI, key, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(LOAD_SPKI)

ASN1_SEQUENCE(LOAD_TBS) = {
	ASN1_EXP_OPT(LOAD_TBS, version, ASN1_INTEGER, 0),
	ASN1_SIMPLE(LOAD_TBS, serial, ASN1_INTEGER),
	ASN1_SIMPLE(LOAD_TBS, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(LOAD_TBS, issuer, X509_NAME),
	ASN1_SIMPLE(LOAD_TBS, validity, X509_VAL),
	ASN1_SIMPLE(LOAD_TBS, subject, X509_NAME),
	ASN1_SIMPLE(LOAD_TBS, spki, LOAD_SPKI),
	ASN1_IMP_OPT(LOAD_TBS, issuer_uid, ASN1_BIT_STRING, 1),
	ASN1_IMP_OPT(LOAD_TBS, subject_uid, ASN1_BIT_STRING, 2),
	ASN1_EXP_SEQUENCE_OF_OPT(LOAD_TBS, extensions, X509_EXTENSION, 3)
} static_ASN1_SEQUENCE_END(LOAD_TBS)

ASN1_SEQUENCE(LOAD_CERT) = {
	ASN1_SIMPLE(LOAD_CERT, tbs, LOAD_TBS),
	ASN1_SIMPLE(LOAD_CERT, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(LOAD_CERT, signature, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(LOAD_CERT)

/* The first PEM block of the chain is a certificate with a dNSName SAN
 * equal to name (ASCII case-insensitive; the names here have no
 * wildcards): what X509_check_host answers for these certificates. */
static bool load_cert_for(const char *pem, size_t len, const char *name)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	char *pem_name = NULL, *header = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	long derlen = 0;
	LOAD_CERT *cert = NULL;
	GENERAL_NAMES *gens = NULL;
	int at;
	bool ok = false;

	if (bio == NULL || !PEM_read_bio(bio, &pem_name, &header, &der, &derlen) ||
	    strcmp(pem_name, "CERTIFICATE") != 0)
		goto out;
	p = der;
	cert = (LOAD_CERT *)ASN1_item_d2i(NULL, &p, derlen, ASN1_ITEM_rptr(LOAD_CERT));
	if (cert == NULL || p != der + derlen ||
	    (at = X509v3_get_ext_by_NID(cert->tbs->extensions, NID_subject_alt_name, -1)) < 0 ||
	    (gens = X509V3_EXT_d2i(X509v3_get_ext(cert->tbs->extensions, at))) == NULL)
		goto out;
	for (int i = 0; i < sk_GENERAL_NAME_num(gens) && !ok; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);

		ok = gn->type == GEN_DNS && (size_t)gn->d.dNSName->length == strlen(name) &&
		     strncasecmp((const char *)gn->d.dNSName->data, name, strlen(name)) == 0;
	}
out:
	GENERAL_NAMES_free(gens);
	ASN1_item_free((ASN1_VALUE *)cert, ASN1_ITEM_rptr(LOAD_CERT));
	OPENSSL_free(pem_name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	BIO_free(bio);
	ERR_clear_error();
	return ok;
}

/* Downloads the chain; its first certificate must be for the name. */
static aclm_status load_download(struct load_worker *w, struct load_cert *c,
				 struct aclm_err *err)
{
	struct http_response resp;
	aclm_status st = load_post(w, c->cert_url, NULL, &resp, err);

	if (st != ACLM_OK)
		goto out;
	if (resp.status != 200) {
		st = load_http_error(&resp, "certificate", err);
		goto out;
	}
	if (!load_cert_for((const char *)resp.body.data, resp.body.len, c->name))
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "certificate download: no certificate for %s",
				  c->name);
out:
	http_response_free(&resp);
	return st;
}

static aclm_status load_one(struct load_worker *w, long index, struct aclm_err *err)
{
	struct load_cert c = { .deadline = load_now() + (double)w->run->o->cert_timeout_s };
	json_t *order = NULL;
	const char *status;
	aclm_status st;

	double t = load_now(), t2;

	memset(&w->cur, 0, sizeof(w->cur));
	snprintf(c.name, sizeof(c.name), "b%s-%ld.bench.test", w->run->o->tag, index);
	st = load_new_order(w, &c, &order, err);
	if (st != ACLM_OK)
		goto out;
	w->cur.phase_s[LOAD_ORDER] = (t2 = load_now()) - t;
	status = load_str(order, "status") ? load_str(order, "status") : "";
	if (strcmp(status, "pending") == 0)
		st = load_validate(w, &c, err);
	else if (strcmp(status, "ready") != 0)
		st = aclm_err_set(err, ACLM_ERR_PARSE, "new order is %s", status);
	w->cur.phase_s[LOAD_VALIDATION] = (t = load_now()) - t2;
	if (st == ACLM_OK)
		st = load_finalize(w, &c, err);
	w->cur.phase_s[LOAD_FINALIZE] = (t2 = load_now()) - t;
	if (st == ACLM_OK)
		st = load_download(w, &c, err);
	w->cur.phase_s[LOAD_DOWNLOAD] = load_now() - t2;
out:
	json_decref(order);
	free(c.order_url);
	free(c.authz_url);
	free(c.finalize_url);
	free(c.cert_url);
	return st;
}

/* ---- the schedule ---- */

/* The next certificate index, or -1 when done: N issued or in flight, too
 * many failures, the time limit, or no certificate issued for stall_s
 * seconds (a server that stopped answering: Pebble 2.4 can deadlock). */
static long load_take(struct load_run *run, double now)
{
	long idx = -1;

	pthread_mutex_lock(&run->lock);
	if (now - run->t_progress > (double)run->o->stall_s)
		run->stalled = true;
	if (run->issued + run->in_flight < run->o->certs && run->failed <= run->o->max_failures &&
	    now < run->deadline && !run->stalled) {
		idx = run->next_index++;
		run->in_flight++;
		if (run->t_first == 0 || now < run->t_first)
			run->t_first = now;
	}
	pthread_mutex_unlock(&run->lock);
	return idx;
}

static void load_done(struct load_run *run, const struct load_stats *cs, bool ok, double start,
		      double end)
{
	pthread_mutex_lock(&run->lock);
	run->in_flight--;
	if (ok) {
		run->latency_ms[run->issued++] = (end - start) * 1000.0;
		run->t_progress = end;
		for (int i = 0; i < LOAD_PHASES; i++)
			run->sum.phase_s[i] += cs->phase_s[i];
		run->sum.polls += cs->polls;
		run->sum.retry_after_waits += cs->retry_after_waits;
	} else
		run->failed++;
	if (end > run->t_last)
		run->t_last = end;
	pthread_mutex_unlock(&run->lock);
}

static void *load_worker_main(void *arg)
{
	struct load_worker *w = arg;
	long idx;
	double start;

	while ((idx = load_take(w->run, start = load_now())) >= 0) {
		struct aclm_err err = { 0 };
		aclm_status st = load_one(w, idx, &err);

		if (st != ACLM_OK)
			load_note_error(w->run, err.msg[0] != '\0' ? err.msg : aclm_status_name(st));
		load_done(w->run, &w->cur, st == ACLM_OK, start, load_now());
	}
	pthread_mutex_lock(&w->run->lock);
	w->run->running--;
	pthread_cond_signal(&w->run->ended);
	pthread_mutex_unlock(&w->run->lock);
	return NULL;
}

/* Waits for the workers; false (with the lock held) when no certificate was
 * issued for stall_s seconds while some still run: their requests may hang
 * for good, so the caller reports and leaves without them. */
static bool load_wait(struct load_run *run)
{
	struct timespec ts;
	bool ended;

	pthread_mutex_lock(&run->lock);
	while (run->running > 0 && load_now() - run->t_progress <= (double)run->o->stall_s) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&run->ended, &run->lock, &ts);
	}
	ended = run->running == 0;
	if (ended)
		pthread_mutex_unlock(&run->lock);
	else
		run->stalled = true;
	return ended;
}

/* ---- setup, report ---- */

static void load_usage(void)
{
	fputs("usage: bench_acme_load --directory URL --http01-listen ADDR:PORT --certs N\n"
	      "         --concurrency C [--key-type p256|sm2] [--accounts K] [--ca-bundle FILE]\n"
	      "         [--profile NAME] [--poll-ms MS] [--retry-after-max-ms MS]\n"
	      "         [--cert-timeout S] [--time-limit S] [--max-failures F] [--stall-timeout S]\n"
	      "         [--tag T] [--json]\n",
	      stderr);
	exit(2);
}

static long load_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "bench_acme_load: %s: expected a number from %ld to %ld\n", s, min, max);
		exit(2);
	}
	return v;
}

static void load_parse(int argc, char **argv, struct load_opts *o)
{
	static const struct option longopts[] = {
		{ "directory", required_argument, NULL, 'd' },
		{ "ca-bundle", required_argument, NULL, 'b' },
		{ "http01-listen", required_argument, NULL, 'l' },
		{ "certs", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "accounts", required_argument, NULL, 'a' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "profile", required_argument, NULL, 'p' },
		{ "poll-ms", required_argument, NULL, 'P' },
		{ "retry-after-max-ms", required_argument, NULL, 'R' },
		{ "cert-timeout", required_argument, NULL, 't' },
		{ "time-limit", required_argument, NULL, 'T' },
		{ "max-failures", required_argument, NULL, 'f' },
		{ "stall-timeout", required_argument, NULL, 's' },
		{ "tag", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char rnd[4];
	int ch, kt;

	*o = (struct load_opts){ .certs = 100, .concurrency = 8, .key_type = CRYPTO_KEY_P256,
				 .poll_ms = 25, .retry_after_max_ms = 1000, .cert_timeout_s = 60,
				 .time_limit_s = 900, .max_failures = -1, .stall_s = 30 };
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->directory = optarg; break;
		case 'b': o->ca_bundle = optarg; break;
		case 'l': o->http01_listen = optarg; break;
		case 'n': o->certs = load_num(optarg, 1, LOAD_MAX_CERTS); break;
		case 'c': o->concurrency = load_num(optarg, 1, LOAD_MAX_CONCURRENCY); break;
		case 'a': o->accounts = load_num(optarg, 1, LOAD_MAX_CONCURRENCY); break;
		case 'k':
			kt = crypto_key_type_parse(optarg);
			if (kt != CRYPTO_KEY_P256 && kt != CRYPTO_KEY_SM2)
				load_usage();
			o->key_type = (enum crypto_key_type)kt;
			break;
		case 'p': o->profile = optarg; break;
		case 'P': o->poll_ms = load_num(optarg, 1, 10000); break;
		case 'R': o->retry_after_max_ms = load_num(optarg, 0, 60000); break;
		case 't': o->cert_timeout_s = load_num(optarg, 1, 3600); break;
		case 'T': o->time_limit_s = load_num(optarg, 1, 86400); break;
		case 'f': o->max_failures = load_num(optarg, 0, LOAD_MAX_CERTS); break;
		case 's': o->stall_s = load_num(optarg, 1, 3600); break;
		case 'g':
			if (strlen(optarg) == 0 || strlen(optarg) >= sizeof(o->tag) ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(optarg))
				load_usage();
			snprintf(o->tag, sizeof(o->tag), "%s", optarg);
			break;
		case 'j': o->json = true; break;
		default: load_usage();
		}
	}
	if (optind != argc || o->directory == NULL || o->http01_listen == NULL)
		load_usage();
	if (o->accounts == 0)
		o->accounts = o->concurrency;
	if (o->max_failures < 0)
		o->max_failures = o->certs / 10 + 10;
	/* Names differ between runs, so that a CA reusing authorizations or
	 * refusing duplicates sees fresh ones every time. */
	if (o->tag[0] == '\0' && RAND_bytes(rnd, sizeof(rnd)) == 1)
		snprintf(o->tag, sizeof(o->tag), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* One keep-alive connection per client; a request waits at most 30 s (or
 * the per-certificate timeout when shorter). */
static aclm_status load_http_new(const struct load_opts *o, struct http_client **out,
				 struct aclm_err *err)
{
	struct http_client_opts hopts = {
		.ca_bundle = o->ca_bundle, .user_agent = "aclm-bench", .max_body = LOAD_BODY_MAX,
		.timeout_ms = (o->cert_timeout_s < 30 ? o->cert_timeout_s : 30) * 1000L,
	};

	return http_client_new(&hopts, out, err);
}

static aclm_status load_setup(struct load_run *run, struct http_client **http, struct aclm_err *err)
{
	const struct load_opts *o = run->o;
	struct http_response resp = { 0 };
	struct solver_config scfg = { .http_listen = o->http01_listen };
	aclm_status st;

	if ((st = crypto_init(err)) != ACLM_OK || (st = load_http_new(o, http, err)) != ACLM_OK ||
	    (st = http_request(*http, "GET", o->directory, NULL, NULL, 0, &resp, err)) != ACLM_OK)
		goto out;
	if (resp.status != 200) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: HTTP %ld", o->directory, resp.status);
		goto out;
	}
	st = acme_directory_parse((const char *)resp.body.data, resp.body.len, false, &run->dir, err);
	if (st != ACLM_OK)
		goto out;
	run->solver = &solver_http_listen_ops;
	st = run->solver->start(&scfg, &run->solver_state, err);
	if (st != ACLM_OK)
		goto out;
	run->accounts = calloc((size_t)o->accounts, sizeof(*run->accounts));
	run->latency_ms = calloc((size_t)o->certs, sizeof(*run->latency_ms));
	if (run->accounts == NULL || run->latency_ms == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (long i = 0; i < o->accounts && st == ACLM_OK; i++)
		st = load_register(run, *http, &run->accounts[i], err);
out:
	http_response_free(&resp);
	return st;
}

static int load_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted latencies. */
static double load_pct(const double *v, long n, double p)
{
	long rank;

	if (n == 0)
		return 0;
	rank = (long)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

/* Mean milliseconds per phase, polls and Retry-After waits per certificate. */
static json_t *load_phases(const struct load_run *run)
{
	double n = run->issued > 0 ? (double)run->issued : 1;
	json_t *ph = json_object();

	for (int i = 0; ph != NULL && i < LOAD_PHASES; i++)
		json_object_set_new(ph, load_phase_names[i], json_real(run->sum.phase_s[i] * 1000.0 / n));
	return json_pack("{s:o*,s:f,s:f}", "phase_ms", ph, "polls_per_cert", (double)run->sum.polls / n,
			 "retry_after_waits_per_cert", (double)run->sum.retry_after_waits / n);
}

static void load_report(struct load_run *run, bool time_limit_hit)
{
	const struct load_opts *o = run->o;
	double secs = run->t_last > run->t_first ? run->t_last - run->t_first : 0;
	double rate = secs > 0 ? (double)run->issued / secs : 0;
	double p50, p95, n = run->issued > 0 ? (double)run->issued : 1;
	json_t *errs = json_array(), *res;
	char *line = NULL;

	qsort(run->latency_ms, (size_t)run->issued, sizeof(double), load_cmp);
	p50 = load_pct(run->latency_ms, run->issued, 50);
	p95 = load_pct(run->latency_ms, run->issued, 95);
	for (size_t i = 0; i < LOAD_MAX_ERRORS && run->errors[i].count > 0; i++) {
		json_array_append_new(errs, json_pack("{s:s,s:I}", "error", run->errors[i].msg, "count",
						      (json_int_t)run->errors[i].count));
		fprintf(stderr, "bench_acme_load: %ld x %s\n", run->errors[i].count, run->errors[i].msg);
	}
	if (run->errors_other > 0)
		fprintf(stderr, "bench_acme_load: %ld more errors of other kinds\n", run->errors_other);
	res = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:b,s:b,s:o*,s:o*}",
			"directory", o->directory, "key_type", crypto_key_type_name(o->key_type),
			"requested", (json_int_t)o->certs, "issued", (json_int_t)run->issued,
			"failures", (json_int_t)run->failed, "concurrency", (json_int_t)o->concurrency,
			"accounts", (json_int_t)o->accounts, "seconds", secs, "certs_per_s", rate,
			"p50_ms", p50, "p95_ms", p95, "time_limit_hit", time_limit_hit, "stalled",
			run->stalled, "errors", errs, "detail", load_phases(run));
	if (o->json) {
		line = res != NULL ? json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
		if (line != NULL)
			printf("%s\n", line);
	} else {
		printf("%s %s: %ld issued, %ld failed in %.2f s: %.1f certificates/s, p50 %.0f ms, "
		       "p95 %.0f ms (C=%ld, %ld accounts)%s%s\n", o->directory,
		       crypto_key_type_name(o->key_type), run->issued, run->failed, secs, rate, p50, p95,
		       o->concurrency, o->accounts, time_limit_hit ? " [time limit]" : "",
		       run->stalled ? " [stalled]" : "");
		printf("  per certificate: new order %.0f ms, validation %.0f ms, finalize %.0f ms, "
		       "download %.0f ms; %.1f polls, %.2f Retry-After waits\n",
		       run->sum.phase_s[LOAD_ORDER] * 1000 / n, run->sum.phase_s[LOAD_VALIDATION] * 1000 / n,
		       run->sum.phase_s[LOAD_FINALIZE] * 1000 / n,
		       run->sum.phase_s[LOAD_DOWNLOAD] * 1000 / n, (double)run->sum.polls / n,
		       (double)run->sum.retry_after_waits / n);
	}
	free(line);
	json_decref(res);
}

int main(int argc, char **argv)
{
	struct load_opts o;
	struct load_run run = { .o = &o };
	struct load_worker *workers = NULL;
	struct http_client *http = NULL;
	struct aclm_err err = { 0 };
	long started = 0;
	int rc = 1;

	load_parse(argc, argv, &o);
	json_object_seed(0); /* once, before threads create objects */
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.ended, NULL);
	if (load_setup(&run, &http, &err) != ACLM_OK) {
		fprintf(stderr, "bench_acme_load: %s\n", err.msg);
		goto out;
	}
	workers = calloc((size_t)o.concurrency, sizeof(*workers));
	if (workers == NULL)
		goto out;
	run.t_progress = load_now();
	run.deadline = run.t_progress + (double)o.time_limit_s;
	for (; started < o.concurrency; started++) {
		struct load_worker *w = &workers[started];

		w->run = &run;
		run.running++; /* before the thread can end */
		w->acct = &run.accounts[started % o.accounts];
		w->signer = (struct acme_signer){ .alg = acme_jws_alg(w->acct->key),
						  .kid = w->acct->kid, .sign = load_sign,
						  .arg = w->acct->key };
		if (load_http_new(&o, &w->http, &err) != ACLM_OK ||
		    pthread_create(&w->thread, NULL, load_worker_main, w) != 0) {
			fprintf(stderr, "bench_acme_load: cannot start worker %ld: %s\n", started, err.msg);
			http_client_free(w->http);
			pthread_mutex_lock(&run.lock);
			run.running--;
			pthread_mutex_unlock(&run.lock);
			break;
		}
	}
	if (!load_wait(&run)) {
		fprintf(stderr, "bench_acme_load: no certificate for %ld s: the server stalled; "
			"leaving %ld workers behind\n", o.stall_s, run.running);
		load_report(&run, false);
		fflush(NULL);
		_exit(1);
	}
	for (long i = 0; i < started; i++) {
		pthread_join(workers[i].thread, NULL);
		http_client_free(workers[i].http);
		free(workers[i].nonce);
	}
	load_report(&run, load_now() >= run.deadline);
	if (started == o.concurrency && run.issued == o.certs)
		rc = 0;
out:
	free(workers);
	if (run.solver_state != NULL)
		run.solver->stop(run.solver_state);
	for (long i = 0; run.accounts != NULL && i < o.accounts; i++) {
		EVP_PKEY_free(run.accounts[i].key);
		json_decref(run.accounts[i].jwk);
		free(run.accounts[i].kid);
	}
	free(run.accounts);
	free(run.latency_ms);
	acme_directory_free(&run.dir);
	http_client_free(http);
	pthread_cond_destroy(&run.ended);
	pthread_mutex_destroy(&run.lock);
	return rc;
}
