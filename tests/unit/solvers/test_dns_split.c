/* solvers/solver.c: hook commands split into argv like shell words, with no
 * expansion and no shell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "solvers/solver_int.h"

/* Splits cmd and compares with the expected words (NULL-terminated). */
static void expect_words(const char *cmd, const char *const *want)
{
	struct aclm_err err = { 0 };
	char **argv = NULL;
	size_t i;

	assert_int_equal(solver__split_argv(cmd, &argv, &err), ACLM_OK);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	solver__argv_free(argv);
}

static void expect_error(const char *cmd, const char *fragment)
{
	struct aclm_err err = { 0 };
	char **argv = (char **)1;

	assert_int_equal(solver__split_argv(cmd, &argv, &err), ACLM_ERR_CONFIG);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
