/* solvers/dns_check.c, dns_propagation = authoritative: the NS set of the
 * zone is found by walking up from _acme-challenge.NAME and every server
 * must show the TXT value; against BIND (skipped without named) on a port
 * picked here, the NS address mapped to that port through the hint. */
#include <arpa/inet.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "solvers/solver_int.h"

#define VALUE "LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo"
#define NAME "_acme-challenge.a.example.test"

static pid_t named_pid = -1;
static char dir[64], server[32];

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* True once BIND answers with the zone's TXT record (our own check on a
 * name it holds). */
static bool named_up(void)
{
	struct aclm_err err = { 0 };

	return solver__dns_txt_wait(server, NAME, VALUE, 1, &err) == ACLM_OK;
}

static int start_named(void **state)
{
	char conf[1024], cfile[128];
	int port = free_port(), null;

	(void)state;
	if (system("command -v named >/dev/null 2>&1") != 0)
		return 0; /* the tests skip */
	snprintf(dir, sizeof(dir), "/tmp/aclm-dnsauth-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(server, sizeof(server), "127.0.0.1:%d", port);
	write_file("zone", "$TTL 60\n@ IN SOA ns.example.test. admin.example.test. 1 60 60 600 60\n"
		   "@ IN NS ns.example.test.\nns IN A 127.0.0.1\n"
		   NAME ". IN TXT \"" VALUE "\"\n");
	snprintf(conf, sizeof(conf), "options { directory \"%s\"; pid-file \"%s/named.pid\";\n"
		 "listen-on port %d { 127.0.0.1; }; listen-on-v6 { none; };\n"
		 "recursion no; notify no; dnssec-validation no; };\ncontrols { };\n"
		 "zone \"example.test\" { type primary; file \"%s/zone\"; };\n", dir, dir, port, dir);
	write_file("named.conf", conf);
	snprintf(cfile, sizeof(cfile), "%s/named.conf", dir);
	named_pid = fork();
	if (named_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		if (getuid() == 0)
			execlp("named", "named", "-g", "-c", cfile, "-u", "root", (char *)NULL);
		else
			execlp("named", "named", "-g", "-c", cfile, (char *)NULL);
		_exit(127);
	}
	assert_true(named_pid > 0);
	for (int i = 0; i < 50; i++)
		if (named_up())
			return 0;
	fprintf(stderr, "named did not come up on %s\n", server);
	return -1;
}

static int stop_named(void **state)
{
	char cmd[128];

	(void)state;
	if (named_pid > 0) {
		kill(named_pid, SIGTERM);
		waitpid(named_pid, NULL, 0);
	}
	if (dir[0] == '\0')
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_every_ns_of_the_zone_found_by_walking_up_shows_the_value(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	if (named_pid <= 0)
		skip();
	/* NS of _acme-challenge.a and a.example.test: NODATA; example.test: ns.example.test,
	 * 127.0.0.1, checked on BIND's port through the hint. */
	assert_int_equal(solver__dns_txt_wait_authoritative(server, NAME, VALUE, server, 5, &err),
			 ACLM_OK);
}

static void test_a_value_the_servers_do_not_show_is_busy_naming_the_server(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	if (named_pid <= 0)
		skip();
	assert_int_equal(solver__dns_txt_wait_authoritative(server, NAME, "other", server, 2, &err),
			 ACLM_ERR_BUSY);
	assert_non_null(strstr(err.msg, "authoritative server 1 of 1"));
	assert_non_null(strstr(err.msg, server));
}

static void test_a_zone_the_resolver_does_not_know_has_no_ns_set(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	if (named_pid <= 0)
		skip();
	/* recursion no: BIND refuses names outside its zone, and the walk stops. */
	assert_int_equal(solver__dns_txt_wait_authoritative(server, "_acme-challenge.b.other.test",
							    VALUE, server, 3, &err), ACLM_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "no NS records for _acme-challenge.b.other.test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_ns_of_the_zone_found_by_walking_up_shows_the_value),
		cmocka_unit_test(test_a_value_the_servers_do_not_show_is_busy_naming_the_server),
		cmocka_unit_test(test_a_zone_the_resolver_does_not_know_has_no_ns_set),
	};

	return cmocka_run_group_tests(tests, start_named, stop_named);
}
