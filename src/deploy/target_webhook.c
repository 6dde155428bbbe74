/* The webhook target type: a POST (libcurl) of the documented JSON body
 * (docs/CLI.md "ssh and webhook targets") signed with HMAC-SHA256 over
 * "TIMESTAMP.BODY"; rollback posts the previous certificate. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include "core/buf.h"
#include "core/encode.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/cert.h"
#include "deploy/deploy_int.h"

#define HOOK_SECRET_MAX 4096
#define HOOK_URL_MAX 2048
#define HOOK_KEEP_MAX 4096          /* response bytes kept (200 are quoted) */
#define HOOK_READ_MAX (1024 * 1024) /* response bytes read at most */
#define HOOK_TIMEOUT_DEFAULT_S 30
#define HOOK_TIMEOUT_MAX_S 600
#define HOOK_ERROR_QUOTE 200

/* "secret" is what `aclm target add --secret FILE` stores: the same path. */
static const char *const hook_known_opts[] = {
	"url", "secret_file", "secret", "include_key", "timeout", "ca_file",
};

struct hook_opts {
	const char *url;
	const char *secret_file;
	const char *ca_file;
	bool include_key;
	bool https;
	long timeout_s;
};

struct hook_state {
	struct hook_opts o;
	struct aclm_buf secret;
	char *body;                /* the deploy body (may hold the key: wiped) */
	bool posted;               /* the receiver accepted the deploy */
};

struct hook_response {
	struct aclm_buf keep;
	size_t total;
};

static pthread_once_t hook_once = PTHREAD_ONCE_INIT;
static CURLcode hook_global_rc = CURLE_FAILED_INIT;

static void hook_global_init(void)
{
	hook_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- options ---- */

static aclm_status opt_str(const json_t *options, const char *key, bool required,
			   const char **out, struct aclm_err *err)
{
	return deploy__opt_str("webhook", options, key, required, out, err);
}

static aclm_status opt_bool(const json_t *options, const char *key, bool *out,
			    struct aclm_err *err)
{
	return deploy__opt_bool("webhook", options, key, out, err);
}


static aclm_status opt_timeout(const json_t *options, long *out, struct aclm_err *err)
{
	int64_t t = 0;
	aclm_status st = deploy__opt_int("webhook", options, "timeout", HOOK_TIMEOUT_DEFAULT_S, 1,
					 HOOK_TIMEOUT_MAX_S, &t, err);

	*out = (long)t;
	return st;
}

/* The secret: the file's bytes without trailing line ends and blanks;
 * never empty. */
static aclm_status secret_read(const char *path, struct aclm_buf *b, struct aclm_err *err)
{
	aclm_status st;

	aclm_buf_init(b, HOOK_SECRET_MAX);
	st = aclm_buf_read_file(b, path, err);
	if (st != ACLM_OK) {
		aclm_buf_free_secret(b);
		aclm_err_prefix(err, "webhook target: option secret_file");
		if (err != NULL)
			err->code = ACLM_ERR_CONFIG;
		return ACLM_ERR_CONFIG;
	}
	while (b->len > 0 && isspace(b->data[b->len - 1]))
		b->data[--b->len] = '\0';
	if (b->len == 0) {
		aclm_buf_free_secret(b);
		return aclm_err_set(err, ACLM_ERR_CONFIG, "webhook target: option secret_file: "
				    "%.300s is empty", path);
	}
	return ACLM_OK;
}

static aclm_status opts_parse(const json_t *options, struct hook_opts *o, struct aclm_err *err)
{
	const char *key;
	json_t *v;
	aclm_status st;

	memset(o, 0, sizeof(*o));
	if (!json_is_object(options))
		return aclm_err_set(err, ACLM_ERR_CONFIG, "webhook target: options must be an "
				    "object");
	json_object_foreach((json_t *)options, key, v) {
		bool known = false;

		for (size_t i = 0; i < sizeof(hook_known_opts) / sizeof(hook_known_opts[0]); i++)
			known |= strcmp(key, hook_known_opts[i]) == 0;
		if (!known)
			return aclm_err_set(err, ACLM_ERR_CONFIG, "webhook target: unknown option "
					    "%.100s", key);
	}
	if (json_object_get(options, "secret") != NULL &&
	    json_object_get(options, "secret_file") != NULL)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "webhook target: give option secret_file "
				    "or secret (the same file), not both");
	if ((st = opt_str(options, "url", true, &o->url, err)) != ACLM_OK ||
	    (st = opt_str(options, json_object_get(options, "secret") ? "secret" : "secret_file",
			  true, &o->secret_file, err)) != ACLM_OK ||
	    (st = opt_str(options, "ca_file", false, &o->ca_file, err)) != ACLM_OK ||
	    (st = opt_bool(options, "include_key", &o->include_key, err)) != ACLM_OK ||
	    (st = opt_timeout(options, &o->timeout_s, err)) != ACLM_OK)
		return st;
	o->https = strncasecmp(o->url, "https://", 8) == 0;
	if ((!o->https && strncasecmp(o->url, "http://", 7) != 0) ||
	    strlen(o->url) > HOOK_URL_MAX || strpbrk(o->url, " \t\r\n") != NULL)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "webhook target: option url must be an "
				    "http:// or https:// URL without blanks");
	/* The key never crosses the network in clear text. */
	if (o->include_key && !o->https)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "webhook target: option include_key "
				    "needs an https:// url");
	if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "webhook target: option ca_file: %.300s: "
				    "%s", o->ca_file, strerror(errno));
	return ACLM_OK;
}

static aclm_status hook_check(const json_t *options, struct aclm_err *err)
{
	struct hook_opts o;
	struct aclm_buf secret;
	aclm_status st = opts_parse(options, &o, err);

	if (st != ACLM_OK)
		return st;
	st = secret_read(o.secret_file, &secret, err);
	if (st == ACLM_OK)
		aclm_buf_free_secret(&secret);
	return st;
}

/* ---- the body ---- */

/* {id, lineage, fingerprint_sha256, not_after, names} of m's leaf. */
static aclm_status cert_summary(const struct deploy_material *m, json_t **out,
				struct aclm_err *err)
{
	X509 *x = NULL;
	json_t *facts = NULL, *names = json_array(), *sans, *v;
	BIO *b = NULL;
	size_t i;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (m->leaf_der != NULL && m->leaf_der_len > 0) {
		st = crypto_cert_from_der(m->leaf_der, m->leaf_der_len, &x, err);
	} else {
		b = BIO_new_mem_buf(m->cert_pem, -1);
		x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		if (x == NULL)
			st = aclm_err_ssl(err, ACLM_ERR_PARSE, "webhook: cannot read the certificate");
	}
	if (st != ACLM_OK || (st = crypto_cert_facts(x, &facts, err)) != ACLM_OK)
		goto out;
	sans = json_object_get(facts, "sans");
	json_array_foreach(json_object_get(sans, "dns"), i, v)
		json_array_append(names, v);
	json_array_foreach(json_object_get(sans, "ip"), i, v)
		json_array_append(names, v);
	if (json_array_size(names) == 0 && aclm_json_str(facts, "common_name") != NULL)
		json_array_append(names, json_object_get(facts, "common_name"));
	*out = json_pack("{s:I, s:s?, s:s, s:O, s:O}", "id", (json_int_t)m->cert_id, "lineage",
			 m->lineage, "fingerprint_sha256", m->fingerprint, "not_after",
			 json_object_get(facts, "not_after") ? json_object_get(facts, "not_after")
							     : json_null(),
			 "names", names);
	if (*out == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "webhook: out of memory");
out:
	json_decref(names);
	json_decref(facts);
	X509_free(x);
	BIO_free(b);
	return st;
}

/* The body of event "deploy" (m) or "rollback" (m the previous certificate,
 * failed the one rolled back). Compact JSON; the caller wipes and frees. */
static aclm_status body_build(const char *event, const struct deploy_target *target,
			      const struct deploy_material *m, const struct deploy_material *failed,
			      const struct hook_opts *o, char **out, struct aclm_err *err)
{
	json_t *body = NULL, *cert = NULL;
	aclm_status st = cert_summary(m, &cert, err);

	*out = NULL;
	if (st != ACLM_OK)
		goto out;
	body = json_pack("{s:s, s:s, s:O, s:s, s:s, s:s}", "event", event, "target", target->name,
			 "certificate", cert, "cert_pem", m->cert_pem, "chain_pem",
			 m->chain_pem ? m->chain_pem : "", "fullchain_pem", m->fullchain_pem);
	if (body == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "webhook: out of memory");
		goto out;
	}
	if (failed != NULL)
		aclm_json_set_new(body, "failed", json_pack("{s:I, s:s}", "id",
							    (json_int_t)failed->cert_id,
							    "fingerprint_sha256", failed->fingerprint));
	if (o->include_key && o->https && m->key_pem != NULL)
		aclm_json_set_str(body, "key_pem", m->key_pem);
	*out = json_dumps(body, JSON_COMPACT);
	if (*out == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "webhook: out of memory");
out:
	if (body != NULL && json_object_get(body, "key_pem") != NULL) {
		/* jansson keeps its own copy of the key: wipe it before freeing */
		json_t *k = json_object_get(body, "key_pem");

		OPENSSL_cleanse((char *)json_string_value(k), json_string_length(k));
	}
	json_decref(body);
	json_decref(cert);
	return st;
}

/* "sha256=" + hex HMAC-SHA256(secret, TIMESTAMP "." BODY) (EVP_MAC: the
 * HMAC_CTX calls are deprecated in OpenSSL 3). */
static aclm_status body_sign(const struct aclm_buf *secret, const char *ts, const char *body,
			     char sig[7 + 2 * 32 + 1], struct aclm_err *err)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = alg != NULL ? EVP_MAC_CTX_new(alg) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	aclm_status st = ACLM_OK;

	if (ctx == NULL || !EVP_MAC_init(ctx, secret->data, secret->len, params) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)".", 1) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)body, strlen(body)) ||
	    !EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) || maclen != 32) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "webhook: HMAC-SHA256 failed");
		goto out;
	}
	memcpy(sig, "sha256=", 7);
	aclm_hex_encode(mac, maclen, sig + 7);
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
	return st;
}

/* ---- the POST ---- */

static size_t hook_write(char *data, size_t size, size_t n, void *arg)
{
	struct hook_response *r = arg;
	size_t len = size * n;

	r->total += len;
	if (r->total > HOOK_READ_MAX)
		return 0; /* aborts the transfer */
	if (r->keep.len < HOOK_KEEP_MAX)
		(void)aclm_buf_append(&r->keep, data, len > HOOK_KEEP_MAX - r->keep.len ?
				      HOOK_KEEP_MAX - r->keep.len : len);
	return len;
}

/* The URL for messages: up to its query (a query may carry a token). */
static void url_label(const char *url, char *out, size_t size)
{
	size_t n = strcspn(url, "?#");

	snprintf(out, size, "%.*s", (int)(n < 300 ? n : 300), url);
}

/* The headers, signed now: X-Aclm-Timestamp is the time of this POST. */
static aclm_status hook_headers(const struct hook_state *t, const char *event, const char *body,
				struct curl_slist **out, struct aclm_err *err)
{
	/* "Expect:" turns off curl's 100-continue wait */
	char lines[5][96] = { "Content-Type: application/json", "Expect:" };
	char ts[32], sig[7 + 64 + 1];
	struct curl_slist *tmp;
	aclm_status st;

	*out = NULL;
	snprintf(ts, sizeof(ts), "%lld", (long long)aclm_time_now());
	if ((st = body_sign(&t->secret, ts, body, sig, err)) != ACLM_OK)
		return st;
	snprintf(lines[2], sizeof(lines[2]), "X-Aclm-Timestamp: %s", ts);
	snprintf(lines[3], sizeof(lines[3]), "X-Aclm-Signature: %s", sig);
	snprintf(lines[4], sizeof(lines[4]), "X-Aclm-Event: %s", event);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		tmp = curl_slist_append(*out, lines[i]);
		if (tmp == NULL) {
			curl_slist_free_all(*out);
			*out = NULL;
			return aclm_err_set(err, ACLM_ERR_NOMEM, "webhook: out of memory");
		}
		*out = tmp;
	}
	return ACLM_OK;
}

/* No redirects (a 3xx is a failure), http(s) only, timeouts, capped answer. */
static bool hook_setopts(CURL *h, const struct hook_opts *o, struct curl_slist *hdr,
			 const char *body, struct hook_response *resp, char *ebuf)
{
	long total_ms = o->timeout_s * 1000;

	return curl_easy_setopt(h, CURLOPT_URL, o->url) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, total_ms < 10000 ? total_ms : 10000L) ==
		       CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_USERAGENT, "aclm/" ACLM_VERSION) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body)) ==
		       CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, hook_write) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_WRITEDATA, resp) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf) == CURLE_OK &&
	       (o->ca_file == NULL || curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file) == CURLE_OK);
}

/* POSTs body as event; any 2xx is success, anything else a failure quoting
 * the status and the first 200 bytes of the answer. */
static aclm_status hook_post(struct hook_state *t, const char *event, const char *body,
			     json_t *detail, struct aclm_err *err)
{
	CURL *h = NULL;
	struct curl_slist *hdr = NULL;
	struct hook_response resp = { .total = 0 };
	char ebuf[CURL_ERROR_SIZE] = "", label[320];
	long status = 0;
	CURLcode rc;
	aclm_status st = ACLM_OK;

	aclm_buf_init(&resp.keep, HOOK_KEEP_MAX);
	url_label(t->o.url, label, sizeof(label));
	pthread_once(&hook_once, hook_global_init);
	if (hook_global_rc != CURLE_OK || (h = curl_easy_init()) == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "webhook: libcurl did not initialise");
		goto out;
	}
	if ((st = hook_headers(t, event, body, &hdr, err)) != ACLM_OK)
		goto out;
	if (!hook_setopts(h, &t->o, hdr, body, &resp, ebuf)) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "webhook: libcurl option refused");
		goto out;
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	aclm_json_set_str(detail, "url", label);
	aclm_json_set_str(detail, "event", event);
	if (status > 0)
		aclm_json_set_int(detail, "status", status);
	if (rc != CURLE_OK) {
		st = aclm_err_set(err, ACLM_ERR_IO, "webhook %.150s: %s", label,
				  resp.total > HOOK_READ_MAX ? "answer over 1 MiB" :
				  ebuf[0] ? ebuf : curl_easy_strerror(rc));
		goto out;
	}
	if (status < 200 || status > 299) {
		for (size_t i = 0; i < resp.keep.len; i++)
			if (resp.keep.data[i] < 0x20 || resp.keep.data[i] >= 0x7f)
				resp.keep.data[i] = ' ';
		st = aclm_err_set(err, ACLM_ERR_IO, "webhook %.150s answered %s with HTTP %ld: %.*s",
				  label, event, status, HOOK_ERROR_QUOTE,
				  resp.keep.data ? (char *)resp.keep.data : "");
	}
out:
	curl_slist_free_all(hdr);
	if (h != NULL)
		curl_easy_cleanup(h);
	aclm_buf_free(&resp.keep);
	return st;
}

/* ---- the steps ---- */

static aclm_status hook_stage(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct hook_state *t = calloc(1, sizeof(*t));
	aclm_status st;

	if (t == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "webhook: out of memory");
	c->state = t;
	aclm_buf_init(&t->secret, HOOK_SECRET_MAX);
	if ((st = opts_parse(c->target->options, &t->o, err)) != ACLM_OK ||
	    (st = secret_read(t->o.secret_file, &t->secret, err)) != ACLM_OK)
		return st;
	return body_build("deploy", c->target, c->m, NULL, &t->o, &t->body, err);
}

static aclm_status hook_activate(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct hook_state *t = c->state;
	aclm_status st;

	if (t == NULL || t->body == NULL)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "webhook: activate before stage");
	if (c->dry_run)
		return ACLM_OK;
	st = hook_post(t, "deploy", t->body, c->detail, err);
	t->posted = st == ACLM_OK;
	return st;
}

/* Posts the previous certificate as event "rollback" once the receiver
 * took the deploy (one that refused it kept what it had: nothing to send).
 * Without a previous certificate (a first deploy) that is a failure. */
static aclm_status hook_rollback(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct hook_state *t = c->state;
	json_t *rb = c->detail != NULL ? json_object() : NULL;
	char *body = NULL;
	aclm_status st = ACLM_OK;

	if (t == NULL || c->dry_run || !t->posted)
		goto out;
	if (c->previous == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "webhook: no previous certificate to "
				  "send back (the receiver keeps the new one)");
		goto out;
	}
	st = body_build("rollback", c->target, c->previous, c->m, &t->o, &body, err);
	if (st == ACLM_OK)
		st = hook_post(t, "rollback", body, rb, err);
out:
	if (rb != NULL && json_object_size(rb) > 0)
		aclm_json_set_new(c->detail, "rollback_post", rb);
	else
		json_decref(rb);
	if (body != NULL) {
		OPENSSL_cleanse(body, strlen(body));
		free(body);
	}
	return st;
}

static void hook_release(struct deploy_step_ctx *c)
{
	struct hook_state *t = c->state;

	if (t == NULL)
		return;
	aclm_buf_free_secret(&t->secret);
	if (t->body != NULL) {
		OPENSSL_cleanse(t->body, strlen(t->body));
		free(t->body);
	}
	free(t);
	c->state = NULL;
}

/* The key leaves the keystore only for include_key over https. */
static bool hook_wants_key(const json_t *options)
{
	struct hook_opts o;

	return opts_parse(options, &o, NULL) == ACLM_OK && o.include_key && o.https;
}

const struct deploy_type_ops deploy_webhook_ops = {
	.name = "webhook",
	.needs_key = true, /* wants_key: only with include_key over https */
	.check = hook_check,
	.stage = hook_stage,
	.activate = hook_activate,
	.rollback = hook_rollback,
	.release = hook_release,
	.wants_key = hook_wants_key,
};
