/* The dns-01 propagation check: asks one resolver (c-ares) for the TXT
 * records of _acme-challenge.NAME until the expected value shows, or finds
 * the zone's authoritative servers and waits until each of them shows it
 * (RFC 8555 §8.4: the CA looks the record up; we look first). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ares.h>
#include <arpa/nameser.h> /* C_IN, T_TXT, T_NS */
#include <netdb.h>         /* struct hostent */

#include "core/log.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define CHECK_INTERVAL_MS 1000
#define CHECK_QUERY_TIMEOUT_MS 1000 /* one try per round: the next round is the retry */
#define CHECK_TXT_MAX 4096          /* a record longer than this cannot be our 43 chars */
#define CHECK_NS_MAX 16             /* NS hosts of one zone we ask, and addresses */
#define CHECK_ADDR_MAX 80           /* "[V6]:PORT" */

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
static void check_run(ares_channel ch, const bool *done, long long deadline)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd p[ARES_GETSOCK_MAXNUM];
	struct timeval tv, maxtv, *t;
	long long left;
	unsigned bits, rd, wr;
	int n, rc, ms;

	while (!*done && (left = deadline - check_now_ms()) > 0) {
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
	if (!*done)
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
	if (resolver == NULL)
		return ACLM_OK; /* the system's, from resolv.conf */
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
		check_run(ch, &a.done, deadline);
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

/* ---- the zone's authoritative servers ---- */

struct check_ns {
	bool done;
	int status;
	size_t n;
	char *hosts[CHECK_NS_MAX];
};

static void check_on_ns(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct check_ns *r = arg;
	struct hostent *h = NULL;

	(void)timeouts;
	r->done = true;
	if (status == ARES_SUCCESS)
		status = ares_parse_ns_reply(abuf, alen, &h);
	for (size_t i = 0; status == ARES_SUCCESS && h->h_aliases != NULL &&
	     h->h_aliases[i] != NULL && r->n < CHECK_NS_MAX; i++)
		if ((r->hosts[r->n] = strdup(h->h_aliases[i])) != NULL)
			r->n++;
	r->status = status == ARES_SUCCESS && r->n == 0 ? ARES_ENODATA : status;
	if (h != NULL)
		ares_free_hostent(h);
}

/* The addresses of the NS hosts as "IP:PORT": port 53, or the hint's port
 * when the address is the hint's host (a test server on another port). */
struct check_addrs {
	bool done;
	int status;
	char hint_host[64];
	const char *hint_port;
	size_t n;
	char addr[CHECK_NS_MAX][CHECK_ADDR_MAX];
};

static void check_on_addr(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct check_addrs *r = arg;
	char ip[INET6_ADDRSTRLEN], one[CHECK_ADDR_MAX];
	const void *src;
	size_t i;

	(void)timeouts;
	r->done = true;
	r->status = status;
	for (struct ares_addrinfo_node *n = ai != NULL ? ai->nodes : NULL; n != NULL; n = n->ai_next) {
		if (n->ai_family == AF_INET)
			src = &((const struct sockaddr_in *)(const void *)n->ai_addr)->sin_addr;
		else if (n->ai_family == AF_INET6)
			src = &((const struct sockaddr_in6 *)(const void *)n->ai_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(n->ai_family, src, ip, sizeof(ip)) == NULL)
			continue;
		snprintf(one, sizeof(one), n->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", ip,
			 r->hint_port != NULL && strcmp(ip, r->hint_host) == 0 ? r->hint_port : "53");
		for (i = 0; i < r->n && strcmp(r->addr[i], one) != 0; i++)
			;
		if (i == r->n && r->n < CHECK_NS_MAX)
			memcpy(r->addr[r->n++], one, sizeof(one));
	}
	if (ai != NULL)
		ares_freeaddrinfo(ai);
}

/* "HOST:PORT" or "[V6]:PORT" into the hint's host and port. */
static void check_hint(const char *hint, struct check_addrs *r)
{
	const char *colon = hint != NULL ? strrchr(hint, ':') : NULL;
	size_t hlen;

	if (colon == NULL)
		return;
	hlen = (size_t)(colon - hint);
	if (hlen >= 2 && hint[0] == '[' && hint[hlen - 1] == ']') {
		hint++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(r->hint_host))
		return;
	memcpy(r->hint_host, hint, hlen);
	r->hint_host[hlen] = '\0';
	r->hint_port = colon + 1;
}

/* Asks for the NS set of name, then of each parent, until one has NS
 * records (the zone's apex); then the addresses of those hosts. An answer
 * other than "no such name/data" (NOTIMP, REFUSED, a timeout) ends the walk:
 * asking about the parents would not go better. */
static aclm_status check_auth_servers(ares_channel ch, const char *who, const char *name,
				      long long deadline, struct check_addrs *addrs,
				      struct aclm_err *err)
{
	struct check_ns ns = { 0 };
	const char *cur = name;
	aclm_status st = ACLM_OK;
	int status = ARES_ENODATA;

	while (cur != NULL && *cur != '\0') {
		ns = (struct check_ns){ 0 };
		ares_query(ch, cur, C_IN, T_NS, check_on_ns, &ns);
		check_run(ch, &ns.done, deadline);
		status = ns.status;
		if (status == ARES_SUCCESS || (status != ARES_ENODATA && status != ARES_ENOTFOUND))
			break;
		cur = strchr(cur, '.');
		cur = cur != NULL ? cur + 1 : NULL;
	}
	if (status == ARES_ENOTIMP) {
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "dns check: %.100s answers NS queries with "
				  "NOTIMP: cannot find the authoritative servers of %.300s (use "
				  "dns_propagation = resolver)", who, name);
		goto out;
	}
	if (status != ARES_SUCCESS) {
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "dns check: no NS records for %.300s or a "
				  "parent at %.100s (last answer: %s%s%.200s)", name, who,
				  ares_strerror(status), cur != NULL ? " for " : "", cur != NULL ? cur : "");
		goto out;
	}
	for (size_t i = 0; i < ns.n && check_now_ms() < deadline; i++) {
		struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC };

		addrs->done = false;
		ares_getaddrinfo(ch, ns.hosts[i], NULL, &hints, check_on_addr, addrs);
		check_run(ch, &addrs->done, deadline);
	}
	if (addrs->n == 0)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "dns check: the NS hosts of %.200s (%.100s%s) "
				  "have no address at %.100s", cur, ns.hosts[0], ns.n > 1 ? ", ..." : "",
				  who);
out:
	for (size_t i = 0; i < ns.n; i++)
		free(ns.hosts[i]);
	return st;
}

aclm_status solver__dns_txt_wait_authoritative(const char *resolver, const char *name,
					       const char *value, const char *hint, long timeout_s,
					       struct aclm_err *err)
{
	ares_channel ch = NULL;
	struct check_addrs *addrs = calloc(1, sizeof(*addrs));
	const char *who = resolver != NULL ? resolver : "the system resolver";
	long long deadline = check_now_ms() + timeout_s * 1000, left;
	aclm_status st;

	if (addrs == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "dns check: out of memory");
		goto out;
	}
	check_hint(hint, addrs);
	if ((st = check_channel(resolver, &ch, err)) != ACLM_OK ||
	    (st = check_auth_servers(ch, who, name, deadline, addrs, err)) != ACLM_OK)
		goto out;
	/* Every server must answer it: the CA may ask any of them (§8.4). */
	for (size_t i = 0; i < addrs->n && st == ACLM_OK; i++) {
		left = (deadline - check_now_ms() + 999) / 1000;
		st = solver__dns_txt_wait(addrs->addr[i], name, value, left > 0 ? left : 1, err);
		if (st != ACLM_OK)
			aclm_err_prefix(err, "authoritative server %zu of %zu", i + 1, addrs->n);
	}
	if (st == ACLM_OK)
		log_debug("TXT %s visible at all %zu authoritative servers", name, addrs->n);
out:
	if (ch != NULL)
		ares_destroy(ch);
	free(addrs);
	return st;
}
