/* The connection to one ACME server: directory, nonces, signed requests,
 * problem documents (RFC 8555 §6, §7.1, §7.2), the proxy named in errors. */
#include "client/client_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/json.h"
#include "core/log.h"

#define CLIENT_MAX_WAIT_S 60       /* cap on one Retry-After sleep */
#define CLIENT_FIRST_POLL_MS 100
#define CLIENT_MAX_BACKOFF_MS 5000

static const struct {
	const char *name;
	const char *url;
} known_servers[] = {
	{ "letsencrypt", "https://acme-v02.api.letsencrypt.org/directory" },
	{ "letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory" },
	{ "zerossl", "https://acme.zerossl.com/v2/DV90" },
};

const char *client_server_url(const char *name_or_url)
{
	for (size_t i = 0; i < sizeof(known_servers) / sizeof(known_servers[0]); i++)
		if (strcmp(name_or_url, known_servers[i].name) == 0)
			return known_servers[i].url;
	return strncmp(name_or_url, "https://", 8) == 0 || strncmp(name_or_url, "http://", 7) == 0
		       ? name_or_url
		       : NULL;
}

/* The host of an http(s) URL, lowercase, without brackets or port. */
static void url_host(const char *url, char *out, size_t max)
{
	const char *h = strstr(url, "://"), *end;
	size_t n;

	out[0] = '\0';
	if (h == NULL)
		return;
	h += 3;
	if (*h == '[')
		end = strchr(++h, ']');
	else
		end = h + strcspn(h, ":/?#");
	n = end != NULL ? (size_t)(end - h) : strlen(h);
	if (n >= max)
		return;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)h[i]);
	out[n] = '\0';
}

/* no_proxy as libcurl reads it: "*", or comma-separated names that match
 * the host itself or, as a domain, its subdomains (a leading '.' is the
 * same); addresses match exactly. */
static bool no_proxy_matches(const char *list, const char *host)
{
	size_t hlen = strlen(host);
	bool ip = client_name_is_ip(host);

	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);

		while (n > 0 && isspace((unsigned char)*p))
			p++, n--;
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n > 0 && *p == '.')
			p++, n--;
		if ((n == 1 && *p == '*') ||
		    (n > 0 && n <= hlen && strncasecmp(host + hlen - n, p, n) == 0 &&
		     (n == hlen || (!ip && host[hlen - n - 1] == '.'))))
			return true;
		p = comma != NULL ? comma + 1 : NULL;
	}
	return false;
}

/* The proxy libcurl takes for url from the environment (it reads these
 * itself: nothing here turns proxies on), NULL when none applies; *var
 * names the variable. As libcurl: the first variable that is set wins,
 * empty meaning no proxy; http_proxy has no upper-case form (CGI sets
 * HTTP_PROXY from a request header, "httpoxy"). */
static const char *env_proxy(const char *url, const char **var)
{
	static const char *const https_vars[] = { "https_proxy", "HTTPS_PROXY", "all_proxy",
						  "ALL_PROXY", NULL };
	static const char *const http_vars[] = { "http_proxy", "all_proxy", "ALL_PROXY", NULL };
	const char *const *vars = strncmp(url, "https://", 8) == 0 ? https_vars : http_vars;
	const char *proxy = NULL, *no = getenv("no_proxy");
	char host[256];

	for (size_t i = 0; proxy == NULL && vars[i] != NULL; i++) {
		proxy = getenv(vars[i]);
		*var = vars[i];
	}
	if (no == NULL)
		no = getenv("NO_PROXY");
	url_host(url, host, sizeof(host));
	if (proxy != NULL && (proxy[0] == '\0' || (no != NULL && no_proxy_matches(no, host))))
		proxy = NULL;
	return proxy;
}

/* The proxy URL without "user:password@": error messages end up in logs. */
static void proxy_display(const char *proxy, char *out, size_t max)
{
	const char *scheme = strstr(proxy, "://"), *rest = scheme != NULL ? scheme + 3 : proxy;
	const char *at = strchr(rest, '@'), *slash = strchr(rest, '/');

	if (at != NULL && (slash == NULL || at < slash))
		snprintf(out, max, "%.*s%s", scheme != NULL ? (int)(rest - proxy) : 0, proxy, at + 1);
	else
		snprintf(out, max, "%s", proxy);
}

aclm_status client__request(struct client_conn *c, const char *method, const char *url,
			    const char *content_type, const void *body, size_t len,
			    struct http_response *resp, struct aclm_err *err)
{
	const char *var = NULL, *proxy;
	aclm_status st = http_request(c->http, method, url, content_type, body, len, resp, err);

	/* A proxy that is down or refuses the CONNECT looks like the server
	 * failing: say which proxy the request went through. */
	if (st != ACLM_OK && err != NULL && (proxy = env_proxy(url, &var)) != NULL) {
		char msg[ACLM_ERR_MSG_MAX], shown[256];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		proxy_display(proxy, shown, sizeof(shown));
		aclm_err_set(err, st, "%s (through the HTTP proxy %s from %s)", msg, shown, var);
	}
	return st;
}

aclm_status client_conn_open(struct inventory *inv, const struct client_opts *opts,
			     struct client_conn **out, struct aclm_err *err)
{
	struct http_client_opts ho = { .ca_bundle = opts->ca_bundle, .max_body = CLIENT_MAX_BODY };
	struct http_response resp = { 0 };
	struct client_conn *c = calloc(1, sizeof(*c));
	aclm_status st;

	*out = NULL;
	if (c == NULL || (c->server = strdup(opts->server)) == NULL) {
		free(c);
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	c->inv = inv;
	c->opts = *opts;
	c->key_type = -1;
	st = http_client_new(&ho, &c->http, err);
	if (st == ACLM_OK)
		st = client__request(c, "GET", c->server, NULL, NULL, 0, &resp, err);
	if (st == ACLM_OK && resp.status != 200)
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: directory answered HTTP %ld", c->server,
				  resp.status);
	if (st == ACLM_OK)
		st = acme_directory_parse((const char *)resp.body.data, resp.body.len,
					  strncmp(c->server, "http://", 7) == 0, &c->dir, err);
	if (st == ACLM_OK && resp.replay_nonce != NULL)
		c->nonce = strdup(resp.replay_nonce);
	http_response_free(&resp);
	if (st != ACLM_OK) {
		client_conn_close(c);
		return st;
	}
	*out = c;
	return ACLM_OK;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

aclm_status client_profile_check(const struct client_conn *c, const char *profile,
				 struct aclm_err *err)
{
	const char *names[CLIENT_MAX_PROFILES], *k;
	char list[512] = "";
	size_t n = 0, off = 0;
	json_t *v;

	if (json_is_object(c->dir.profiles) && json_object_get(c->dir.profiles, profile) != NULL)
		return ACLM_OK;
	if (!json_is_object(c->dir.profiles) || json_object_size(c->dir.profiles) == 0)
		return aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "profile \"%.64s\": %s offers no profiles "
				    "(its directory has no meta.profiles)", profile, c->server);
	json_object_foreach(c->dir.profiles, k, v)
		if (n < CLIENT_MAX_PROFILES)
			names[n++] = k;
	/* Sorted, so the message does not depend on the server's key order. */
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n && off < sizeof(list); i++) {
		int w = snprintf(list + off, sizeof(list) - off, "%s%.64s", i > 0 ? ", " : "", names[i]);

		off += w > 0 ? (size_t)w : 0;
	}
	return aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "profile \"%.64s\" is not offered by %s "
			    "(offered: %s%s)", profile, c->server, list,
			    json_object_size(c->dir.profiles) > n ? ", ..." : "");
}

void client_conn_close(struct client_conn *c)
{
	if (c == NULL)
		return;
	http_client_free(c->http);
	acme_directory_free(&c->dir);
	json_decref(c->jwk);
	free(c->kid);
	free(c->nonce);
	free(c->server);
	free(c);
}

static aclm_status conn_sign(void *arg, const unsigned char *msg, size_t len, unsigned char **sig,
			     size_t *siglen, struct aclm_err *err)
{
	struct client_conn *c = arg;

	return keystore_sign(c->inv->ks, c->inv->tenant_id, c->key_id, NULL, NULL, msg, len, sig,
			     siglen, err);
}

aclm_status client__use_key(struct client_conn *c, const char *key_id, struct aclm_err *err)
{
	EVP_PKEY *key = NULL;
	aclm_status st = keystore_pkey(c->inv->ks, c->inv->tenant_id, key_id, &key, err);

	if (st == ACLM_OK) {
		json_decref(c->jwk);
		c->jwk = NULL;
		st = acme_jwk_from_pkey(key, &c->jwk, err);
	}
	if (st == ACLM_OK && (c->alg = acme_jws_alg(key)) == NULL)
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "account key %s has no JWS algorithm", key_id);
	if (st == ACLM_OK)
		c->key_type = crypto_key_type_of(key);
	EVP_PKEY_free(key);
	if (st != ACLM_OK)
		return st;
	snprintf(c->key_id, sizeof(c->key_id), "%s", key_id);
	c->signer = (struct acme_signer){ .alg = c->alg, .jwk = c->jwk, .kid = c->kid,
					  .sign = conn_sign, .arg = c };
	return ACLM_OK;
}

static aclm_status fresh_nonce(struct client_conn *c, struct aclm_err *err)
{
	struct http_response resp = { 0 };
	aclm_status st;

	if (c->nonce != NULL)
		return ACLM_OK;
	st = client__request(c, "HEAD", c->dir.new_nonce, NULL, NULL, 0, &resp, err);
	if (st == ACLM_OK && resp.replay_nonce == NULL)
		st = aclm_err_set(err, ACLM_ERR_PARSE, "%s: no Replay-Nonce in the answer (HTTP %ld)",
				  c->dir.new_nonce, resp.status);
	if (st == ACLM_OK)
		c->nonce = strdup(resp.replay_nonce);
	http_response_free(&resp);
	return st;
}

void client__wait(const struct http_response *resp, int attempt)
{
	/* Retry-After when the server gave one (bounded); else 100 ms doubling
	 * to 5 s: validations at a nearby CA finish in milliseconds, a fixed
	 * first second would dominate every order. */
	int64_t ms = resp != NULL && resp->retry_after > 0
			     ? resp->retry_after * 1000
			     : CLIENT_FIRST_POLL_MS << (attempt < 6 ? attempt : 6);
	struct timespec ts;

	if (ms > CLIENT_MAX_WAIT_S * 1000)
		ms = CLIENT_MAX_WAIT_S * 1000;
	if (resp == NULL || resp->retry_after <= 0)
		ms = ms > CLIENT_MAX_BACKOFF_MS ? CLIENT_MAX_BACKOFF_MS : ms;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static bool is_problem(const struct http_response *resp)
{
	return resp->status >= 400 && resp->content_type != NULL &&
	       strcmp(resp->content_type, "application/problem+json") == 0;
}

bool client__answer_is_problem(const struct http_response *resp, const char *name)
{
	struct acme_problem prob = { 0 };
	bool is = false;

	if (is_problem(resp) && acme_problem_parse((const char *)resp->body.data, resp->body.len,
						   &prob, NULL) == ACLM_OK) {
		is = acme_problem_is(&prob, name);
		acme_problem_free(&prob);
	}
	return is;
}

/* One signed POST; *retry is set on badNonce. */
static aclm_status post_once(struct client_conn *c, const char *url, const json_t *payload,
			     const char *what, struct http_response *resp, bool *retry,
			     struct aclm_err *err)
{
	struct acme_problem prob = { 0 };
	char *jws = NULL;
	aclm_status st;

	*retry = false;
	st = fresh_nonce(c, err);
	if (st == ACLM_OK) {
		c->signer.kid = c->kid;
		st = acme_jws_sign(&c->signer, url, c->nonce, payload, &jws, err);
	}
	free(c->nonce);
	c->nonce = NULL; /* single use, whatever happens */
	if (st != ACLM_OK)
		return st;
	http_response_free(resp);
	st = client__request(c, "POST", url, "application/jose+json", jws, strlen(jws), resp, err);
	free(jws);
	if (st != ACLM_OK)
		return st;
	if (resp->replay_nonce != NULL)
		c->nonce = strdup(resp->replay_nonce);
	if (resp->status < 400)
		return ACLM_OK;
	if (is_problem(resp) && acme_problem_parse((const char *)resp->body.data, resp->body.len,
						   &prob, NULL) == ACLM_OK) {
		*retry = acme_problem_is(&prob, "badNonce");
		st = acme_problem_to_err(&prob, what, err);
		acme_problem_free(&prob);
		return st;
	}
	return aclm_err_set(err, ACLM_ERR_IO, "%s: %s answered HTTP %ld", what, url, resp->status);
}

aclm_status client_post(struct client_conn *c, const char *url, const json_t *payload,
			const char *what, struct http_response *resp, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	bool retry = true;

	for (int attempt = 0; retry && attempt <= CLIENT_NONCE_RETRIES; attempt++) {
		st = post_once(c, url, payload, what, resp, &retry, err);
		if (retry)
			log_info("%s: bad nonce, retrying (%d)", what, attempt + 1);
	}
	return st;
}

aclm_status client_get_json(struct client_conn *c, const char *url, const char *what,
			    json_t **out, struct http_response *resp, struct aclm_err *err)
{
	aclm_status st = client_post(c, url, NULL, what, resp, err);

	*out = NULL;
	if (st == ACLM_OK)
		st = aclm_json_parse((const char *)resp->body.data, resp->body.len, CLIENT_MAX_BODY,
				     what, out, err);
	return st;
}
