/* DNS lookups on c-ares: channel setup against a chosen server, the
 * deadline-bounded event loop, and the A/AAAA, TXT and raw queries. */
#include "dns/dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <arpa/nameser.h> /* C_IN */

#define DNS_TRY_MIN_MS 100
#define DNS_TRIES 2        /* one retry within the caller's timeout (UDP loss) */

static pthread_once_t dns_once = PTHREAD_ONCE_INIT;
static int dns_lib_rc = ARES_ENOTINITIALIZED;

static void dns_lib_init(void)
{
	dns_lib_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

long long dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* flags: ARES_FLAG_* added to the defaults. */
static aclm_status channel_open(const char *server, long try_ms, int tries, int flags,
				ares_channel *out, struct aclm_err *err)
{
	/* A chosen server's SERVFAIL, REFUSED or NOTIMP is its answer, reported
	 * as such; among the system's servers c-ares tries the next one. */
	struct ares_options o = { .timeout = (int)try_ms, .tries = tries,
				  .flags = flags | (server != NULL ? ARES_FLAG_NOCHECKRESP : 0) };
	int rc;

	*out = NULL;
	pthread_once(&dns_once, dns_lib_init);
	if (dns_lib_rc != ARES_SUCCESS)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "c-ares: %s", ares_strerror(dns_lib_rc));
	rc = ares_init_options(out, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
	if (rc != ARES_SUCCESS) {
		*out = NULL;
		return aclm_err_set(err, ACLM_ERR_IO, "c-ares: %s", ares_strerror(rc));
	}
	if (server == NULL)
		return ACLM_OK; /* the system's, from resolv.conf */
	rc = ares_set_servers_ports_csv(*out, server);
	if (rc != ARES_SUCCESS) {
		ares_destroy(*out);
		*out = NULL;
		return aclm_err_set(err, ACLM_ERR_CONFIG, "resolver \"%.100s\": %s (expected "
				    "HOST:PORT)", server, ares_strerror(rc));
	}
	return ACLM_OK;
}

aclm_status dns_channel_new(const char *server, long try_ms, int tries, ares_channel *out,
			    struct aclm_err *err)
{
	return channel_open(server, try_ms, tries, 0, out, err);
}

void dns_channel_run(ares_channel ch, const bool *done, long long deadline)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd p[ARES_GETSOCK_MAXNUM];
	struct timeval tv, maxtv, *t;
	long long left;
	unsigned bits, rd, wr;
	int n, rc, ms;

	while (!*done && (left = deadline - dns_now_ms()) > 0) {
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

/* ---- one or more queries on a channel of their own ---- */

struct dns_query {
	int status;                /* ARES_*; the rcode folded in by c-ares */
	unsigned char *msg;        /* a copy of the response: c-ares frees its own */
	size_t len;
	int *pending;
	bool *done;                /* set once no query of the lookup is pending */
};

static void dns_on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_query *q = arg;

	(void)timeouts;
	q->status = status;
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0 &&
	    (q->msg = malloc((size_t)alen)) != NULL) {
		memcpy(q->msg, abuf, (size_t)alen);
		q->len = (size_t)alen;
	} else if (status == ARES_SUCCESS) {
		q->status = ARES_ENOMEM;
	}
	if (--*q->pending == 0)
		*q->done = true;
}

static const char *dns_who(const char *server)
{
	return server != NULL ? server : "the system resolver";
}

/* The c-ares outcome of a query as a status and message. */
static aclm_status dns_fail(int status, const char *server, const char *name, const char *type,
			    long timeout_ms, bool *nxdomain, struct aclm_err *err)
{
	const char *who = dns_who(server);

	switch (status) {
	case ARES_ENOTFOUND:
		if (nxdomain != NULL)
			*nxdomain = true;
		return aclm_err_set(err, ACLM_ERR_NOTFOUND, "DNS %.253s %s at %.100s: no such name "
				    "(NXDOMAIN)", name, type, who);
	case ARES_ENODATA:
		return aclm_err_set(err, ACLM_ERR_NOTFOUND, "DNS %.253s at %.100s: no %s records",
				    name, who, type);
	case ARES_ECANCELLED:
	case ARES_ETIMEOUT:
		return aclm_err_set(err, ACLM_ERR_IO, "DNS %.253s %s at %.100s: no answer within "
				    "%ld ms", name, type, who, timeout_ms);
	case ARES_EBADNAME:
		return aclm_err_set(err, ACLM_ERR_INVALID, "DNS %.253s: not a DNS name", name);
	case ARES_ENOMEM:
		return aclm_err_set(err, ACLM_ERR_NOMEM, "DNS %.253s %s: out of memory", name, type);
	case ARES_ESERVFAIL:
		return aclm_err_set(err, ACLM_ERR_IO, "DNS %.253s %s at %.100s: server failure "
				    "(SERVFAIL)", name, type, who);
	case ARES_EREFUSED:
		return aclm_err_set(err, ACLM_ERR_IO, "DNS %.253s %s at %.100s: query refused "
				    "(REFUSED)", name, type, who);
	case ARES_ENOTIMP:
		return aclm_err_set(err, ACLM_ERR_IO, "DNS %.253s %s at %.100s: not implemented "
				    "(NOTIMP)", name, type, who);
	default: /* FORMERR, connection refused, ... */
		return aclm_err_set(err, ACLM_ERR_IO, "DNS %.253s %s at %.100s: %s", name, type, who,
				    ares_strerror(status));
	}
}

static bool dns_name_ok(const char *name)
{
	size_t len = name != NULL ? strlen(name) : 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	return len > 0 && len <= DNS_NAME_MAX;
}

/* ---- a channel kept per thread (dns_thread_cache_begin) ---- */

static __thread struct {
	bool on;
	ares_channel ch;
	char server[128];
	long try_ms;
} dns_tc;

void dns_thread_cache_begin(void)
{
	dns_tc.on = true;
}

void dns_thread_cache_end(void)
{
	if (dns_tc.ch != NULL)
		ares_destroy(dns_tc.ch);
	memset(&dns_tc, 0, sizeof(dns_tc));
}

/* Whether a kept channel waiting kept_ms per try serves a lookup that
 * wants try_ms: within a quarter either way. Callers pass what is left of a
 * deadline, so the wanted time shrinks a little from one lookup to the
 * next; an exact match made nearly every lookup open a new channel (and
 * read resolv.conf again). The caller's deadline still bounds the lookup. */
static bool dns_try_close(long kept_ms, long try_ms)
{
	return kept_ms * 4 >= try_ms * 3 && kept_ms * 4 <= try_ms * 5;
}

/* The thread's kept channel when it fits (same server, a close try time),
 * else a new one, kept when the thread asked for it; *kept says which. */
static aclm_status dns_channel_get(const char *server, long try_ms, ares_channel *ch, bool *kept,
				   struct aclm_err *err)
{
	aclm_status st;

	*kept = dns_tc.on && server != NULL && strlen(server) < sizeof(dns_tc.server);
	if (*kept && dns_tc.ch != NULL && dns_try_close(dns_tc.try_ms, try_ms) &&
	    strcmp(dns_tc.server, server) == 0) {
		*ch = dns_tc.ch;
		return ACLM_OK;
	}
	/* A kept channel keeps its UDP socket between lookups (STAYOPEN):
	 * without it c-ares opens, connects and closes one per lookup. */
	st = channel_open(server, try_ms, DNS_TRIES, *kept ? ARES_FLAG_STAYOPEN : 0, ch, err);
	if (st != ACLM_OK || !*kept)
		return st;
	if (dns_tc.ch != NULL)
		ares_destroy(dns_tc.ch);
	dns_tc.ch = *ch;
	dns_tc.try_ms = try_ms;
	snprintf(dns_tc.server, sizeof(dns_tc.server), "%s", server);
	return ACLM_OK;
}

/* Sends the n queries names[i] of types[i] at once on a channel (the
 * thread's kept one, or a fresh one) and runs it to the end or the
 * deadline; q[i] receives each outcome. */
static aclm_status dns_ask_many(const char *server, const char *const *names, const int *types,
				struct dns_query *q, size_t n, long timeout_ms, struct aclm_err *err)
{
	ares_channel ch = NULL;
	long try_ms = timeout_ms / (DNS_TRIES + 1); /* c-ares doubles the wait on the retry */
	int pending = (int)n;
	bool done = n == 0, kept = false;
	aclm_status st;

	for (size_t i = 0; i < n; i++)
		if (!dns_name_ok(names[i]))
			return aclm_err_set(err, ACLM_ERR_INVALID, "DNS \"%.253s\": not a DNS name",
					    names[i] != NULL ? names[i] : "");
	st = dns_channel_get(server, try_ms < DNS_TRY_MIN_MS ? DNS_TRY_MIN_MS : try_ms, &ch, &kept,
			     err);
	if (st != ACLM_OK)
		return st;
	for (size_t i = 0; i < n; i++) {
		q[i] = (struct dns_query){ .status = ARES_ECANCELLED, .pending = &pending,
					   .done = &done };
		ares_query(ch, names[i], C_IN, types[i], dns_on_answer, &q[i]);
	}
	dns_channel_run(ch, &done, dns_now_ms() + timeout_ms);
	/* Nothing is pending any more (answered, or cancelled by the run). */
	if (!kept)
		ares_destroy(ch);
	return ACLM_OK;
}

/* One query of type for name. */
static aclm_status dns_ask(const char *server, const char *name, int type, struct dns_query *q,
			   long timeout_ms, struct aclm_err *err)
{
	return dns_ask_many(server, &name, &type, q, 1, timeout_ms, err);
}

/* ---- raw answers (struct dns_raw) ---- */

static void dns_type_name(int type, char *buf, size_t len)
{
	if (type == DNS_TYPE_CAA)
		snprintf(buf, len, "CAA");
	else
		snprintf(buf, len, "TYPE%d", type);
}

/* Asks q[0..n) at once, and first (when name is not NULL) one query of
 * type for name whose outcome goes to *first; each q[i] receives its
 * outcome as dns_query_raw would return it. */
static aclm_status dns_raw_ask(const char *server, const char *name, int type,
			       struct dns_query *first, struct dns_raw *q, size_t n,
			       long timeout_ms, struct aclm_err *err)
{
	const char *names[DNS_RAW_MANY_MAX + 1] = { NULL };
	int types[DNS_RAW_MANY_MAX + 1] = { 0 };
	struct dns_query *dq = NULL;
	size_t k = name != NULL ? 1 : 0;
	char tname[16];
	aclm_status st = ACLM_OK;

	if (n > DNS_RAW_MANY_MAX)
		return aclm_err_set(err, ACLM_ERR_TOOBIG, "DNS: %zu queries at once (at most %d)",
				    n, DNS_RAW_MANY_MAX);
	names[0] = name;
	types[0] = type;
	for (size_t i = 0; i < n; i++) {
		names[k + i] = q[i].name;
		types[k + i] = q[i].type;
		q[i].st = ACLM_ERR_IO;
		q[i].nxdomain = false;
		q[i].msg = NULL;
		q[i].len = 0;
		q[i].err = (struct aclm_err){ 0 };
	}
	if (k + n == 0)
		return ACLM_OK;
	if ((dq = calloc(k + n, sizeof(*dq))) == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "DNS: out of memory");
	st = dns_ask_many(server, names, types, dq, k + n, timeout_ms, err);
	if (st == ACLM_OK && k == 1) {
		*first = (struct dns_query){ .status = dq[0].status, .msg = dq[0].msg,
					     .len = dq[0].len };
		dq[0].msg = NULL;
	}
	for (size_t i = 0; i < n && st == ACLM_OK; i++) {
		struct dns_query *d = &dq[k + i];

		if (d->status != ARES_SUCCESS) {
			dns_type_name(q[i].type, tname, sizeof(tname));
			q[i].st = dns_fail(d->status, server, q[i].name, tname, timeout_ms,
					   &q[i].nxdomain, &q[i].err);
			continue;
		}
		q[i].st = ACLM_OK;
		q[i].msg = d->msg;
		q[i].len = d->len;
		d->msg = NULL;
	}
	for (size_t i = 0; i < k + n; i++)
		free(dq[i].msg);
	free(dq);
	return st;
}

/* ---- A and AAAA ---- */

static void dns_take_a(const struct dns_query *q, struct dns_addr *out, size_t max, size_t *n)
{
	struct ares_addrttl a[DNS_ADDRS_MAX];
	int na = DNS_ADDRS_MAX;

	if (ares_parse_a_reply(q->msg, (int)q->len, NULL, a, &na) != ARES_SUCCESS)
		return;
	for (int i = 0; i < na && *n < max; i++) {
		out[*n] = (struct dns_addr){ .family = AF_INET };
		memcpy(out[*n].ip, &a[i].ipaddr, 4);
		(*n)++;
	}
}

static void dns_take_aaaa(const struct dns_query *q, struct dns_addr *out, size_t max, size_t *n)
{
	struct ares_addr6ttl a[DNS_ADDRS_MAX];
	int na = DNS_ADDRS_MAX;

	if (ares_parse_aaaa_reply(q->msg, (int)q->len, NULL, a, &na) != ARES_SUCCESS)
		return;
	for (int i = 0; i < na && *n < max; i++) {
		out[*n] = (struct dns_addr){ .family = AF_INET6 };
		memcpy(out[*n].ip, &a[i].ip6addr, 16);
		(*n)++;
	}
}

aclm_status dns_resolve_addrs(const char *server, const char *name, long timeout_ms,
			      struct dns_addr *out, size_t max, size_t *n, bool *nxdomain,
			      struct aclm_err *err)
{
	return dns_resolve_addrs_also(server, name, timeout_ms, out, max, n, nxdomain, NULL, 0,
				      err);
}

aclm_status dns_resolve_addrs_also(const char *server, const char *name, long timeout_ms,
				   struct dns_addr *out, size_t max, size_t *n, bool *nxdomain,
				   struct dns_raw *also, size_t nalso, struct aclm_err *err)
{
	struct dns_query qa = { 0 }, qaaaa = { 0 };
	long long deadline = dns_now_ms() + timeout_ms;
	aclm_status st;
	int worst;

	*n = 0;
	st = dns_raw_ask(server, name, DNS_TYPE_A, &qa, also, nalso, timeout_ms, err);
	if (st != ACLM_OK)
		goto out;
	if (qa.status == ARES_SUCCESS)
		dns_take_a(&qa, out, max, n);
	/* AAAA only when there is no A: a server that drops AAAA queries then
	 * costs nothing to names that have an IPv4 address. */
	if (*n > 0 || qa.status == ARES_ENOTFOUND || deadline - dns_now_ms() <= 0)
		goto found;
	st = dns_ask(server, name, DNS_TYPE_AAAA, &qaaaa, (long)(deadline - dns_now_ms()), err);
	if (st != ACLM_OK)
		goto out;
	if (qaaaa.status == ARES_SUCCESS)
		dns_take_aaaa(&qaaaa, out, max, n);
found:
	if (*n > 0)
		goto out;
	/* Nothing found: a failure says more than "no data" (the other type). */
	worst = qa.status;
	if (worst == ARES_ENODATA || worst == ARES_SUCCESS)
		worst = qaaaa.status;
	if (worst == ARES_SUCCESS)
		worst = ARES_ENODATA; /* answers, but only CNAMEs or other types */
	st = dns_fail(worst, server, name, "A/AAAA", timeout_ms, nxdomain, err);
out:
	free(qa.msg);
	free(qaaaa.msg);
	return st;
}

/* ---- TXT ---- */

void dns_txt_free(struct dns_txt *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->rec[i]);
	memset(t, 0, sizeof(*t));
}

/* Keeps one record, buf[0..len), when it fits the caps. */
static bool dns_txt_keep(struct dns_txt *t, const char *buf, size_t len)
{
	t->total++;
	if (len > DNS_TXT_LEN_MAX || t->n >= DNS_TXT_RECORDS_MAX)
		return true;
	if ((t->rec[t->n] = malloc(len + 1)) == NULL)
		return false;
	memcpy(t->rec[t->n], buf, len);
	t->rec[t->n][len] = '\0';
	t->len[t->n++] = len;
	return true;
}

/* c-ares lists a record's strings one by one, record_start marking the
 * first string of each record. */
static bool dns_txt_collect(const struct ares_txt_ext *x, struct dns_txt *t)
{
	char *buf = malloc(DNS_TXT_LEN_MAX);
	size_t len = 0;
	bool open = false, ok = buf != NULL;

	for (; ok && x != NULL; x = x->next) {
		if (x->record_start || !open) {
			if (open)
				ok = dns_txt_keep(t, buf, len);
			len = 0;
			open = true;
		}
		if (len <= DNS_TXT_LEN_MAX && x->length <= DNS_TXT_LEN_MAX - len) {
			memcpy(buf + len, x->txt, x->length);
			len += x->length;
		} else {
			len = DNS_TXT_LEN_MAX + 1; /* counted, not kept */
		}
	}
	if (ok && open)
		ok = dns_txt_keep(t, buf, len);
	free(buf);
	return ok;
}

aclm_status dns_query_txt(const char *server, const char *name, long timeout_ms,
			  struct dns_txt *out, bool *nxdomain, struct aclm_err *err)
{
	struct dns_query q = { 0 };
	struct ares_txt_ext *x = NULL;
	aclm_status st = dns_ask(server, name, DNS_TYPE_TXT, &q, timeout_ms, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (st != ACLM_OK)
		goto out;
	rc = q.status;
	if (rc == ARES_SUCCESS)
		rc = ares_parse_txt_reply_ext(q.msg, (int)q.len, &x);
	if (rc != ARES_SUCCESS) {
		st = dns_fail(rc, server, name, "TXT", timeout_ms, nxdomain, err);
		goto out;
	}
	if (!dns_txt_collect(x, out)) {
		dns_txt_free(out);
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "DNS %.253s TXT: out of memory", name);
	}
out:
	if (x != NULL)
		ares_free_data(x);
	free(q.msg);
	return st;
}

/* ---- raw ---- */

aclm_status dns_query_raw_many(const char *server, struct dns_raw *q, size_t n, long timeout_ms,
			       struct aclm_err *err)
{
	return dns_raw_ask(server, NULL, 0, NULL, q, n, timeout_ms, err);
}

void dns_raw_free(struct dns_raw *q, size_t n)
{
	for (size_t i = 0; q != NULL && i < n; i++) {
		free(q[i].msg);
		q[i].msg = NULL;
		q[i].len = 0;
	}
}

aclm_status dns_query_raw(const char *server, const char *name, int type, long timeout_ms,
			  unsigned char **msg, size_t *len, bool *nxdomain, struct aclm_err *err)
{
	struct dns_raw q = { .name = name, .type = type };
	aclm_status st = dns_query_raw_many(server, &q, 1, timeout_ms, err);

	*msg = NULL;
	*len = 0;
	if (st == ACLM_OK && q.st != ACLM_OK) {
		if (nxdomain != NULL && q.nxdomain)
			*nxdomain = true;
		if (err != NULL)
			*err = q.err;
		st = q.st;
	} else if (st == ACLM_OK) {
		*msg = q.msg;
		*len = q.len;
	}
	return st;
}
