/* solvers/dns_hook.c: dns-01 through a command speaking lego's exec
 * protocol (`CMD present|cleanup FQDN VALUE`, RFC 8555 §8.4 value), run
 * without a shell, without ACLM_* secrets, under a timeout. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "solvers/solver.h"

#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define FQDN "_acme-challenge.example.test."

struct fixture {
	char dir[64];
	char log[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/aclm-dnshook-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->log, sizeof(f->log), "%s/calls.log", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Writes DIR/name, mode 0755, with body after "#!/bin/sh"; LOG and DIR in
 * body are replaced by the paths (as a user's script would hard-code them). */
static void write_script(const struct fixture *f, const char *name, const char *body, char *path,
			 size_t len)
{
	FILE *fp;

	snprintf(path, len, "%s/%s", f->dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\nLOG='%s'\nDIR='%s'\n%s\n", f->log, f->dir, body);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* The TXT value computed here independently: base64url(SHA-256(keyauth)). */
static void expected_digest(const char *keyauth, char out[64])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	unsigned char b64[64];
	size_t j = 0;

	assert_int_equal(EVP_Digest(keyauth, strlen(keyauth), md, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_EncodeBlock(b64, md, (int)mdlen), 44);
	for (size_t i = 0; i < 44 && b64[i] != '='; i++)
		out[j++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	out[j] = '\0';
	assert_int_equal(j, 43);
}

static char *read_log(const struct fixture *f)
{
	struct aclm_buf b;
	struct aclm_err err = { 0 };

	aclm_buf_init(&b, 1 << 20);
	if (aclm_buf_read_file(&b, f->log, &err) != ACLM_OK)
		return strdup("");
	return (char *)aclm_buf_take(&b, NULL);
}

static aclm_status run(const struct solver_config *cfg, const char *ident, bool cleanup,
		       struct aclm_err *err)
{
	struct solver_challenge ch = { .type = "dns-01", .identifier = ident, .token = TOKEN,
				       .key_authorization = KEYAUTH };
	void *s = NULL;
	aclm_status st = solver_dns_hook_ops.start(cfg, &s, err);

	if (st == ACLM_OK)
		st = solver_dns_hook_ops.present(s, &ch, err);
	if (st == ACLM_OK && cleanup)
		st = solver_dns_hook_ops.cleanup(s, &ch, err);
	solver_dns_hook_ops.stop(s);
	return st;
}

/* One line per call: each argument in brackets, then what the environment
 * showed; one printf so concurrent calls do not interleave. */
#define LOGGING_HOOK                                                                     \
	"line=''\nfor a in \"$@\"; do line=\"$line[$a]\"; done\n"                        \
	"printf '%s master=%s home=%s keep=%s\\n' \"$line\" \"${ACLM_MASTER_KEY-unset}\" " \
	"\"${ACLM_HOME-unset}\" \"${DNS_TEST_KEEP-unset}\" >> \"$LOG\""

static void test_present_and_cleanup_get_lego_exec_arguments_without_aclm_secrets(void **state)
{
	struct fixture *f = *state;
	struct solver_config cfg = { 0 };
	struct aclm_err err = { 0 };
	char path[192], cmd[256], want[512], digest[64], *log;

	write_script(f, "hook.sh", LOGGING_HOOK, path, sizeof(path));
	/* The command itself has quoted words: they reach the hook unchanged. */
	snprintf(cmd, sizeof(cmd), "'%s' --zone \"two words\"", path);
	cfg.dns_hook = cmd;
	setenv("ACLM_MASTER_KEY", "c2VjcmV0LW1hc3Rlci1rZXktMzItYnl0ZXMtbG9uZyEh", 1);
	setenv("ACLM_HOME", "/srv/aclm", 1);
	setenv("DNS_TEST_KEEP", "yes", 1);
	assert_int_equal(run(&cfg, "example.test", true, &err), ACLM_OK);
	unsetenv("ACLM_MASTER_KEY");
	unsetenv("ACLM_HOME");
	expected_digest(KEYAUTH, digest);
	snprintf(want, sizeof(want),
		 "[--zone][two words][present][" FQDN "][%s] master=unset home=unset keep=yes\n"
		 "[--zone][two words][cleanup][" FQDN "][%s] master=unset home=unset keep=yes\n",
		 digest, digest);
	log = read_log(f);
	assert_string_equal(log, want);
	free(log);
}

static void test_failing_hook_reports_exit_status_and_first_stderr_line(void **state)
{
	struct fixture *f = *state;
	struct solver_config cfg = { 0 };
	struct aclm_err err = { 0 };
	char path[192];

	write_script(f, "fail.sh", "echo 'stdout chatter'\n"
		     "printf '\\nzone example.test: REFUSED by provider\\nsecond line\\n' >&2\nexit 3",
		     path, sizeof(path));
	cfg.dns_hook = path;
	assert_int_equal(run(&cfg, "example.test", false, &err), ACLM_ERR_IO);
	if (strstr(err.msg, "present " FQDN "` exited 3: zone example.test: REFUSED by provider") ==
	    NULL || strstr(err.msg, path) == NULL || strstr(err.msg, "second line") != NULL)
		fail_msg("unexpected message: %s", err.msg);
}

static bool process_gone(long pid)
{
	char p[64], st = '?';
	FILE *fp;

	snprintf(p, sizeof(p), "/proc/%ld/stat", pid);
	fp = fopen(p, "r");
	if (fp == NULL)
		return true;
	if (fscanf(fp, "%*d %*s %c", &st) != 1)
		st = '?';
	fclose(fp);
	return st == 'Z'; /* killed; only waiting for a reaper */
}

static void test_hanging_hook_is_killed_with_its_process_group(void **state)
{
	struct fixture *f = *state;
	struct solver_config cfg = { 0 };
	struct aclm_err err = { 0 };
	char path[192], *pid;
	time_t t0 = time(NULL);

	write_script(f, "hang.sh", "sleep 30 &\necho $! > \"$DIR/sleep.pid\"\nwait", path,
		     sizeof(path));
	cfg.dns_hook = path;
	cfg.dns_hook_timeout_s = 1;
	assert_int_equal(run(&cfg, "example.test", false, &err), ACLM_ERR_IO);
	assert_true(time(NULL) - t0 < 10);
	assert_non_null(strstr(err.msg, "timed out after 1 s"));
	snprintf(f->log, sizeof(f->log), "%s/sleep.pid", f->dir);
	pid = read_log(f);
	assert_true(atol(pid) > 0);
	usleep(100 * 1000);
	assert_true(process_gone(atol(pid))); /* the hook's child died with it */
	free(pid);
}

static void test_huge_output_is_drained_and_capped(void **state)
{
	struct fixture *f = *state;
	struct solver_config cfg = { 0 };
	struct aclm_err err = { 0 };
	char path[192];

	/* 1 MB on stdout would block a child whose pipe is not read. */
	write_script(f, "loud.sh", "head -c 1000000 /dev/zero | tr '\\0' x\necho boom >&2\nexit 1",
		     path, sizeof(path));
	cfg.dns_hook = path;
	cfg.dns_hook_timeout_s = 20;
	assert_int_equal(run(&cfg, "example.test", false, &err), ACLM_ERR_IO);
	if (strstr(err.msg, "exited 1: boom") == NULL)
		fail_msg("unexpected message: %s", err.msg);
}

static void test_missing_program_is_named(void **state)
{
	struct solver_config cfg = { .dns_hook = "/nonexistent/aclm-hook --x" };
	struct aclm_err err = { 0 };

	assert_int_equal(run(&cfg, "example.test", false, &err), ACLM_ERR_IO);
	assert_non_null(strstr(err.msg, "cannot run /nonexistent/aclm-hook"));
}

static void test_ip_and_malformed_identifiers_never_reach_the_hook(void **state)
{
	struct fixture *f = *state;
	struct solver_config cfg = { 0 };
	struct aclm_err err = { 0 };
	char path[192], *log;

	write_script(f, "hook.sh", LOGGING_HOOK, path, sizeof(path));
	cfg.dns_hook = path;
	assert_int_equal(run(&cfg, "192.0.2.1", false, &err), ACLM_ERR_INVALID);
	assert_int_equal(run(&cfg, "a b.example", false, &err), ACLM_ERR_INVALID);
	assert_int_equal(run(&cfg, "", false, &err), ACLM_ERR_INVALID);
	log = read_log(f);
	assert_string_equal(log, "");
	free(log);
}

struct thread_arg {
	void *solver;
	char ident[32];
	aclm_status st;
};

static void *present_thread(void *p)
{
	struct thread_arg *a = p;
	struct solver_challenge ch = { .type = "dns-01", .identifier = a->ident, .token = TOKEN,
				       .key_authorization = KEYAUTH };
	struct aclm_err err = { 0 };

	a->st = solver_dns_hook_ops.present(a->solver, &ch, &err);
	return NULL;
}

static void test_concurrent_presents_each_run_their_own_hook(void **state)
{
	struct fixture *f = *state;
	struct solver_config cfg = { 0 };
	struct aclm_err err = { 0 };
	struct thread_arg a[6];
	pthread_t t[6];
	char path[192], want[128], digest[64], *log;
	void *s = NULL;

	write_script(f, "hook.sh", LOGGING_HOOK, path, sizeof(path));
	cfg.dns_hook = path;
	assert_int_equal(solver_dns_hook_ops.start(&cfg, &s, &err), ACLM_OK);
	for (int i = 0; i < 6; i++) {
		a[i] = (struct thread_arg){ .solver = s };
		snprintf(a[i].ident, sizeof(a[i].ident), "n%d.example.test", i);
		assert_int_equal(pthread_create(&t[i], NULL, present_thread, &a[i]), 0);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	solver_dns_hook_ops.stop(s);
	expected_digest(KEYAUTH, digest);
	log = read_log(f);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(a[i].st, ACLM_OK);
		snprintf(want, sizeof(want), "[present][_acme-challenge.n%d.example.test.][%s] ", i,
			 digest);
		assert_non_null(strstr(log, want));
	}
	free(log);
}

static void test_start_refuses_bad_configuration(void **state)
{
	struct solver_config cfg = { .dns_hook = "/bin/true 'oops" };
	struct aclm_err err = { 0 };
	void *s = NULL;

	assert_int_equal(solver_dns_hook_ops.start(&cfg, &s, &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "unterminated single quote opened at column 11"));
	cfg.dns_hook = "/bin/true";
	cfg.dns_propagation = "sometimes";
	assert_int_equal(solver_dns_hook_ops.start(&cfg, &s, &err), ACLM_ERR_CONFIG);
	cfg.dns_propagation = "resolver"; /* without dns_resolver */
	assert_int_equal(solver_dns_hook_ops.start(&cfg, &s, &err), ACLM_ERR_CONFIG);
	assert_null(s);
	cfg.dns_propagation = "off";
	cfg.dns_resolver = "127.0.0.1:1";
	assert_int_equal(solver_dns_hook_ops.start(&cfg, &s, &err), ACLM_OK);
	solver_dns_hook_ops.stop(s);
}

static void test_solver_for_dns01_needs_a_hook(void **state)
{
	struct solver_config cfg = { 0 };

	assert_null(solver_for("dns-01", &cfg));
	assert_null(solver_for("dns-01", NULL));
	cfg.dns_hook = "/usr/local/bin/dns-hook";
	assert_ptr_equal(solver_for("dns-01", &cfg), &solver_dns_hook_ops);
	assert_ptr_equal(solver_for("http-01", &cfg), &solver_http_listen_ops);
	assert_null(solver_for("tls-alpn-01", &cfg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_present_and_cleanup_get_lego_exec_arguments_without_aclm_secrets,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_failing_hook_reports_exit_status_and_first_stderr_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hanging_hook_is_killed_with_its_process_group,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_output_is_drained_and_capped, setup,
						teardown),
		cmocka_unit_test(test_missing_program_is_named),
		cmocka_unit_test_setup_teardown(test_ip_and_malformed_identifiers_never_reach_the_hook,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_presents_each_run_their_own_hook,
						setup, teardown),
		cmocka_unit_test(test_start_refuses_bad_configuration),
		cmocka_unit_test(test_solver_for_dns01_needs_a_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
