/* libFuzzer target: the CAA path of the validation authority on arbitrary
 * bytes, read both as one record's RDATA (ca_caa_parse_rdata, then the
 * issue-value parser and the decision) and as a whole DNS response
 * (dns_answer_each feeding every CAA answer to the RDATA parser, then the
 * decision on the set). What is accepted must keep the parsers' promises. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca_va_int.h"
#include "dns/dns.h"

#define FUZZ_RRS_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_set {
	struct ca_caa_rr rr[FUZZ_RRS_MAX];
	size_t n;
};

static json_t *fuzz_ids(void)
{
	static json_t *ids; /* built once; libFuzzer runs one input at a time */

	if (ids == NULL)
		ids = json_pack("[ss]", "ca.example", "other.example");
	return ids;
}

/* A parsed record: a NUL-terminated alphanumeric tag of 1..15 characters
 * and a value that is exactly the rest of the RDATA. */
static void fuzz_check_rr(const struct ca_caa_rr *rr, const unsigned char *rdata, size_t len)
{
	size_t taglen = strnlen(rr->tag, sizeof(rr->tag));

	if (taglen == 0 || taglen >= sizeof(rr->tag) || len < 2 || taglen != rdata[1] ||
	    rr->flags != rdata[0] || strnlen(rr->value, sizeof(rr->value)) != len - 2 - taglen ||
	    memcmp(rr->value, rdata + 2 + taglen, len - 2 - taglen) != 0)
		abort();
}

static aclm_status fuzz_on_rdata(void *arg, const unsigned char *rdata, size_t len,
				 struct aclm_err *err)
{
	struct fuzz_set *s = arg;

	if (s->n < FUZZ_RRS_MAX && ca_caa_parse_rdata(rdata, len, &s->rr[s->n], err) == ACLM_OK) {
		fuzz_check_rr(&s->rr[s->n], rdata, len);
		s->n++;
	}
	return ACLM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: reads past size show up in ASan. */
	unsigned char *copy = malloc(size > 0 ? size : 1);
	struct fuzz_set *s = calloc(1, sizeof(*s));
	struct ca__caa_issue v;
	struct ca_caa_rr rr;
	struct aclm_err err = { 0 };
	bool wildcard = size > 0 && (data[size - 1] & 1) != 0;

	if (copy == NULL || s == NULL)
		goto out;
	memcpy(copy, data, size);
	if (ca_caa_parse_rdata(copy, size, &rr, &err) == ACLM_OK) {
		fuzz_check_rr(&rr, copy, size);
		if (ca__caa_issue_parse(rr.value, &v, &err) == ACLM_OK &&
		    (strnlen(v.domain, sizeof(v.domain)) == sizeof(v.domain) ||
		     strnlen(v.accounturi, sizeof(v.accounturi)) == sizeof(v.accounturi) ||
		     strnlen(v.methods, sizeof(v.methods)) == sizeof(v.methods)))
			abort();
		ca__caa_decide(&rr, 1, fuzz_ids(), wildcard, "http-01", "https://ca.example/a/1",
			       &err);
	}
	if (dns_answer_each(copy, size, DNS_TYPE_CAA, fuzz_on_rdata, s, &err) == ACLM_OK)
		ca__caa_decide(s->rr, s->n, fuzz_ids(), wildcard, "dns-01", NULL, &err);
	if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
		abort();
out:
	free(s);
	free(copy);
	return 0;
}
