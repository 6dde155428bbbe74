/* ca/ca_caa.c: the CAA RDATA parser (RFC 8659 §4.1) on vectors, truncated
 * ones included; issue/issuewild values (§4.2, RFC 8657); the decision on
 * an RRset; and, against BIND (skipped without named) serving records
 * pebble-challtestsrv cannot make (critical flags, CNAMEs), the whole
 * check with its tree climbing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ca/ca_int.h"
#include "ca/ca_va_int.h"
#include "dns/dns.h"
#include "testsupport.h"

#define US "ca.example"
#define ACCOUNT "https://ca.example/acme/acct/7"

/* ---- RDATA ---- */

static aclm_status parse(const char *rdata, size_t len, struct ca_caa_rr *rr)
{
	struct aclm_err err = { 0 };

	return ca_caa_parse_rdata((const unsigned char *)rdata, len, rr, &err);
}

static void test_rdata_flags_tag_and_value_are_read(void **state)
{
	struct ca_caa_rr rr;

	(void)state;
	assert_int_equal(parse("\x00\x05issueca.example", 17, &rr), ACLM_OK);
	assert_int_equal(rr.flags, 0);
	assert_string_equal(rr.tag, "issue");
	assert_string_equal(rr.value, "ca.example");
	assert_int_equal(parse("\x80\x03tbsx", 6, &rr), ACLM_OK);
	assert_int_equal(rr.flags, 128);
	assert_string_equal(rr.tag, "tbs");
	assert_string_equal(rr.value, "x");
	/* an empty value is a value (issue "" forbids) */
	assert_int_equal(parse("\x00\x05issue", 7, &rr), ACLM_OK);
	assert_string_equal(rr.value, "");
}

static void test_rdata_truncated_or_malformed_is_refused(void **state)
{
	static const char good[] = "\x00\x09issuewildca.example";
	struct ca_caa_rr rr;
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(ca_caa_parse_rdata(NULL, 0, &rr, &err), ACLM_ERR_PARSE);
	/* cut anywhere before the end of the tag */
	for (size_t len = 0; len < 2 + 9; len++)
		assert_int_equal(parse(good, len, &rr), ACLM_ERR_PARSE);
	assert_int_equal(parse(good, sizeof(good) - 1, &rr), ACLM_OK);
	assert_int_equal(parse("\x00\x00issue", 7, &rr), ACLM_ERR_PARSE);      /* no tag */
	assert_int_equal(parse("\x00\xffissue", 7, &rr), ACLM_ERR_PARSE);      /* past the end */
	assert_int_equal(parse("\x00\x05iss-e", 7, &rr), ACLM_ERR_PARSE);      /* not alnum */
	assert_int_equal(parse("\x00\x05is\0ue", 7, &rr), ACLM_ERR_PARSE);
	assert_int_equal(parse("\x00\x05issueca\0x", 10, &rr), ACLM_ERR_PARSE); /* NUL in value */
}

static void test_rdata_caps_tag_at_15_and_value_at_255(void **state)
{
	char buf[2 + 16 + 256];
	struct ca_caa_rr rr;

	(void)state;
	buf[0] = 0;
	buf[1] = 15;
	memset(buf + 2, 't', 15);
	assert_int_equal(parse(buf, 2 + 15, &rr), ACLM_OK);
	assert_int_equal(strlen(rr.tag), 15);
	buf[1] = 16;
	memset(buf + 2, 't', 16);
	assert_int_equal(parse(buf, 2 + 16, &rr), ACLM_ERR_TOOBIG);
	buf[1] = 5;
	memcpy(buf + 2, "issue", 5);
	memset(buf + 7, 'v', 256);
	assert_int_equal(parse(buf, 7 + 255, &rr), ACLM_OK);
	assert_int_equal(strlen(rr.value), 255);
	assert_int_equal(parse(buf, 7 + 256, &rr), ACLM_ERR_TOOBIG);
}

/* ---- issue values ---- */

static struct ca__caa_issue issue_ok(const char *value)
{
	struct ca__caa_issue v;
	struct aclm_err err = { 0 };

	if (ca__caa_issue_parse(value, &v, &err) != ACLM_OK)
		fail_msg("\"%s\": %s", value, err.msg);
	return v;
}

static void test_issue_values_in_the_grammar(void **state)
{
	struct ca__caa_issue v;

	(void)state;
	assert_string_equal(issue_ok("ca.example").domain, "ca.example");
	assert_string_equal(issue_ok(" \tca.example \t").domain, "ca.example");
	assert_string_equal(issue_ok("ca.example;").domain, "ca.example");
	assert_string_equal(issue_ok("").domain, "");
	assert_string_equal(issue_ok(";").domain, "");
	v = issue_ok("ca.example; accounturi=" ACCOUNT "; validationmethods=dns-01,http-01");
	assert_true(v.has_accounturi);
	assert_string_equal(v.accounturi, ACCOUNT);
	assert_true(v.has_methods);
	assert_string_equal(v.methods, "dns-01,http-01");
	v = issue_ok("ca.example;accounturi = x ;  other-param=y;");
	assert_string_equal(v.accounturi, "x");
	assert_false(v.has_methods);
	v = issue_ok("; accounturi=x");
	assert_string_equal(v.domain, "");
	assert_true(v.has_accounturi);
	v = issue_ok("ca.example; ACCOUNTURI=x"); /* parameter tags: case-insensitive */
	assert_true(v.has_accounturi);
}

static void test_issue_values_outside_the_grammar_are_refused(void **state)
{
	static const char *const bad[] = {
		"ca..example", "-ca.example", "ca.example-", ".ca.example", "ca_example",
		"ca.example other", "ca.example; accounturi", "ca.example; =x",
		"ca.example; accounturi=a; accounturi=b", "ca.example; a=b c=d",
		"ca.example; -a=b",
	};
	struct ca__caa_issue v;
	struct aclm_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ca__caa_issue_parse(bad[i], &v, &err) != ACLM_ERR_PARSE)
			fail_msg("\"%s\" accepted", bad[i]);
}

/* ---- deciding on a set ---- */

static aclm_status decide(const struct ca_caa_rr *rrs, size_t n, bool wildcard,
			  const char *method, const char *account)
{
	json_t *ids = json_pack("[ss]", "other.example", US);
	struct aclm_err err = { 0 };
	aclm_status st = ca__caa_decide(rrs, n, ids, wildcard, method, account, &err);

	json_decref(ids);
	return st;
}

#define RR(f, t, v) { .flags = (f), .tag = t, .value = v }

static void test_decide_issue_and_issuewild(void **state)
{
	const struct ca_caa_rr only_iodef[] = { RR(0, "iodef", "mailto:x@example.test") };
	const struct ca_caa_rr us_or_them[] = { RR(0, "issue", "them.example"),
						RR(0, "ISSUE", "CA.example") };
	const struct ca_caa_rr them[] = { RR(0, "issue", "them.example") };
	const struct ca_caa_rr no_wild[] = { RR(0, "issue", US), RR(0, "issuewild", ";") };

	(void)state;
	/* §4.2: no issue property: nothing restricted */
	assert_int_equal(decide(only_iodef, 1, false, "http-01", ACCOUNT), ACLM_OK);
	assert_int_equal(decide(us_or_them, 2, false, "http-01", ACCOUNT), ACLM_OK);
	assert_int_equal(decide(them, 1, false, "http-01", ACCOUNT), ACLM_ERR_VERIFY);
	/* §4.3: issue covers wildcards without issuewild; issuewild overrides */
	assert_int_equal(decide(them, 1, true, "dns-01", ACCOUNT), ACLM_ERR_VERIFY);
	assert_int_equal(decide(no_wild, 2, false, "dns-01", ACCOUNT), ACLM_OK);
	assert_int_equal(decide(no_wild, 2, true, "dns-01", ACCOUNT), ACLM_ERR_VERIFY);
}

static void test_decide_critical_flags(void **state)
{
	const struct ca_caa_rr crit_unknown[] = { RR(0, "issue", US), RR(128, "tbs", "x") };
	const struct ca_caa_rr unknown[] = { RR(0, "issue", US), RR(0, "tbs", "x") };
	const struct ca_caa_rr crit_known[] = { RR(128, "issue", US), RR(128, "iodef", "x") };
	const struct ca_caa_rr reserved_bits[] = { RR(0, "issue", US), RR(1, "tbs", "x") };

	(void)state;
	assert_int_equal(decide(crit_unknown, 2, false, "http-01", ACCOUNT), ACLM_ERR_VERIFY);
	assert_int_equal(decide(unknown, 2, false, "http-01", ACCOUNT), ACLM_OK);
	assert_int_equal(decide(crit_known, 2, false, "http-01", ACCOUNT), ACLM_OK);
	assert_int_equal(decide(reserved_bits, 2, false, "http-01", ACCOUNT), ACLM_OK);
}

static void test_decide_rfc8657_parameters(void **state)
{
	const struct ca_caa_rr acct[] = { RR(0, "issue", US "; accounturi=" ACCOUNT) };
	const struct ca_caa_rr methods[] = { RR(0, "issue", US "; validationmethods=dns-01,"
					       "http-01") };
	const struct ca_caa_rr broken[] = { RR(0, "issue", US "; accounturi") };

	(void)state;
	assert_int_equal(decide(acct, 1, false, "http-01", ACCOUNT), ACLM_OK);
	assert_int_equal(decide(acct, 1, false, "http-01", ACCOUNT "0"), ACLM_ERR_VERIFY);
	assert_int_equal(decide(acct, 1, false, "http-01", NULL), ACLM_ERR_VERIFY);
	assert_int_equal(decide(methods, 1, false, "http-01", ACCOUNT), ACLM_OK);
	assert_int_equal(decide(methods, 1, false, "dns-01", ACCOUNT), ACLM_OK);
	assert_int_equal(decide(methods, 1, false, "tls-alpn-01", ACCOUNT), ACLM_ERR_VERIFY);
	assert_int_equal(decide(methods, 1, false, "http-0", ACCOUNT), ACLM_ERR_VERIFY);
	/* a record that does not parse authorizes no one */
	assert_int_equal(decide(broken, 1, false, "http-01", ACCOUNT), ACLM_ERR_VERIFY);
}

static void test_decide_without_identities_refuses_every_issue(void **state)
{
	const struct ca_caa_rr us[] = { RR(0, "issue", US) };
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(ca__caa_decide(us, 1, NULL, false, "http-01", ACCOUNT, &err),
			 ACLM_ERR_VERIFY);
	assert_non_null(strstr(err.msg, "names another CA"));
}

/* ---- against BIND ---- */

static struct ts_named named = { .pid = -1 };
static json_t *ids;

static bool named_up(const char *server)
{
	unsigned char *msg = NULL;
	size_t len = 0;
	struct aclm_err err = { 0 };
	aclm_status st = dns_query_raw(server, "ok.example.test", DNS_TYPE_CAA, 200, &msg, &len,
				       NULL, &err);

	free(msg);
	return st == ACLM_OK;
}

static const char zone[] =
	"$TTL 60\n@ IN SOA ns.example.test. admin.example.test. 1 60 60 600 60\n"
	"@ IN NS ns.example.test.\nns IN A 127.0.0.1\n"
	"ok IN CAA 0 issue \"" US "\"\n"
	"crit IN CAA 0 issue \"" US "\"\ncrit IN CAA 128 tbs \"x\"\n"
	"noncrit IN CAA 0 issue \"" US "\"\nnoncrit IN CAA 0 tbs \"x\"\n"
	"critissue IN CAA 128 issue \"" US "\"\n"
	"climb IN CAA 0 issue \"other.ca\"\n"
	"child.climb IN A 127.0.0.1\n"
	"target IN CAA 0 issue \"other.ca\"\nalias IN CNAME target\n";

static int start_named(void **state)
{
	(void)state;
	ids = json_pack("[s]", US);
	return ts_named_start(&named, zone, named_up);
}

static int stop_named(void **state)
{
	(void)state;
	json_decref(ids);
	return ts_named_stop(&named);
}

static void expect_caa(const char *name, const char *expect, const char *in_msg)
{
	struct ca_va_config c = { .dns_server = named.server, .timeout_ms = 3000,
				  .caa_identities = ids, .caa_check = true };
	struct aclm_err err = { 0 };
	const char *problem = NULL;
	aclm_status st;

	if (named.pid <= 0)
		skip();
	st = ca_caa_check(&c, name, false, "http-01", ACCOUNT, &problem, &err);
	ts_expect_problem(name, st == ACLM_OK, problem, err.msg, expect, in_msg);
}

static void test_bind_unknown_critical_tag_refuses(void **state)
{
	(void)state;
	expect_caa("ok.example.test", NULL, NULL);
	expect_caa("crit.example.test", "caa", "\"tbs\" is flagged critical");
	expect_caa("noncrit.example.test", NULL, NULL);
	expect_caa("critissue.example.test", NULL, NULL);
}

static void test_bind_climbs_to_the_parent_and_follows_cnames(void **state)
{
	(void)state;
	/* child.climb exists (NODATA), x.child.climb does not (NXDOMAIN): both climb */
	expect_caa("child.climb.example.test", "caa", "CAA at climb.example.test");
	expect_caa("x.child.climb.example.test", "caa", "CAA at climb.example.test");
	/* the CNAME's target's set is the alias's (the answer holds the chain) */
	expect_caa("alias.example.test", "caa", "names another CA");
	/* No set in the zone: the climb reaches "test", which BIND (authoritative
	 * for example.test only) refuses; a failed lookup is no permission. */
	expect_caa("nothing.example.test", "dns", "REFUSED");
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_rdata_flags_tag_and_value_are_read),
		cmocka_unit_test(test_rdata_truncated_or_malformed_is_refused),
		cmocka_unit_test(test_rdata_caps_tag_at_15_and_value_at_255),
		cmocka_unit_test(test_issue_values_in_the_grammar),
		cmocka_unit_test(test_issue_values_outside_the_grammar_are_refused),
		cmocka_unit_test(test_decide_issue_and_issuewild),
		cmocka_unit_test(test_decide_critical_flags),
		cmocka_unit_test(test_decide_rfc8657_parameters),
		cmocka_unit_test(test_decide_without_identities_refuses_every_issue),
	};
	const struct CMUnitTest bind[] = {
		cmocka_unit_test(test_bind_unknown_critical_tag_refuses),
		cmocka_unit_test(test_bind_climbs_to_the_parent_and_follows_cnames),
	};
	int rc = cmocka_run_group_tests_name("caa", pure, NULL, NULL);

	return rc + cmocka_run_group_tests_name("caa-bind", bind, start_named, stop_named);
}
