/* Configuration: INI parsing, precedence flag > environment > file > default,
 * file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"

static void clear_env(void)
{
	unsetenv("ACLM_STORE_DB");
	unsetenv("ACLM_DB");
	unsetenv("ACLM_LOG_LEVEL");
	unsetenv("ACLM_CORE_TENANT");
	unsetenv("ACLM_TENANT");
}

static void test_defaults_apply_without_any_source(void **state)
{
	struct aclm_config *cfg;

	(void)state;
	clear_env();
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_string_equal(aclm_config_get(cfg, "store", "db"), "sqlite:aclm.db");
	assert_string_equal(aclm_config_get(cfg, "core", "tenant"), "default");
	assert_int_equal(aclm_config_origin(cfg, "store", "db"), ACLM_CFG_DEFAULT);
	assert_null(aclm_config_get(cfg, "nosuch", "key"));
	aclm_config_free(cfg);
}

static void test_precedence_flag_over_env_over_file(void **state)
{
	struct aclm_config *cfg;
	struct aclm_err err = { 0 };

	(void)state;
	clear_env();
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_int_equal(aclm_config_load_string(cfg, "[store]\ndb = sqlite:file.db\n[core]\ntenant=t-file\n",
						 "aclm.conf", &err), ACLM_OK);
	assert_string_equal(aclm_config_get(cfg, "store", "db"), "sqlite:file.db");
	assert_int_equal(aclm_config_origin(cfg, "store", "db"), ACLM_CFG_FILE);

	setenv("ACLM_STORE_DB", "sqlite:env.db", 1);
	assert_int_equal(aclm_config_load_env(cfg, &err), ACLM_OK);
	assert_string_equal(aclm_config_get(cfg, "store", "db"), "sqlite:env.db");
	assert_int_equal(aclm_config_origin(cfg, "store", "db"), ACLM_CFG_ENV);
	assert_string_equal(aclm_config_get(cfg, "core", "tenant"), "t-file");

	assert_int_equal(aclm_config_set_flag(cfg, "store", "db", "sqlite:flag.db", &err), ACLM_OK);
	assert_string_equal(aclm_config_get(cfg, "store", "db"), "sqlite:flag.db");
	assert_int_equal(aclm_config_origin(cfg, "store", "db"), ACLM_CFG_FLAG);
	aclm_config_free(cfg);
	clear_env();
}

static void test_env_alias_is_read(void **state)
{
	struct aclm_config *cfg;
	struct aclm_err err = { 0 };

	(void)state;
	clear_env();
	setenv("ACLM_DB", "sqlite:alias.db", 1);
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_int_equal(aclm_config_load_env(cfg, &err), ACLM_OK);
	assert_string_equal(aclm_config_get(cfg, "store", "db"), "sqlite:alias.db");
	aclm_config_free(cfg);
	clear_env();
}

static void test_unknown_key_names_file_and_line(void **state)
{
	struct aclm_config *cfg;
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_int_equal(aclm_config_load_string(cfg, "[store]\ndb = x\n\n[store]\nbogus = 1\n",
						 "aclm.conf", &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "aclm.conf:5"));
	assert_non_null(strstr(err.msg, "bogus"));
	aclm_config_free(cfg);
}

static void test_bad_values_are_refused(void **state)
{
	struct aclm_config *cfg;
	struct aclm_err err = { 0 };

	(void)state;
	clear_env();
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_int_equal(aclm_config_load_string(cfg, "[log]\nlevel = loud\n", "c.conf", &err),
			 ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "c.conf:2"));
	assert_int_equal(aclm_config_load_string(cfg, "[store]\nbusy_timeout_ms = -5\n", "c.conf", &err),
			 ACLM_ERR_CONFIG);
	assert_int_equal(aclm_config_load_string(cfg, "[store]\nbusy_timeout_ms = 12x\n", "c.conf", &err),
			 ACLM_ERR_CONFIG);
	assert_int_equal(aclm_config_load_string(cfg, "no section line\n", "c.conf", &err),
			 ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "c.conf:1"));
	setenv("ACLM_LOG_LEVEL", "chatty", 1);
	assert_int_equal(aclm_config_load_env(cfg, &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "ACLM_LOG_LEVEL"));
	/* Nothing invalid was kept. */
	assert_string_equal(aclm_config_get(cfg, "log", "level"), "warn");
	aclm_config_free(cfg);
	clear_env();
}

static void test_missing_file_is_optional_unless_required(void **state)
{
	struct aclm_config *cfg;
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_int_equal(aclm_config_load_file(cfg, "/nonexistent/aclm.conf", false, &err), ACLM_OK);
	assert_int_equal(aclm_config_load_file(cfg, "/nonexistent/aclm.conf", true, &err),
			 ACLM_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/aclm.conf"));
	aclm_config_free(cfg);
}

/* [notify.NAME] and [scan.NAME]: instances in file order, each with its own
 * values and the class defaults, environment overrides per instance, the
 * line of every value, and the class's checks. */
static void test_named_sections(void **state)
{
	struct aclm_config *cfg;
	struct aclm_err err = { 0 };
	char where[128];

	(void)state;
	clear_env();
	assert_int_equal(aclm_config_new(&cfg), ACLM_OK);
	assert_int_equal(aclm_config_load_string(cfg,
						 "[notify.ops]\ntype = email\nto = a@x\n\n"
						 "[scan.dc]\ntargets = 10.0.0.0/24\n"
						 "[notify.team]\ntype = webhook\nurl = https://h/x\n"
						 "[notify.ops]\nfrom = aclm@x\n",
						 "n.conf", &err), ACLM_OK);
	assert_string_equal(aclm_config_instance(cfg, "notify", 0), "ops");
	assert_string_equal(aclm_config_instance(cfg, "notify", 1), "team");
	assert_null(aclm_config_instance(cfg, "notify", 2));
	assert_string_equal(aclm_config_instance(cfg, "scan", 0), "dc");
	assert_null(aclm_config_instance(cfg, "scan", 1));
	assert_null(aclm_config_instance(cfg, "sca", 0)); /* a prefix is not the class */
	assert_string_equal(aclm_config_get(cfg, "notify.ops", "type"), "email");
	assert_string_equal(aclm_config_get(cfg, "notify.ops", "from"), "aclm@x");
	assert_string_equal(aclm_config_get(cfg, "notify.team", "type"), "webhook");
	assert_null(aclm_config_get(cfg, "notify.team", "to"));
	assert_string_equal(aclm_config_get(cfg, "scan.dc", "ports"), "443"); /* class default */
	assert_string_equal(aclm_config_get(cfg, "scan.other", "ports"), "443");
	assert_null(aclm_config_get(cfg, "notify.ops", "bogus"));
	aclm_config_where(cfg, "notify.team", "url", where, sizeof(where));
	assert_string_equal(where, "n.conf:9");
	aclm_config_where(cfg, "notify.ops", "from", where, sizeof(where));
	assert_string_equal(where, "n.conf:11");
	aclm_config_where(cfg, "scan.dc", "ports", where, sizeof(where));
	assert_string_equal(where, "default");

	setenv("ACLM_NOTIFY_TEAM_URL", "https://other/y", 1);
	assert_int_equal(aclm_config_load_env(cfg, &err), ACLM_OK);
	assert_string_equal(aclm_config_get(cfg, "notify.team", "url"), "https://other/y");
	assert_string_equal(aclm_config_get(cfg, "notify.ops", "to"), "a@x");
	aclm_config_where(cfg, "notify.team", "url", where, sizeof(where));
	assert_string_equal(where, "environment ACLM_NOTIFY_TEAM_URL");
	unsetenv("ACLM_NOTIFY_TEAM_URL");

	/* the class's type checks apply to every instance; the line is named */
	assert_int_equal(aclm_config_load_string(cfg, "[notify.x]\n\ntype = pager\n", "n.conf",
						 &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "n.conf:3"));
	assert_non_null(strstr(err.msg, "pager"));
	/* a bare class name or an empty instance is not a section */
	assert_int_equal(aclm_config_load_string(cfg, "[notify.]\ntype = email\n", "n.conf", &err),
			 ACLM_ERR_CONFIG);
	assert_int_equal(aclm_config_load_string(cfg, "[notify]\ntype = email\n", "n.conf", &err),
			 ACLM_ERR_CONFIG);
	aclm_config_free(cfg);
}

static void test_env_name_mapping(void **state)
{
	char name[64];

	(void)state;
	aclm_config_env_name("store", "busy_timeout_ms", name, sizeof(name));
	assert_string_equal(name, "ACLM_STORE_BUSY_TIMEOUT_MS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_apply_without_any_source),
		cmocka_unit_test(test_precedence_flag_over_env_over_file),
		cmocka_unit_test(test_env_alias_is_read),
		cmocka_unit_test(test_unknown_key_names_file_and_line),
		cmocka_unit_test(test_bad_values_are_refused),
		cmocka_unit_test(test_missing_file_is_optional_unless_required),
		cmocka_unit_test(test_env_name_mapping),
		cmocka_unit_test(test_named_sections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
