/* dns/: the answer-section reader (dns/message.c) on hand-built messages,
 * every truncation included, and the lookups' argument and server errors
 * (the lookups against real servers are exercised by tests/unit/ca/test_va*.c
 * and tests/unit/solvers/test_dns_*.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dns/dns.h"
#include "testsupport.h"

struct msg {
	unsigned char b[1024];
	size_t len;
};

static void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put16(struct msg *m, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(m, b, 2);
}

/* An answer RR: owner (wire form), type, class, TTL 60, RDATA. */
static void put_rr(struct msg *m, const char *owner, size_t olen, unsigned type, unsigned cls,
		   const char *rdata, size_t rdlen)
{
	put(m, owner, olen);
	put16(m, type);
	put16(m, cls);
	put16(m, 0);
	put16(m, 60);
	put16(m, (unsigned)rdlen);
	put(m, rdata, rdlen);
}

#define NAME "\x05" "alias" "\x07" "example" "\x04" "test"
#define CAA1 "\x00\x05" "issueca.example"
#define CAA2 "\x80\x03" "tbsx"

/* alias.example.test CAA? -> CNAME (compressed owner) to target, target's
 * two CAA records, one CAA of class CH. */
static void build(struct msg *m)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, 4);
	put16(m, 0);
	put16(m, 0);
	put(m, NAME, sizeof(NAME)); /* with its final zero octet */
	put16(m, DNS_TYPE_CAA);
	put16(m, 1);
	put_rr(m, "\xc0\x0c", 2, 5, 1, "\x06target\xc0\x12", 9);
	put_rr(m, "\x06target\xc0\x12", 9, DNS_TYPE_CAA, 1, CAA1, sizeof(CAA1) - 1);
	put_rr(m, "\x06target\xc0\x12", 9, DNS_TYPE_CAA, 1, CAA2, sizeof(CAA2) - 1);
	put_rr(m, "\xc0\x0c", 2, DNS_TYPE_CAA, 3, CAA1, sizeof(CAA1) - 1);
}

struct seen {
	int n;
	size_t len[8];
	unsigned char first[8];
	int stop_at;               /* fails on this call (1-based), 0: never */
};

static aclm_status on_rdata(void *arg, const unsigned char *rdata, size_t len,
			    struct aclm_err *err)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->len[s->n] = len;
		s->first[s->n] = len > 0 ? rdata[0] : 0;
	}
	s->n++;
	if (s->n == s->stop_at)
		return aclm_err_set(err, ACLM_ERR_VERIFY, "stop");
	return ACLM_OK;
}

static void test_answers_of_the_type_and_class_in_are_passed_in_order(void **state)
{
	struct msg m;
	struct seen s = { 0 };
	struct aclm_err err = { 0 };

	(void)state;
	build(&m);
	assert_int_equal(dns_answer_each(m.b, m.len, DNS_TYPE_CAA, on_rdata, &s, &err), ACLM_OK);
	assert_int_equal(s.n, 2); /* not the CNAME, not the class CH record */
	assert_int_equal(s.len[0], sizeof(CAA1) - 1);
	assert_int_equal(s.first[0], 0);
	assert_int_equal(s.len[1], sizeof(CAA2) - 1);
	assert_int_equal(s.first[1], 0x80);
	s = (struct seen){ 0 };
	assert_int_equal(dns_answer_each(m.b, m.len, 5, on_rdata, &s, &err), ACLM_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], 9);
}

static void test_every_truncation_is_a_parse_error(void **state)
{
	struct msg m;
	struct aclm_err err = { 0 };
	unsigned char *copy;

	(void)state;
	build(&m);
	/* each cut copied to its own allocation, so ASan sees any read past it */
	for (size_t len = 0; len < m.len; len++) {
		struct seen s = { 0 };

		copy = malloc(len > 0 ? len : 1);
		assert_non_null(copy);
		memcpy(copy, m.b, len);
		assert_int_equal(dns_answer_each(copy, len, DNS_TYPE_CAA, on_rdata, &s, &err),
				 ACLM_ERR_PARSE);
		free(copy);
	}
}

static void test_malformed_messages_are_parse_errors(void **state)
{
	struct msg m;
	struct seen s = { 0 };
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(dns_answer_each(NULL, 0, DNS_TYPE_CAA, on_rdata, &s, &err),
			 ACLM_ERR_PARSE);
	/* more answers announced than read */
	build(&m);
	m.b[6] = 0x01;
	m.b[7] = 0x01; /* 257 */
	assert_int_equal(dns_answer_each(m.b, m.len, DNS_TYPE_CAA, on_rdata, &s, &err),
			 ACLM_ERR_PARSE);
	/* an extended label type (0x40) in the question */
	build(&m);
	m.b[12] = 0x45;
	assert_int_equal(dns_answer_each(m.b, m.len, DNS_TYPE_CAA, on_rdata, &s, &err),
			 ACLM_ERR_PARSE);
	/* RDLENGTH of the last record one past the end */
	build(&m);
	m.b[m.len - (sizeof(CAA1) - 1) - 1] += 1;
	assert_int_equal(dns_answer_each(m.b, m.len, DNS_TYPE_CAA, on_rdata, &s, &err),
			 ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "past the end"));
}

static void test_a_callback_failure_stops_the_walk(void **state)
{
	struct msg m;
	struct seen s = { .stop_at = 1 };
	struct aclm_err err = { 0 };

	(void)state;
	build(&m);
	assert_int_equal(dns_answer_each(m.b, m.len, DNS_TYPE_CAA, on_rdata, &s, &err),
			 ACLM_ERR_VERIFY);
	assert_int_equal(s.n, 1);
}

static void test_bad_server_and_bad_name_are_refused_before_asking(void **state)
{
	char long_name[300];
	struct dns_txt txt;
	struct dns_addr a[4];
	size_t n;
	unsigned char *msg = NULL;
	size_t len;
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(dns_query_txt("127.0.0.1:notaport", "example.test", 500, &txt, NULL,
				       &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "expected HOST:PORT"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(dns_resolve_addrs("127.0.0.1:53", long_name, 500, a, 4, &n, NULL, &err),
			 ACLM_ERR_INVALID);
	assert_int_equal(dns_query_raw("127.0.0.1:53", "", DNS_TYPE_CAA, 500, &msg, &len, NULL,
				       &err), ACLM_ERR_INVALID);
	assert_null(msg);
}

static void test_a_closed_port_fails_fast_as_io(void **state)
{
	char server[32];
	struct dns_txt txt;
	struct aclm_err err = { 0 };
	long long t0;

	(void)state;
	/* a port that was just free: nothing listens there now */
	snprintf(server, sizeof(server), "127.0.0.1:%d", ts_free_port(SOCK_DGRAM));
	t0 = dns_now_ms();
	assert_int_equal(dns_query_txt(server, "example.test", 2000, &txt, NULL, &err),
			 ACLM_ERR_IO);
	assert_true(dns_now_ms() - t0 < 2500);
	assert_non_null(strstr(err.msg, server));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_of_the_type_and_class_in_are_passed_in_order),
		cmocka_unit_test(test_every_truncation_is_a_parse_error),
		cmocka_unit_test(test_malformed_messages_are_parse_errors),
		cmocka_unit_test(test_a_callback_failure_stops_the_walk),
		cmocka_unit_test(test_bad_server_and_bad_name_are_refused_before_asking),
		cmocka_unit_test(test_a_closed_port_fails_fast_as_io),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
