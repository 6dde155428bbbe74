/* The order state machine (RFC 8555 §7.4, §7.5): newOrder (with profile and
 * ARI "replaces"), authorizations, challenges, finalize, download; then
 * inventory and lineage; the second order of a TLCP pair. */
#include "client/client_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/exec.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/crypto.h"

#define LOCK_SECONDS 900

struct order_run {
	struct client_conn *c;
	const struct client_request *req;
	const struct solver_ops *solver;
	void *solver_state;
	char owner[96];
	char *order_url;
	json_t *order;
	char key_id[KEYSTORE_ID_MAX];
	bool enc;                  /* the TLCP encryption certificate's order */
	const char *profile;       /* sent in newOrder, or NULL */
	char *replaces;            /* RFC 9773 §5 identifier to send, or NULL */
	bool replaced;             /* the order was created with replaces */
};

/* What the lineage row says before an order starts. */
struct lineage_prior {
	char *resume_url;          /* order left in flight at this server, or NULL */
	bool resume_enc;           /* ... and it is the TLCP encryption certificate's */
	char *replaces, *enc_replaces; /* identifiers of the certificates to replace */
};

static aclm_status lineage_step(struct order_run *r, const char *state, struct aclm_err *err);

static long poll_limit(const struct client_conn *c)
{
	return c->opts.poll_timeout_s > 0 ? c->opts.poll_timeout_s : 120;
}

json_t *client__order_payload(const char *const *names, size_t nnames, const char *profile,
			      const char *replaces)
{
	json_t *a = json_array(), *p = NULL;

	for (size_t i = 0; a != NULL && i < nnames; i++) {
		bool ip = client_name_is_ip(names[i]);

		json_array_append_new(a, json_pack("{s:s, s:s}", "type", ip ? "ip" : "dns", "value",
						   names[i]));
	}
	if (a != NULL)
		p = json_pack("{s:o, s:s*, s:s*}", "identifiers", a, "profile", profile, "replaces",
			      replaces);
	return p;
}

/* Polls url (POST-as-GET) while its status is one of `waiting`. */
static aclm_status poll_status(struct order_run *r, const char *url, const char *what,
			       const char *const *waiting, json_t **out, struct aclm_err *err)
{
	int64_t deadline = aclm_time_now() + poll_limit(r->c);
	struct http_response resp = { 0 };
	aclm_status st;

	for (int attempt = 0;; attempt++) {
		bool wait = false;
		const char *status;

		json_decref(*out);
		*out = NULL;
		st = client_get_json(r->c, url, what, out, &resp, err);
		if (st != ACLM_OK)
			break;
		status = aclm_json_str(*out, "status");
		for (size_t i = 0; waiting[i] != NULL && status != NULL; i++)
			wait = wait || strcmp(status, waiting[i]) == 0;
		if (!wait)
			break;
		if (aclm_time_now() >= deadline) {
			st = aclm_err_set(err, ACLM_ERR_BUSY, "%s: still %s after %ld s", what, status,
					  poll_limit(r->c));
			break;
		}
		client__wait(&resp, attempt);
	}
	http_response_free(&resp);
	return st;
}

static const json_t *find_challenge(const json_t *authz, const char *type)
{
	size_t i;
	json_t *ch;

	json_array_foreach(json_object_get(authz, "challenges"), i, ch)
		if (aclm_json_str(ch, "type") != NULL && strcmp(aclm_json_str(ch, "type"), type) == 0)
			return ch;
	return NULL;
}

/* The problem a failed authorization carries in its challenge (§7.5.1). */
static aclm_status authz_failure(const json_t *authz, const char *ident, struct aclm_err *err)
{
	size_t i;
	json_t *ch, *e;

	json_array_foreach(json_object_get(authz, "challenges"), i, ch) {
		struct acme_problem p = { 0 };
		char *txt;

		if ((e = json_object_get(ch, "error")) == NULL || (txt = json_dumps(e, 0)) == NULL)
			continue;
		if (acme_problem_parse(txt, strlen(txt), &p, NULL) == ACLM_OK) {
			char ctx[300];

			snprintf(ctx, sizeof(ctx), "authorization of %s", ident);
			acme_problem_to_err(&p, ctx, err);
			acme_problem_free(&p);
			free(txt);
			return ACLM_ERR_VERIFY;
		}
		free(txt);
	}
	return aclm_err_set(err, ACLM_ERR_VERIFY, "authorization of %s failed (status %s)", ident,
			    aclm_json_str(authz, "status"));
}

static aclm_status solve_authz(struct order_run *r, const char *url, struct aclm_err *err)
{
	static const char *const pending[] = { "pending", NULL };
	struct http_response resp = { 0 };
	json_t *authz = NULL, *empty = json_object();
	const json_t *ch;
	char *ident = NULL, *token = NULL; /* copied: polling replaces authz */
	char thumb[44], *keyauth = NULL;
	struct solver_challenge sc = { 0 };
	bool presented = false;
	aclm_status st = client_get_json(r->c, url, "authorization", &authz, &resp, err);

	if (st != ACLM_OK)
		goto out;
	if (aclm_json_str(json_object_get(authz, "identifier"), "value") != NULL)
		ident = strdup(aclm_json_str(json_object_get(authz, "identifier"), "value"));
	if (strcmp(aclm_json_str(authz, "status") ?: "", "valid") == 0) {
		log_info("%s: authorization already valid (reused)", ident ?: "?");
		goto out;
	}
	ch = find_challenge(authz, r->req->challenge);
	if (ch == NULL || ident == NULL || aclm_json_str(ch, "token") == NULL ||
	    aclm_json_str(ch, "url") == NULL) {
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "%s: the server offers no %s challenge",
				  ident ?: url, r->req->challenge);
		goto out;
	}
	st = acme_jwk_thumbprint(r->c->jwk, thumb, err);
	if (st != ACLM_OK)
		goto out;
	token = strdup(aclm_json_str(ch, "token"));
	keyauth = acme_key_authorization(token, thumb);
	sc = (struct solver_challenge){ .type = r->req->challenge, .identifier = ident,
					.token = token, .key_authorization = keyauth };
	st = r->solver->present(r->solver_state, &sc, err);
	presented = st == ACLM_OK;
	if (st == ACLM_OK)
		st = client_post(r->c, aclm_json_str(ch, "url"), empty, "challenge", &resp, err);
	if (st == ACLM_OK)
		st = poll_status(r, url, "authorization", pending, &authz, err);
	if (st == ACLM_OK && strcmp(aclm_json_str(authz, "status") ?: "", "valid") != 0)
		st = authz_failure(authz, ident, err);
	if (st == ACLM_OK)
		log_info("%s: %s validated", ident, r->req->challenge);
out:
	if (presented)
		r->solver->cleanup(r->solver_state, &sc, NULL);
	free(ident);
	free(token);
	free(keyauth);
	json_decref(empty);
	json_decref(authz);
	http_response_free(&resp);
	return st;
}

static aclm_status post_new_order(struct order_run *r, const char *replaces,
				  struct http_response *resp, struct aclm_err *err)
{
	json_t *payload = client__order_payload(r->req->names, r->req->nnames, r->profile, replaces);
	aclm_status st = payload != NULL
				 ? client_post(r->c, r->c->dir.new_order, payload, "newOrder", resp, err)
				 : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");

	json_decref(payload);
	return st;
}

static aclm_status new_order(struct order_run *r, struct aclm_err *err)
{
	struct http_response resp = { 0 };
	aclm_status st = post_new_order(r, r->replaces, &resp, err);

	/* RFC 9773 §5: a certificate named by an earlier order (one that did
	 * not finish, say) is refused with alreadyReplaced. The new certificate
	 * is still wanted: once more without the link. */
	if (st != ACLM_OK && r->replaces != NULL && client__answer_is_problem(&resp, "alreadyReplaced")) {
		aclm_log_note("%s: the CA says %s was already replaced (%s); ordering again without "
			      "\"replaces\"", r->req->lineage, r->replaces, err->msg);
		aclm_err_clear(err);
		free(r->replaces);
		r->replaces = NULL;
		st = post_new_order(r, NULL, &resp, err);
	}
	r->replaced = st == ACLM_OK && r->replaces != NULL;
	if (st == ACLM_OK && resp.location == NULL)
		st = aclm_err_set(err, ACLM_ERR_PARSE, "newOrder: no Location in the answer");
	if (st == ACLM_OK)
		st = aclm_json_parse((const char *)resp.body.data, resp.body.len, resp.body.max,
				     "newOrder", &r->order, err);
	if (st == ACLM_OK)
		r->order_url = strdup(resp.location);
	http_response_free(&resp);
	return st;
}

static aclm_status make_csr(struct order_run *r, char **b64, struct aclm_err *err)
{
	const char **dns = calloc(r->req->nnames, sizeof(*dns)), **ips = calloc(r->req->nnames, sizeof(*ips));
	struct crypto_csr_req cr = { .dns = dns, .ips = ips };
	unsigned char *der = NULL;
	EVP_PKEY *key = NULL;
	X509_REQ *csr = NULL;
	int len;
	aclm_status st;

	*b64 = NULL;
	if (r->req->csr_der != NULL) {
		/* The user's CSR goes as is: its key is not ours to re-sign with. */
		*b64 = acme_b64url_encode(r->req->csr_der, r->req->csr_len);
		st = *b64 != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (dns == NULL || ips == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->req->nnames; i++) {
		const char *n = r->req->names[i];

		if (client_name_is_ip(n))
			ips[cr.nips++] = n;
		else
			dns[cr.ndns++] = n;
	}
	st = keystore_create(r->c->inv->ks, r->c->inv->tenant_id, r->req->key_type, r->key_id, err);
	if (st == ACLM_OK)
		st = keystore_pkey(r->c->inv->ks, r->c->inv->tenant_id, r->key_id, &key, err);
	if (st == ACLM_OK)
		st = crypto_csr_new(key, &cr, &csr, err);
	if (st != ACLM_OK)
		goto out;
	len = i2d_X509_REQ(csr, &der);
	if (len <= 0 || (*b64 = acme_b64url_encode(der, (size_t)len)) == NULL)
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "cannot encode the CSR");
out:
	OPENSSL_free(der);
	X509_REQ_free(csr);
	EVP_PKEY_free(key);
	free(dns);
	free(ips);
	return st;
}

static aclm_status finalize(struct order_run *r, struct aclm_err *err)
{
	static const char *const processing[] = { "pending", "ready", "processing", NULL };
	struct http_response resp = { 0 };
	json_t *payload = NULL;
	char *csr = NULL;
	aclm_status st = make_csr(r, &csr, err);

	if (st == ACLM_OK) {
		payload = json_pack("{s:s}", "csr", csr);
		st = client_post(r->c, aclm_json_str(r->order, "finalize"), payload, "finalize", &resp, err);
	}
	if (st == ACLM_OK)
		st = lineage_step(r, "finalizing", err);
	aclm_test_crash_point("after-finalize");
	if (st == ACLM_OK)
		st = poll_status(r, r->order_url, "order", processing, &r->order, err);
	if (st == ACLM_OK && strcmp(aclm_json_str(r->order, "status") ?: "", "valid") != 0)
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "order %s ended %s", r->order_url,
				  aclm_json_str(r->order, "status"));
	free(csr);
	json_decref(payload);
	http_response_free(&resp);
	return st;
}

static aclm_status solve_all(struct order_run *r, struct aclm_err *err)
{
	static const char *const pending[] = { "pending", NULL };
	size_t i;
	json_t *u;
	aclm_status st = ACLM_OK;

	json_array_foreach(json_object_get(r->order, "authorizations"), i, u) {
		if (!json_is_string(u))
			return aclm_err_set(err, ACLM_ERR_PARSE, "order: authorization is not a URL");
		st = solve_authz(r, json_string_value(u), err);
		if (st != ACLM_OK)
			return st;
	}
	/* The order turns ready once every authorization is valid (§7.1.6). */
	return poll_status(r, r->order_url, "order", pending, &r->order, err);
}

/* Paths are stored absolute so that renew works from any directory. */
static const char *abs_path(const char *path, char buf[PATH_MAX])
{
	return path != NULL && realpath(path, buf) != NULL ? buf : path;
}

/* Everything renew needs to replay the order (issue 3: "stored with it"). */
static json_t *lineage_options(const struct order_run *r)
{
	const struct solver_config *sc = r->req->solver;
	char webroot[PATH_MAX], tsig[PATH_MAX], bundle[PATH_MAX];

	json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, "
			      "s:s?, s:s?, s:s?}",
			      "challenge", r->req->challenge, "http_listen", sc->http_listen, "webroot",
			      abs_path(sc->webroot, webroot), "tlsalpn_listen", sc->tlsalpn_listen,
			      "dns_hook", sc->dns_hook, "dns_rfc2136", sc->dns_rfc2136, "tsig_file",
			      abs_path(sc->tsig_file, tsig), "dns_resolver", sc->dns_resolver,
			      "dns_propagation", sc->dns_propagation, "ca_bundle",
			      abs_path(r->c->opts.ca_bundle, bundle), "email", r->c->opts.email,
			      "deploy_hook", r->req->deploy_hook, "preferred_chain",
			      r->req->preferred_chain, "csr", r->req->csr_path, "profile",
			      r->req->profile);

	if (o != NULL && r->req->tlcp)
		json_object_set_new(o, "tlcp", json_true());
	return o;
}

/* The options describe what to replay and are rewritten by each issue;
 * the state about the current certificates (client.h: "ari", and the TLCP
 * encryption certificate's "tlcp_enc") stays until a new one is recorded. */
static void keep_certificate_state(json_t *options, const json_t *old, bool tlcp)
{
	json_t *v;

	if ((v = json_object_get(old, "ari")) != NULL)
		json_object_set(options, "ari", v);
	if (tlcp && (v = json_object_get(old, "tlcp_enc")) != NULL)
		json_object_set(options, "tlcp_enc", v);
}

/* RFC 9773 §5: a new order names the certificate it replaces when that one
 * came from this server and account (a CA refuses another account's). */
static void prior_of(const struct order_run *r, const struct store_lineage *l,
		     struct lineage_prior *p)
{
	const json_t *enc = json_object_get(l->options, "tlcp_enc");
	bool same = strcmp(l->server, r->c->server) == 0;

	if (same && l->order_url != NULL) {
		p->resume_url = strdup(l->order_url);
		p->resume_enc = l->order_state != NULL && strncmp(l->order_state, "enc-", 4) == 0;
	}
	if (!same || l->account_id != r->c->account_id)
		return;
	if (l->ari_id != NULL && l->cert_id != 0)
		p->replaces = strdup(l->ari_id);
	if (aclm_json_str(enc, "ari_id") != NULL)
		p->enc_replaces = strdup(aclm_json_str(enc, "ari_id"));
}

/* Lock owners are "aclm:PID@HOST" (client_issue). True when that process
 * ran on this host and is gone. */
static bool owner_is_dead_here(const char *owner)
{
	char host[64] = "", ohost[64] = "";
	long pid = 0;

	if (owner == NULL || sscanf(owner, "aclm:%ld@%63s", &pid, ohost) != 2 || pid <= 0)
		return false;
	gethostname(host, sizeof(host) - 1);
	return strcmp(host, ohost) == 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Creates or refreshes the lineage row and locks it. *prior receives the
 * order left in flight by an earlier run at the same server, if any, and
 * the certificates the new ones replace. */
static aclm_status lineage_begin(struct order_run *r, struct lineage_prior *prior,
				 struct aclm_err *err)
{
	struct store_lineage *l = NULL, fresh = { .tenant_id = r->c->inv->tenant_id };
	struct store_lineage *row = &fresh;
	json_t *names = json_array(), *options = lineage_options(r);
	int64_t id;
	aclm_status st;

	for (size_t i = 0; i < r->req->nnames; i++)
		json_array_append_new(names, json_string(r->req->names[i]));
	st = store_lineage_get(r->c->inv->store, fresh.tenant_id, r->req->lineage, &l, err);
	if (st == ACLM_ERR_NOTFOUND) {
		aclm_err_clear(err);
		fresh.created_at = aclm_time_now();
		st = ACLM_OK;
	} else if (st == ACLM_OK) {
		row = l;
		prior_of(r, l, prior);
		keep_certificate_state(options, l->options, r->req->tlcp);
	}
	if (st == ACLM_OK) {
		struct store_lineage w = *row;

		w.name = (char *)r->req->lineage;
		w.server = r->c->server;
		/* The account of the current certificate until a new one is
		 * recorded (prior_of decides "replaces" by it). */
		if (w.cert_id == 0)
			w.account_id = r->c->account_id;
		w.names = names;
		w.key_type = (char *)crypto_key_type_name(r->req->key_type);
		w.options = options;
		w.updated_at = aclm_time_now();
		st = store_lineage_put(r->c->inv->store, &w, &id, err);
	}
	if (st == ACLM_OK && l != NULL && owner_is_dead_here(l->lock_owner)) {
		/* A crashed run on this host: its lease would block us for minutes. */
		log_info("lineage %s: taking over the lock of %s, which is no longer running",
			 r->req->lineage, l->lock_owner);
		store_lineage_unlock(r->c->inv->store, fresh.tenant_id, r->req->lineage, l->lock_owner,
				     NULL);
	}
	if (st == ACLM_OK)
		st = store_lineage_lock(r->c->inv->store, fresh.tenant_id, r->req->lineage, r->owner,
					aclm_time_now() + LOCK_SECONDS, err);
	store_lineage_free(l);
	json_decref(names);
	json_decref(options);
	return st;
}

/* Stores the order in flight before the next step, so a crash resumes it
 * (issue 3, crash safety). */
static aclm_status lineage_step(struct order_run *r, const char *state, struct aclm_err *err)
{
	struct store_lineage *l = NULL;
	int64_t id;
	aclm_status st = store_lineage_get(r->c->inv->store, r->c->inv->tenant_id, r->req->lineage,
					   &l, err);

	if (st != ACLM_OK)
		return st;
	free(l->order_url);
	free(l->order_state);
	l->order_url = strdup(r->order_url);
	/* "enc-": the TLCP encryption certificate's order, resumed as such. */
	if (asprintf(&l->order_state, "%s%s", r->enc ? "enc-" : "", state) < 0)
		l->order_state = NULL;
	st = store_lineage_put(r->c->inv->store, l, &id, err);
	store_lineage_free(l);
	return st;
}

/* Fetches an order left by an earlier run. Usable when it can still give a
 * certificate (pending, ready, processing, valid); else a new order starts. */
static bool resume_order(struct order_run *r, const char *url)
{
	struct http_response resp = { 0 };
	struct aclm_err ignored = { 0 };
	const char *status;
	bool usable;

	if (client_get_json(r->c, url, "order (resume)", &r->order, &resp, &ignored) != ACLM_OK) {
		http_response_free(&resp);
		log_info("earlier order %s is gone (%s); starting a new one", url, ignored.msg);
		return false;
	}
	http_response_free(&resp);
	status = aclm_json_str(r->order, "status");
	usable = status != NULL && strcmp(status, "invalid") != 0 && strcmp(status, "expired") != 0 &&
		 strcmp(status, "deactivated") != 0;
	if (!usable) {
		json_decref(r->order);
		r->order = NULL;
		log_info("earlier order %s is %s; starting a new one", url, status ?: "unreadable");
		return false;
	}
	r->order_url = strdup(url);
	log_info("resuming order %s (%s)", url, status);
	return true;
}

/* From a fresh or resumed order to a downloaded certificate. */
static aclm_status run_order(struct order_run *r, bool resumed, struct aclm_err *err)
{
	const char *status;
	aclm_status st = ACLM_OK;

	if (!resumed) {
		st = new_order(r, err);
		if (st == ACLM_OK)
			st = lineage_step(r, "pending", err);
		aclm_test_crash_point("after-order");
	}
	status = r->order != NULL ? aclm_json_str(r->order, "status") : NULL;
	if (st == ACLM_OK && status != NULL && strcmp(status, "valid") != 0 &&
	    strcmp(status, "processing") != 0) {
		bool own = r->req->shared_state == NULL;

		if (own)
			st = r->solver->start(r->req->solver, &r->solver_state, err);
		else
			r->solver_state = r->req->shared_state;
		if (st == ACLM_OK)
			st = solve_all(r, err);
		if (own && r->solver_state != NULL)
			r->solver->stop(r->solver_state);
		r->solver_state = NULL;
		if (st == ACLM_OK)
			st = finalize(r, err);
	} else if (st == ACLM_OK && status != NULL && strcmp(status, "processing") == 0) {
		static const char *const processing[] = { "processing", NULL };

		st = poll_status(r, r->order_url, "order", processing, &r->order, err);
	}
	if (st == ACLM_OK && aclm_json_str(r->order, "certificate") == NULL)
		st = aclm_err_set(err, ACLM_ERR_PARSE, "order %s is %s but has no certificate URL",
				  r->order_url, aclm_json_str(r->order, "status"));
	aclm_test_crash_point("before-download");
	return st;
}

/* What can be refused before anything is ordered. */
static aclm_status check_request(struct client_conn *c, const struct client_request *req,
				 struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	if (!client_lineage_name_ok(req->lineage))
		return aclm_err_set(err, ACLM_ERR_USAGE,
				    "lineage \"%s\": not a name for a directory under live/ (no '/', "
				    "not . or .., printable, at most 200 bytes)", req->lineage);
	if (req->profile != NULL)
		st = client_profile_check(c, req->profile, err);
	if (st != ACLM_OK || !req->tlcp)
		return st;
	/* GB/T 38636: both certificates of a TLCP pair are SM2. */
	if (req->key_type != CRYPTO_KEY_SM2 || req->csr_der != NULL)
		return aclm_err_set(err, ACLM_ERR_USAGE, "--tlcp: TLCP needs an SM2 key made by aclm "
				    "(--key-type sm2, no --csr)");
	st = client_profile_check(c, CLIENT__TLCP_ENC_PROFILE, err);
	if (st != ACLM_OK)
		aclm_err_prefix(err, "--tlcp needs the encryption certificate profile");
	return st;
}

/* One certificate of the lineage: a fresh or resumed order, then download. */
static aclm_status order_and_store(struct order_run *r, const char *resume,
				   struct client_result *res, struct aclm_err *err)
{
	aclm_status st = run_order(r, resume != NULL && resume_order(r, resume), err);

	if (st == ACLM_OK)
		st = client__download_and_store(r->c, r->req, r->enc,
						aclm_json_str(r->order, "certificate"), res, err);
	if (st == ACLM_OK && r->replaced && !r->enc)
		snprintf(res->replaced, sizeof(res->replaced), "%s", r->replaces);
	return st;
}

static aclm_status issue(struct client_conn *c, const struct client_request *req,
			 struct client_result *res, struct aclm_err *err)
{
	struct order_run r = { .c = c, .req = req, .profile = req->profile };
	struct order_run e = { .c = c, .req = req, .enc = true, .profile = CLIENT__TLCP_ENC_PROFILE };
	struct lineage_prior prior = { 0 };
	char host[64] = "", **hook = NULL;
	bool locked = false;
	aclm_status st;

	memset(res, 0, sizeof(*res));
	st = check_request(c, req, err);
	if (st != ACLM_OK)
		return st;
	gethostname(host, sizeof(host) - 1);
	snprintf(r.owner, sizeof(r.owner), "aclm:%ld@%s", (long)getpid(), host);
	r.solver = req->shared_ops != NULL ? req->shared_ops : solver_for(req->challenge, req->solver);
	e.solver = r.solver;
	if (r.solver == NULL)
		return aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "no solver for %s with these options",
				    req->challenge);
	/* A deploy hook that cannot be split fails before anything is ordered. */
	st = req->deploy_hook != NULL ? aclm_split_argv(req->deploy_hook, &hook, err) : ACLM_OK;
	if (st != ACLM_OK)
		aclm_err_prefix(err, "deploy hook");
	if (st == ACLM_OK)
		st = client_account_ensure(c, err);
	if (st == ACLM_OK)
		st = lineage_begin(&r, &prior, err);
	locked = st == ACLM_OK;
	r.replaces = prior.replaces;
	e.replaces = prior.enc_replaces;
	/* A crash in the encryption certificate's order left the signing
	 * certificate issued: only the former is resumed. */
	if (st == ACLM_OK && !(req->tlcp && prior.resume_enc))
		st = order_and_store(&r, prior.resume_enc ? NULL : prior.resume_url, res, err);
	if (st == ACLM_OK && req->tlcp &&
	    (st = order_and_store(&e, prior.resume_enc ? prior.resume_url : NULL, res, err)) != ACLM_OK)
		aclm_err_prefix(err, "TLCP encryption certificate");
	if (locked)
		store_lineage_unlock(c->inv->store, c->inv->tenant_id, req->lineage, r.owner, NULL);
	if (st == ACLM_OK && hook != NULL) {
		st = client__deploy_hook(req, hook, res, err);
		res->deploy_hook_failed = st != ACLM_OK;
	}
	aclm_argv_free(hook);
	free(prior.resume_url);
	free(r.replaces);
	free(e.replaces);
	free(r.order_url);
	free(e.order_url);
	json_decref(r.order);
	json_decref(e.order);
	return st;
}

aclm_status client_issue(struct client_conn *c, const struct client_request *req,
			 struct client_result *res, struct aclm_err *err)
{
	struct client_request with_csr;
	struct client_csr csr = { 0 };
	aclm_status st;

	if (req->csr_der != NULL || req->csr_path == NULL)
		return issue(c, req, res, err);
	/* renew: the stored CSR path, read again (the user may have replaced it). */
	memset(res, 0, sizeof(*res));
	st = client_csr_load(req->csr_path, &csr, err);
	if (st != ACLM_OK)
		return st;
	with_csr = *req;
	with_csr.csr_der = csr.der;
	with_csr.csr_len = csr.len;
	st = issue(c, &with_csr, res, err);
	client_csr_free(&csr);
	return st;
}
