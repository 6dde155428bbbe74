/* client/renewal.c and the request pieces of ARI and profiles: the random
 * time in the RFC 9773 window (within it, kept across runs, now for a
 * window in the past), Retry-After limits, renewalInfo parsing, the reason
 * renew prints; newOrder carrying "profile" and "replaces"; the
 * alreadyReplaced answer recognised; profiles checked against the
 * directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_int.h"
#include "core/time.h"

#define DAY 86400LL
#define HOUR 3600LL

/* A fixed xorshift64* sequence: tests that need many draws stay repeatable. */
static uint64_t next_rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void test_ari_pick_is_uniform_within_window(void **state)
{
	int64_t start = 1700000000, end = start + 2 * DAY;
	uint64_t span = (uint64_t)(end - start) + 1, s = 0x9e3779b97f4a7c15ULL;
	int buckets[10] = { 0 };

	(void)state;
	/* both ends are reachable */
	assert_int_equal(client_ari_pick(start, end, 0), start);
	assert_int_equal(client_ari_pick(start, end, span - 1), end);
	assert_int_equal(client_ari_pick(start, end, span), start);
	assert_int_equal(client_ari_pick(start, end, UINT64_MAX), start + (int64_t)(UINT64_MAX % span));
	/* a window of one instant, or an inverted one, gives its start */
	assert_int_equal(client_ari_pick(start, start, 12345), start);
	assert_int_equal(client_ari_pick(end, start, 12345), end);
	for (int i = 0; i < 20000; i++) {
		int64_t t = client_ari_pick(start, end, next_rnd(&s));

		assert_true(t >= start && t <= end);
		buckets[(t - start) * 10 / (end - start + 1)]++;
	}
	/* uniform: each tenth of the window gets about 2000 of 20000 draws
	 * (a pick stuck at the start or the middle would fill one bucket) */
	for (int b = 0; b < 10; b++)
		assert_true(buckets[b] > 1700 && buckets[b] < 2300);
}

static void test_ari_choice_is_kept_for_the_same_window(void **state)
{
	struct client_ari_choice ch = { 0 };
	int64_t start = 1700000000, end = start + DAY, now = start - 10 * DAY, first;

	(void)state;
	client_ari_choose(&ch, start, end, now, 5000);
	assert_int_equal(ch.renew_at, start + 5000);
	assert_int_equal(ch.start, start);
	assert_int_equal(ch.end, end);
	first = ch.renew_at;
	/* a second run with another random value does not re-roll */
	client_ari_choose(&ch, start, end, now + HOUR, 77777);
	assert_int_equal(ch.renew_at, first);
	/* the CA moved the window: a new time, inside the new window */
	client_ari_choose(&ch, start + DAY, end + DAY, now, 100);
	assert_int_equal(ch.renew_at, start + DAY + 100);
	assert_int_equal(ch.start, start + DAY);
	/* a kept time outside its window (damaged row) is drawn again */
	ch = (struct client_ari_choice){ .start = start, .end = end, .renew_at = end + 1 };
	client_ari_choose(&ch, start, end, now, 7);
	assert_int_equal(ch.renew_at, start + 7);
}

static void test_ari_past_window_means_now(void **state)
{
	struct client_ari_choice ch = { 0 };
	int64_t now = 1800000000;

	(void)state;
	/* a revoked certificate: the CA's window ended before we asked */
	client_ari_choose(&ch, now - DAY, now - HOUR, now, 12345);
	assert_int_equal(ch.renew_at, now);
	/* aclm's CA answers [revoked, now] for a revoked one: over as well */
	ch = (struct client_ari_choice){ 0 };
	client_ari_choose(&ch, now - 60, now, now, 3);
	assert_int_equal(ch.renew_at, now);
	/* a window that has begun but not ended: a time in it (maybe past) */
	ch = (struct client_ari_choice){ 0 };
	client_ari_choose(&ch, now - HOUR, now + HOUR, now, 0);
	assert_int_equal(ch.renew_at, now - HOUR);
}

static void test_ari_retry_after_is_capped(void **state)
{
	int64_t now = 1800000000;

	(void)state;
	assert_int_equal(client_ari_next_check(now, -1), now + CLIENT_ARI_MAX_RETRY);
	assert_int_equal(client_ari_next_check(now, 0), now + CLIENT_ARI_MIN_RETRY);
	assert_int_equal(client_ari_next_check(now, 10), now + 60);
	assert_int_equal(client_ari_next_check(now, 60), now + 60);
	assert_int_equal(client_ari_next_check(now, 3600), now + 3600);
	assert_int_equal(client_ari_next_check(now, 6 * HOUR), now + 6 * HOUR);
	assert_int_equal(client_ari_next_check(now, 3 * DAY), now + 6 * HOUR);
	assert_int_equal(CLIENT_ARI_MIN_RETRY, 60);
	assert_int_equal(CLIENT_ARI_MAX_RETRY, 6 * HOUR);
}

static aclm_status parse_text(const char *body, struct client_ari_window *w, struct aclm_err *err)
{
	return client_ari_parse(body, strlen(body), w, err);
}

static void test_ari_answer_parsing(void **state)
{
	struct client_ari_window w;
	struct aclm_err err = { 0 };
	int64_t s, e;
	char *big;

	(void)state;
	assert_int_equal(parse_text("{\"suggestedWindow\":{\"start\":\"2026-01-02T00:00:00Z\","
				    "\"end\":\"2026-01-03T12:00:00.5Z\"},"
				    "\"explanationURL\":\"https://ca.example/why\"}", &w, &err), ACLM_OK);
	assert_int_equal(aclm_time_parse("2026-01-02T00:00:00Z", &s), ACLM_OK);
	assert_int_equal(aclm_time_parse("2026-01-03T12:00:00Z", &e), ACLM_OK);
	assert_int_equal(w.start, s);
	assert_int_equal(w.end, e);
	assert_string_equal(w.explanation_url, "https://ca.example/why");
	assert_int_equal(w.retry_after, -1);
	/* an explanation URL that could put escapes on a terminal is dropped */
	assert_int_equal(parse_text("{\"suggestedWindow\":{\"start\":\"2026-01-02T00:00:00Z\","
				    "\"end\":\"2026-01-02T00:00:00Z\"},"
				    "\"explanationURL\":\"https://x/\\u001b[31m\"}", &w, &err), ACLM_OK);
	assert_string_equal(w.explanation_url, "");
	assert_int_equal(parse_text("{\"suggestedWindow\":{\"start\":\"2026-01-03T00:00:00Z\","
				    "\"end\":\"2026-01-02T00:00:00Z\"}}", &w, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "ends"));
	assert_int_equal(parse_text("{\"suggestedWindow\":{\"start\":\"2026-01-03T00:00:00Z\"}}", &w,
				    &err), ACLM_ERR_PARSE);
	assert_int_equal(parse_text("{\"suggestedWindow\":{\"start\":\"yesterday\",\"end\":\"2026-01-02T00:00:00Z\"}}",
				    &w, &err), ACLM_ERR_PARSE);
	assert_int_equal(parse_text("{\"suggestedWindow\":{\"start\":1,\"end\":2}}", &w, &err),
			 ACLM_ERR_PARSE);
	assert_int_equal(parse_text("[]", &w, &err), ACLM_ERR_PARSE);
	assert_int_not_equal(parse_text("{\"suggestedWindow\":", &w, &err), ACLM_OK);
	/* bodies over the cap are not read as windows */
	big = malloc(100 * 1024);
	assert_non_null(big);
	memset(big, ' ', 100 * 1024 - 1);
	{
		static const char w64k[] = "{\"suggestedWindow\":{\"start\":\"2026-01-02T00:00:00Z\","
					   "\"end\":\"2026-01-03T00:00:00Z\"}}";

		memcpy(big, w64k, strlen(w64k));
		/* the same window at its normal size is fine */
		assert_int_equal(parse_text(w64k, &w, &err), ACLM_OK);
	}
	big[100 * 1024 - 1] = '\0';
	assert_int_not_equal(parse_text(big, &w, &err), ACLM_OK);
	free(big);
}

/* A lineage row as renew reads it: current certificate with an ARI id and,
 * when window_end > 0, a kept window and time. */
static struct store_lineage lineage(json_t *options, const char *ari_id)
{
	return (struct store_lineage){ .name = "l", .ari_id = (char *)ari_id, .options = options,
				       .cert_id = 1 };
}

static void test_renewal_follows_the_ari_window(void **state)
{
	int64_t nb = 1800000000, na = nb + 90 * DAY, at = nb + 61 * DAY;
	json_t *o = json_pack("{s:{s:I, s:I, s:I, s:s}}", "ari", "start", (json_int_t)(nb + 60 * DAY),
			      "end", (json_int_t)(nb + 62 * DAY), "renew_at", (json_int_t)at,
			      "explanation_url", "https://ca.example/x");
	struct store_lineage l = lineage(o, "aki.serial");
	struct client_renewal r;
	char want[256], s[ACLM_TIME_RFC3339_LEN], e[ACLM_TIME_RFC3339_LEN], t[ACLM_TIME_RFC3339_LEN];

	(void)state;
	/* the lifetime rule would say due (at 60 days): the window says later */
	client_renewal_decide(&l, nb, na, at - 1, NULL, &r);
	assert_false(r.due);
	assert_true(r.by_ari);
	assert_int_equal(r.due_at, at);
	snprintf(want, sizeof(want), "not due until %s (ARI window %s – %s, https://ca.example/x)",
		 aclm_time_fmt(at, t), aclm_time_fmt(nb + 60 * DAY, s), aclm_time_fmt(nb + 62 * DAY, e));
	assert_string_equal(r.why, want);
	client_renewal_decide(&l, nb, na, at, NULL, &r);
	assert_true(r.due);
	assert_non_null(strstr(r.why, "due since "));
	assert_non_null(strstr(r.why, "ARI window"));
	assert_null(strstr(r.why, "has passed"));
	/* after the window's end (a revoked certificate): due, and said so */
	client_renewal_decide(&l, nb, na, nb + 63 * DAY, NULL, &r);
	assert_true(r.due);
	assert_non_null(strstr(r.why, "has passed"));
	client_renewal_decide(&l, nb, na, nb + 62 * DAY, NULL, &r);
	assert_non_null(strstr(r.why, "has passed"));
	client_renewal_decide(&l, nb, na, nb + 62 * DAY - 1, NULL, &r);
	assert_null(strstr(r.why, "has passed"));
	json_decref(o);
}

static void test_renewal_falls_back_to_the_lifetime_rule(void **state)
{
	int64_t nb = 1800000000, na = nb + 90 * DAY;
	json_t *o = json_pack("{s:{s:I, s:I, s:I}}", "ari", "start", (json_int_t)(nb + 10 * DAY),
			      "end", (json_int_t)(nb + 11 * DAY), "renew_at", (json_int_t)(nb + 10 * DAY));
	json_t *late = json_pack("{s:{s:I, s:I, s:I}}", "ari", "start", (json_int_t)(na + DAY), "end",
				 (json_int_t)(na + 2 * DAY), "renew_at", (json_int_t)(na + DAY));
	json_t *none = json_object();
	struct store_lineage l = lineage(o, "aki.serial");
	struct client_renewal r;

	(void)state;
	/* ARI failed: the kept window is not used, the reason says why */
	client_renewal_decide(&l, nb, na, nb + 20 * DAY, "renewalInfo: x answered HTTP 404", &r);
	assert_false(r.due);
	assert_false(r.by_ari);
	assert_int_equal(r.due_at, nb + 60 * DAY);
	assert_non_null(strstr(r.why, "not due until "));
	assert_non_null(strstr(r.why, "1/3 of the lifetime left then"));
	assert_non_null(strstr(r.why, "ARI failed: renewalInfo: x answered HTTP 404"));
	/* the same row with ARI working: the window (already begun) decides */
	client_renewal_decide(&l, nb, na, nb + 20 * DAY, NULL, &r);
	assert_true(r.due);
	assert_true(r.by_ari);
	/* a time after expiry is ignored */
	l.options = late;
	client_renewal_decide(&l, nb, na, nb + 61 * DAY, NULL, &r);
	assert_true(r.due);
	assert_false(r.by_ari);
	assert_non_null(strstr(r.why, "ignored"));
	/* no ARI id (the CA has no renewalInfo): the lifetime rule alone */
	l = lineage(none, NULL);
	client_renewal_decide(&l, nb, nb + 6 * DAY, nb + 3 * DAY, NULL, &r);
	assert_true(r.due);
	assert_non_null(strstr(r.why, "1/2 of the lifetime left"));
	assert_null(strstr(r.why, "ARI"));
	json_decref(o);
	json_decref(late);
	json_decref(none);
}

static void test_renewal_tlcp_without_encryption_certificate_is_due(void **state)
{
	int64_t nb = 1800000000, na = nb + 90 * DAY;
	json_t *missing = json_pack("{s:b}", "tlcp", 1);
	json_t *revoked = json_pack("{s:b, s:{s:I, s:b}}", "tlcp", 1, "tlcp_enc", "cert_id",
				    (json_int_t)7, "revoked", 1);
	json_t *fine = json_pack("{s:b, s:{s:I}}", "tlcp", 1, "tlcp_enc", "cert_id", (json_int_t)7);
	struct store_lineage l = lineage(missing, NULL);
	struct client_renewal r;

	(void)state;
	client_renewal_decide(&l, nb, na, nb + DAY, NULL, &r);
	assert_true(r.due);
	assert_string_equal(r.why, "the TLCP encryption certificate is missing");
	l.options = revoked;
	client_renewal_decide(&l, nb, na, nb + DAY, NULL, &r);
	assert_true(r.due);
	assert_string_equal(r.why, "the TLCP encryption certificate is revoked");
	l.options = fine;
	client_renewal_decide(&l, nb, na, nb + DAY, NULL, &r);
	assert_false(r.due);
	json_decref(missing);
	json_decref(revoked);
	json_decref(fine);
}

static void test_ari_asked_only_after_next_check(void **state)
{
	json_t *kept = json_pack("{s:{s:I}}", "ari", "renew_at", (json_int_t)5);
	json_t *none = json_object();
	struct store_lineage l = lineage(kept, "aki.serial");
	int64_t now = 1800000000;

	(void)state;
	l.next_check = now + 1;
	assert_false(client_ari_should_ask(&l, now));
	assert_true(client_ari_should_ask(&l, now + 1));
	/* nothing kept yet (a new certificate, or revoked by aclm): ask */
	l.options = none;
	assert_true(client_ari_should_ask(&l, now));
	/* no identifier: nothing to ask about */
	l.ari_id = NULL;
	assert_false(client_ari_should_ask(&l, now + DAY));
	json_decref(kept);
	json_decref(none);
}

static void test_new_order_carries_profile_and_replaces(void **state)
{
	const char *names[] = { "a.example", "192.0.2.1" };
	json_t *p = client__order_payload(names, 2, "shortlived", "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	json_t *ids = json_object_get(p, "identifiers");

	(void)state;
	assert_int_equal(json_array_size(ids), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ids, 0), "type")), "dns");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ids, 1), "type")), "ip");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ids, 1), "value")),
			    "192.0.2.1");
	assert_string_equal(json_string_value(json_object_get(p, "profile")), "shortlived");
	assert_string_equal(json_string_value(json_object_get(p, "replaces")),
			    "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	json_decref(p);
	/* neither: the members are absent, not null (servers refuse null) */
	p = client__order_payload(names, 1, NULL, NULL);
	assert_int_equal(json_object_size(p), 1);
	assert_null(json_object_get(p, "profile"));
	assert_null(json_object_get(p, "replaces"));
	json_decref(p);
}

static void answer(struct http_response *r, long status, const char *ctype, const char *body)
{
	memset(r, 0, sizeof(*r));
	r->status = status;
	r->content_type = (char *)ctype;
	aclm_buf_init(&r->body, 4096);
	assert_int_equal(aclm_buf_puts(&r->body, body), ACLM_OK);
}

static void test_already_replaced_answer_is_recognised(void **state)
{
	struct http_response r;

	(void)state;
	answer(&r, 409, "application/problem+json",
	       "{\"type\":\"urn:ietf:params:acme:error:alreadyReplaced\",\"detail\":\"x\"}");
	assert_true(client__answer_is_problem(&r, "alreadyReplaced"));
	assert_false(client__answer_is_problem(&r, "malformed"));
	aclm_buf_free(&r.body);
	answer(&r, 400, "application/problem+json",
	       "{\"type\":\"urn:ietf:params:acme:error:malformed\",\"detail\":\"replaces\"}");
	assert_false(client__answer_is_problem(&r, "alreadyReplaced"));
	aclm_buf_free(&r.body);
	/* the same JSON without the problem media type is not a problem document */
	answer(&r, 409, "application/json",
	       "{\"type\":\"urn:ietf:params:acme:error:alreadyReplaced\",\"detail\":\"x\"}");
	assert_false(client__answer_is_problem(&r, "alreadyReplaced"));
	aclm_buf_free(&r.body);
}

static void test_profiles_checked_against_the_directory(void **state)
{
	struct client_conn c = { .server = "https://ca.example/dir" };
	struct aclm_err err = { 0 };

	(void)state;
	c.dir.profiles = json_pack("{s:s, s:s, s:s}", "tlsserver", "45 days", "classic", "90 days",
				   "shortlived", "160 hours");
	assert_int_equal(client_profile_check(&c, "shortlived", &err), ACLM_OK);
	assert_int_equal(client_profile_check(&c, "sm2-enc", &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "profile \"sm2-enc\" is not offered by https://ca.example/dir "
				     "(offered: classic, shortlived, tlsserver)");
	json_decref(c.dir.profiles);
	c.dir.profiles = NULL;
	assert_int_equal(client_profile_check(&c, "classic", &err), ACLM_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "offers no profiles"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ari_pick_is_uniform_within_window),
		cmocka_unit_test(test_ari_choice_is_kept_for_the_same_window),
		cmocka_unit_test(test_ari_past_window_means_now),
		cmocka_unit_test(test_ari_retry_after_is_capped),
		cmocka_unit_test(test_ari_answer_parsing),
		cmocka_unit_test(test_renewal_follows_the_ari_window),
		cmocka_unit_test(test_renewal_falls_back_to_the_lifetime_rule),
		cmocka_unit_test(test_renewal_tlcp_without_encryption_certificate_is_due),
		cmocka_unit_test(test_ari_asked_only_after_next_check),
		cmocka_unit_test(test_new_order_carries_profile_and_replaces),
		cmocka_unit_test(test_already_replaced_answer_is_recognised),
		cmocka_unit_test(test_profiles_checked_against_the_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
