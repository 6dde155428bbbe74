/* solvers/dns_check.c, dns_propagation = authoritative: the NS set of the
 * zone is found by walking up from _acme-challenge.NAME and every server
 * must show the TXT value; against BIND (skipped without named; started by
 * testsupport.h on a free port), the NS address mapped to that port through
 * the hint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "solvers/solver_int.h"
#include "testsupport.h"

#define VALUE "LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo"
#define NAME "_acme-challenge.a.example.test"

static struct ts_named named = { .pid = -1 };

/* True once BIND answers with the zone's TXT record (our own check on a
 * name it holds). */
static bool named_up(const char *server)
{
	struct aclm_err err = { 0 };

	return solver__dns_txt_wait(server, NAME, VALUE, 1, &err) == ACLM_OK;
}

static int start_named(void **state)
{
	(void)state;
	return ts_named_start(&named, "$TTL 60\n@ IN SOA ns.example.test. admin.example.test. "
			      "1 60 60 600 60\n@ IN NS ns.example.test.\nns IN A 127.0.0.1\n"
			      NAME ". IN TXT \"" VALUE "\"\n", named_up);
}

static int stop_named(void **state)
{
	(void)state;
	return ts_named_stop(&named);
}

static void test_every_ns_of_the_zone_found_by_walking_up_shows_the_value(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	if (named.pid <= 0)
		skip();
	/* NS of _acme-challenge.a and a.example.test: NODATA; example.test: ns.example.test,
	 * 127.0.0.1, checked on BIND's port through the hint. */
	assert_int_equal(solver__dns_txt_wait_authoritative(named.server, NAME, VALUE, named.server,
							    5, &err), ACLM_OK);
}

static void test_a_value_the_servers_do_not_show_is_busy_naming_the_server(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	if (named.pid <= 0)
		skip();
	assert_int_equal(solver__dns_txt_wait_authoritative(named.server, NAME, "other",
							    named.server, 2, &err), ACLM_ERR_BUSY);
	assert_non_null(strstr(err.msg, "authoritative server 1 of 1"));
	assert_non_null(strstr(err.msg, named.server));
}

static void test_a_zone_the_resolver_does_not_know_has_no_ns_set(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	if (named.pid <= 0)
		skip();
	/* recursion no: BIND refuses names outside its zone, and the walk stops. */
	assert_int_equal(solver__dns_txt_wait_authoritative(named.server,
							    "_acme-challenge.b.other.test", VALUE,
							    named.server, 3, &err), ACLM_ERR_NOTFOUND);
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
