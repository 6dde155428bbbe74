/* The dns-01 propagation check: asks one resolver (c-ares) for the TXT
 * records of _acme-challenge.NAME until the expected value shows
 * (RFC 8555 §8.4: the CA looks the record up; we look first). */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ares.h>
#include <arpa/nameser.h> /* C_IN, T_TXT */

#include "core/log.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define CHECK_INTERVAL_MS 1000
#define CHECK_QUERY_TIMEOUT_MS 1000 /* one try per round: the next round is the retry */
#define CHECK_TXT_MAX 4096          /* a record longer than this cannot be our 43 chars */

static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static int check_lib_rc = ARES_ENOTINITIALIZED;

static void check_lib_init(void)
{
	check_lib_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

/* One query's outcome, filled by the callback. */
struct check_answer {
	const char *value;
	bool done, found;
	char last[96];             /* what the resolver said, for the message */
};

static long long check_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool check_equal(const char *rec, size_t len, const char *value)
{
	return len <= CHECK_TXT_MAX && len == strlen(value) && memcmp(rec, value, len) == 0;
}

/* A TXT record may be split into several strings (RFC 1035 §3.3.14); its
 * value is their concatenation. */
static bool check_match(const struct ares_txt_ext *t, const char *value, size_t *records)
{
	char rec[CHECK_TXT_MAX];
	size_t len = 0;
	bool found = false, open = false;

	for (; t != NULL; t = t->next) {
		if (t->record_start || !open) {
			found = found || (open && check_equal(rec, len, value));
			len = 0;
			open = true;
			(*records)++;
		}
		if (len + t->length <= CHECK_TXT_MAX)
			memcpy(rec + len, t->txt, t->length);
		len += t->length;
	}
	return found || (open && check_equal(rec, len, value));
}

static void check_on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct check_answer *a = arg;
	struct ares_txt_ext *txt = NULL;
	size_t records = 0;

	a->done = true;
	if (status == ARES_ECANCELLED || status == ARES_EDESTRUCTION)
		goto out; /* our own deadline: the previous answer says more */
	if (status == ARES_SUCCESS)
		status = ares_parse_txt_reply_ext(abuf, alen, &txt);
	if (status != ARES_SUCCESS) {
		snprintf(a->last, sizeof(a->last), "%s", ares_strerror(status));
		goto out;
	}
	a->found = check_match(txt, a->value, &records);
	snprintf(a->last, sizeof(a->last), "%zu TXT record%s, none with the value", records,
		 records == 1 ? "" : "s");
out:
	if (txt != NULL)
		ares_free_data(txt);
}

/* Runs the channel until the query answers or deadline (monotonic ms). */
static void check_run(ares_channel ch, struct check_answer *a, long long deadline)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd p[ARES_GETSOCK_MAXNUM];
	struct timeval tv, maxtv, *t;
	long long left;
	unsigned bits, rd, wr;
	int n, rc, ms;

	while (!a->done && (left = deadline - check_now_ms()) > 0) {
		/* Not ARES_GETSOCK_WRITABLE: its 1 << 31 is undefined for int. */
		bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		n = 0;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			rd = bits & (1u << i);
			wr = bits & (1u << (i + ARES_GETSOCK_MAXNUM));
			if (rd != 0 || wr != 0)
				p[n++] = (struct pollfd){ .fd = socks[i], .events =
					(short)((rd != 0 ? POLLIN : 0) | (wr != 0 ? POLLOUT : 0)) };
		}
		maxtv = (struct timeval){ .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };
		t = ares_timeout(ch, &maxtv, &tv);
		ms = (int)(t->tv_sec * 1000 + t->tv_usec / 1000);
		rc = poll(p, (nfds_t)n, ms);
		if (rc <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
			continue;
		}
		for (int i = 0; i < n; i++)
			ares_process_fd(ch, p[i].revents & (POLLIN | POLLERR | POLLHUP) ? p[i].fd :
					ARES_SOCKET_BAD, p[i].revents & POLLOUT ? p[i].fd : ARES_SOCKET_BAD);
	}
	if (!a->done)
		ares_cancel(ch); /* calls back with ARES_ECANCELLED */
}

static aclm_status check_channel(const char *resolver, ares_channel *ch, struct aclm_err *err)
{
	struct ares_options o = { .timeout = CHECK_QUERY_TIMEOUT_MS, .tries = 1 };
	int rc;

	pthread_once(&check_once, check_lib_init);
	if (check_lib_rc != ARES_SUCCESS)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "dns check: c-ares: %s",
				    ares_strerror(check_lib_rc));
	rc = ares_init_options(ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS)
		return aclm_err_set(err, ACLM_ERR_IO, "dns check: c-ares: %s", ares_strerror(rc));
	rc = ares_set_servers_ports_csv(*ch, resolver);
	if (rc != ARES_SUCCESS) {
		ares_destroy(*ch);
		*ch = NULL;
		return aclm_err_set(err, ACLM_ERR_CONFIG, "dns check: resolver \"%.100s\": %s "
				    "(expected HOST:PORT)", resolver, ares_strerror(rc));
	}
	return ACLM_OK;
}

aclm_status solver__dns_txt_wait(const char *resolver, const char *name, const char *value,
				 long timeout_s, struct aclm_err *err)
{
	ares_channel ch = NULL;
	struct check_answer a = { .value = value, .last = "no answer" };
	long long start = check_now_ms(), deadline = start + timeout_s * 1000, round, wait;
	aclm_status st = check_channel(resolver, &ch, err);

	if (st != ACLM_OK)
		goto out;
	for (;;) {
		round = check_now_ms();
		a.done = false;
		ares_query(ch, name, C_IN, T_TXT, check_on_answer, &a);
		check_run(ch, &a, deadline);
		if (a.found || check_now_ms() >= deadline)
			break;
		wait = round + CHECK_INTERVAL_MS - check_now_ms();
		if (wait > deadline - check_now_ms())
			wait = deadline - check_now_ms();
		if (wait > 0)
			nanosleep(&(struct timespec){ .tv_sec = wait / 1000,
						      .tv_nsec = (wait % 1000) * 1000000 }, NULL);
	}
	if (!a.found)
		st = aclm_err_set(err, ACLM_ERR_BUSY, "TXT %.300s not visible at %.100s after %ld s "
				  "(last answer: %s)", name, resolver, timeout_s, a.last);
	else
		log_debug("TXT %s visible at %s after %lld ms", name, resolver, check_now_ms() - start);
out:
	if (ch != NULL)
		ares_destroy(ch);
	return st;
}
