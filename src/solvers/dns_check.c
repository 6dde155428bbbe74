/* The dns-01 propagation check: asks one resolver (c-ares) for the TXT
 * records of _acme-challenge.NAME until the expected value shows, or finds
 * the zone's authoritative servers and waits until each of them shows it
 * (RFC 8555 §8.4: the CA looks the record up; we look first). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ares.h>
#include <arpa/nameser.h> /* C_IN, T_NS */
#include <netdb.h>         /* struct hostent */

#include "core/log.h"
#include "dns/dns.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define CHECK_INTERVAL_MS 1000
#define CHECK_QUERY_TIMEOUT_MS 1000 /* one try per round: the next round is the retry */
#define CHECK_NS_MAX 16             /* NS hosts of one zone we ask, and addresses */
#define CHECK_ADDR_MAX 80           /* "[V6]:PORT" */

/* Records longer than DNS_TXT_LEN_MAX are not kept: they cannot be our 43
 * characters anyway. */
static bool check_match(const struct dns_txt *t, const char *value)
{
	size_t vlen = strlen(value);

	for (size_t i = 0; i < t->n; i++)
		if (t->len[i] == vlen && memcmp(t->rec[i], value, vlen) == 0)
			return true;
	return false;
}

static aclm_status check_channel(const char *resolver, ares_channel *ch, struct aclm_err *err)
{
	aclm_status st = dns_channel_new(resolver, CHECK_QUERY_TIMEOUT_MS, 1, ch, err);

	if (st != ACLM_OK)
		aclm_err_prefix(err, "dns check");
	return st;
}

aclm_status solver__dns_txt_wait(const char *resolver, const char *name, const char *value,
				 long timeout_s, struct aclm_err *err)
{
	struct dns_txt txt;
	struct aclm_err qerr = { 0 };
	char last[200] = "no answer";
	long long start = dns_now_ms(), deadline = start + timeout_s * 1000, round, wait;
	bool found = false;
	aclm_status st = ACLM_OK;

	for (;;) {
		round = dns_now_ms();
		wait = deadline - round < CHECK_QUERY_TIMEOUT_MS ? deadline - round :
			CHECK_QUERY_TIMEOUT_MS;
		st = dns_query_txt(resolver, name, wait > 0 ? wait : 1, &txt, NULL, &qerr);
		if (st == ACLM_ERR_CONFIG || st == ACLM_ERR_INTERNAL || st == ACLM_ERR_INVALID) {
			st = aclm_err_set(err, st, "dns check: %s", qerr.msg);
			goto out;
		}
		if (st == ACLM_OK) {
			found = check_match(&txt, value);
			snprintf(last, sizeof(last), "%zu TXT record%s, none with the value",
				 txt.total, txt.total == 1 ? "" : "s");
			dns_txt_free(&txt);
		} else {
			snprintf(last, sizeof(last), "%.199s", qerr.msg);
		}
		if (found || dns_now_ms() >= deadline)
			break;
		wait = round + CHECK_INTERVAL_MS - dns_now_ms();
		if (wait > deadline - dns_now_ms())
			wait = deadline - dns_now_ms();
		if (wait > 0)
			nanosleep(&(struct timespec){ .tv_sec = wait / 1000,
						      .tv_nsec = (wait % 1000) * 1000000 }, NULL);
	}
	st = ACLM_OK;
	if (!found)
		st = aclm_err_set(err, ACLM_ERR_BUSY, "TXT %.300s not visible at %.100s after %ld s "
				  "(last answer: %s)", name, resolver, timeout_s, last);
	else
		log_debug("TXT %s visible at %s after %lld ms", name, resolver, dns_now_ms() - start);
out:
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
		dns_channel_run(ch, &ns.done, deadline);
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
	for (size_t i = 0; i < ns.n && dns_now_ms() < deadline; i++) {
		struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC };

		addrs->done = false;
		ares_getaddrinfo(ch, ns.hosts[i], NULL, &hints, check_on_addr, addrs);
		dns_channel_run(ch, &addrs->done, deadline);
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
	long long deadline = dns_now_ms() + timeout_s * 1000, left;
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
		left = (deadline - dns_now_ms() + 999) / 1000;
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
