/* solvers/dns_check.c (TXT propagation through a resolver, c-ares) and the
 * dns-hook solver end to end, against the real pebble-challtestsrv on
 * loopback ports picked here, stopped by PID at the end. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

struct testsrv {
	pid_t pid;
	int dns_port, mgmt_port;
	char resolver[32];
	char dir[64];
};

static struct testsrv srv = { .pid = -1 };

/* A port free right now on 127.0.0.1 (the kernel's choice). */
static int free_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, type, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool tcp_accepts(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	close(fd);
	return ok;
}

static int start_testsrv(void **state)
{
	char dns[32], mgmt[32];
	char *argv[] = { "pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
			 "-dns01", dns, "-http01", "", "-https01", "", "-tlsalpn01", "",
			 "-management", mgmt, NULL };
	int null;

	snprintf(srv.dir, sizeof(srv.dir), "/tmp/aclm-dnscheck-XXXXXX");
	assert_non_null(mkdtemp(srv.dir));
	srv.dns_port = free_port(SOCK_DGRAM);
	srv.mgmt_port = free_port(SOCK_STREAM);
	snprintf(dns, sizeof(dns), "127.0.0.1:%d", srv.dns_port);
	snprintf(mgmt, sizeof(mgmt), "127.0.0.1:%d", srv.mgmt_port);
	snprintf(srv.resolver, sizeof(srv.resolver), "127.0.0.1:%d", srv.dns_port);
	srv.pid = fork();
	if (srv.pid == 0) {
		/* Dies with the test even when a sanitizer aborts it before teardown. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_true(srv.pid > 0);
	for (int i = 0; i < 100 && !tcp_accepts(srv.mgmt_port); i++)
		usleep(50 * 1000);
	if (tcp_accepts(srv.mgmt_port))
		return 0;
	fprintf(stderr, "pebble-challtestsrv did not start (scripts/deps installs pebble)\n");
	return -1;
}

static int stop_testsrv(void **state)
{
	char cmd[128];

	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		waitpid(srv.pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", srv.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* POST {"host":HOST,"value":VALUE} to the management API, libcurl. */
static void mgmt_post(const char *op, const char *host, const char *value)
{
	char url[96], body[256];
	long code = 0;
	CURL *c = curl_easy_init();

	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", srv.mgmt_port, op);
	snprintf(body, sizeof(body), "{\"host\":\"%s\",\"value\":\"%s\"}", host, value);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 200);
	curl_easy_cleanup(c);
}

static void test_txt_set_at_the_server_is_seen(void **state)
{
	struct aclm_err err = { 0 };

	mgmt_post("set-txt", "_acme-challenge.seen.example.test.", "value-one");
	mgmt_post("set-txt", "_acme-challenge.seen.example.test.", "value-two");
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

	mgmt_post("set-txt", "_acme-challenge.other.example.test.", "some-other-value");
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

	snprintf(dead, sizeof(dead), "127.0.0.1:%d", free_port(SOCK_DGRAM));
	assert_int_equal(solver__dns_txt_wait(dead, "_acme-challenge.example.test", "v", 1, &err),
			 ACLM_ERR_BUSY);
	assert_int_equal(solver__dns_txt_wait("127.0.0.1:notaport", "_acme-challenge.example.test",
					      "v", 1, &err), ACLM_ERR_CONFIG);
}

/* The hook a user would write for challtestsrv's API, with curl. */
static void write_api_hook(char *path, size_t len, const char *log)
{
	FILE *fp;

	snprintf(path, len, "%s/api-hook.sh", srv.dir);
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
	snprintf(log, sizeof(log), "%s/api-hook.log", srv.dir);
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
	snprintf(log, sizeof(log), "%s/silent.log", srv.dir);
	snprintf(path, sizeof(path), "%s/silent.sh", srv.dir);
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
