/* core/exec.c: command lines split into argv like shell words, with no
 * expansion and no shell; one run of a command with its exit status, its
 * output, a clean environment and a timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/exec.h"

/* Splits cmd and compares with the expected words (NULL-terminated). */
static void expect_words(const char *cmd, const char *const *want)
{
	struct aclm_err err = { 0 };
	char **argv = NULL;
	size_t i;

	assert_int_equal(aclm_split_argv(cmd, &argv, &err), ACLM_OK);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	aclm_argv_free(argv);
}

static void expect_error(const char *cmd, const char *fragment)
{
	struct aclm_err err = { 0 };
	char **argv = (char **)1;

	assert_int_equal(aclm_split_argv(cmd, &argv, &err), ACLM_ERR_CONFIG);
	assert_null(argv);
	if (strstr(err.msg, fragment) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", err.msg, fragment);
}

static void test_plain_words_split_on_blanks_of_any_length(void **state)
{
	expect_words("/usr/bin/hook", (const char *[]){ "/usr/bin/hook", NULL });
	expect_words("  hook\t--zone  example.org \n",
		     (const char *[]){ "hook", "--zone", "example.org", NULL });
}

static void test_quotes_keep_blanks_and_join_with_neighbours(void **state)
{
	expect_words("hook 'a b' \"c  d\" e'f g'h",
		     (const char *[]){ "hook", "a b", "c  d", "ef gh", NULL });
	/* Single quotes keep backslashes and double quotes literally. */
	expect_words("hook 'x\\y\"z'", (const char *[]){ "hook", "x\\y\"z", NULL });
	/* Double quotes keep single quotes. */
	expect_words("hook \"it's\"", (const char *[]){ "hook", "it's", NULL });
}

static void test_backslash_escapes_outside_and_inside_double_quotes(void **state)
{
	expect_words("hook a\\ b \\'c \\\\", (const char *[]){ "hook", "a b", "'c", "\\", NULL });
	/* In "...", only \\ \" \$ \` are escapes; other backslashes stay. */
	expect_words("hook \"q\\\"q\" \"\\$HOME\" \"a\\nb\"",
		     (const char *[]){ "hook", "q\"q", "$HOME", "a\\nb", NULL });
	/* Backslash-newline joins lines, outside quotes and inside "...". */
	expect_words("hook long\\\nname \"x\\\ny\"", (const char *[]){ "hook", "longname", "xy", NULL });
}

static void test_empty_quotes_make_empty_arguments(void **state)
{
	expect_words("hook \"\" '' x", (const char *[]){ "hook", "", "", "x", NULL });
	expect_words("\"\"", (const char *[]){ "", NULL });
}

static void test_nothing_is_expanded(void **state)
{
	expect_words("hook $HOME `id` * ~ a;b|c #x",
		     (const char *[]){ "hook", "$HOME", "`id`", "*", "~", "a;b|c", "#x", NULL });
}

static void test_unterminated_quote_names_its_column(void **state)
{
	expect_error("hook 'abc", "unterminated single quote opened at column 6");
	expect_error("hook x \"abc\\\"", "unterminated double quote opened at column 8");
	expect_error("hook abc\\", "trailing backslash at column 9");
}

static void test_empty_command_is_refused(void **state)
{
	expect_error("", "no program");
	expect_error(" \t\n", "no program");
}

/* ---- aclm_exec ---- */

/* Runs `sh -c script` (the test's own shell, not aclm's) and checks it ran. */
static void run_sh(const char *script, const char *const *extra, long timeout_s,
		   struct aclm_exec_result *res)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	struct aclm_err err = { 0 };

	assert_int_equal(aclm_exec(argv, extra, timeout_s, res, &err), ACLM_OK);
}

static void test_exec_reports_exit_status_and_captures_both_streams(void **state)
{
	struct aclm_exec_result res;
	char line[64];

	run_sh("echo out-text; echo 'first err' >&2; echo 'second err' >&2; exit 3", NULL, 10, &res);
	assert_false(res.timed_out);
	assert_true(WIFEXITED(res.status));
	assert_int_equal(WEXITSTATUS(res.status), 3);
	assert_string_equal((char *)res.out.data, "out-text\n");
	assert_string_equal((char *)res.err.data, "first err\nsecond err\n");
	aclm_exec_first_line(&res, line, sizeof(line));
	assert_string_equal(line, "first err");
	aclm_exec_result_free(&res);

	run_sh("read x; echo \"rc=$? stdin=[$x]\"", NULL, 10, &res); /* stdin is /dev/null */
	assert_int_equal(WEXITSTATUS(res.status), 0);
	assert_string_equal((char *)res.out.data, "rc=1 stdin=[]\n");
	aclm_exec_result_free(&res);
}

static void test_exec_output_is_capped(void **state)
{
	struct aclm_exec_result res;

	run_sh("head -c 200000 /dev/zero | tr '\\0' x", NULL, 10, &res);
	assert_int_equal(WEXITSTATUS(res.status), 0);
	assert_int_equal(res.out.len, ACLM_EXEC_OUTPUT_MAX);
	aclm_exec_result_free(&res);
}

static void test_exec_hides_aclm_variables_but_passes_extra_env(void **state)
{
	const char *extra[] = { "ACLM_CERT_ID=42", "RENEWED_DOMAINS=a.test b.test",
				"EXEC_TEST_KEEP=replaced", NULL };
	struct aclm_exec_result res;

	setenv("ACLM_MASTER_KEY", "c2VjcmV0LW1hc3Rlci1rZXktMzItYnl0ZXMtbG9uZyEh", 1);
	setenv("ACLM_HOME", "/srv/aclm", 1);
	setenv("EXEC_TEST_KEEP", "yes", 1);
	setenv("EXEC_TEST_OTHER", "kept", 1);
	run_sh("env | grep -c '^ACLM_MASTER_KEY=' ; "
	       "echo \"${ACLM_MASTER_KEY-unset} ${ACLM_HOME-unset} $ACLM_CERT_ID "
	       "[$RENEWED_DOMAINS] $EXEC_TEST_KEEP $EXEC_TEST_OTHER\"; "
	       "env | grep -c '^EXEC_TEST_KEEP='", extra, 10, &res);
	unsetenv("ACLM_MASTER_KEY");
	unsetenv("ACLM_HOME");
	unsetenv("EXEC_TEST_KEEP");
	unsetenv("EXEC_TEST_OTHER");
	assert_string_equal((char *)res.out.data,
			    "0\nunset unset 42 [a.test b.test] replaced kept\n1\n");
	aclm_exec_result_free(&res);
}

static void test_exec_timeout_kills_the_process_group(void **state)
{
	char dir[] = "/tmp/aclm-exec-XXXXXX", script[256], flag[128];
	struct aclm_exec_result res;
	time_t t0 = time(NULL);

	assert_non_null(mkdtemp(dir));
	snprintf(flag, sizeof(flag), "%s/survived", dir);
	/* A grandchild in the background would outlive a kill of the child
	 * alone and write the flag. */
	snprintf(script, sizeof(script), "(sleep 3; touch '%s') & sleep 30", flag);
	run_sh(script, NULL, 1, &res);
	assert_true(res.timed_out);
	assert_true(WIFSIGNALED(res.status));
	assert_true(time(NULL) - t0 < 10);
	aclm_exec_result_free(&res);
	sleep(4);
	assert_int_not_equal(access(flag, F_OK), 0);
	rmdir(dir);
}

static void test_exec_missing_program_is_an_error_naming_it(void **state)
{
	char *argv[] = { "/nonexistent/aclm-no-such-hook", NULL };
	struct aclm_exec_result res;
	struct aclm_err err = { 0 };

	assert_int_equal(aclm_exec(argv, NULL, 10, &res, &err), ACLM_ERR_IO);
	assert_non_null(strstr(err.msg, "cannot run /nonexistent/aclm-no-such-hook"));
	aclm_exec_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_words_split_on_blanks_of_any_length),
		cmocka_unit_test(test_quotes_keep_blanks_and_join_with_neighbours),
		cmocka_unit_test(test_backslash_escapes_outside_and_inside_double_quotes),
		cmocka_unit_test(test_empty_quotes_make_empty_arguments),
		cmocka_unit_test(test_nothing_is_expanded),
		cmocka_unit_test(test_unterminated_quote_names_its_column),
		cmocka_unit_test(test_empty_command_is_refused),
		cmocka_unit_test(test_exec_reports_exit_status_and_captures_both_streams),
		cmocka_unit_test(test_exec_output_is_capped),
		cmocka_unit_test(test_exec_hides_aclm_variables_but_passes_extra_env),
		cmocka_unit_test(test_exec_timeout_kills_the_process_group),
		cmocka_unit_test(test_exec_missing_program_is_an_error_naming_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
