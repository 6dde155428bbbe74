/* solvers/webroot.c (token files under a web root) and solver.c (choice). */
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
#include "solvers/solver.h"

#define KA_SUFFIX ".LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

struct fixture {
	char root[64];
	void *state;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct solver_config cfg = { 0 };
	struct aclm_err err = { 0 };

	snprintf(f->root, sizeof(f->root), "/tmp/aclm-webroot-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	cfg.webroot = f->root;
	assert_int_equal(solver_webroot_ops.start(&cfg, &f->state, &err), ACLM_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	solver_webroot_ops.stop(f->state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static aclm_status present(struct fixture *f, const char *token, const char *ka,
			   struct aclm_err *err)
{
	struct solver_challenge ch = { .type = "http-01", .identifier = "example.org",
				       .token = token, .key_authorization = ka };

	return solver_webroot_ops.present(f->state, &ch, err);
}

static void token_path(const struct fixture *f, const char *token, char *out, size_t len)
{
	snprintf(out, len, "%s/.well-known/acme-challenge/%s", f->root, token);
}

static void test_present_writes_key_authorization_0644_in_0755_dirs(void **state)
{
	struct fixture *f = *state;
	struct aclm_err err = { 0 };
	struct aclm_buf b;
	struct stat sb;
	char path[256];
	mode_t old = umask(077); /* the web server must read it whatever our umask */

	assert_int_equal(present(f, "tok_A-1", "tok_A-1" KA_SUFFIX, &err), ACLM_OK);
	umask(old);
	token_path(f, "tok_A-1", path, sizeof(path));
	aclm_buf_init(&b, 4096);
	assert_int_equal(aclm_buf_read_file(&b, path, &err), ACLM_OK);
	assert_string_equal((char *)b.data, "tok_A-1" KA_SUFFIX); /* exact: no newline */
	aclm_buf_free(&b);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s/.well-known", f->root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/.well-known/acme-challenge", f->root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	/* presented again: overwritten */
	assert_int_equal(present(f, "tok_A-1", "tok_A-1.new", &err), ACLM_OK);
	token_path(f, "tok_A-1", path, sizeof(path));
	aclm_buf_init(&b, 4096);
	assert_int_equal(aclm_buf_read_file(&b, path, &err), ACLM_OK);
	assert_string_equal((char *)b.data, "tok_A-1.new");
	aclm_buf_free(&b);
}

static void test_cleanup_removes_the_file(void **state)
{
	struct fixture *f = *state;
	struct aclm_err err = { 0 };
	struct solver_challenge ch = { .type = "http-01", .token = "tokB" };
	char path[256];

	assert_int_equal(present(f, "tokA", "tokA" KA_SUFFIX, &err), ACLM_OK);
	assert_int_equal(present(f, "tokB", "tokB" KA_SUFFIX, &err), ACLM_OK);
	assert_int_equal(solver_webroot_ops.cleanup(f->state, &ch, &err), ACLM_OK);
	token_path(f, "tokB", path, sizeof(path));
	assert_int_not_equal(access(path, F_OK), 0);
	token_path(f, "tokA", path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
	/* a second cleanup of the same token is fine */
	assert_int_equal(solver_webroot_ops.cleanup(f->state, &ch, &err), ACLM_OK);
}

static void test_bad_tokens_are_refused_and_write_nothing(void **state)
{
	struct fixture *f = *state;
	struct aclm_err err = { 0 };
	static const char *const bad[] = { "../../etc/x", "..", "a/b", "/abs", "a.b", "", "a b" };
	char cmd[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char ka[128];
		struct solver_challenge ch = { .token = bad[i] };

		snprintf(ka, sizeof(ka), "%s%s", bad[i], KA_SUFFIX);
		assert_int_equal(present(f, bad[i], ka, &err), ACLM_ERR_INVALID);
		assert_non_null(strstr(err.msg, "base64url"));
		assert_int_equal(solver_webroot_ops.cleanup(f->state, &ch, &err), ACLM_ERR_INVALID);
	}
	assert_int_equal(present(f, "tokA", "tokB" KA_SUFFIX, &err), ACLM_ERR_INVALID);
	/* nothing at all was created under the root */
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", f->root);
	assert_int_equal(system(cmd), 0);
}

static void test_start_needs_an_existing_directory(void **unused)
{
	struct solver_config cfg = { .webroot = "/nonexistent/aclm-webroot" };
	struct aclm_err err = { 0 };
	void *state = NULL;

	assert_int_equal(solver_webroot_ops.start(&cfg, &state, &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "/nonexistent/aclm-webroot"));
	assert_null(state);
}

static void test_solver_for_prefers_webroot_then_listener(void **unused)
{
	struct solver_config none = { 0 }, root = { .webroot = "/var/www" };

	assert_ptr_equal(solver_for("http-01", &root), &solver_webroot_ops);
	assert_ptr_equal(solver_for("http-01", &none), &solver_http_listen_ops);
	assert_ptr_equal(solver_for("http-01", NULL), &solver_http_listen_ops);
	assert_null(solver_for("dns-01", &root));
	assert_null(solver_for("tls-alpn-01", &root));
	assert_null(solver_for("http-02", &root));
	assert_null(solver_for(NULL, &root));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_present_writes_key_authorization_0644_in_0755_dirs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_removes_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_tokens_are_refused_and_write_nothing, setup,
						teardown),
		cmocka_unit_test(test_start_needs_an_existing_directory),
		cmocka_unit_test(test_solver_for_prefers_webroot_then_listener),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
