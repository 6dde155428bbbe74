/* solvers/dns_check.c (TXT propagation through a resolver, c-ares) and the
 * dns-hook solver end to end, against the real pebble-challtestsrv on
 * loopback (testsupport.h starts and stops it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"
#include "testsupport.h"

#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

static struct ts_challtestsrv srv = { .pid = -1 };
static char dir[64];           /* the hooks the tests write */

static int start_testsrv(void **state)
{
	assert_non_null(ts_tmpdir(dir, sizeof(dir), "dnscheck"));
	return ts_challtestsrv_start(&srv, "127.0.0.1");
}

static int stop_testsrv(void **state)
{
	ts_challtestsrv_stop(&srv);
	return ts_rmtree(dir);
}

static void test_txt_set_at_the_server_is_seen(void **state)
{
	struct aclm_err err = { 0 };

	ts_challtestsrv_set_txt(&srv, "_acme-challenge.seen.example.test.", "value-one");
	ts_challtestsrv_set_txt(&srv, "_acme-challenge.seen.example.test.", "value-two");
	/* Either of two records matches (a wildcard and its base name share one). */
	assert_int_equal(solver__dns_txt_wait(srv.resolver, "_acme-challenge.seen.example.test",
					      "value-two", 5, &err), ACLM_OK);
	assert_int_equal(solver__dns_txt_wait(srv.resolver, "_acme-challenge.seen.example.test",
					      "value-one", 5, &err), ACLM_OK);
}

static void test_value_never_set_is_busy_after_the_timeout(void **state)
{
	struct aclm_err err = { 0 };
	char want[160];
	time_t t0 = time(NULL);

	ts_challtestsrv_set_txt(&srv, "_acme-challenge.other.example.test.", "some-other-value");
	assert_int_equal(solver__dns_txt_wait(srv.resolver, "_acme-challenge.other.example.test",
					      "the-expected-value", 2, &err), ACLM_ERR_BUSY);
	assert_true(time(NULL) - t0 >= 1 && time(NULL) - t0 < 6);
	snprintf(want, sizeof(want), "TXT _acme-challenge.other.example.test not visible at %s "
		 "after 2 s", srv.resolver);
	if (strstr(err.msg, want) == NULL || strstr(err.msg, "1 TXT record") == NULL)
		fail_msg("unexpected message: %s", err.msg);
	/* A prefix of a record is not the record. */
	assert_int_equal(solver__dns_txt_wait(srv.resolver, "_acme-challenge.other.example.test",
					      "some-other", 1, &err), ACLM_ERR_BUSY);
}

static void test_a_dead_resolver_is_busy_and_a_bad_one_a_config_error(void **state)
{
	struct aclm_err err = { 0 };
	char dead[32];

	snprintf(dead, sizeof(dead), "127.0.0.1:%d", ts_free_port(SOCK_DGRAM));
	assert_int_equal(solver__dns_txt_wait(dead, "_acme-challenge.example.test", "v", 1, &err),
			 ACLM_ERR_BUSY);
	assert_int_equal(solver__dns_txt_wait("127.0.0.1:notaport", "_acme-challenge.example.test",
					      "v", 1, &err), ACLM_ERR_CONFIG);
}

/* The hook a user would write for challtestsrv's API, with curl. */
static void write_api_hook(char *path, size_t len, const char *log)
{
	FILE *fp;

	snprintf(path, len, "%s/api-hook.sh", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n"
		"echo \"$*\" >> '%s'\n"
		"case \"$1\" in present) op=set-txt ;; cleanup) op=clear-txt ;; *) exit 2 ;; esac\n"
		"[ \"$4\" = \"\" ] || exit 2\n" /* lego passes exactly three */
		"exec curl -sf --noproxy '*' -d \"{\\\"host\\\":\\\"$2\\\",\\\"value\\\":\\\"$3\\\"}\" "
		"http://127.0.0.1:%d/$op\n", log, srv.mgmt_port);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

static void dns01_value(char out[64])
{
	unsigned char md[32], b64[64];
	unsigned int mdlen = 0;
	size_t j = 0;

	EVP_Digest(KEYAUTH, strlen(KEYAUTH), md, &mdlen, EVP_sha256(), NULL);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	for (size_t i = 0; b64[i] != '\0' && b64[i] != '='; i++)
		out[j++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	out[j] = '\0';
}

static bool have_curl(void)
{
	return system("command -v curl >/dev/null 2>&1") == 0;
}

static void test_present_via_hook_is_visible_at_the_resolver_and_cleanup_removes_it(void **state)
{
	struct solver_challenge ch = { .type = "dns-01", .identifier = "e2e.example.test",
				       .token = TOKEN, .key_authorization = KEYAUTH };
	struct solver_config cfg = { .dns_resolver = srv.resolver, .dns_timeout_s = 10 };
	struct aclm_err err = { 0 };
	char path[128], log[128], value[64];
	void *s = NULL;

	if (!have_curl()) {
		fprintf(stderr, "curl not installed: the end-to-end hook test is skipped\n");
		skip();
	}
	snprintf(log, sizeof(log), "%s/api-hook.log", dir);
	write_api_hook(path, sizeof(path), log);
	cfg.dns_hook = path;
	dns01_value(value);
	assert_int_equal(solver_dns_hook_ops.start(&cfg, &s, &err), ACLM_OK);
	assert_int_equal(solver_dns_hook_ops.present(s, &ch, &err), ACLM_OK);
	/* present returned: the record is there, independently of the solver's own check. */
	assert_int_equal(solver__dns_txt_wait(srv.resolver, "_acme-challenge.e2e.example.test",
					      value, 1, &err), ACLM_OK);
	assert_int_equal(solver_dns_hook_ops.cleanup(s, &ch, &err), ACLM_OK);
	assert_int_equal(solver__dns_txt_wait(srv.resolver, "_acme-challenge.e2e.example.test",
					      value, 1, &err), ACLM_ERR_BUSY);
	solver_dns_hook_ops.stop(s);
}

static void test_present_fails_busy_and_cleans_up_when_the_record_never_shows(void **state)
{
	struct solver_challenge ch = { .type = "dns-01", .identifier = "lost.example.test",
				       .token = TOKEN, .key_authorization = KEYAUTH };
	struct solver_config cfg = { .dns_resolver = srv.resolver, .dns_timeout_s = 2 };
	struct aclm_err err = { 0 };
	char path[128], log[128], want[256], value[64];
	struct aclm_buf b;
	FILE *fp;
	void *s = NULL;

	/* A hook that succeeds but publishes nothing. */
	snprintf(log, sizeof(log), "%s/silent.log", dir);
	snprintf(path, sizeof(path), "%s/silent.sh", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\necho \"$*\" >> '%s'\n", log);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0755), 0);
	cfg.dns_hook = path;
	assert_int_equal(solver_dns_hook_ops.start(&cfg, &s, &err), ACLM_OK);
	assert_int_equal(solver_dns_hook_ops.present(s, &ch, &err), ACLM_ERR_BUSY);
	solver_dns_hook_ops.stop(s);
	snprintf(want, sizeof(want), "TXT _acme-challenge.lost.example.test not visible at %s "
		 "after 2 s", srv.resolver);
	if (strstr(err.msg, want) == NULL)
		fail_msg("unexpected message: %s", err.msg);
	dns01_value(value);
	snprintf(want, sizeof(want), "present _acme-challenge.lost.example.test. %s\n"
		 "cleanup _acme-challenge.lost.example.test. %s\n", value, value);
	aclm_buf_init(&b, 4096);
	assert_int_equal(aclm_buf_read_file(&b, log, &err), ACLM_OK);
	assert_string_equal((char *)b.data, want);
	aclm_buf_free(&b);
}

static void test_propagation_off_skips_the_check(void **state)
{
	struct solver_challenge ch = { .type = "dns-01", .identifier = "off.example.test",
				       .token = TOKEN, .key_authorization = KEYAUTH };
	struct solver_config cfg = { .dns_hook = "true", .dns_resolver = srv.resolver,
				     .dns_propagation = "off", .dns_timeout_s = 30 };
	struct aclm_err err = { 0 };
	void *s = NULL;
	time_t t0 = time(NULL);

	assert_int_equal(solver_dns_hook_ops.start(&cfg, &s, &err), ACLM_OK);
	assert_int_equal(solver_dns_hook_ops.present(s, &ch, &err), ACLM_OK);
	assert_true(time(NULL) - t0 < 5);
	solver_dns_hook_ops.stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt_set_at_the_server_is_seen),
		cmocka_unit_test(test_value_never_set_is_busy_after_the_timeout),
		cmocka_unit_test(test_a_dead_resolver_is_busy_and_a_bad_one_a_config_error),
		cmocka_unit_test(test_present_via_hook_is_visible_at_the_resolver_and_cleanup_removes_it),
		cmocka_unit_test(test_present_fails_busy_and_cleans_up_when_the_record_never_shows),
		cmocka_unit_test(test_propagation_off_skips_the_check),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, start_testsrv, stop_testsrv);
	curl_global_cleanup();
	return rc;
}
