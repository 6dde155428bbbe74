/* acme/problem: the URN table covers every RFC 8555 §6.7 type (plus RFC 9773
 * alreadyReplaced and invalidProfile) with the documented statuses; parsing
 * keeps type/detail/status/subproblems/algorithms with caps; acme_problem_to_err gives
 * one bounded line; documents that are not problems are refused; the
 * server side's HTTP statuses and documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acme/acme.h"

#define URN ACME_URN_PREFIX

static const char *const all_types[] = {
	"accountDoesNotExist", "alreadyReplaced",	  "alreadyRevoked",
	"badCSR",	       "badNonce",		  "badPublicKey",
	"badRevocationReason", "badSignatureAlgorithm",	  "caa",
	"compound",	       "connection",		  "dns",
	"externalAccountRequired", "incorrectResponse",	  "invalidContact",
	"invalidProfile",      "malformed",		  "orderNotReady",
	"rateLimited",	       "rejectedIdentifier",	  "serverInternal",
	"tls",		       "unauthorized",		  "unsupportedContact",
	"unsupportedIdentifier", "userActionRequired",
};

static aclm_status parse(const char *json, struct acme_problem *p, struct aclm_err *err)
{
	return acme_problem_parse(json, strlen(json), p, err);
}

static void test_problem_table_covers_every_type(void **state)
{
	char urn[128];

	(void)state;
	for (size_t i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
		snprintf(urn, sizeof(urn), URN "%s", all_types[i]);
		assert_int_not_equal(acme_problem_status(urn), ACLM_ERR_PARSE);
		assert_int_not_equal(acme_problem_status(urn), ACLM_OK);
		assert_string_equal(acme_problem_name(urn), all_types[i]);
	}
	assert_int_equal(acme_problem_status(URN "badNonce"), ACLM_ERR_BUSY);
	assert_int_equal(acme_problem_status(URN "rateLimited"), ACLM_ERR_BUSY);
	assert_int_equal(acme_problem_status(URN "unauthorized"), ACLM_ERR_VERIFY);
	assert_int_equal(acme_problem_status(URN "malformed"), ACLM_ERR_INVALID);
	assert_int_equal(acme_problem_status(URN "externalAccountRequired"), ACLM_ERR_CONFIG);
	assert_int_equal(acme_problem_status(URN "noSuchThing"), ACLM_ERR_PARSE);
	assert_int_equal(acme_problem_status("badNonce"), ACLM_ERR_PARSE);
	assert_int_equal(acme_problem_status(URN), ACLM_ERR_PARSE);
	assert_int_equal(acme_problem_status(NULL), ACLM_ERR_PARSE);
	assert_string_equal(acme_problem_name("https://example.com/probs/x"),
			    "https://example.com/probs/x");
	assert_string_equal(acme_problem_name(NULL), "");
}

static void test_problem_parse_with_subproblems_to_one_line(void **state)
{
	/* RFC 8555 §6.7.1 example */
	static const char doc[] =
		"{\"type\":\"urn:ietf:params:acme:error:malformed\","
		"\"detail\":\"Some of the identifiers requested were rejected\","
		"\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:malformed\","
		"\"detail\":\"Invalid underscore in DNS name \\\"_example.org\\\"\","
		"\"identifier\":{\"type\":\"dns\",\"value\":\"_example.org\"}},"
		"{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
		"\"detail\":\"This CA will not issue for \\\"example.net\\\"\","
		"\"identifier\":{\"type\":\"dns\",\"value\":\"example.net\"}}],\"status\":400}";
	struct aclm_err err = { 0 };
	struct acme_problem p;

	(void)state;
	assert_int_equal(parse(doc, &p, &err), ACLM_OK);
	assert_string_equal(p.type, URN "malformed");
	assert_int_equal(p.status, 400);
	assert_true(acme_problem_is(&p, "malformed"));
	assert_false(acme_problem_is(&p, "badNonce"));
	assert_int_equal(json_array_size(p.subproblems), 2);
	assert_int_equal(acme_problem_to_err(&p, "newOrder", &err), ACLM_ERR_INVALID);
	assert_int_equal(err.code, ACLM_ERR_INVALID);
	assert_string_equal(err.msg,
			    "newOrder: malformed: Some of the identifiers requested were rejected; "
			    "_example.org: malformed: Invalid underscore in DNS name "
			    "\"_example.org\"; example.net: rejectedIdentifier: This CA will not "
			    "issue for \"example.net\"");
	acme_problem_free(&p);
	assert_null(p.subproblems);
}

static void test_problem_to_err_bounds_subproblems(void **state)
{
	char doc[4096];
	size_t n;
	struct aclm_err err = { 0 };
	struct acme_problem p;

	(void)state;
	n = (size_t)snprintf(doc, sizeof(doc), "{\"type\":\"" URN "compound\",\"subproblems\":[");
	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n,
				      "%s{\"type\":\"" URN "caa\",\"detail\":\"d%d\","
				      "\"identifier\":{\"type\":\"dns\",\"value\":\"h%d.example\"}}",
				      i ? "," : "", i, i);
	snprintf(doc + n, sizeof(doc) - n, "]}");
	assert_int_equal(parse(doc, &p, &err), ACLM_OK);
	assert_int_equal(acme_problem_to_err(&p, NULL, &err), ACLM_ERR_INVALID);
	/* no detail: the table's description stands in */
	assert_string_equal(err.msg, "compound: several errors (see the subproblems); "
				     "h0.example: caa: d0; h1.example: caa: d1; h2.example: caa: d2; "
				     "h3.example: caa: d3; h4.example: caa: d4; \xE2\x80\xA6 3 more");
	acme_problem_free(&p);
}

/* A long detail is cut to fit without splitting a UTF-8 character; control
 * characters from the server never reach a terminal. */
static void test_problem_detail_truncated_and_cleaned(void **state)
{
	struct aclm_err err = { 0 };
	struct acme_problem p;
	size_t n = 0;
	char *doc = malloc(8192);

	(void)state;
	n += (size_t)sprintf(doc, "{\"type\":\"" URN "serverInternal\",\"detail\":\"\\u001b[31mx");
	for (int i = 0; i < 1000; i++)
		n += (size_t)sprintf(doc + n, "\xC3\xA9"); /* é, two bytes */
	sprintf(doc + n, "\"}");
	assert_int_equal(parse(doc, &p, &err), ACLM_OK);
	assert_true(strlen(p.detail) < sizeof(p.detail));
	assert_int_equal(strlen(p.detail) % 2, 0); /* "\x1b[31mx" is 6 bytes, then whole é */
	assert_null(strchr(p.detail, '\x1b'));
	assert_int_equal(strncmp(p.detail, " [31mx\xC3\xA9", 8), 0);
	assert_int_equal(acme_problem_to_err(&p, "finalize", &err), ACLM_ERR_IO);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	assert_int_equal(strncmp(err.msg, "finalize: serverInternal:  [31mx", 32), 0);
	acme_problem_free(&p);
	free(doc);
}

static void test_problem_unknown_type_keeps_http_status(void **state)
{
	struct aclm_err err = { 0 };
	struct acme_problem p;

	(void)state;
	assert_int_equal(parse("{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
			       "\"detail\":\"no such order\",\"subproblems\":{}}",
			       &p, &err),
			 ACLM_OK);
	assert_null(p.subproblems); /* not an array: ignored */
	assert_int_equal(acme_problem_to_err(&p, "order", &err), ACLM_ERR_PARSE);
	assert_string_equal(err.msg, "order: about:blank: no such order (HTTP 404)");
	acme_problem_free(&p);
	assert_int_equal(parse("{\"type\":\"" URN "dns\",\"status\":\"400\"}", &p, &err), ACLM_OK);
	assert_int_equal(p.status, 0);
	acme_problem_free(&p);
}

static void test_problem_refuses_what_is_not_a_problem(void **state)
{
	struct aclm_err err = { 0 };
	struct acme_problem p;
	char *huge = malloc(70 * 1024);

	(void)state;
	assert_int_equal(parse("[\"" URN "malformed\"]", &p, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "not a JSON object"));
	assert_int_equal(parse("\"" URN "malformed\"", &p, &err), ACLM_ERR_PARSE);
	assert_int_equal(parse("{\"detail\":\"x\",\"status\":400}", &p, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "\"type\" is missing"));
	assert_int_equal(parse("{\"type\":7}", &p, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "not a string"));
	assert_int_equal(parse("{\"type\":\"\"}", &p, &err), ACLM_ERR_PARSE);
	assert_int_equal(parse("{\"type\":", &p, &err), ACLM_ERR_PARSE);
	assert_int_equal(parse("", &p, &err), ACLM_ERR_PARSE);
	assert_int_equal(acme_problem_parse(NULL, 0, &p, &err), ACLM_ERR_PARSE);
	/* a type longer than the field: refused, not truncated into another type */
	memset(huge, 'a', 300);
	memcpy(huge, "{\"type\":\"", 9);
	strcpy(huge + 300, "\"}");
	assert_int_equal(parse(huge, &p, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "too long"));
	/* over 64 KiB */
	memset(huge, ' ', 70 * 1024 - 1);
	strcpy(huge, "{\"type\":\"" URN "malformed\"}");
	huge[strlen(huge)] = ' ';
	huge[70 * 1024 - 1] = '\0';
	assert_int_equal(parse(huge, &p, &err), ACLM_ERR_TOOBIG);
	assert_string_equal(p.type, "");
	assert_null(p.subproblems);
	free(huge);
}

/* RFC 8555 §6.2: badSignatureAlgorithm carries "algorithms"; the client's
 * line names them, here from the document aclm's CA sends (wfe.c). */
static void test_problem_bad_signature_algorithm_lists_algorithms(void **state)
{
	struct aclm_err err = { 0 };
	struct acme_problem p;
	json_t *doc = acme_problem_json("badSignatureAlgorithm", "JWS algorithm EdDSA refused");
	char *text;

	(void)state;
	json_object_set_new(doc, "algorithms", acme_jws_algs_json());
	text = json_dumps(doc, JSON_COMPACT);
	assert_int_equal(parse(text, &p, &err), ACLM_OK);
	assert_string_equal(p.algorithms, "ES256, ES384, RS256, EdDSA");
	assert_int_equal(acme_problem_to_err(&p, "newAccount", &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "newAccount: badSignatureAlgorithm: JWS algorithm EdDSA refused "
				     "(the server accepts ES256, ES384, RS256, EdDSA)");
	acme_problem_free(&p);
	assert_string_equal(p.algorithms, "");
	free(text);
	json_decref(doc);

	/* RFC 8555 §6.2's own shape, without detail. */
	assert_int_equal(parse("{\"type\":\"" URN "badSignatureAlgorithm\","
			       "\"algorithms\":[\"ES256\",\"RS256\"]}", &p, &err), ACLM_OK);
	assert_int_equal(acme_problem_to_err(&p, NULL, &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "badSignatureAlgorithm: the JWS algorithm is not supported "
				     "(the server accepts ES256, RS256)");
	acme_problem_free(&p);

	/* No list, or an empty one: nothing added. */
	assert_int_equal(parse("{\"type\":\"" URN "badSignatureAlgorithm\",\"detail\":\"no\","
			       "\"algorithms\":[]}", &p, &err), ACLM_OK);
	assert_int_equal(acme_problem_to_err(&p, NULL, &err), ACLM_ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "badSignatureAlgorithm: no");
	acme_problem_free(&p);
}

/* A hostile "algorithms": not strings skipped, names cut to 16 bytes,
 * control characters made spaces, at most ACME_PROBLEM_MAX_ALGS kept, a
 * non-array ignored; the line stays bounded. */
static void test_problem_algorithms_are_capped_and_cleaned(void **state)
{
	struct aclm_err err = { 0 };
	struct acme_problem p;
	char doc[2048];
	size_t n;

	(void)state;
	assert_int_equal(parse("{\"type\":\"" URN "badSignatureAlgorithm\",\"algorithms\":"
			       "[7,null,\"\",{\"a\":1},\"ES\\u001b[2J256\","
			       "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]}", &p, &err), ACLM_OK);
	assert_string_equal(p.algorithms, "ES [2J256, AAAAAAAAAAAAAAAA");
	acme_problem_free(&p);
	n = (size_t)snprintf(doc, sizeof(doc), "{\"type\":\"" URN "badSignatureAlgorithm\","
			     "\"algorithms\":[");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"A%02d\"", i ? "," : "", i);
	snprintf(doc + n, sizeof(doc) - n, "]}");
	assert_int_equal(parse(doc, &p, &err), ACLM_OK);
	assert_string_equal(p.algorithms, "A00, A01, A02, A03, A04, A05, A06, A07");
	acme_problem_free(&p);
	/* Eight 16-byte names do not fit 128 bytes: whole names only. */
	n = (size_t)snprintf(doc, sizeof(doc), "{\"type\":\"" URN "badSignatureAlgorithm\","
			     "\"algorithms\":[");
	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"%015d%d\"", i ? "," : "", 0, i);
	snprintf(doc + n, sizeof(doc) - n, "]}");
	assert_int_equal(parse(doc, &p, &err), ACLM_OK);
	assert_true(strlen(p.algorithms) < sizeof(p.algorithms));
	assert_string_equal(p.algorithms + strlen(p.algorithms) - 16, "0000000000000006");
	acme_problem_free(&p);
	assert_int_equal(parse("{\"type\":\"" URN "badSignatureAlgorithm\",\"algorithms\":"
			       "\"ES256\"}", &p, &err), ACLM_OK);
	assert_string_equal(p.algorithms, "");
	acme_problem_free(&p);
}

/* The server's HTTP status for each type, as the CA answers them. */
static void test_problem_http_status_table(void **state)
{
	static const struct {
		const char *name;
		int status;
	} want[] = {
		{ "accountDoesNotExist", 400 }, { "alreadyReplaced", 409 },
		{ "alreadyRevoked", 400 },	{ "badCSR", 400 },
		{ "badNonce", 400 },		{ "badPublicKey", 400 },
		{ "badRevocationReason", 400 }, { "badSignatureAlgorithm", 400 },
		{ "caa", 403 },			{ "compound", 400 },
		{ "connection", 400 },		{ "dns", 400 },
		{ "externalAccountRequired", 400 }, { "incorrectResponse", 403 },
		{ "invalidContact", 400 },	{ "invalidProfile", 400 },
		{ "malformed", 400 },		{ "orderNotReady", 403 },
		{ "rateLimited", 429 },		{ "rejectedIdentifier", 400 },
		{ "serverInternal", 500 },	{ "tls", 400 },
		{ "unauthorized", 403 },	{ "unsupportedContact", 400 },
		{ "unsupportedIdentifier", 400 }, { "userActionRequired", 403 },
	};

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]),
			 sizeof(all_types) / sizeof(all_types[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(acme_problem_http_status(want[i].name), want[i].status);
	/* short names only; anything unknown is the server's fault */
	assert_int_equal(acme_problem_http_status(URN "badNonce"), 500);
	assert_int_equal(acme_problem_http_status("noSuchThing"), 500);
	assert_int_equal(acme_problem_http_status(""), 500);
	assert_int_equal(acme_problem_http_status(NULL), 500);
}

/* A document the client side parses back to the same type, detail, status. */
static void test_problem_json_round_trips(void **state)
{
	struct aclm_err err = { 0 };
	struct acme_problem p;
	json_t *doc = acme_problem_json("badNonce", "JWS has an invalid anti-replay nonce");
	char *text;

	(void)state;
	assert_non_null(doc);
	assert_int_equal(json_object_size(doc), 3);
	assert_string_equal(json_string_value(json_object_get(doc, "type")), URN "badNonce");
	assert_string_equal(json_string_value(json_object_get(doc, "detail")),
			    "JWS has an invalid anti-replay nonce");
	assert_int_equal(json_integer_value(json_object_get(doc, "status")), 400);
	text = json_dumps(doc, JSON_COMPACT);
	assert_int_equal(parse(text, &p, &err), ACLM_OK);
	assert_true(acme_problem_is(&p, "badNonce"));
	assert_int_equal(p.status, 400);
	assert_string_equal(p.detail, "JWS has an invalid anti-replay nonce");
	assert_int_equal(acme_problem_status(p.type), ACLM_ERR_BUSY);
	acme_problem_free(&p);
	free(text);
	json_decref(doc);
	/* no detail, or one that is not UTF-8: the table's description */
	doc = acme_problem_json("rateLimited", NULL);
	assert_int_equal(json_integer_value(json_object_get(doc, "status")), 429);
	assert_string_equal(json_string_value(json_object_get(doc, "detail")),
			    "the request exceeds a rate limit");
	json_decref(doc);
	doc = acme_problem_json("unauthorized", "bad \xff byte");
	assert_int_equal(json_integer_value(json_object_get(doc, "status")), 403);
	assert_string_equal(json_string_value(json_object_get(doc, "detail")),
			    "the client lacks sufficient authorization");
	json_decref(doc);
	doc = acme_problem_json(NULL, "oops");
	assert_string_equal(json_string_value(json_object_get(doc, "type")), URN "serverInternal");
	assert_int_equal(json_integer_value(json_object_get(doc, "status")), 500);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem_http_status_table),
		cmocka_unit_test(test_problem_json_round_trips),
		cmocka_unit_test(test_problem_table_covers_every_type),
		cmocka_unit_test(test_problem_parse_with_subproblems_to_one_line),
		cmocka_unit_test(test_problem_to_err_bounds_subproblems),
		cmocka_unit_test(test_problem_detail_truncated_and_cleaned),
		cmocka_unit_test(test_problem_unknown_type_keeps_http_status),
		cmocka_unit_test(test_problem_refuses_what_is_not_a_problem),
		cmocka_unit_test(test_problem_bad_signature_algorithm_lists_algorithms),
		cmocka_unit_test(test_problem_algorithms_are_capped_and_cleaned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
