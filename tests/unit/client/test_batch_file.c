/* client/batch_file.c: --batch files parsed from memory: jobs per key type,
 * options (profile= included), comments and blank lines, FILE:LINE errors,
 * lineage names that would leave live/ refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client.h"

static aclm_status parse(const char *text, struct client_batch_job **jobs, size_t *njobs,
			 struct aclm_err *err)
{
	char *copy = strdup(text);
	aclm_status st;

	assert_non_null(copy);
	st = client_batch_parse_text("b.txt", copy, "p256", "http-01", jobs, njobs, err);
	free(copy);
	return st;
}

static void free_jobs(struct client_batch_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		client_batch_job_free(&jobs[i]);
	free(jobs);
}

static void test_batch_lines_become_jobs_per_key_type(void **state)
{
	struct client_batch_job *jobs = NULL;
	struct aclm_err err = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse("# comment\n\nExample.COM www.example.com\r\n"
			       "api.example.com name=api key-type=p256,rsa2048 challenge=dns-01 # x\n",
			       &jobs, &n, &err), ACLM_OK);
	assert_int_equal(n, 3);
	assert_string_equal(jobs[0].lineage, "example.com");
	assert_int_equal(jobs[0].nnames, 2);
	assert_string_equal(jobs[0].names[0], "example.com");
	assert_string_equal(jobs[0].challenge, "http-01");
	assert_string_equal(jobs[1].lineage, "api");
	assert_string_equal(jobs[2].lineage, "api-rsa2048");
	assert_string_equal(jobs[2].challenge, "dns-01");
	free_jobs(jobs, n);
}

static void expect_error(const char *text, const char *want)
{
	struct client_batch_job *jobs = NULL;
	struct aclm_err err = { 0 };
	size_t n = 0;

	assert_int_not_equal(parse(text, &jobs, &n, &err), ACLM_OK);
	assert_null(jobs);
	assert_int_equal(n, 0);
	if (strstr(err.msg, want) == NULL)
		fail_msg("\"%s\": got \"%s\", want \"%s\"", text, err.msg, want);
}

static void test_batch_errors_name_file_and_line(void **state)
{
	(void)state;
	expect_error("a.example\nb.example colour=x\n", "b.txt:2: unknown option \"colour=x\"");
	expect_error("a.example\n\n-x-.example\n", "b.txt:3");
	expect_error("a.example key-type=p256,dsa\n", "b.txt:1: key-type dsa: unknown");
	expect_error("a.example key-type=,\n", "b.txt:1: no key type");
	/* Ed25519 is for ACME account keys, never a certificate's. */
	expect_error("a.example key-type=p256,ed25519\n",
		     "b.txt:1: key-type ed25519: for account keys only");
	expect_error("name=x\n", "b.txt:1: no name on the line");
	expect_error("# nothing\n\n", "b.txt: no certificates listed");
	expect_error("", "b.txt: no certificates listed");
}

static void test_batch_profile_per_line(void **state)
{
	struct client_batch_job *jobs = NULL;
	struct aclm_err err = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse("a.example profile=shortlived key-type=p256,sm2\nb.example\n"
			       "c.example profile=sm2-enc.v_2\n", &jobs, &n, &err), ACLM_OK);
	assert_int_equal(n, 4);
	/* every key type of the line gets the line's profile */
	assert_string_equal(jobs[0].profile, "shortlived");
	assert_string_equal(jobs[1].lineage, "a.example-sm2");
	assert_string_equal(jobs[1].profile, "shortlived");
	/* a line without profile= leaves it to the batch default (NULL) */
	assert_null(jobs[2].profile);
	assert_string_equal(jobs[3].profile, "sm2-enc.v_2");
	free_jobs(jobs, n);
}

static void test_batch_profile_names_are_words(void **state)
{
	(void)state;
	expect_error("a.example profile=\n", "b.txt:1: profile=: not a profile name");
	expect_error("a.example\nb.example profile=a\"b\n", "b.txt:2: profile=a\"b: not a profile name");
	expect_error("a.example profile=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		     "not a profile name");
}

static void test_batch_tlcp_marks_the_sm2_job_only(void **state)
{
	struct client_batch_job *jobs = NULL;
	struct aclm_err err = { 0 };
	size_t n = 0;

	(void)state;
	assert_int_equal(parse("a.example key-type=p256,sm2 tlcp=yes\nb.example key-type=sm2\n"
			       "c.example key-type=sm2 tlcp=no\n", &jobs, &n, &err), ACLM_OK);
	assert_int_equal(n, 4);
	assert_false(jobs[0].tlcp);    /* p256 */
	assert_true(jobs[1].tlcp);     /* a.example-sm2 */
	assert_string_equal(jobs[1].lineage, "a.example-sm2");
	assert_false(jobs[2].tlcp);    /* no tlcp= on the line */
	assert_false(jobs[3].tlcp);
	free_jobs(jobs, n);
	expect_error("a.example tlcp=yes\n", "b.txt:1: tlcp=yes needs key-type sm2 on the line");
	expect_error("a.example key-type=sm2 tlcp=1\n", "b.txt:1: tlcp=1: say yes or no");
}

static void test_batch_lineage_names_stay_under_live(void **state)
{
	(void)state;
	expect_error("a.example name=../../etc\n", "b.txt:1: name=../../etc: not a lineage name");
	expect_error("a.example name=..\n", "not a lineage name");
	expect_error("a.example name=\n", "not a lineage name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_lines_become_jobs_per_key_type),
		cmocka_unit_test(test_batch_errors_name_file_and_line),
		cmocka_unit_test(test_batch_lineage_names_stay_under_live),
		cmocka_unit_test(test_batch_profile_per_line),
		cmocka_unit_test(test_batch_profile_names_are_words),
		cmocka_unit_test(test_batch_tlcp_marks_the_sm2_job_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
