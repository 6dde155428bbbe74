/* Reading the answer section of a DNS response (RFC 1035 §4.1) for record
 * types c-ares has no parser for; every length is checked against the
 * message before it is used. */
#include "dns/dns.h"

#include <stdint.h>

#define DNS_HEADER_LEN 12
#define DNS_QUESTIONS_MAX 4    /* we ask one; a few tolerated */
#define DNS_LABELS_MAX 128     /* RFC 1035 §3.1: 255 octets of name */
#define DNS_CLASS_IN 1

static unsigned dns_u16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Moves *off past a name: labels up to a zero octet, or up to a
 * compression pointer (§4.1.4), which ends the name in place; the pointer
 * is not followed, since only the RDATA is wanted. */
static bool dns_skip_name(const unsigned char *m, size_t len, size_t *off)
{
	size_t o = *off;

	for (int labels = 0; labels < DNS_LABELS_MAX; labels++) {
		if (o >= len)
			return false;
		if (m[o] == 0) {
			*off = o + 1;
			return true;
		}
		if ((m[o] & 0xc0) == 0xc0) {
			if (len - o < 2)
				return false;
			*off = o + 2;
			return true;
		}
		if ((m[o] & 0xc0) != 0) /* RFC 6891 §5 extended label types: none in use */
			return false;
		if (len - o - 1 < m[o])
			return false;
		o += 1 + (size_t)m[o];
	}
	return false;
}

aclm_status dns_answer_each(const unsigned char *msg, size_t len, int type, dns_rdata_fn fn,
			    void *arg, struct aclm_err *err)
{
	size_t off = DNS_HEADER_LEN, rdlen;
	unsigned qd, an, rtype, rclass;
	aclm_status st = ACLM_OK;

	if (msg == NULL || len < DNS_HEADER_LEN)
		return aclm_err_set(err, ACLM_ERR_PARSE, "DNS response: shorter than its header");
	qd = dns_u16(msg + 4);
	an = dns_u16(msg + 6);
	if (qd > DNS_QUESTIONS_MAX || an > DNS_ANSWERS_MAX)
		return aclm_err_set(err, ACLM_ERR_PARSE, "DNS response: %u questions, %u answers "
				    "(at most %d and %d read)", qd, an, DNS_QUESTIONS_MAX,
				    DNS_ANSWERS_MAX);
	for (unsigned i = 0; i < qd; i++) {
		if (!dns_skip_name(msg, len, &off) || len - off < 4)
			return aclm_err_set(err, ACLM_ERR_PARSE, "DNS response: question %u "
					    "truncated", i + 1);
		off += 4; /* QTYPE, QCLASS */
	}
	for (unsigned i = 0; i < an && st == ACLM_OK; i++) {
		/* TYPE, CLASS, TTL, RDLENGTH: 10 octets (§4.1.3) */
		if (!dns_skip_name(msg, len, &off) || len - off < 10)
			return aclm_err_set(err, ACLM_ERR_PARSE, "DNS response: answer %u truncated",
					    i + 1);
		rtype = dns_u16(msg + off);
		rclass = dns_u16(msg + off + 2);
		rdlen = dns_u16(msg + off + 8);
		off += 10;
		if (len - off < rdlen)
			return aclm_err_set(err, ACLM_ERR_PARSE, "DNS response: answer %u: RDATA of "
					    "%zu octets past the end", i + 1, rdlen);
		if (rtype == (unsigned)type && rclass == DNS_CLASS_IN)
			st = fn(arg, msg + off, rdlen, err);
		off += rdlen;
	}
	return st;
}
