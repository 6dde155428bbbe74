/* core/: capped buffers, RFC 3339 time, encodings, atomic writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/encode.h"
#include "core/fs.h"
#include "core/time.h"

static void test_buf_refuses_growth_past_cap(void **state)
{
	struct aclm_buf b;

	(void)state;
	aclm_buf_init(&b, 10);
	assert_int_equal(aclm_buf_puts(&b, "0123456789"), ACLM_OK);
	assert_int_equal(aclm_buf_puts(&b, "x"), ACLM_ERR_TOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal((char *)b.data, "0123456789");
	aclm_buf_reset(&b);
	assert_int_equal(aclm_buf_printf(&b, "%d-%s", 42, "ok"), ACLM_OK);
	assert_string_equal((char *)b.data, "42-ok");
	assert_int_equal(aclm_buf_printf(&b, "%s", "too long for it"), ACLM_ERR_TOOBIG);
	aclm_buf_free(&b);
}

static void test_buf_read_file_caps_and_names_path(void **state)
{
	char dir[] = "/tmp/aclm-core-XXXXXX", path[64];
	struct aclm_buf b;
	struct aclm_err err = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 1000; i++)
		fputs("abcdefghij", f);
	fclose(f);
	aclm_buf_init(&b, 5000);
	assert_int_equal(aclm_buf_read_file(&b, path, &err), ACLM_ERR_TOOBIG);
	assert_non_null(strstr(err.msg, path));
	aclm_buf_free(&b);
	aclm_buf_init(&b, 20000);
	assert_int_equal(aclm_buf_read_file(&b, path, &err), ACLM_OK);
	assert_int_equal(b.len, 10000);
	aclm_buf_free(&b);
	assert_int_equal(aclm_buf_read_file(&b, "/nonexistent/x", &err), ACLM_ERR_NOTFOUND);
	unlink(path);
	rmdir(dir);
}

static void test_time_rfc3339_round_trip(void **state)
{
	char out[ACLM_TIME_RFC3339_LEN];
	int64_t t;

	(void)state;
	assert_string_equal(aclm_time_fmt(0, out), "1970-01-01T00:00:00Z");
	assert_int_equal(aclm_time_parse("2026-11-28T13:54:26Z", &t), ACLM_OK);
	assert_string_equal(aclm_time_fmt(t, out), "2026-11-28T13:54:26Z");
	assert_int_equal(aclm_time_parse("2026-11-28T15:54:26.123+02:00", &t), ACLM_OK);
	assert_string_equal(aclm_time_fmt(t, out), "2026-11-28T13:54:26Z");
	assert_int_equal(aclm_time_parse("9999-12-31T23:59:59Z", &t), ACLM_OK);
	assert_string_equal(aclm_time_fmt(t, out), "9999-12-31T23:59:59Z");
	assert_int_equal(aclm_time_parse("2026-13-01T00:00:00Z", &t), ACLM_ERR_PARSE);
	assert_int_equal(aclm_time_parse("2026-11-28T13:54:26", &t), ACLM_ERR_PARSE);
	assert_int_equal(aclm_time_parse("2026-11-28T13:54:26Zjunk", &t), ACLM_ERR_PARSE);
	assert_int_equal(aclm_time_parse("", &t), ACLM_ERR_PARSE);
}

static void test_days_between_floors_towards_past(void **state)
{
	(void)state;
	assert_int_equal(aclm_time_days_between(0, 86400 * 3 + 5), 3);
	assert_int_equal(aclm_time_days_between(0, 86399), 0);
	assert_int_equal(aclm_time_days_between(100, 99), -1);
	assert_int_equal(aclm_time_days_between(0, -86400), -1);
	assert_int_equal(aclm_time_days_between(0, -86401), -2);
}

static void test_hex_and_base64(void **state)
{
	unsigned char bytes[] = { 0x00, 0xab, 0xff, 0x10 }, out[8];
	char hex[9], *b64;

	(void)state;
	aclm_hex_encode(bytes, 4, hex);
	assert_string_equal(hex, "00abff10");
	assert_int_equal(aclm_hex_decode("00:AB:ff:10", out, sizeof(out)), 4);
	assert_memory_equal(out, bytes, 4);
	assert_int_equal(aclm_hex_decode("abc", out, sizeof(out)), -1);
	assert_int_equal(aclm_hex_decode("zz", out, sizeof(out)), -1);
	b64 = aclm_base64_encode(bytes, 4);
	assert_string_equal(b64, "AKv/EA==");
	assert_int_equal(aclm_base64_decode(b64, out, sizeof(out)), 4);
	assert_memory_equal(out, bytes, 4);
	assert_int_equal(aclm_base64_decode("AKv/\nEA==\n", out, sizeof(out)), 4);
	assert_int_equal(aclm_base64_decode("not base64!", out, sizeof(out)), -1);
	assert_int_equal(aclm_base64_decode(b64, out, 2), -1);
	free(b64);
	assert_true(aclm_secret_equal("abc", "abc", 3));
	assert_false(aclm_secret_equal("abc", "abd", 3));
}

static void test_atomic_write_sets_mode_and_replaces(void **state)
{
	char dir[] = "/tmp/aclm-core-XXXXXX", path[64], sub[96];
	struct aclm_err err = { 0 };
	struct stat sb;
	FILE *f;
	char got[16] = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	assert_int_equal(aclm_fs_write_atomic(path, "one", 3, 0600, &err), ACLM_OK);
	assert_int_equal(aclm_fs_write_atomic(path, "two", 3, 0600, &err), ACLM_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, sizeof(got) - 1, f), 3);
	fclose(f);
	assert_string_equal(got, "two");
	assert_int_equal(aclm_fs_write_atomic("/nonexistent/dir/x", "a", 1, 0600, &err), ACLM_ERR_IO);
	assert_non_null(strstr(err.msg, "/nonexistent/dir/x"));
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	assert_int_equal(aclm_fs_mkdirs(sub, 0700, &err), ACLM_OK);
	assert_true(aclm_fs_is_dir(sub));
	unlink(path);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	rmdir(sub);
	rmdir(dir);
}

static void test_err_prefix_keeps_message(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	aclm_err_set(&err, ACLM_ERR_PARSE, "no certificate found");
	aclm_err_prefix(&err, "%s", "/tmp/x.pem");
	assert_string_equal(err.msg, "/tmp/x.pem: no certificate found");
	assert_int_equal(err.code, ACLM_ERR_PARSE);
	assert_string_equal(aclm_status_name(ACLM_ERR_NOTFOUND), "not-found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_refuses_growth_past_cap),
		cmocka_unit_test(test_buf_read_file_caps_and_names_path),
		cmocka_unit_test(test_time_rfc3339_round_trip),
		cmocka_unit_test(test_days_between_floors_towards_past),
		cmocka_unit_test(test_hex_and_base64),
		cmocka_unit_test(test_atomic_write_sets_mode_and_replaces),
		cmocka_unit_test(test_err_prefix_keeps_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
