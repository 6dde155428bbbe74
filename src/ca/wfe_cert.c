/* ca/wfe_cert: issued certificates: download (RFC 8555 §7.4.2), revocation
 * (§7.6), renewal information (RFC 9773 §4) and the CRLs (RFC 5280). */
#include "ca/wfe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/cert.h"

#define REVOKE_CERT_MAX (16 * 1024)
#define ARI_RETRY_AFTER "21600"   /* RFC 9773 §4.3: poll again in 6 hours */

static struct store_ca_issued *issued_load(struct wfe_req *r, const char *serial)
{
	struct store_ca_issued *c = NULL;
	struct aclm_err err = { 0 };
	aclm_status st = ACLM_ERR_NOTFOUND;

	if (strlen(serial) < 41)
		st = store_ca_issued_get(r->w->store, r->srv->tenant, r->srv->ca_name, serial, &c,
					 &err);
	wfe_sync_saw(r, serial);
	if (st == ACLM_ERR_NOTFOUND)
		wfe_reply_problem_status(r, "malformed", 404, "no certificate %.64s", serial);
	else if (st != ACLM_OK)
		wfe_reply_err(r, NULL, &err);
	return st == ACLM_OK ? c : NULL;
}

/* Link rel="alternate" to every other chain of the certificate: the
 * default one ("cert/SERIAL") and one per cross-signed copy of its
 * intermediate ("cert/SERIAL/K"), RFC 8555 §7.4.2. */
static void link_alternates(struct wfe_req *r, const char *serial, const struct ca_issuer *iss,
			    size_t shown)
{
	char id[96], url[512], link[600];

	for (size_t k = 0; iss != NULL && k <= iss->ncross; k++) {
		if (k == shown)
			continue;
		if (k == 0)
			snprintf(id, sizeof(id), "%.48s", serial);
		else
			snprintf(id, sizeof(id), "%.48s/%zu", serial, k);
		wfe_url(r, "cert", id, url, sizeof(url));
		snprintf(link, sizeof(link), "<%s>;rel=\"alternate\"", url);
		wfe_add_header(r, "Link", link);
	}
}

/* "SERIAL": the leaf and its intermediate (not the root), as PEM;
 * "SERIAL/K": the leaf and the K-th cross-signed copy of the intermediate. */
void wfe_cert(struct wfe_req *r)
{
	char serial[48];
	const char *slash = strchr(r->rest, '/');
	size_t len = slash != NULL ? (size_t)(slash - r->rest) : strlen(r->rest);
	unsigned long alt = 0;
	char *end = NULL;
	struct store_ca_issued *c;
	const struct ca_issuer *iss;
	struct aclm_buf pem;
	struct aclm_err err = { 0 };
	aclm_status st;

	if (slash != NULL)
		alt = strtoul(slash + 1, &end, 10);
	if (len >= sizeof(serial) ||
	    (slash != NULL && (alt == 0 || alt > CA_CROSS_MAX || *end != '\0'))) {
		wfe_reply_problem_status(r, "malformed", 404, "no certificate %.64s", r->rest);
		return;
	}
	memcpy(serial, r->rest, len);
	serial[len] = '\0';
	c = issued_load(r, serial);
	if (c == NULL)
		return;
	iss = ca_issuer_by_type(r->srv->issuers, r->srv->nissuers, c->key_type);
	if (alt > 0 && (iss == NULL || alt > iss->ncross)) {
		wfe_reply_problem_status(r, "malformed", 404,
					 "certificate %s has no alternate chain %lu", serial, alt);
		store_ca_issued_free(c);
		return;
	}
	aclm_buf_init(&pem, 1024 * 1024);
	st = crypto_cert_der_to_pem(c->der, c->der_len, &pem, &err);
	if (st == ACLM_OK && iss != NULL)
		st = crypto_cert_to_pem(alt == 0 ? iss->intermediate : iss->cross[alt - 1], &pem, &err);
	if (st != ACLM_OK) {
		wfe_reply_err(r, NULL, &err);
	} else {
		link_alternates(r, serial, iss, (size_t)alt);
		wfe_reply_raw(r, 200, "application/pem-certificate-chain", pem.data, pem.len);
	}
	aclm_buf_free(&pem);
	store_ca_issued_free(c);
}

/* RFC 5280 §5.3.1 reasons a subscriber may give (as Let's Encrypt:
 * unspecified, keyCompromise, affiliationChanged, superseded,
 * cessationOfOperation). */
static bool reason_allowed(int reason)
{
	return reason == 0 || reason == 1 || reason == 3 || reason == 4 || reason == 5;
}

/* The account that ordered it, or a request signed by the certificate's
 * own key (§7.6). */
static bool revoke_authorized(struct wfe_req *r, const struct store_ca_issued *c, X509 *cert)
{
	if (r->acct != NULL)
		return c->account_id != NULL && strcmp(r->acct->id, c->account_id) == 0;
	return crypto_key_public_equal(X509_get0_pubkey(cert), r->key);
}

static X509 *revoke_cert_arg(struct wfe_req *r, char serial[41])
{
	const char *b64 = aclm_json_str(r->jws.payload, "certificate");
	unsigned char *der = NULL;
	struct aclm_err err = { 0 };
	X509 *x = NULL;
	long len = -1;

	if (b64 != NULL && strlen(b64) <= REVOKE_CERT_MAX * 4 / 3 + 4 &&
	    (der = malloc(REVOKE_CERT_MAX)) != NULL)
		len = acme_b64url_decode(b64, strlen(b64), der, REVOKE_CERT_MAX);
	if (len <= 0 || crypto_cert_from_der(der, (size_t)len, &x, &err) != ACLM_OK) {
		wfe_reply_problem(r, "malformed", "the payload needs \"certificate\": base64url DER");
	} else {
		ca__serial_hex(x, serial);
	}
	free(der);
	return x;
}

static bool same_der(X509 *x, const struct store_ca_issued *c)
{
	unsigned char *der = NULL;
	size_t len = 0;
	struct aclm_err err = { 0 };
	bool same = crypto_cert_to_der(x, &der, &len, &err) == ACLM_OK && len == c->der_len &&
		    memcmp(der, c->der, len) == 0;

	OPENSSL_free(der);
	return same;
}

void wfe_revoke(struct wfe_req *r)
{
	const json_t *jr = json_object_get(r->jws.payload, "reason");
	int reason = jr != NULL ? (int)json_integer_value(jr) : 0;
	struct store_ca_issued *c = NULL;
	struct store_audit_event ev = { .tenant_id = r->srv->tenant, .actor = "ca",
					.action = "ca.revoke" };
	struct aclm_err err = { 0 };
	char serial[41];
	X509 *x = revoke_cert_arg(r, serial);
	aclm_status st;

	if (x == NULL)
		return;
	if (jr != NULL && (!json_is_integer(jr) || !reason_allowed(reason))) {
		wfe_reply_problem(r, "badRevocationReason",
				  "reason must be 0, 1, 3, 4 or 5 (RFC 5280 §5.3.1)");
		goto out;
	}
	if ((c = issued_load(r, serial)) == NULL)
		goto out;
	if (!same_der(x, c) || !revoke_authorized(r, c, x)) {
		wfe_reply_problem(r, "unauthorized",
				  "revocation needs the ordering account or the certificate's key");
		goto out;
	}
	if (c->revoked) {
		wfe_reply_problem(r, "alreadyRevoked", "certificate %s is already revoked", serial);
		goto out;
	}
	st = wfe_write_begin_durable(r, &err);
	if (st == ACLM_OK) {
		wfe_write_durable_key(r, serial);
		st = store_ca_issued_revoke(r->w->store, r->srv->tenant, r->srv->ca_name, serial,
					    reason, aclm_time_now(), &err);
		ev.object = serial;
		ev.detail = json_pack("{s:i}", "reason", reason);
		if (st == ACLM_OK)
			st = store_audit_append(r->w->store, &ev, &err);
		json_decref(ev.detail);
		if (st != ACLM_OK)
			wfe_write_abort(r);
		else
			st = wfe_write_commit(r, &err);
	}
	if (st == ACLM_ERR_EXISTS)
		wfe_reply_problem(r, "alreadyRevoked", "certificate %s is already revoked", serial);
	else if (st != ACLM_OK)
		wfe_reply_err(r, NULL, &err);
	else
		wfe_reply_raw(r, 200, NULL, NULL, 0);
out:
	X509_free(x);
	store_ca_issued_free(c);
}

/* RFC 9773 §4.2: a window in the last third of the lifetime (from 2/3 to
 * 3/4 of it); for a revoked certificate a window that has begun, so that
 * clients replace it now. */
static void ari_window(const struct store_ca_issued *c, int64_t now, int64_t *start, int64_t *end)
{
	int64_t life = c->not_after - c->not_before;

	if (c->revoked) {
		*start = c->revoked_at < now - 60 ? c->revoked_at : now - 60;
		*end = now;
		return;
	}
	*start = c->not_before + life * 2 / 3;
	*end = c->not_before + life * 3 / 4;
}

void wfe_renewal_info(struct wfe_req *r)
{
	char serial[41], a[ACLM_TIME_RFC3339_LEN], b[ACLM_TIME_RFC3339_LEN];
	unsigned char aki[64];
	size_t aki_len = 0;
	struct aclm_err err = { 0 };
	struct store_ca_issued *c;
	int64_t start, end;
	json_t *body;

	if (acme_ari_cert_id_parse(r->rest, serial, aki, sizeof(aki), &aki_len, &err) != ACLM_OK) {
		wfe_reply_problem(r, "malformed", "\"%.100s\" is not a certificate identifier (RFC 9773 §4.1)",
				  r->rest);
		return;
	}
	if ((c = issued_load(r, serial)) == NULL)
		return;
	ari_window(c, aclm_time_now(), &start, &end);
	body = json_pack("{s:{s:s, s:s}}", "suggestedWindow", "start", aclm_time_fmt(start, a), "end",
			 aclm_time_fmt(end, b));
	wfe_add_header(r, "Retry-After", ARI_RETRY_AFTER);
	wfe_reply_json(r, 200, body, NULL);
	json_decref(body);
	store_ca_issued_free(c);
}

/* ---- CRLs: one per intermediate, built when asked ---- */

void wfe_crl(struct wfe_req *r)
{
	char type[16];
	const char *dot = strstr(r->rest, ".crl");
	const struct ca_issuer *iss = NULL;
	struct aclm_err err = { 0 };
	X509_CRL *crl = NULL;
	unsigned char *der = NULL;
	int len;

	if (dot != NULL && dot[4] == '\0' && (size_t)(dot - r->rest) < sizeof(type)) {
		snprintf(type, sizeof(type), "%.*s", (int)(dot - r->rest), r->rest);
		iss = ca_issuer_by_type(r->srv->issuers, r->srv->nissuers, type);
	}
	if (iss == NULL) {
		wfe_reply_problem_status(r, "malformed", 404, "no such CRL");
		return;
	}
	/* The CRL shows every revocation: wait for all of them. */
	if (ca_crl_current(r->w->store, r->srv->tenant, r->srv->ca_name, iss, &crl, &err) == ACLM_OK &&
	    (wfe_sync_saw(r, NULL), true) &&
	    (len = i2d_X509_CRL(crl, &der)) > 0)
		wfe_reply_raw(r, 200, "application/pkix-crl", der, (size_t)len);
	else
		wfe_reply_err(r, NULL, &err);
	OPENSSL_free(der);
	X509_CRL_free(crl);
}
