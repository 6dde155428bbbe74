/* scan/scan_target.c: --ports lists, every TARGET form, the order of the
 * stream, totals that saturate, ranges streamed without being expanded, and
 * @FILE with comments and FILE:LINE errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "scan/scan.h"
#include "testsupport.h"

static struct scan_ports ports_of(const char *s)
{
	struct scan_ports p;
	struct aclm_err err = { 0 };

	if (scan_ports_parse(s, &p, &err) != ACLM_OK)
		fail_msg("ports \"%s\": %s", s, err.msg);
	return p;
}

static struct scan_targets *targets(const char *const *args, size_t n, const char *ports,
				    const char *const *snis, size_t nsnis)
{
	struct scan_ports p = ports_of(ports);
	struct scan_targets *t = NULL;
	struct aclm_err err = { 0 };

	if (scan_targets_new(args, n, &p, snis, nsnis, &t, &err) != ACLM_OK)
		fail_msg("targets: %s", err.msg);
	return t;
}

/* The stream as "host|port|sni" lines, at most max of them. */
static void stream(struct scan_targets *t, char *out, size_t size, size_t *count)
{
	struct scan_target x;
	struct aclm_err err = { 0 };
	size_t len = 0;
	aclm_status st;

	*count = 0;
	out[0] = '\0';
	while ((st = scan_targets_next(t, &x, &err)) == ACLM_OK) {
		len += (size_t)snprintf(out + len, size - len, "%s%s|%u|%s%s", len > 0 ? " " : "",
					x.host, x.port, x.sni, x.is_ip ? "" : "|name");
		assert_true(len < size);
		(*count)++;
	}
	assert_int_equal(st, ACLM_ERR_NOTFOUND);
	/* And it stays at the end. */
	assert_int_equal(scan_targets_next(t, &x, &err), ACLM_ERR_NOTFOUND);
}

static void expect_stream(const char *const *args, size_t n, const char *ports,
			  const char *const *snis, size_t nsnis, const char *want)
{
	struct scan_targets *t = targets(args, n, ports, snis, nsnis);
	char got[4096];
	size_t count;

	stream(t, got, sizeof(got), &count);
	if (strcmp(got, want) != 0)
		fail_msg("stream:\n got  %s\n want %s", got, want);
	assert_int_equal(scan_targets_total(t), count);
	scan_targets_free(t);
}

/* scan_targets_new fails and its message contains each of the words. */
static void expect_bad(const char *word, const char *in1, const char *in2)
{
	const char *args[] = { "example.com", word };
	struct scan_ports p = ports_of("443");
	struct scan_targets *t = NULL;
	struct aclm_err err = { 0 };

	if (scan_targets_new(args, 2, &p, NULL, 0, &t, &err) == ACLM_OK)
		fail_msg("\"%s\" was accepted", word);
	assert_null(t);
	if (strstr(err.msg, in1) == NULL || (in2 != NULL && strstr(err.msg, in2) == NULL))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\" / \"%s\"", word, err.msg, in1,
			 in2 ? in2 : "");
}

static void test_ports_parse_lists_ranges_and_rejects_bad_parts(void **state)
{
	static const struct {
		const char *in;
		const char *bad; /* NULL: valid */
		uint64_t count;
	} cases[] = {
		{ "443", NULL, 1 },           { "1-3,10", NULL, 4 },      { "1-65535", NULL, 65535 },
		{ "8000-8100,9443", NULL, 102 }, { "5-5", NULL, 1 },       { " bad", "\" bad\"", 0 },
		{ "0", "\"0\"", 0 },          { "65536", "\"65536\"", 0 }, { "5-3", "\"5-3\"", 0 },
		{ "443,", "\"\"", 0 },        { "", "empty", 0 },         { "1--3", "\"1--3\"", 0 },
		{ "443,x8", "\"x8\"", 0 },    { "-3", "\"-3\"", 0 },      { "443 ", "\"443 \"", 0 },
	};
	struct scan_ports p;
	struct aclm_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aclm_status st;

		memset(&err, 0, sizeof(err));
		st = scan_ports_parse(cases[i].in, &p, &err);
		if (cases[i].bad == NULL) {
			if (st != ACLM_OK)
				fail_msg("\"%s\": %s", cases[i].in, err.msg);
			assert_int_equal(scan_ports_count(&p), cases[i].count);
		} else {
			if (st != ACLM_ERR_INVALID)
				fail_msg("\"%s\" accepted", cases[i].in);
			if (strstr(err.msg, cases[i].bad) == NULL)
				fail_msg("\"%s\": message \"%s\" lacks %s", cases[i].in, err.msg,
					 cases[i].bad);
		}
	}
	p = ports_of("1-3,10");
	assert_int_equal(p.n, 2);
	assert_int_equal(p.lo[0], 1);
	assert_int_equal(p.hi[0], 3);
	assert_int_equal(p.lo[1], 10);
	assert_int_equal(p.hi[1], 10);
}

static void test_every_target_form_in_order(void **state)
{
	const char *args[] = {
		"Example.COM.", "192.0.2.1", "2001:DB8::1", "host.test:8443", "192.0.2.9:25",
		"[2001:db8::2]:993", "[::1]", "localhost", "xn--bcher-kva.example",
	};

	(void)state;
	expect_stream(args, sizeof(args) / sizeof(args[0]), "443", NULL, 0,
		      "example.com|443|example.com|name 192.0.2.1|443| 2001:db8::1|443| "
		      "host.test|8443|host.test|name 192.0.2.9|25| 2001:db8::2|993| ::1|443| "
		      "localhost|443|localhost|name xn--bcher-kva.example|443|xn--bcher-kva.example|name");
}

static void test_idn_name_becomes_a_label(void **state)
{
	const char *args[] = { "B\xc3\xbc" "cher.Example" };

	(void)state;
	expect_stream(args, 1, "443", NULL, 0,
		      "xn--bcher-kva.example|443|xn--bcher-kva.example|name");
}

static void test_address_fields(void **state)
{
	const char *args[] = { "[2001:db8::2]:993" };
	struct scan_targets *t = targets(args, 1, "443", NULL, 0);
	struct scan_target x;
	struct aclm_err err = { 0 };
	unsigned char want[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

	(void)state;
	assert_int_equal(scan_targets_next(t, &x, &err), ACLM_OK);
	assert_true(x.is_ip);
	assert_int_equal(x.family, AF_INET6);
	assert_memory_equal(x.ip, want, 16);
	assert_int_equal(x.port, 993);
	assert_string_equal(x.sni, "");
	scan_targets_free(t);
}

/* for each address, for each port, for each SNI; names ignore --sni and
 * use their own name; own ports replace the list. */
static void test_order_addresses_ports_snis(void **state)
{
	const char *args[] = { "10.0.0.0/31", "a.test", "10.1.0.1:8443" };
	const char *snis[] = { "one.test", "Two.Test" };

	(void)state;
	expect_stream(args, 3, "1-2,5", snis, 2,
		      "10.0.0.0|1|one.test 10.0.0.0|1|two.test 10.0.0.0|2|one.test "
		      "10.0.0.0|2|two.test 10.0.0.0|5|one.test 10.0.0.0|5|two.test "
		      "10.0.0.1|1|one.test 10.0.0.1|1|two.test 10.0.0.1|2|one.test "
		      "10.0.0.1|2|two.test 10.0.0.1|5|one.test 10.0.0.1|5|two.test "
		      "a.test|1|a.test|name a.test|2|a.test|name a.test|5|a.test|name "
		      "10.1.0.1|8443|one.test 10.1.0.1|8443|two.test");
}

static void test_cidr_edges(void **state)
{
	const char *v4[] = { "192.0.2.7/32", "198.51.100.5/30", "0.0.0.0/0" };
	const char *v6[] = { "2001:db8::/126" };
	struct scan_targets *t;

	(void)state;
	/* Host bits are masked: .5/30 is .4-.7, network and broadcast included. */
	expect_stream(v4, 2, "443", NULL, 0,
		      "192.0.2.7|443| 198.51.100.4|443| 198.51.100.5|443| 198.51.100.6|443| "
		      "198.51.100.7|443|");
	expect_stream(v6, 1, "443", NULL, 0,
		      "2001:db8::|443| 2001:db8::1|443| 2001:db8::2|443| 2001:db8::3|443|");
	t = targets(v4 + 2, 1, "443", NULL, 0);
	assert_int_equal(scan_targets_total(t), UINT64_C(1) << 32);
	scan_targets_free(t);
}

static size_t max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (size_t)ru.ru_maxrss;
}

/* A /16 × 2 ports: 131072 endpoints streamed, first and last right, and
 * memory does not grow with them. */
static void test_slash16_streamed(void **state)
{
	const char *args[] = { "10.20.0.0/16" };
	struct scan_targets *t = targets(args, 1, "443,8443", NULL, 0);
	struct scan_target x, first = { 0 }, last = { 0 };
	struct aclm_err err = { 0 };
	uint64_t n = 0;
	size_t rss0 = max_rss_kb();

	(void)state;
	assert_int_equal(scan_targets_total(t), UINT64_C(65536) * 2);
	while (scan_targets_next(t, &x, &err) == ACLM_OK) {
		if (n == 0)
			first = x;
		last = x;
		n++;
	}
	assert_int_equal(n, UINT64_C(65536) * 2);
	assert_string_equal(first.host, "10.20.0.0");
	assert_int_equal(first.port, 443);
	assert_string_equal(last.host, "10.20.255.255");
	assert_int_equal(last.port, 8443);
	/* 131072 targets held would be > 60 MB; allow 4 MB of noise. */
	assert_true(max_rss_kb() - rss0 < 4096);
	scan_targets_free(t);
}

static void test_ipv6_120_and_saturating_totals(void **state)
{
	const char *a120[] = { "2001:db8::/120" };
	const char *a64[] = { "2001:db8::/64", "10.0.0.0/8" };
	const char *snis[] = { "x.test", "y.test" };
	struct scan_targets *t = targets(a120, 1, "443", NULL, 0);
	struct scan_target x;
	struct aclm_err err = { 0 };
	char first[SCAN_HOST_MAX] = "", last[SCAN_HOST_MAX] = "";
	uint64_t n = 0;

	(void)state;
	assert_int_equal(scan_targets_total(t), 256);
	while (scan_targets_next(t, &x, &err) == ACLM_OK) {
		if (n++ == 0)
			snprintf(first, sizeof(first), "%s", x.host);
		snprintf(last, sizeof(last), "%s", x.host);
		assert_int_equal(x.family, AF_INET6);
	}
	assert_int_equal(n, 256);
	assert_string_equal(first, "2001:db8::");
	assert_string_equal(last, "2001:db8::ff");
	scan_targets_free(t);

	/* 2^64 × 2 ports × 2 SNIs, plus a /8: saturated, not wrapped. */
	t = targets(a64, 2, "443,444", snis, 2);
	assert_int_equal(scan_targets_total(t), UINT64_MAX);
	assert_int_equal(scan_targets_next(t, &x, &err), ACLM_OK);
	assert_string_equal(x.host, "2001:db8::");
	assert_string_equal(x.sni, "x.test");
	scan_targets_free(t);
	/* 2^63 addresses × 4 ports alone would wrap to 0. */
	t = targets((const char *[]){ "2001:db8::/65" }, 1, "1-4", NULL, 0);
	assert_int_equal(scan_targets_total(t), UINT64_MAX);
	scan_targets_free(t);
	t = targets((const char *[]){ "2001:db8::/66" }, 1, "1-2", NULL, 0);
	assert_int_equal(scan_targets_total(t), UINT64_C(1) << 63);
	scan_targets_free(t);
	t = targets((const char *[]){ "::/0" }, 1, "443", NULL, 0);
	assert_int_equal(scan_targets_total(t), UINT64_MAX);
	scan_targets_free(t);
	/* The top of the address space ends the range (no wrap to ::). */
	expect_stream((const char *[]){ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127" }, 1, "1", NULL,
		      0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe|1| ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|1|");
}

static void test_bad_words_named(void **state)
{
	(void)state;
	expect_bad("exa_mple.com", "\"exa_mple.com\"", "not a host name");
	expect_bad("-a.test", "\"-a.test\"", "not a host name");
	expect_bad("a..test", "\"a..test\"", NULL);
	expect_bad("300.1.1.1", "\"300.1.1.1\"", "not a host name");
	expect_bad("1.2.3", "\"1.2.3\"", NULL);
	expect_bad("10.0.0.0/33", "\"10.0.0.0/33\"", "0-32");
	expect_bad("2001:db8::/129", "\"2001:db8::/129\"", "0-128");
	expect_bad("10.0.0.0/", "\"10.0.0.0/\"", NULL);
	expect_bad("10.0.0.0/x", "\"10.0.0.0/x\"", NULL);
	expect_bad("example/24", "\"example/24\"", "not an IP address");
	expect_bad("host.test:0", "\"host.test:0\"", "1-65535");
	expect_bad("host.test:65536", "\"host.test:65536\"", "1-65535");
	expect_bad("host.test:", "\"host.test:\"", NULL);
	expect_bad("[2001:db8::1", "\"[2001:db8::1\"", "']'");
	expect_bad("[2001:db8::1]:x", "\"[2001:db8::1]:x\"", "PORT");
	expect_bad("[192.0.2.1]:443", "\"[192.0.2.1]:443\"", "IPv6");
	expect_bad("2001:db8::1:443:x", "\"2001:db8::1:443:x\"", "[ADDRESS]:PORT");
	expect_bad("a b.test", "\"a b.test\"", "white space");
	expect_bad("", "\"\"", NULL);
	expect_bad("@/nonexistent/aclm-targets", "/nonexistent/aclm-targets", NULL);
	{
		char longname[300];

		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		expect_bad(longname, "not a host name", NULL);
	}
}

static void test_bad_sni_refused(void **state)
{
	const char *args[] = { "192.0.2.1" };
	const char *snis[] = { "bad_name" };
	struct scan_ports p = ports_of("443");
	struct scan_targets *t = NULL;
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(scan_targets_new(args, 1, &p, snis, 1, &t, &err), ACLM_ERR_INVALID);
	assert_non_null(strstr(err.msg, "--sni \"bad_name\""));
}

static void test_file_with_comments_streamed(void **state)
{
	char dir[64], arg[128], got[4096];
	const char *args[3];
	struct scan_targets *t;
	size_t count;

	(void)state;
	assert_non_null(ts_tmpdir(dir, sizeof(dir), "scan-targets"));
	ts_write_file(dir, "t.txt",
		      "# the zoo\n"
		      "\n"
		      "  a.test   # first\n"
		      "\t10.0.0.0/31\n"
		      "[::1]:8443\n"
		      "   \n"
		      "b.test:444"); /* no final newline */
	snprintf(arg, sizeof(arg), "@%s/t.txt", dir);
	args[0] = "z.test";
	args[1] = arg;
	args[2] = "192.0.2.1";
	t = targets(args, 3, "443", NULL, 0);
	assert_int_equal(scan_targets_total(t), 7);
	stream(t, got, sizeof(got), &count);
	assert_string_equal(got, "z.test|443|z.test|name a.test|443|a.test|name 10.0.0.0|443| "
				 "10.0.0.1|443| ::1|8443| b.test|444|b.test|name 192.0.2.1|443|");
	assert_int_equal(count, 7);
	scan_targets_free(t);
	assert_int_equal(ts_rmtree(dir), 0);
}

/* The file is checked whole before anything is returned: a bad line 5
 * fails scan_targets_new and names FILE:5. */
static void test_file_bad_line_named(void **state)
{
	char dir[64], arg[128], want[160], big[1100];
	const char *args[1];
	struct scan_ports p = ports_of("443");
	struct scan_targets *t = NULL;
	struct aclm_err err = { 0 };

	(void)state;
	assert_non_null(ts_tmpdir(dir, sizeof(dir), "scan-targets"));
	ts_write_file(dir, "bad.txt", "a.test\n# c\n\nb.test\nc..test # oops\nd.test\n");
	snprintf(arg, sizeof(arg), "@%s/bad.txt", dir);
	args[0] = arg;
	assert_int_equal(scan_targets_new(args, 1, &p, NULL, 0, &t, &err), ACLM_ERR_INVALID);
	assert_null(t);
	snprintf(want, sizeof(want), "%s/bad.txt:5: \"c..test\"", dir);
	if (strstr(err.msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);

	ts_write_file(dir, "nested.txt", "a.test\n@other\n");
	snprintf(arg, sizeof(arg), "@%s/nested.txt", dir);
	memset(&err, 0, sizeof(err));
	assert_int_not_equal(scan_targets_new(args, 1, &p, NULL, 0, &t, &err), ACLM_OK);
	assert_non_null(strstr(err.msg, "nested.txt:2:"));

	/* A line of 1024 bytes is read; 1025 is refused. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "x.", 2);
	big[1024] = '\0';
	ts_write_file(dir, "long.txt", big);
	snprintf(arg, sizeof(arg), "@%s/long.txt", dir);
	memset(&err, 0, sizeof(err));
	assert_int_not_equal(scan_targets_new(args, 1, &p, NULL, 0, &t, &err), ACLM_OK);
	assert_non_null(strstr(err.msg, "not a host name")); /* too long a name, but read */
	big[1024] = 'a';
	big[1025] = '\0';
	ts_write_file(dir, "long.txt", big);
	memset(&err, 0, sizeof(err));
	assert_int_equal(scan_targets_new(args, 1, &p, NULL, 0, &t, &err), ACLM_ERR_TOOBIG);
	assert_non_null(strstr(err.msg, "long.txt:1: line longer than 1024 bytes"));
	assert_int_equal(ts_rmtree(dir), 0);
}

/* A 200,000-line file: the total comes from the validating pass and the
 * iteration reads it again without loading it. */
static void test_big_file_streamed(void **state)
{
	char dir[64], path[128], arg[140];
	const char *args[1];
	struct scan_targets *t;
	struct scan_target x;
	struct aclm_err err = { 0 };
	FILE *f;
	uint64_t n = 0;
	size_t rss0;

	(void)state;
	assert_non_null(ts_tmpdir(dir, sizeof(dir), "scan-targets"));
	snprintf(path, sizeof(path), "%s/big.txt", dir);
	assert_non_null(f = fopen(path, "w"));
	for (int i = 0; i < 200000; i++)
		fprintf(f, "host-%d.example.test # comment\n", i);
	assert_int_equal(fclose(f), 0);
	snprintf(arg, sizeof(arg), "@%s", path);
	args[0] = arg;
	rss0 = max_rss_kb();
	t = targets(args, 1, "443", NULL, 0);
	assert_int_equal(scan_targets_total(t), 200000);
	while (scan_targets_next(t, &x, &err) == ACLM_OK)
		if (n++ == 199999)
			assert_string_equal(x.host, "host-199999.example.test");
	assert_int_equal(n, 200000);
	assert_true(max_rss_kb() - rss0 < 4096);
	scan_targets_free(t);
	assert_int_equal(ts_rmtree(dir), 0);
}

static void test_default_ports_when_none(void **state)
{
	const char *args[] = { "a.test" };
	struct scan_targets *t = NULL;
	struct scan_target x;
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(scan_targets_new(args, 1, NULL, NULL, 0, &t, &err), ACLM_OK);
	assert_int_equal(scan_targets_total(t), 1);
	assert_int_equal(scan_targets_next(t, &x, &err), ACLM_OK);
	assert_int_equal(x.port, 443);
	scan_targets_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_parse_lists_ranges_and_rejects_bad_parts),
		cmocka_unit_test(test_every_target_form_in_order),
		cmocka_unit_test(test_idn_name_becomes_a_label),
		cmocka_unit_test(test_address_fields),
		cmocka_unit_test(test_order_addresses_ports_snis),
		cmocka_unit_test(test_cidr_edges),
		cmocka_unit_test(test_slash16_streamed),
		cmocka_unit_test(test_ipv6_120_and_saturating_totals),
		cmocka_unit_test(test_bad_words_named),
		cmocka_unit_test(test_bad_sni_refused),
		cmocka_unit_test(test_file_with_comments_streamed),
		cmocka_unit_test(test_file_bad_line_named),
		cmocka_unit_test(test_big_file_streamed),
		cmocka_unit_test(test_default_ports_when_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
