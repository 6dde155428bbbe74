/* When a lineage is due: ACME Renewal Information (RFC 9773: renewalInfo,
 * the window, the time chosen in it, Retry-After) and the lifetime rule,
 * with the reason `aclm renew` prints. */
#include "client/client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

#define ARI_MAX_BODY (64u << 10)   /* a window and a URL: anything bigger is not one */
#define ARI_ID_CHARS                                                          \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
#define SHORT_LIFETIME (10 * 86400) /* client_renewal_due: half instead of a third */

/* A URL shown to people: printable ASCII without spaces, so an answer
 * cannot put terminal escapes into renew's output. */
static bool printable_url(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n] != '\0' && n < max; n++)
		if (s[n] <= 0x20 || s[n] >= 0x7f)
			return false;
	return n > 0 && n < max;
}

aclm_status client_ari_parse(const char *body, size_t len, struct client_ari_window *out,
			     struct aclm_err *err)
{
	json_t *doc = NULL, *w;
	const char *start, *end, *url;
	aclm_status st;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	st = aclm_json_parse(body, len, ARI_MAX_BODY, "renewalInfo", &doc, err);
	if (st != ACLM_OK)
		goto out;
	w = json_object_get(doc, "suggestedWindow");
	start = aclm_json_str(w, "start");
	end = aclm_json_str(w, "end");
	if (start == NULL || end == NULL || aclm_time_parse(start, &out->start) != ACLM_OK ||
	    aclm_time_parse(end, &out->end) != ACLM_OK) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "renewalInfo: suggestedWindow needs RFC 3339 "
				  "\"start\" and \"end\"");
		goto out;
	}
	/* RFC 9773 §4.2: a window that ends before it starts is invalid. */
	if (out->end < out->start) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "renewalInfo: the window ends (%.40s) before it "
				  "starts (%.40s)", end, start);
		goto out;
	}
	url = aclm_json_str(doc, "explanationURL");
	if (url != NULL && printable_url(url, sizeof(out->explanation_url)))
		snprintf(out->explanation_url, sizeof(out->explanation_url), "%s", url);
out:
	json_decref(doc);
	return st;
}

/* "HTTP 404" plus the problem's detail when the answer carries one. */
static aclm_status fetch_failed(const char *url, const struct http_response *resp,
				struct aclm_err *err)
{
	struct acme_problem p = { 0 };
	aclm_status st;

	if (resp->body.len > 0 && acme_problem_parse((const char *)resp->body.data, resp->body.len,
						     &p, NULL) == ACLM_OK)
		st = aclm_err_set(err, ACLM_ERR_IO, "renewalInfo: %s answered HTTP %ld: %s: %.200s", url,
				  resp->status, acme_problem_name(p.type), p.detail);
	else
		st = aclm_err_set(err, ACLM_ERR_IO, "renewalInfo: %s answered HTTP %ld", url,
				  resp->status);
	acme_problem_free(&p);
	return st;
}

aclm_status client_ari_fetch(struct client_conn *c, const char *ari_id,
			     struct client_ari_window *out, struct aclm_err *err)
{
	struct http_response resp = { 0 };
	const char *base = c->dir.renewal_info;
	char *url = NULL;
	aclm_status st = ACLM_OK;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	if (base == NULL)
		return aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "%s offers no renewalInfo (RFC 9773)",
				    c->server);
	if (ari_id == NULL || ari_id[0] == '\0' || strspn(ari_id, ARI_ID_CHARS) != strlen(ari_id))
		return aclm_err_set(err, ACLM_ERR_INVALID, "not an ARI certificate identifier");
	/* RFC 9773 §4.1: the identifier is a path segment below renewalInfo. */
	if (asprintf(&url, "%s%s%s", base, base[0] != '\0' && base[strlen(base) - 1] == '/' ? "" : "/",
		     ari_id) < 0)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	/* §4.1: a GET without JWS, so that clients without an account (and
	 * caches) can ask. */
	st = client__request(c, "GET", url, NULL, NULL, 0, &resp, err);
	if (st == ACLM_OK && resp.status != 200)
		st = fetch_failed(url, &resp, err);
	if (st == ACLM_OK)
		st = client_ari_parse((const char *)resp.body.data, resp.body.len, out, err);
	if (st == ACLM_OK)
		out->retry_after = resp.retry_after;
	free(url);
	http_response_free(&resp);
	return st;
}

int64_t client_ari_pick(int64_t start, int64_t end, uint64_t rnd)
{
	uint64_t span;

	if (end <= start)
		return start;
	span = (uint64_t)end - (uint64_t)start + 1;
	/* The modulo bias is below span / 2^64: nothing for windows of days. */
	return (int64_t)((uint64_t)start + rnd % span);
}

void client_ari_choose(struct client_ari_choice *ch, int64_t start, int64_t end, int64_t now,
		       uint64_t rnd)
{
	if (ch->start == start && ch->end == end && ch->renew_at >= start && ch->renew_at <= end)
		return;
	ch->start = start;
	ch->end = end;
	/* A window that is over by now (the CA's answer for a revoked
	 * certificate ends when it is asked): renew now, not at some past
	 * instant of it. */
	ch->renew_at = end <= now ? now : client_ari_pick(start, end, rnd);
}

int64_t client_ari_next_check(int64_t now, int64_t retry_after)
{
	int64_t d = retry_after < 0 ? CLIENT_ARI_MAX_RETRY : retry_after;

	/* RFC 9773 §4.3: honour Retry-After, within limits of our own. */
	if (d < CLIENT_ARI_MIN_RETRY)
		d = CLIENT_ARI_MIN_RETRY;
	if (d > CLIENT_ARI_MAX_RETRY)
		d = CLIENT_ARI_MAX_RETRY;
	return now + d;
}

bool client_ari_should_ask(const struct store_lineage *l, int64_t now)
{
	return l->ari_id != NULL && (now >= l->next_check || json_object_get(l->options, "ari") == NULL);
}

aclm_status client_ari_refresh(struct client_conn *c, const char *lineage, int64_t now,
			       struct aclm_err *err)
{
	struct store_lineage *l = NULL;
	struct client_ari_window w;
	struct client_ari_choice ch = { 0 };
	const json_t *kept;
	uint64_t rnd = 0;
	int64_t id;
	aclm_status st = store_lineage_get(c->inv->store, c->inv->tenant_id, lineage, &l, err);

	if (st != ACLM_OK || l->ari_id == NULL)
		goto out;
	st = client_ari_fetch(c, l->ari_id, &w, err);
	if (st == ACLM_OK && RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "no random bytes for the ARI window");
	if (st == ACLM_OK && l->options == NULL && (l->options = json_object()) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st != ACLM_OK)
		goto out;
	kept = json_object_get(l->options, "ari");
	ch.start = aclm_json_int(kept, "start", 0);
	ch.end = aclm_json_int(kept, "end", 0);
	ch.renew_at = aclm_json_int(kept, "renew_at", 0);
	client_ari_choose(&ch, w.start, w.end, now, rnd);
	json_object_set_new(l->options, "ari",
			    json_pack("{s:I, s:I, s:I, s:s*}", "start", (json_int_t)ch.start, "end",
				      (json_int_t)ch.end, "renew_at", (json_int_t)ch.renew_at,
				      "explanation_url",
				      w.explanation_url[0] != '\0' ? w.explanation_url : NULL));
	l->next_check = client_ari_next_check(now, w.retry_after);
	st = store_lineage_put(c->inv->store, l, &id, err);
out:
	store_lineage_free(l);
	return st;
}

/* The decision by the time chosen in the kept window; false when there is
 * none to use (*note then says why, or stays ""). */
static bool decide_by_ari(const struct store_lineage *l, int64_t not_after, int64_t now,
			  const char *ari_error, struct client_renewal *out, char *note,
			  size_t notelen)
{
	const json_t *ari = json_object_get(l->options, "ari");
	int64_t start = aclm_json_int(ari, "start", 0), end = aclm_json_int(ari, "end", 0);
	int64_t at = aclm_json_int(ari, "renew_at", 0);
	char s[ACLM_TIME_RFC3339_LEN], e[ACLM_TIME_RFC3339_LEN], t[ACLM_TIME_RFC3339_LEN];
	const char *url = aclm_json_str(ari, "explanation_url");

	if (l->ari_id == NULL)
		return false;
	if (ari_error != NULL) {
		snprintf(note, notelen, "; ARI failed: %.300s", ari_error);
		return false;
	}
	if (ari == NULL || at == 0) {
		snprintf(note, notelen, "; no ARI window yet");
		return false;
	}
	aclm_time_fmt(start, s);
	aclm_time_fmt(end, e);
	if (at > not_after) {
		snprintf(note, notelen, "; ARI window %s – %s ignored: it ends after the certificate "
			 "expires", s, e);
		return false;
	}
	out->by_ari = true;
	out->due_at = at;
	out->due = now >= at;
	if (!out->due)
		snprintf(out->why, sizeof(out->why), "not due until %s (ARI window %s – %s%s%s)",
			 aclm_time_fmt(at, t), s, e, url != NULL ? ", " : "", url ?: "");
	else
		snprintf(out->why, sizeof(out->why), "due since %s (ARI window %s – %s%s%s%s), %lld "
			 "days left", aclm_time_fmt(at, t), s, e,
			 end <= now ? " has passed: the CA asks for renewal now" : "",
			 url != NULL ? ", " : "", url ?: "",
			 (long long)aclm_time_days_between(now, not_after));
	return true;
}

void client_renewal_decide(const struct store_lineage *l, int64_t not_before, int64_t not_after,
			   int64_t now, const char *ari_error, struct client_renewal *out)
{
	const json_t *enc = json_object_get(l->options, "tlcp_enc");
	const char *share = not_after - not_before <= SHORT_LIFETIME ? "1/2" : "1/3";
	char note[400] = "", t[ACLM_TIME_RFC3339_LEN];

	memset(out, 0, sizeof(*out));
	if (aclm_json_bool(l->options, "tlcp") &&
	    (aclm_json_int(enc, "cert_id", 0) == 0 || aclm_json_bool(enc, "revoked"))) {
		out->due = true;
		out->due_at = now;
		snprintf(out->why, sizeof(out->why), "the TLCP encryption certificate is %s",
			 aclm_json_bool(enc, "revoked") ? "revoked" : "missing");
		return;
	}
	if (decide_by_ari(l, not_after, now, ari_error, out, note, sizeof(note)))
		return;
	out->due = client_renewal_due(not_before, not_after, now, &out->due_at);
	if (out->due)
		snprintf(out->why, sizeof(out->why), "due since %s (%s of the lifetime left%s), %lld "
			 "days left", aclm_time_fmt(out->due_at, t), share, note,
			 (long long)aclm_time_days_between(now, not_after));
	else
		snprintf(out->why, sizeof(out->why), "not due until %s (%s of the lifetime left then%s)",
			 aclm_time_fmt(out->due_at, t), share, note);
}
