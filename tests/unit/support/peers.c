/* The real peers some unit tests run against, on loopback ports picked
 * here: pebble-challtestsrv (DNS records set through its management API)
 * and BIND named (records challtestsrv cannot make). Each runs as a child
 * that dies with the test and is stopped by PID. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "testsupport.h"

bool ts_have_program(const char *name)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* fork + exec argv with stdout and stderr to /dev/null; the child's PID. */
static pid_t spawn_quiet(char *const argv[])
{
	pid_t pid = fork();
	int null;

	if (pid == 0) {
		/* Dies with the test even when a sanitizer aborts it before teardown. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_true(pid > 0);
	return pid;
}

static void stop_child(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

/* ---- pebble-challtestsrv ---- */

int ts_challtestsrv_start(struct ts_challtestsrv *s, const char *default_ipv4)
{
	char dns[32], mgmt[32], ipv4[64];
	char *argv[] = { "pebble-challtestsrv", "-defaultIPv4", ipv4, "-defaultIPv6", "",
			 "-dns01", dns, "-http01", "", "-https01", "", "-tlsalpn01", "",
			 "-management", mgmt, NULL };

	snprintf(ipv4, sizeof(ipv4), "%s", default_ipv4);
	s->dns_port = ts_free_port(SOCK_DGRAM);
	s->mgmt_port = ts_free_port(SOCK_STREAM);
	snprintf(dns, sizeof(dns), "127.0.0.1:%d", s->dns_port);
	snprintf(mgmt, sizeof(mgmt), "127.0.0.1:%d", s->mgmt_port);
	snprintf(s->resolver, sizeof(s->resolver), "127.0.0.1:%d", s->dns_port);
	s->pid = spawn_quiet(argv);
	for (int i = 0; i < 100 && !ts_tcp_accepts(s->mgmt_port); i++)
		usleep(50 * 1000);
	if (ts_tcp_accepts(s->mgmt_port))
		return 0;
	fprintf(stderr, "pebble-challtestsrv did not start (scripts/deps installs pebble)\n");
	return -1;
}

void ts_challtestsrv_stop(struct ts_challtestsrv *s)
{
	stop_child(&s->pid);
}

void ts_challtestsrv_post(const struct ts_challtestsrv *s, const char *op, const char *fmt, ...)
{
	char url[96], body[512];
	long code = 0;
	va_list ap;
	int n;
	CURL *c = curl_easy_init();

	assert_non_null(c);
	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(body));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", s->mgmt_port, op);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	/* loopback: a proxy from the environment must not see it */
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 200);
	curl_easy_cleanup(c);
}

void ts_challtestsrv_set_txt(const struct ts_challtestsrv *s, const char *fqdn,
			     const char *value)
{
	ts_challtestsrv_post(s, "set-txt", "{\"host\":\"%s\",\"value\":\"%s\"}", fqdn, value);
}

/* ---- BIND named ---- */

static void named_write_config(const struct ts_named *n, int port, const char *zone)
{
	char conf[1024];

	ts_write_file(n->dir, "zone", zone);
	snprintf(conf, sizeof(conf), "options { directory \"%s\"; pid-file \"%s/named.pid\";\n"
		 "listen-on port %d { 127.0.0.1; }; listen-on-v6 { none; };\n"
		 "recursion no; notify no; dnssec-validation no; };\ncontrols { };\n"
		 "zone \"example.test\" { type primary; file \"%s/zone\"; };\n",
		 n->dir, n->dir, port, n->dir);
	ts_write_file(n->dir, "named.conf", conf);
}

int ts_named_start(struct ts_named *n, const char *zone, bool (*up)(const char *server))
{
	char cfile[128];
	char *argv[] = { "named", "-g", "-c", cfile, NULL, NULL, NULL };
	int port = ts_free_port(SOCK_DGRAM);

	n->pid = -1;
	n->dir[0] = '\0';
	if (!ts_have_program("named")) {
		fprintf(stderr, "named not installed: the BIND tests skip\n");
		return 0;
	}
	assert_non_null(ts_tmpdir(n->dir, sizeof(n->dir), "named"));
	snprintf(n->server, sizeof(n->server), "127.0.0.1:%d", port);
	named_write_config(n, port, zone);
	snprintf(cfile, sizeof(cfile), "%s/named.conf", n->dir);
	if (getuid() == 0) {
		argv[4] = "-u";
		argv[5] = "root";
	}
	n->pid = spawn_quiet(argv);
	for (int i = 0; i < 100; i++) {
		if (up(n->server))
			return 0;
		usleep(50 * 1000);
	}
	fprintf(stderr, "named did not come up on %s\n", n->server);
	return -1;
}

int ts_named_stop(struct ts_named *n)
{
	stop_child(&n->pid);
	return ts_rmtree(n->dir);
}
