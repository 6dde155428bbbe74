/* deploy/target_ssh.c: option checks, then stage/activate/rollback against a
 * real sshd started here as the current user on 127.0.0.1 and a free port
 * (temp host key, authorized_keys in the temp dir); sshd on loopback writes
 * the "remote" files into the same temp dir, where the test reads them. */
#include <fcntl.h>
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

#include "deploy/deploy_int.h"
#include "testsupport.h"

#define SSHD "/usr/sbin/sshd"
#define CERT "-----BEGIN CERTIFICATE-----\nNEW LEAF\n-----END CERTIFICATE-----\n"
#define CHAIN "-----BEGIN CERTIFICATE-----\nNEW CHAIN\n-----END CERTIFICATE-----\n"
#define KEY "-----BEGIN PRIVATE KEY-----\nNEW KEY\n-----END PRIVATE KEY-----\n"

static const struct deploy_material material = {
	.cert_id = 7,
	.lineage = "www",
	.fingerprint = "00",
	.cert_pem = CERT,
	.chain_pem = CHAIN,
	.fullchain_pem = CERT CHAIN,
	.key_pem = KEY,
};

/* ---- helpers ---- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

static void assert_file(const char *dir, const char *name, const char *want, mode_t mode)
{
	char path[512];
	struct stat sb;
	char *got;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	got = slurp(path);
	if (got == NULL)
		fail_msg("%s missing", path);
	assert_string_equal(got, want);
	free(got);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, mode);
}

static bool exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

static int run_quiet(char *const argv[])
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	assert_true(pid > 0);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void keygen(const char *path)
{
	char *argv[] = { "/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
			 (char *)path, NULL };

	assert_int_equal(run_quiet(argv), 0);
}

static void check_fails(const char *json, const char *in_msg)
{
	struct aclm_err err = { 0 };
	json_t *o = json_loads(json, 0, NULL);

	assert_non_null(o);
	assert_int_equal(deploy_ssh_ops.check(o, &err), ACLM_ERR_CONFIG);
	if (strstr(err.msg, in_msg) == NULL)
		fail_msg("%s: message `%s` lacks `%s`", json, err.msg, in_msg);
	json_decref(o);
}

/* ---- option checks (no server) ---- */

static void check_accepts_minimal_and_full(void **state)
{
	struct aclm_err err = { 0 };
	json_t *o = json_pack("{s:s, s:s, s:s}", "host", "h.example", "known_hosts", "/dev/null",
			      "cert_path", "/etc/ssl/c.pem");

	assert_int_equal(deploy_ssh_ops.check(o, &err), ACLM_OK);
	json_decref(o);
	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i}",
		      "host", "10.0.0.1", "port", 2222, "user", "deploy", "identity", "/dev/null",
		      "known_hosts", "/dev/null", "jump", "ops@[::1]:2200", "cert_path", "/c",
		      "chain_path", "/ch", "fullchain_path", "/f", "key_path", "/k",
		      "combined_path", "/cb", "mode", "0640", "trust_unknown_host", 1,
		      "timeout", 5);
	assert_int_equal(deploy_ssh_ops.check(o, &err), ACLM_OK);
	json_decref(o);
	/* what a CLI storing strings gives */
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "host", "h", "port", "2222", "known_hosts",
		      "/dev/null", "key_path", "/k", "trust_unknown_host", "false");
	assert_int_equal(deploy_ssh_ops.check(o, &err), ACLM_OK);
	json_decref(o);
	assert_string_equal(deploy_ssh_ops.name, "ssh");
}

static void ssh_wants_key_only_for_key_or_combined_path(void **state)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "host", "h", "known_hosts", "/dev/null",
			      "fullchain_path", "/f");

	assert_non_null(deploy_ssh_ops.wants_key);
	assert_false(deploy_ssh_ops.wants_key(o));
	json_object_set_new(o, "key_path", json_string("/k"));
	assert_true(deploy_ssh_ops.wants_key(o));
	json_object_del(o, "key_path");
	json_object_set_new(o, "combined_path", json_string("/c"));
	assert_true(deploy_ssh_ops.wants_key(o));
	json_decref(o);
}

static void ssh_key_path_without_key_fails_before_connecting(void **state)
{
	struct deploy_material m = material;
	struct deploy_target t = { .name = "remote", .type = "ssh" };
	struct deploy_step_ctx c = { .target = &t, .m = &m };
	struct aclm_err err = { 0 };
	json_t *o = json_pack("{s:s, s:i, s:s, s:s}", "host", "127.0.0.1", "port",
			      ts_free_port(SOCK_STREAM), "known_hosts", "/dev/null", "key_path",
			      "/tmp/never.key");

	m.key_pem = NULL;
	t.options = o;
	assert_int_equal(deploy_ssh_ops.stage(&c, &err), ACLM_ERR_INVALID);
	assert_non_null(strstr(err.msg, "key_path needs the private key"));
	deploy_ssh_ops.release(&c);
	json_decref(o);
}

static void check_rejects_each_bad_option(void **state)
{
	check_fails("[]", "object");
	check_fails("{\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\"}", "option host is "
		    "required");
	check_fails("{\"host\":\"h\",\"cert_path\":\"/c\"}", "option known_hosts is required");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/nonexistent/kh\",\"cert_path\":\"/c\"}",
		    "option known_hosts: /nonexistent/kh");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"identity\":\"/nonexistent/id\"}", "option identity");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"colour\":\"red\"}", "unknown option colour");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\"}", "no file to write");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"c.pem\"}",
		    "option cert_path must be an absolute");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"key_path\":\"/c\"}", "same file");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\\n\"}",
		    "control character");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"port\":0}", "option port");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"port\":\"22x\"}", "option port");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"port\":65536}", "option port");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"mode\":\"0999\"}", "option mode");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"mode\":420}", "option mode");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"jump\":\"user@\"}", "option jump");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"jump\":\"j:0\"}", "option jump");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"trust_unknown_host\":\"yes\"}", "option trust_unknown_host");
	check_fails("{\"host\":\"u@h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\"}",
		    "option host");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"timeout\":0}", "option timeout");
	check_fails("{\"host\":\"h\",\"known_hosts\":\"/dev/null\",\"cert_path\":\"/c\","
		    "\"reload_cmd\":\"\"}", "option reload_cmd");
}

/* ---- against a real sshd ---- */

struct sshd {
	char dir[64];
	char known_hosts[128];     /* pins the server's host key */
	char other_kh[128];        /* pins another key for the same host */
	char identity[128];
	int port;
	pid_t pid;
};

static int sshd_setup(void **state)
{
	static struct sshd d;
	char path[256], conf[1024], *pub;

	if (access(SSHD, X_OK) != 0 || access("/usr/bin/ssh-keygen", X_OK) != 0) {
		fprintf(stderr, "sshd or ssh-keygen missing: ssh deploy tests skipped\n");
		d.pid = -1;
		*state = &d;
		return 0;
	}
	/* sshd run by root insists on its privilege separation directory */
	if (geteuid() == 0)
		(void)mkdir("/run/sshd", 0755);
	assert_non_null(ts_tmpdir(d.dir, sizeof(d.dir), "sshd"));
	snprintf(path, sizeof(path), "%s/host_key", d.dir);
	keygen(path);
	snprintf(path, sizeof(path), "%s/other_key", d.dir);
	keygen(path);
	snprintf(d.identity, sizeof(d.identity), "%s/id", d.dir);
	keygen(d.identity);
	snprintf(path, sizeof(path), "%s/id.pub", d.dir);
	pub = slurp(path);
	assert_non_null(pub);
	ts_write_file(d.dir, "authorized_keys", pub);
	free(pub);
	d.port = ts_free_port(SOCK_STREAM);
	snprintf(conf, sizeof(conf),
		 "HostKey %s/host_key\nAuthorizedKeysFile %s/authorized_keys\n"
		 "StrictModes no\nUsePAM no\nPidFile %s/sshd.pid\nListenAddress 127.0.0.1\n"
		 "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
		 "AllowTcpForwarding yes\nSubsystem sftp internal-sftp\n",
		 d.dir, d.dir, d.dir);
	ts_write_file(d.dir, "sshd_config", conf);
	/* known_hosts: "[127.0.0.1]:PORT KEY" for a port other than 22 */
	for (int i = 0; i < 2; i++) {
		char line[512];
		char *key;

		snprintf(path, sizeof(path), "%s/%s.pub", d.dir, i == 0 ? "host_key" : "other_key");
		key = slurp(path);
		assert_non_null(key);
		*strrchr(key, ' ') = '\0'; /* drops the comment */
		snprintf(line, sizeof(line), "[127.0.0.1]:%d %s\n", d.port, key);
		free(key);
		ts_write_file(d.dir, i == 0 ? "known_hosts" : "other_known_hosts", line);
	}
	snprintf(d.known_hosts, sizeof(d.known_hosts), "%s/known_hosts", d.dir);
	snprintf(d.other_kh, sizeof(d.other_kh), "%s/other_known_hosts", d.dir);
	d.pid = fork();
	if (d.pid == 0) {
		char cfg[128], port[16], log[128];
		char *argv[] = { SSHD, "-D", "-e", "-f", cfg, "-p", port, "-E", log, NULL };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(cfg, sizeof(cfg), "%s/sshd_config", d.dir);
		snprintf(port, sizeof(port), "%d", d.port);
		snprintf(log, sizeof(log), "%s/sshd.log", d.dir);
		execv(SSHD, argv);
		_exit(127);
	}
	assert_true(d.pid > 0);
	for (int i = 0; i < 100 && !ts_tcp_accepts(d.port); i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (!ts_tcp_accepts(d.port)) {
		fprintf(stderr, "sshd did not start (see %s/sshd.log)\n", d.dir);
		return -1;
	}
	*state = &d;
	return 0;
}

static int sshd_teardown(void **state)
{
	struct sshd *d = *state;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	/* sshd's per-connection processes may still be writing their last
	 * log line: retry for a moment */
	for (int i = 0; d->dir[0] != '\0' && getenv("ACLM_TEST_KEEP") == NULL && i < 40; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		if (ts_rmtree(d->dir) == 0)
			break;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* A target writing into DIR/sub (a fresh subdirectory per test). */
static json_t *target_options(const struct sshd *d, const char *sub, const char *known_hosts)
{
	char path[256];
	json_t *o;

	snprintf(path, sizeof(path), "%s/%s", d->dir, sub);
	assert_int_equal(mkdir(path, 0755), 0);
	o = json_pack("{s:s, s:i, s:s, s:s}", "host", "127.0.0.1", "port", d->port, "identity",
		      d->identity, "known_hosts", known_hosts ? known_hosts : d->known_hosts);
	assert_non_null(o);
	return o;
}

static void set_path(json_t *o, const struct sshd *d, const char *sub, const char *opt,
		     const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s/%s", d->dir, sub, name);
	json_object_set_new(o, opt, json_string(path));
}

static void set_reload(json_t *o, const struct sshd *d, const char *sub, const char *extra)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "echo reload >> '%s/%s/reloads'%s", d->dir, sub,
		 extra ? extra : "");
	json_object_set_new(o, "reload_cmd", json_string(cmd));
}

static int count_lines(const struct sshd *d, const char *sub, const char *name)
{
	char path[512], *s;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s/%s", d->dir, sub, name);
	s = slurp(path);
	for (char *c = s; c != NULL && *c != '\0'; c++)
		n += *c == '\n';
	free(s);
	return n;
}

struct step_run {
	struct deploy_target target;
	struct deploy_step_ctx c;
	struct aclm_err err;
};

static void step_init(struct step_run *r, const json_t *options)
{
	memset(r, 0, sizeof(*r));
	r->target.name = "remote";
	r->target.type = "ssh";
	r->target.options = options;
	r->c.target = &r->target;
	r->c.m = &material;
	r->c.detail = json_object();
	assert_int_equal(deploy_ssh_ops.check(options, &r->err), ACLM_OK);
}

static void step_done(struct step_run *r)
{
	deploy_ssh_ops.release(&r->c);
	assert_null(r->c.state);
	json_decref(r->c.detail);
}

/* A step's status, with its message when it is not the one expected. */
#define EXPECT_STEP(r, call, want) do { \
		aclm_status st_ = (call); \
		if (st_ != (want)) \
			fail_msg("%s: status %d, want %d: %s", #call, st_, (want), (r).err.msg); \
	} while (0)

#define SKIP_WITHOUT_SSHD(d) do { if ((d)->pid <= 0) { skip(); } } while (0)

static void ssh_deploy_writes_files_with_mode_and_reloads(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	json_t *o;
	char dir[256];

	SKIP_WITHOUT_SSHD(d);
	o = target_options(d, "fresh", NULL);
	set_path(o, d, "fresh", "cert_path", "cert.pem");
	set_path(o, d, "fresh", "chain_path", "chain.pem");
	set_path(o, d, "fresh", "fullchain_path", "fullchain.pem");
	set_path(o, d, "fresh", "key_path", "key.pem");
	set_path(o, d, "fresh", "combined_path", "combined.pem");
	json_object_set_new(o, "mode", json_string("0640"));
	set_reload(o, d, "fresh", NULL);
	step_init(&r, o);
	snprintf(dir, sizeof(dir), "%s/fresh", d->dir);

	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_OK);
	/* staged: temp names only, nothing live, no reload */
	assert_false(exists(dir, "cert.pem"));
	assert_true(exists(dir, "cert.pem.aclm-tmp"));
	assert_false(exists(dir, "reloads"));
	EXPECT_STEP(r, deploy_ssh_ops.activate(&r.c, &r.err), ACLM_OK);
	assert_file(dir, "cert.pem", CERT, 0640);
	assert_file(dir, "chain.pem", CHAIN, 0640);
	assert_file(dir, "fullchain.pem", CERT CHAIN, 0640);
	assert_file(dir, "key.pem", KEY, 0640);
	assert_file(dir, "combined.pem", CERT CHAIN KEY, 0640);
	assert_false(exists(dir, "cert.pem.aclm-tmp"));
	assert_false(exists(dir, "key.pem.aclm-tmp"));
	assert_int_equal(count_lines(d, "fresh", "reloads"), 1);
	assert_non_null(strstr(json_string_value(json_object_get(r.c.detail, "host_key")),
			       "SHA256:"));
	assert_int_equal(json_array_size(json_object_get(r.c.detail, "files")), 5);
	step_done(&r);
	json_decref(o);
}

static void ssh_default_modes_keep_the_key_private(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	json_t *o;
	char dir[256];

	SKIP_WITHOUT_SSHD(d);
	o = target_options(d, "modes", NULL);
	set_path(o, d, "modes", "fullchain_path", "fullchain.pem");
	set_path(o, d, "modes", "key_path", "key.pem");
	step_init(&r, o);
	snprintf(dir, sizeof(dir), "%s/modes", d->dir);
	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_ssh_ops.activate(&r.c, &r.err), ACLM_OK);
	assert_file(dir, "fullchain.pem", CERT CHAIN, 0644);
	assert_file(dir, "key.pem", KEY, 0600);
	step_done(&r);
	json_decref(o);
}

static void ssh_rollback_restores_previous_files_and_reloads(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	json_t *o;
	char dir[256], path[300];

	SKIP_WITHOUT_SSHD(d);
	o = target_options(d, "prev", NULL);
	set_path(o, d, "prev", "cert_path", "cert.pem");
	set_path(o, d, "prev", "key_path", "key.pem");
	set_reload(o, d, "prev", NULL);
	snprintf(dir, sizeof(dir), "%s/prev", d->dir);
	ts_write_file(dir, "cert.pem", "OLD CERT\n");
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	assert_int_equal(chmod(path, 0604), 0);
	step_init(&r, o);

	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_ssh_ops.activate(&r.c, &r.err), ACLM_OK);
	assert_file(dir, "cert.pem", CERT, 0644);
	assert_file(dir, "key.pem", KEY, 0600);
	EXPECT_STEP(r, deploy_ssh_ops.rollback(&r.c, &r.err), ACLM_OK);
	/* the old file with its old mode; the key that was not there is gone */
	assert_file(dir, "cert.pem", "OLD CERT\n", 0604);
	assert_false(exists(dir, "key.pem"));
	assert_false(exists(dir, "cert.pem.aclm-tmp"));
	assert_int_equal(count_lines(d, "prev", "reloads"), 2);
	assert_true(json_is_true(json_object_get(r.c.detail, "rolled_back")));
	step_done(&r);
	json_decref(o);
}

static void ssh_changed_host_key_refused_with_fingerprint(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	json_t *o;
	char dir[256], want[64];

	SKIP_WITHOUT_SSHD(d);
	o = target_options(d, "wrongkey", d->other_kh);
	set_path(o, d, "wrongkey", "cert_path", "cert.pem");
	step_init(&r, o);
	snprintf(dir, sizeof(dir), "%s/wrongkey", d->dir);
	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_ERR_VERIFY);
	snprintf(want, sizeof(want), "ssh 127.0.0.1:%d: host key SHA256:", d->port);
	if (strstr(r.err.msg, want) == NULL || strstr(r.err.msg, "CHANGED") == NULL)
		fail_msg("message: %s", r.err.msg);
	assert_false(exists(dir, "cert.pem.aclm-tmp"));
	assert_false(exists(dir, "cert.pem"));
	step_done(&r);
	json_decref(o);
}

static void ssh_unknown_host_refused_unless_trusted(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	json_t *o;
	char dir[256];
	char *kh;

	SKIP_WITHOUT_SSHD(d);
	ts_write_file(d->dir, "empty_known_hosts", "");
	snprintf(dir, sizeof(dir), "%s/empty_known_hosts", d->dir);
	o = target_options(d, "unknown", dir);
	set_path(o, d, "unknown", "cert_path", "cert.pem");
	step_init(&r, o);
	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_ERR_VERIFY);
	if (strstr(r.err.msg, "unknown") == NULL || strstr(r.err.msg, "SHA256:") == NULL)
		fail_msg("message: %s", r.err.msg);
	step_done(&r);

	/* trusted: accepted and pinned, so the next deploy checks against it */
	json_object_set_new(o, "trust_unknown_host", json_true());
	step_init(&r, o);
	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_OK);
	assert_non_null(json_object_get(r.c.detail, "host_key_added"));
	step_done(&r);
	kh = slurp(dir);
	assert_non_null(kh);
	assert_non_null(strstr(kh, "ssh-ed25519"));
	free(kh);
	json_decref(o);
}

static void ssh_failing_reload_reported_with_output(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	json_t *o;
	char dir[256];

	SKIP_WITHOUT_SSHD(d);
	o = target_options(d, "badreload", NULL);
	set_path(o, d, "badreload", "cert_path", "cert.pem");
	set_reload(o, d, "badreload", "; echo config broken >&2; exit 3");
	step_init(&r, o);
	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_ssh_ops.activate(&r.c, &r.err), ACLM_ERR_IO);
	if (strstr(r.err.msg, "exited 3") == NULL || strstr(r.err.msg, "config broken") == NULL)
		fail_msg("message: %s", r.err.msg);
	/* the engine rolls back: the file that was not there is removed (and
	 * the reload fails again) */
	EXPECT_STEP(r, deploy_ssh_ops.rollback(&r.c, &r.err), ACLM_ERR_IO);
	snprintf(dir, sizeof(dir), "%s/badreload", d->dir);
	assert_false(exists(dir, "cert.pem"));
	assert_int_equal(count_lines(d, "badreload", "reloads"), 2);
	step_done(&r);
	json_decref(o);
}

static void ssh_stage_failure_leaves_no_temp_file(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	json_t *o;
	char dir[256];

	SKIP_WITHOUT_SSHD(d);
	o = target_options(d, "halfway", NULL);
	set_path(o, d, "halfway", "cert_path", "cert.pem");
	set_path(o, d, "halfway", "key_path", "missing-dir/key.pem");
	step_init(&r, o);
	snprintf(dir, sizeof(dir), "%s/halfway", d->dir);
	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_ERR_IO);
	assert_non_null(strstr(r.err.msg, "missing-dir/key.pem"));
	assert_true(exists(dir, "cert.pem.aclm-tmp"));
	step_done(&r);
	assert_false(exists(dir, "cert.pem.aclm-tmp"));
	assert_false(exists(dir, "cert.pem"));
	json_decref(o);
}

static void ssh_dry_run_writes_nothing(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	json_t *o;
	char dir[256];

	SKIP_WITHOUT_SSHD(d);
	o = target_options(d, "dry", NULL);
	set_path(o, d, "dry", "cert_path", "cert.pem");
	set_reload(o, d, "dry", NULL);
	step_init(&r, o);
	r.c.dry_run = true;
	snprintf(dir, sizeof(dir), "%s/dry", d->dir);
	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_ssh_ops.activate(&r.c, &r.err), ACLM_OK);
	assert_false(exists(dir, "cert.pem"));
	assert_false(exists(dir, "cert.pem.aclm-tmp"));
	assert_false(exists(dir, "reloads"));
	step_done(&r);
	json_decref(o);
}

static void ssh_deploy_through_jump_host(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	json_t *o;
	char dir[256], jump[64];
	int fds;

	SKIP_WITHOUT_SSHD(d);
	o = target_options(d, "jump", NULL);
	set_path(o, d, "jump", "cert_path", "cert.pem");
	set_reload(o, d, "jump", NULL);
	/* the same sshd is the jump host: it opens a direct-tcpip channel to itself */
	snprintf(jump, sizeof(jump), "root@127.0.0.1:%d", d->port);
	if (geteuid() != 0)
		snprintf(jump, sizeof(jump), "127.0.0.1:%d", d->port);
	json_object_set_new(o, "jump", json_string(jump));
	step_init(&r, o);
	snprintf(dir, sizeof(dir), "%s/jump", d->dir);
	fds = count_fds();
	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_ssh_ops.activate(&r.c, &r.err), ACLM_OK);
	assert_file(dir, "cert.pem", CERT, 0644);
	assert_int_equal(count_lines(d, "jump", "reloads"), 1);
	step_done(&r);
	/* both sessions, the socketpair and the relay thread are gone */
	assert_int_equal(count_fds(), fds);
	json_decref(o);
}

static void ssh_stalled_server_times_out(void **state)
{
	struct sshd *d = *state;
	struct step_run r;
	struct timespec t0, t1;
	json_t *o;

	SKIP_WITHOUT_SSHD(d);
	o = target_options(d, "stalled", NULL);
	set_path(o, d, "stalled", "cert_path", "cert.pem");
	json_object_set_new(o, "timeout", json_integer(2));
	step_init(&r, o);
	/* the kernel still accepts the connection; no banner ever comes */
	assert_int_equal(kill(d->pid, SIGSTOP), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r.err.code = deploy_ssh_ops.stage(&r.c, &r.err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(kill(d->pid, SIGCONT), 0);
	if (r.err.code != ACLM_ERR_IO)
		fail_msg("stage: status %d: %s", r.err.code, r.err.msg);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	step_done(&r);
	json_decref(o);
}

static void ssh_unreachable_host_reported(void **state)
{
	struct step_run r;
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:i}", "host", "127.0.0.1", "port",
			      ts_free_port(SOCK_STREAM), "known_hosts", "/dev/null", "cert_path",
			      "/tmp/never.pem", "timeout", 2);

	step_init(&r, o);
	EXPECT_STEP(r, deploy_ssh_ops.stage(&r.c, &r.err), ACLM_ERR_IO);
	assert_non_null(strstr(r.err.msg, "cannot connect"));
	step_done(&r);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest checks[] = {
		cmocka_unit_test(check_accepts_minimal_and_full),
		cmocka_unit_test(check_rejects_each_bad_option),
		cmocka_unit_test(ssh_wants_key_only_for_key_or_combined_path),
		cmocka_unit_test(ssh_key_path_without_key_fails_before_connecting),
		cmocka_unit_test(ssh_unreachable_host_reported),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test(ssh_deploy_writes_files_with_mode_and_reloads),
		cmocka_unit_test(ssh_default_modes_keep_the_key_private),
		cmocka_unit_test(ssh_rollback_restores_previous_files_and_reloads),
		cmocka_unit_test(ssh_changed_host_key_refused_with_fingerprint),
		cmocka_unit_test(ssh_unknown_host_refused_unless_trusted),
		cmocka_unit_test(ssh_failing_reload_reported_with_output),
		cmocka_unit_test(ssh_stage_failure_leaves_no_temp_file),
		cmocka_unit_test(ssh_dry_run_writes_nothing),
		cmocka_unit_test(ssh_deploy_through_jump_host),
		cmocka_unit_test(ssh_stalled_server_times_out),
	};
	int failed = cmocka_run_group_tests_name("options", checks, NULL, NULL);

	failed += cmocka_run_group_tests_name("sshd", live, sshd_setup, sshd_teardown);
	return failed;
}
