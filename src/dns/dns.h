/* dns/: DNS lookups through c-ares, each against one chosen server
 * ("HOST:PORT") or the system's resolvers and bounded by a timeout, and a
 * capped reader of answer sections for types c-ares cannot parse (CAA).
 * Used by the dns-01 propagation check (solvers/) and the CA's validation
 * authority (ca/). Thread-safe: one c-ares channel per call, or per thread
 * (dns_thread_cache_begin). */
#ifndef ACLM_DNS_H
#define ACLM_DNS_H

#include <stdbool.h>
#include <stddef.h>

#include <ares.h>

#include "core/status.h"

#define DNS_NAME_MAX 253       /* RFC 1035 §2.3.4, without the final dot */
#define DNS_TYPE_A 1
#define DNS_TYPE_TXT 16
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_CAA 257       /* RFC 8659 §4.1 */

/* ---- channels (shared by the lookups below and solvers/dns_check.c) ---- */

/* Milliseconds on the monotonic clock: deadlines are in this unit. */
long long dns_now_ms(void);

/* A channel that asks server ("HOST:PORT", "[V6]:PORT" or "HOST"; NULL: the
 * system's resolvers from resolv.conf), each try waiting try_ms, tries
 * times. A server that does not parse -> ACLM_ERR_CONFIG "resolver
 * \"SERVER\": WHY (expected HOST:PORT)". Released with ares_destroy. */
aclm_status dns_channel_new(const char *server, long try_ms, int tries, ares_channel *out,
			    struct aclm_err *err);

/* Runs ch until *done (set by the caller's callback) or until deadline
 * (dns_now_ms scale); what is still pending then is cancelled, so its
 * callback runs with ARES_ECANCELLED before this returns. */
void dns_channel_run(ares_channel ch, const bool *done, long long deadline);

/* Lookups against a chosen server on this thread keep one channel between
 * calls from begin to end (c-ares set-up costs more than a query on
 * loopback); for long-lived threads that look up a lot (the CA's VA). */
void dns_thread_cache_begin(void);
void dns_thread_cache_end(void);

/* ---- lookups ----
 * Each asks server (as for dns_channel_new) about name (no final dot
 * needed) within timeout_ms and fails with a message naming the name, the
 * type and the server:
 *   ACLM_ERR_NOTFOUND  the name does not exist (NXDOMAIN; *nxdomain set when
 *                      not NULL) or has no record of the type (NODATA);
 *   ACLM_ERR_IO        SERVFAIL, REFUSED, NOTIMP, no answer in time, ...;
 *   ACLM_ERR_CONFIG    server does not parse;
 *   ACLM_ERR_INVALID   name is not a DNS name. */

struct dns_addr {
	int family;                /* AF_INET or AF_INET6 */
	unsigned char ip[16];      /* 4 or 16 bytes used */
};
#define DNS_ADDRS_MAX 16

/* The addresses of name, at most max: its A records, or when it has none
 * its AAAA records (asked only then, within what is left of timeout_ms). */
aclm_status dns_resolve_addrs(const char *server, const char *name, long timeout_ms,
			      struct dns_addr *out, size_t max, size_t *n, bool *nxdomain,
			      struct aclm_err *err);

/* The TXT records of name, each the concatenation of its strings (RFC 1035
 * §3.3.14). Records longer than DNS_TXT_LEN_MAX are counted in total but
 * not kept; at most DNS_TXT_RECORDS_MAX are kept. */
#define DNS_TXT_RECORDS_MAX 64
#define DNS_TXT_LEN_MAX 4096
struct dns_txt {
	size_t n;                  /* records kept in rec[] */
	size_t total;              /* records in the answer */
	char *rec[DNS_TXT_RECORDS_MAX]; /* NUL-terminated (a record may hold NULs: use len) */
	size_t len[DNS_TXT_RECORDS_MAX];
};
aclm_status dns_query_txt(const char *server, const char *name, long timeout_ms,
			  struct dns_txt *out, bool *nxdomain, struct aclm_err *err);
void dns_txt_free(struct dns_txt *t);

/* The whole response to a query of type for name, for the caller to read
 * with dns_answer_each (malloc'd; free it). ACLM_OK means NOERROR with at
 * least one answer RR (which may be only a CNAME chain). */
aclm_status dns_query_raw(const char *server, const char *name, int type, long timeout_ms,
			  unsigned char **msg, size_t *len, bool *nxdomain, struct aclm_err *err);

/* n raw queries (q[i].name, q[i].type) sent at once on one channel and run
 * until all are answered or timeout_ms has passed: one round trip instead
 * of n (the CA's CAA climb asks every level so). Each q[i] receives what
 * dns_query_raw would have returned: st (ACLM_OK: msg and len, freed by
 * dns_raw_free), nxdomain and err. The call itself fails, with no q[i]
 * asked, on a server that does not parse, a name that is not a DNS name or
 * more than DNS_RAW_MANY_MAX queries. */
#define DNS_RAW_MANY_MAX 128   /* the labels of a 253-character name, and more */
struct dns_raw {
	const char *name;          /* in */
	int type;                  /* in */
	aclm_status st;            /* out */
	bool nxdomain;
	unsigned char *msg;
	size_t len;
	struct aclm_err err;
};
aclm_status dns_query_raw_many(const char *server, struct dns_raw *q, size_t n, long timeout_ms,
			       struct aclm_err *err);
void dns_raw_free(struct dns_raw *q, size_t n);

/* dns_resolve_addrs, with the raw queries also[0..nalso) sent along with
 * the A query and run with it: one round trip for the VA's A and CAA
 * lookups. Each also[i] receives its outcome as from dns_query_raw_many,
 * whatever the addresses' outcome, unless the call fails before asking (a
 * server that does not parse, a name that is not a DNS name, more than
 * DNS_RAW_MANY_MAX). */
aclm_status dns_resolve_addrs_also(const char *server, const char *name, long timeout_ms,
				   struct dns_addr *out, size_t max, size_t *n, bool *nxdomain,
				   struct dns_raw *also, size_t nalso, struct aclm_err *err);

/* ---- reading a response (untrusted bytes) ---- */

#define DNS_ANSWERS_MAX 256    /* answer RRs read from one message */

/* RFC 1035 §4.1: calls fn with the RDATA of each answer-section RR of class
 * IN and the given type, in order; owner names are skipped, not compared
 * (the resolver answered our question; a CNAME chain ends at other names).
 * A message that is truncated, malformed or holds more than
 * DNS_ANSWERS_MAX answers -> ACLM_ERR_PARSE; fn's failure stops the walk
 * and is returned. */
typedef aclm_status (*dns_rdata_fn)(void *arg, const unsigned char *rdata, size_t len,
				    struct aclm_err *err);
aclm_status dns_answer_each(const unsigned char *msg, size_t len, int type, dns_rdata_fn fn,
			    void *arg, struct aclm_err *err);

#endif
