/* dns/resolve.c against a scripted UDP responder: dns_query_raw_many and
 * dns_resolve_addrs_also send every query before the first answer and hand
 * each its own outcome, and a thread's kept channel (dns_thread_cache_begin)
 * survives the shrinking timeouts of a deadline (it keeps its UDP socket:
 * one source port). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns/dns.h"
#include "testsupport.h"

#define Q_MAX 16
#define US "\x00\x05" "issueca.example"

/* The responder: holds its answers until `hold` queries have arrived (or
 * 1.5 s have passed), then answers each by the first label of its name:
 * "nx..." NXDOMAIN, "sf..." SERVFAIL, "empty..." NOERROR without
 * answers, anything else one record: A 127.0.0.9 to an A query, else CAA
 * (issue "ca.example"). */
static struct {
	int fd;
	char server[32];
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
	int hold;
	int seen;                  /* queries received */
	int held_all;              /* batches answered only once all had come */
	int port[64];              /* source port of each query received */
} R = { .fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

struct pending {
	struct sockaddr_in from;
	unsigned char b[512];
	size_t len;
};

static unsigned char *put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

/* The reply to query q (one question, as c-ares sends it). */
static size_t reply(const struct pending *q, unsigned char *out, size_t max)
{
	size_t qend = 12;
	unsigned rcode = 0, an = 1, qtype;
	const char *label = (const char *)q->b + 13;
	static const unsigned char a9[4] = { 127, 0, 0, 9 };
	unsigned char *p;

	while (qend < q->len && q->b[qend] != 0)
		qend += (size_t)q->b[qend] + 1;
	qend += 5; /* the zero octet, QTYPE, QCLASS */
	if (qend > q->len || qend + 12 + sizeof(US) > max)
		return 0;
	qtype = (unsigned)q->b[qend - 4] << 8 | q->b[qend - 3];
	if (strncmp(label, "nx", 2) == 0)
		rcode = 3, an = 0;
	else if (strncmp(label, "sf", 2) == 0)
		rcode = 2, an = 0;
	else if (strncmp(label, "empty", 5) == 0)
		an = 0;
	memcpy(out, q->b, qend);
	out[2] = 0x81; /* QR, RD */
	out[3] = (unsigned char)(0x80 | rcode); /* RA */
	put16(out + 6, an);
	put16(out + 8, 0);
	put16(out + 10, 0);
	p = out + qend;
	if (an == 1) {
		p = put16(p, 0xc00c);  /* the question's name */
		p = put16(p, qtype == DNS_TYPE_A ? DNS_TYPE_A : DNS_TYPE_CAA);
		p = put16(p, 1);
		p = put16(p, 0);
		p = put16(p, 0);       /* TTL 0 */
		if (qtype == DNS_TYPE_A) {
			p = put16(p, sizeof(a9));
			memcpy(p, a9, sizeof(a9));
			p += sizeof(a9);
		} else {
			p = put16(p, sizeof(US) - 1);
			memcpy(p, US, sizeof(US) - 1);
			p += sizeof(US) - 1;
		}
	}
	return (size_t)(p - out);
}

static void *responder(void *arg)
{
	struct pending q[Q_MAX];
	unsigned char out[600];
	int n = 0;
	long long first = 0;

	(void)arg;
	for (;;) {
		struct pollfd p = { .fd = R.fd, .events = POLLIN };
		socklen_t alen = sizeof(q[0].from);
		ssize_t got;
		bool stop, flush;
		int hold;

		poll(&p, 1, 50);
		pthread_mutex_lock(&R.lock);
		stop = R.stop;
		hold = R.hold;
		pthread_mutex_unlock(&R.lock);
		if (stop)
			break;
		if ((p.revents & POLLIN) != 0 && n < Q_MAX) {
			got = recvfrom(R.fd, q[n].b, sizeof(q[n].b), 0, (struct sockaddr *)&q[n].from,
				       &alen);
			if (got > 12) {
				q[n].len = (size_t)got;
				pthread_mutex_lock(&R.lock);
				if (R.seen < 64)
					R.port[R.seen] = ntohs(q[n].from.sin_port);
				R.seen++;
				pthread_mutex_unlock(&R.lock);
				if (n++ == 0)
					first = dns_now_ms();
			}
		}
		flush = n > 0 && (n >= hold || dns_now_ms() - first > 1500);
		if (!flush)
			continue;
		pthread_mutex_lock(&R.lock);
		R.held_all += n >= hold;
		pthread_mutex_unlock(&R.lock);
		for (int i = 0; i < n; i++) {
			size_t len = reply(&q[i], out, sizeof(out));

			if (len > 0)
				sendto(R.fd, out, len, 0, (struct sockaddr *)&q[i].from,
				       sizeof(q[i].from));
		}
		n = 0;
	}
	return NULL;
}

static int setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	(void)state;
	R.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (R.fd < 0 || bind(R.fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(R.fd, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	snprintf(R.server, sizeof(R.server), "127.0.0.1:%d", ntohs(a.sin_port));
	R.hold = 1;
	return pthread_create(&R.thread, NULL, responder, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	pthread_mutex_lock(&R.lock);
	R.stop = true;
	pthread_mutex_unlock(&R.lock);
	pthread_join(R.thread, NULL);
	close(R.fd);
	return 0;
}

/* The next queries are answered only once hold of them have arrived. */
static void reset(int hold)
{
	pthread_mutex_lock(&R.lock);
	R.hold = hold;
	R.seen = 0;
	R.held_all = 0;
	pthread_mutex_unlock(&R.lock);
}

static int seen(int *held_all)
{
	int n;

	pthread_mutex_lock(&R.lock);
	n = R.seen;
	if (held_all != NULL)
		*held_all = R.held_all;
	pthread_mutex_unlock(&R.lock);
	return n;
}

static int port_of(int i)
{
	int p;

	pthread_mutex_lock(&R.lock);
	p = R.port[i];
	pthread_mutex_unlock(&R.lock);
	return p;
}

static void test_many_queries_are_all_in_flight_before_the_first_answer(void **state)
{
	struct dns_raw q[5] = {
		{ .name = "a.b.example.test", .type = DNS_TYPE_CAA },
		{ .name = "nx.example.test", .type = DNS_TYPE_CAA },
		{ .name = "sf.example.test", .type = DNS_TYPE_CAA },
		{ .name = "empty.example.test", .type = DNS_TYPE_CAA },
		{ .name = "test", .type = DNS_TYPE_CAA },
	};
	struct aclm_err err = { 0 };
	long long t0 = dns_now_ms();
	int held_all = 0;

	(void)state;
	/* The responder answers none until all five are in: a client that
	 * waited for one answer before the next question would stall 1.5 s. */
	reset(5);
	assert_int_equal(dns_query_raw_many(R.server, q, 5, 3000, &err), ACLM_OK);
	assert_true(dns_now_ms() - t0 < 1000);
	assert_int_equal(seen(&held_all), 5);
	assert_int_equal(held_all, 1);
	/* each query has its own outcome, in the order asked */
	assert_int_equal(q[0].st, ACLM_OK);
	assert_true(q[0].len > 12);
	assert_int_equal(q[1].st, ACLM_ERR_NOTFOUND);
	assert_true(q[1].nxdomain);
	assert_non_null(strstr(q[1].err.msg, "nx.example.test CAA"));
	assert_int_equal(q[2].st, ACLM_ERR_IO);
	assert_non_null(strstr(q[2].err.msg, "sf.example.test CAA"));
	assert_non_null(strstr(q[2].err.msg, "SERVFAIL"));
	assert_int_equal(q[3].st, ACLM_ERR_NOTFOUND);
	assert_false(q[3].nxdomain);
	assert_int_equal(q[4].st, ACLM_OK);
	assert_null(q[1].msg);
	dns_raw_free(q, 5);
	assert_null(q[0].msg);
	reset(1);
}

static void test_many_refuses_a_bad_name_or_too_many_before_asking(void **state)
{
	struct dns_raw q[2] = { { .name = "ok.test", .type = DNS_TYPE_CAA },
				{ .name = "", .type = DNS_TYPE_CAA } };
	struct dns_raw *big = calloc(DNS_RAW_MANY_MAX + 1, sizeof(*big));
	struct aclm_err err = { 0 };

	(void)state;
	reset(1);
	assert_int_equal(dns_query_raw_many(R.server, q, 2, 500, &err), ACLM_ERR_INVALID);
	assert_non_null(big);
	for (int i = 0; i <= DNS_RAW_MANY_MAX; i++)
		big[i] = (struct dns_raw){ .name = "ok.test", .type = DNS_TYPE_CAA };
	assert_int_equal(dns_query_raw_many(R.server, big, DNS_RAW_MANY_MAX + 1, 500, &err),
			 ACLM_ERR_TOOBIG);
	assert_int_equal(seen(NULL), 0);
	free(big);
	/* none at all: nothing asked, nothing waited for */
	assert_int_equal(dns_query_raw_many(R.server, NULL, 0, 500, &err), ACLM_OK);
}

/* The VA's http-01 lookup: the name's A and its CAA levels in one round
 * trip; the addresses and each level's outcome come back apart. */
static void test_addrs_and_also_queries_share_one_round_trip(void **state)
{
	struct dns_raw q[3] = { { .name = "www.nx.test", .type = DNS_TYPE_CAA },
				{ .name = "nx.test", .type = DNS_TYPE_CAA },
				{ .name = "test", .type = DNS_TYPE_CAA } };
	struct dns_addr a[4];
	size_t n = 0;
	struct aclm_err err = { 0 };
	long long t0 = dns_now_ms();
	int held_all = 0;

	(void)state;
	reset(4);
	assert_int_equal(dns_resolve_addrs_also(R.server, "www.nx.test", 3000, a, 4, &n, NULL, q,
						3, &err), ACLM_OK);
	assert_true(dns_now_ms() - t0 < 1000);
	assert_int_equal(seen(&held_all), 4);
	assert_int_equal(held_all, 1);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].family, AF_INET);
	assert_memory_equal(a[0].ip, "\x7f\x00\x00\x09", 4);
	assert_int_equal(q[0].st, ACLM_OK);
	assert_int_equal(q[1].st, ACLM_ERR_NOTFOUND);
	assert_true(q[1].nxdomain);
	assert_int_equal(q[2].st, ACLM_OK);
	dns_raw_free(q, 3);
	/* the name's own failure is the lookup's; the levels still get theirs */
	reset(2);
	q[0] = (struct dns_raw){ .name = "test", .type = DNS_TYPE_CAA };
	assert_int_equal(dns_resolve_addrs_also(R.server, "nx.test", 3000, a, 4, &n, NULL, q, 1,
						&err), ACLM_ERR_NOTFOUND);
	assert_int_equal(q[0].st, ACLM_OK);
	dns_raw_free(q, 1);
	reset(1);
}

static void lookup(long timeout_ms)
{
	unsigned char *msg = NULL;
	size_t len = 0;
	struct aclm_err err = { 0 };

	assert_int_equal(dns_query_raw(R.server, "x.example.test", DNS_TYPE_CAA, timeout_ms, &msg,
				       &len, NULL, &err), ACLM_OK);
	free(msg);
}

/* A VA thread's lookups pass what is left of a 10 s deadline: the kept
 * channel (and its socket) must serve them all, not be replaced whenever
 * the timeout moved by a millisecond. */
static void test_kept_channel_serves_a_shrinking_timeout(void **state)
{
	(void)state;
	reset(1);
	dns_thread_cache_begin();
	lookup(10000);
	lookup(9990);
	lookup(9500);
	lookup(10000);
	assert_int_equal(seen(NULL), 4);
	for (int i = 1; i < 4; i++)
		assert_int_equal(port_of(i), port_of(0));
	/* a timeout far from the kept one gets a channel of its own */
	lookup(600);
	assert_int_equal(seen(NULL), 5);
	assert_int_not_equal(port_of(4), port_of(0));
	dns_thread_cache_end();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_queries_are_all_in_flight_before_the_first_answer),
		cmocka_unit_test(test_many_refuses_a_bad_name_or_too_many_before_asking),
		cmocka_unit_test(test_addrs_and_also_queries_share_one_round_trip),
		cmocka_unit_test(test_kept_channel_serves_a_shrinking_timeout),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
