/* notify/: the generic webhook: a documented JSON body (docs/CLI.md,
 * "Notifications"), signed with HMAC-SHA256 when the channel has a secret. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/time.h"
#include "notify/notify_int.h"

aclm_status notify_webhook_sign(const unsigned char *secret, size_t secret_len, int64_t timestamp,
				const char *body, size_t body_len, char out[80],
				struct aclm_err *err)
{
	unsigned char mac[32];
	char ts[24];
	size_t maclen = 0;
	EVP_MAC *alg = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	aclm_status st = ACLM_OK;

	out[0] = '\0';
	if (secret == NULL || secret_len == 0 || (body == NULL && body_len > 0))
		return aclm_err_set(err, ACLM_ERR_INVALID, "webhook signature: no secret");
	/* The timestamp is signed with the body, so that a captured request
	 * cannot be replayed later under a fresh X-Aclm-Timestamp. */
	snprintf(ts, sizeof(ts), "%" PRId64 ".", timestamp);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = alg != NULL ? EVP_MAC_CTX_new(alg) : NULL;
	if (ctx == NULL || EVP_MAC_init(ctx, secret, secret_len, params) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) != 1 ||
	    (body_len > 0 && EVP_MAC_update(ctx, (const unsigned char *)body, body_len) != 1) ||
	    EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) != 1 || maclen != sizeof(mac)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "webhook signature: HMAC-SHA256");
		goto out;
	}
	memcpy(out, "sha256=", 7);
	aclm_hex_encode(mac, sizeof(mac), out + 7);
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(alg);
	return st;
}

json_t *notify__webhook_body(const struct notify_message *m)
{
	char at[ACLM_TIME_RFC3339_LEN];
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	bad |= aclm_json_set_str(o, "id", m->id);
	bad |= aclm_json_set_str(o, "event", m->event);
	bad |= aclm_json_set_str(o, "severity", m->severity != NULL ? m->severity : "info");
	bad |= aclm_json_set_str(o, "tenant", m->tenant);
	bad |= aclm_json_set_str(o, "subject", m->subject);
	bad |= aclm_json_set_str(o, "text", m->text);
	bad |= aclm_json_set_str(o, "at", aclm_time_fmt(m->at, at));
	bad |= json_object_set(o, "data", m->data != NULL ? (json_t *)m->data : json_null());
	if (bad) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

aclm_status notify__webhook_send(const struct notify_channel *ch, const struct notify_message *m,
				 const struct notify_opts *o, struct aclm_err *err)
{
	const char *url = notify__param(ch, "url");
	char sig[80], h_sig[128], h_ts[64], h_event[128], shown[256];
	const char *headers[4] = { NULL };
	struct aclm_buf secret, reply;
	json_t *body = notify__webhook_body(m);
	char *text = NULL;
	int64_t now = aclm_time_now();
	long status = 0;
	aclm_status st;

	aclm_buf_init(&reply, NOTIFY__REPLY_MAX);
	notify__url_display(url, true, shown, sizeof(shown));
	st = notify__secret_read(ch, "secret_file", &secret, err);
	if (st != ACLM_OK)
		goto out;
	text = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (text == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "notify.%s: out of memory", ch->name);
		goto out;
	}
	snprintf(h_ts, sizeof(h_ts), "X-Aclm-Timestamp: %" PRId64, now);
	snprintf(h_event, sizeof(h_event), "X-Aclm-Event: %.100s", m->event);
	headers[0] = h_ts;
	headers[1] = strpbrk(m->event, "\r\n") == NULL ? h_event : NULL;
	if (secret.len > 0) {
		st = notify_webhook_sign(secret.data, secret.len, now, text, strlen(text), sig, err);
		if (st != ACLM_OK)
			goto out;
		snprintf(h_sig, sizeof(h_sig), "X-Aclm-Signature: %s", sig);
		headers[headers[1] != NULL ? 2 : 1] = h_sig;
	}
	st = notify__post(ch, o, url, headers, text, strlen(text), &status, &reply, err);
	if (st == ACLM_OK)
		st = notify__http_status(ch, shown, status, &reply, err);
out:
	aclm_buf_free_secret(&secret);
	aclm_buf_free(&reply);
	free(text);
	json_decref(body);
	return st;
}
