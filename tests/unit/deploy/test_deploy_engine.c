/* deploy/deploy.c: one deploy against a fake type and a real TLS server on
 * loopback: verified by fingerprint, rolled back (and re-verified) on a
 * mismatch or a failed step, stage failures touch nothing, dry runs only
 * check. Also deploy_probe's spec parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/json.h"
#include "deploy/deploy_int.h"
#include "testsupport.h"

struct cert {
	X509 *x;
	EVP_PKEY *key;
	char fp[65];
};

static struct cert old_cert, new_cert, wrong_cert;

static void make_cert(struct cert *c, const char *cn)
{
	unsigned char md[32];
	unsigned int n = 0;

	c->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	c->x = X509_new();
	X509_set_version(c->x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x), 1);
	X509_gmtime_adj(X509_getm_notBefore(c->x), 0);
	X509_gmtime_adj(X509_getm_notAfter(c->x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c->x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c->x, X509_get_subject_name(c->x));
	X509_set_pubkey(c->x, c->key);
	assert_true(X509_sign(c->x, c->key, EVP_sha256()) > 0);
	X509_digest(c->x, EVP_sha256(), md, &n);
	for (unsigned i = 0; i < 32; i++)
		snprintf(c->fp + 2 * i, 3, "%02x", md[i]);
}

/* ---- a TLS server that serves whichever certificate is "live" ---- */

static struct {
	pthread_mutex_t mu;
	const struct cert *live;
	int fd, port;
	pthread_t th;
	volatile int stop;
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void *serve(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		int c = accept(srv.fd, NULL, NULL);
		SSL_CTX *ctx;
		SSL *ssl;

		if (c < 0)
			break;
		ctx = SSL_CTX_new(TLS_server_method());
		pthread_mutex_lock(&srv.mu);
		SSL_CTX_use_certificate(ctx, srv.live->x);
		SSL_CTX_use_PrivateKey(ctx, srv.live->key);
		pthread_mutex_unlock(&srv.mu);
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, c);
		if (SSL_accept(ssl) == 1)
			SSL_shutdown(ssl);
		SSL_free(ssl);
		SSL_CTX_free(ctx);
		close(c);
	}
	return NULL;
}

static void set_live(const struct cert *c)
{
	pthread_mutex_lock(&srv.mu);
	srv.live = c;
	pthread_mutex_unlock(&srv.mu);
}

static int group_setup(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	(void)state;
	signal(SIGPIPE, SIG_IGN); /* as aclm does: a peer closing first is no crash */
	make_cert(&old_cert, "old.test");
	make_cert(&new_cert, "new.test");
	make_cert(&wrong_cert, "wrong.test");
	srv.live = &old_cert;
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(srv.fd, 16) != 0 ||
	    getsockname(srv.fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	srv.port = ntohs(sa.sin_port);
	return pthread_create(&srv.th, NULL, serve, NULL);
}

static int group_teardown(void **state)
{
	(void)state;
	srv.stop = 1;
	shutdown(srv.fd, SHUT_RDWR);
	close(srv.fd);
	pthread_join(srv.th, NULL);
	X509_free(old_cert.x);
	X509_free(new_cert.x);
	X509_free(wrong_cert.x);
	EVP_PKEY_free(old_cert.key);
	EVP_PKEY_free(new_cert.key);
	EVP_PKEY_free(wrong_cert.key);
	return 0;
}

/* ---- a fake type: what each step does is set per test ---- */

static struct {
	int staged, activated, rolled_back, released;
	bool fail_stage, fail_activate, fail_rollback;
	const struct cert *activate_serves, *rollback_serves;
} fk;

static aclm_status fk_stage(struct deploy_step_ctx *c, struct aclm_err *err)
{
	(void)c;
	fk.staged++;
	return fk.fail_stage ? aclm_err_set(err, ACLM_ERR_IO, "stage broke") : ACLM_OK;
}

static aclm_status fk_activate(struct deploy_step_ctx *c, struct aclm_err *err)
{
	(void)c;
	fk.activated++;
	if (fk.fail_activate)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "configuration test failed");
	set_live(fk.activate_serves);
	return ACLM_OK;
}

static aclm_status fk_rollback(struct deploy_step_ctx *c, struct aclm_err *err)
{
	(void)c;
	fk.rolled_back++;
	if (fk.fail_rollback)
		return aclm_err_set(err, ACLM_ERR_IO, "restore broke");
	set_live(fk.rollback_serves);
	return ACLM_OK;
}

static void fk_release(struct deploy_step_ctx *c)
{
	(void)c;
	fk.released++;
}

static const struct deploy_type_ops fake_ops = {
	.name = "fake", .stage = fk_stage, .activate = fk_activate, .rollback = fk_rollback,
	.release = fk_release,
};

static int reset(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	fk.activate_serves = &new_cert;
	fk.rollback_serves = &old_cert;
	set_live(&old_cert);
	return 0;
}

/* Runs deploy__one of new_cert to a target verified at our server (or at
 * spec when given); returns the result (caller frees). */
static json_t *run(const char *spec, bool dry_run, aclm_status *st)
{
	char ep[64];
	struct deploy_material m = { .cert_id = 1, .cert_pem = "", .chain_pem = "",
				     .fullchain_pem = "" };
	json_t *verify, *options = json_object(), *result = json_object();
	struct deploy_target t = { .id = 1, .tenant_id = 1, .name = "t1", .type = "fake",
				   .options = options };
	struct aclm_err err = { 0 };

	snprintf(ep, sizeof(ep), "127.0.0.1:%d/new.test", srv.port);
	verify = json_pack("[s]", spec != NULL ? spec : ep);
	t.verify = verify;
	snprintf(m.fingerprint, sizeof(m.fingerprint), "%s", new_cert.fp);
	*st = deploy__one(&fake_ops, &t, &m, NULL, dry_run, 700, result, &err);
	json_decref(verify);
	json_decref(options);
	return result;
}

static void test_verified_deploy_is_deployed_with_served_fingerprint(void **state)
{
	aclm_status st;
	json_t *r = run(NULL, false, &st);

	(void)state;
	assert_int_equal(st, ACLM_OK);
	assert_string_equal(aclm_json_str(r, "state"), "deployed");
	assert_string_equal(aclm_json_str(r, "served_fingerprint"), new_cert.fp);
	assert_true(aclm_json_bool(json_object_get(r, "detail"), "verified"));
	assert_int_equal(fk.rolled_back, 0);
	assert_int_equal(fk.released, 1);
	json_decref(r);
}

static void test_wrong_leaf_served_rolls_back_and_reverifies_old(void **state)
{
	aclm_status st;
	json_t *r;

	(void)state;
	fk.activate_serves = &wrong_cert;
	r = run(NULL, false, &st);
	assert_int_equal(st, ACLM_ERR_VERIFY);
	assert_string_equal(aclm_json_str(r, "state"), "rolled_back");
	assert_non_null(strstr(aclm_json_str(r, "error"), "expected"));
	/* What is served after the rollback: the old certificate, checked. */
	assert_string_equal(aclm_json_str(r, "served_fingerprint"), old_cert.fp);
	assert_string_equal(aclm_json_str(json_object_get(r, "detail"), "rollback"), "ok");
	assert_int_equal(fk.rolled_back, 1);
	json_decref(r);
}

static void test_failed_activate_rolls_back(void **state)
{
	aclm_status st;
	json_t *r;

	(void)state;
	fk.fail_activate = true;
	r = run(NULL, false, &st);
	assert_int_equal(st, ACLM_ERR_CONFIG);
	assert_string_equal(aclm_json_str(r, "state"), "rolled_back");
	assert_string_equal(aclm_json_str(r, "error"), "configuration test failed");
	assert_int_equal(fk.rolled_back, 1);
	json_decref(r);
}

static void test_failed_rollback_is_failed(void **state)
{
	aclm_status st;
	json_t *r;

	(void)state;
	fk.activate_serves = &wrong_cert;
	fk.fail_rollback = true;
	r = run(NULL, false, &st);
	assert_int_not_equal(st, ACLM_OK);
	assert_string_equal(aclm_json_str(r, "state"), "failed");
	assert_string_equal(aclm_json_str(json_object_get(r, "detail"), "rollback"), "restore broke");
	json_decref(r);
}

static void test_rollback_that_does_not_bring_back_old_leaf_is_failed(void **state)
{
	aclm_status st;
	json_t *r;

	(void)state;
	/* The rollback step "succeeds" but the old leaf is not served again:
	 * only the re-verify can tell. */
	fk.activate_serves = &wrong_cert;
	fk.rollback_serves = &wrong_cert;
	r = run(NULL, false, &st);
	assert_int_not_equal(st, ACLM_OK);
	assert_string_equal(aclm_json_str(r, "state"), "failed");
	assert_non_null(strstr(aclm_json_str(json_object_get(r, "detail"), "rollback"), "serves"));
	assert_int_equal(fk.rolled_back, 1);
	json_decref(r);
}

static void test_stage_failure_changes_nothing(void **state)
{
	aclm_status st;
	json_t *r;

	(void)state;
	fk.fail_stage = true;
	r = run(NULL, false, &st);
	assert_int_equal(st, ACLM_ERR_IO);
	assert_string_equal(aclm_json_str(r, "state"), "failed");
	assert_int_equal(fk.activated, 0);
	assert_int_equal(fk.rolled_back, 0);
	assert_int_equal(fk.released, 1);
	json_decref(r);
}

static void test_dry_run_stages_nothing(void **state)
{
	aclm_status st;
	json_t *r;

	(void)state;
	r = run(NULL, true, &st);
	assert_int_equal(st, ACLM_OK);
	assert_string_equal(aclm_json_str(r, "state"), "dry_run");
	assert_int_equal(fk.staged + fk.activated + fk.rolled_back, 0);
	json_decref(r);
}

static void test_unreachable_verify_endpoint_fails(void **state)
{
	char spec[64];
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	aclm_status st;
	json_t *r;

	(void)state;
	/* A port nobody listens on: bound, never listened. */
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(s, (struct sockaddr *)&sa, &len);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sa.sin_port));
	r = run(spec, false, &st);
	close(s);
	assert_int_equal(st, ACLM_ERR_IO);
	assert_non_null(strstr(aclm_json_str(r, "error"), "cannot connect"));
	assert_int_equal(fk.rolled_back, 1);
	json_decref(r);
}

static void test_probe_spec_syntax(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(deploy_verify_check("127.0.0.1:443", &err), ACLM_OK);
	assert_int_equal(deploy_verify_check("www.example.com:8443/other.example", &err), ACLM_OK);
	assert_int_equal(deploy_verify_check("[::1]:443/x.example", &err), ACLM_OK);
	assert_int_equal(deploy_verify_check("127.0.0.1", &err), ACLM_ERR_CONFIG);
	assert_int_equal(deploy_verify_check("127.0.0.1:0", &err), ACLM_ERR_CONFIG);
	assert_int_equal(deploy_verify_check("127.0.0.1:99999", &err), ACLM_ERR_CONFIG);
	assert_int_equal(deploy_verify_check(":443", &err), ACLM_ERR_CONFIG);
	assert_int_equal(deploy_verify_check("h:443/", &err), ACLM_ERR_CONFIG);
	assert_int_equal(deploy_verify_check("[::1:443", &err), ACLM_ERR_CONFIG);
}

static void test_type_table_and_split_commands(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	assert_ptr_equal(deploy_type_find("nginx"), &deploy_nginx_ops);
	assert_ptr_equal(deploy_type_find("haproxy"), &deploy_haproxy_ops);
	assert_non_null(deploy_type_find("ssh"));
	assert_non_null(deploy_type_find("webhook"));
	assert_null(deploy_type_find("ftp"));
	assert_int_equal(deploy__run_cmd("test", "true", 5, &err), ACLM_OK);
	assert_int_equal(deploy__run_cmd("test", "sh -c 'echo broken >&2; exit 3'", 5, &err),
			 ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "exit 3"));
	assert_non_null(strstr(err.msg, "broken"));
	assert_int_equal(deploy__check_cmd("reload_cmd", "nginx 'unterminated", &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "reload_cmd"));
}

/* ---- group commit ---- */

#define COMMITTERS 8
static char gc_dir[256];

struct committer {
	int n;
	aclm_status st;
	char test[1024], reload[1024];
};

/* Writes the pair a_N, b_N non-atomically, with a pause in between: a test
 * running meanwhile would see them differ. */
static aclm_status gc_change(void *arg, struct aclm_err *err)
{
	struct committer *c = arg;
	char path[512], name[32];
	FILE *f;

	(void)err;
	for (int k = 0; k < 2; k++) {
		snprintf(name, sizeof(name), "%c_%d", k == 0 ? 'a' : 'b', c->n);
		snprintf(path, sizeof(path), "%s/%s", gc_dir, name);
		f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "v%d\n", c->n);
		fclose(f);
		usleep(20000);
	}
	return ACLM_OK;
}

static void *gc_thread(void *arg)
{
	struct committer *c = arg;
	struct aclm_err err = { 0 };

	c->st = deploy__server_commit(c->test, c->reload, gc_change, NULL, c, &err);
	return NULL;
}

static void test_group_commit_never_tests_half_changed_files_and_batches(void **state)
{
	struct committer c[COMMITTERS];
	pthread_t th[COMMITTERS];
	char path[512], line[64];
	int runs = 0;
	FILE *f;

	(void)state;
	assert_non_null(ts_tmpdir(gc_dir, sizeof(gc_dir), "gc"));
	/* The test fails when any pair differs; the reload counts runs. */
	for (int i = 0; i < COMMITTERS; i++) {
		c[i].n = i;
		snprintf(c[i].test, sizeof(c[i].test),
			 "sh -c 'cd %s && for a in a_*; do [ -e b_${a#a_} ] && cmp -s $a b_${a#a_} || exit 1; done'",
			 gc_dir);
		snprintf(c[i].reload, sizeof(c[i].reload), "sh -c 'echo run >> %s/runs.log'", gc_dir);
	}
	for (int i = 0; i < COMMITTERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, gc_thread, &c[i]), 0);
	for (int i = 0; i < COMMITTERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(c[i].st, ACLM_OK);
	}
	snprintf(path, sizeof(path), "%s/runs.log", gc_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		runs++;
	fclose(f);
	assert_true(runs >= 1);
	assert_true(runs < COMMITTERS); /* several changes shared a run */
	ts_rmtree(gc_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_verified_deploy_is_deployed_with_served_fingerprint, reset),
		cmocka_unit_test_setup(test_wrong_leaf_served_rolls_back_and_reverifies_old, reset),
		cmocka_unit_test_setup(test_failed_activate_rolls_back, reset),
		cmocka_unit_test_setup(test_failed_rollback_is_failed, reset),
		cmocka_unit_test_setup(test_rollback_that_does_not_bring_back_old_leaf_is_failed, reset),
		cmocka_unit_test_setup(test_stage_failure_changes_nothing, reset),
		cmocka_unit_test_setup(test_dry_run_stages_nothing, reset),
		cmocka_unit_test_setup(test_unreachable_verify_endpoint_fails, reset),
		cmocka_unit_test(test_probe_spec_syntax),
		cmocka_unit_test(test_type_table_and_split_commands),
		cmocka_unit_test(test_group_commit_never_tests_half_changed_files_and_batches),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
