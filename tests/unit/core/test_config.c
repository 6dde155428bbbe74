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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
