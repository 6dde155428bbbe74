/* Internals shared by the validation authority's files (ca_va.c,
 * ca_va_tls.c, ca_caa.c) and their tests and fuzz target. */
#ifndef ACLM_CA_VA_INT_H
#define ACLM_CA_VA_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ca/ca_int.h"
#include "core/status.h"
#include "dns/dns.h"

#define CA__VA_TIMEOUT_DEFAULT_MS 10000

/* A thread that validates again and again (wfe_va.c's) keeps its libcurl
 * handle and its c-ares channel from begin to end; elsewhere a validation
 * makes and frees its own. Every validation still opens new connections
 * and asks DNS afresh (ca_va.c). */
void ca__va_thread_begin(void);
void ca__va_thread_end(void);

/* The addresses to connect to for host, all within deadline (dns_now_ms
 * scale): an IP literal itself, else the A then AAAA records asked of
 * c->dns_server. No address -> "dns"; an address the VA must not reach
 * (loopback, unspecified, multicast, link-local) while the ports are the
 * real 80/443 -> "rejectedIdentifier". */
aclm_status ca__va_addrs(const struct ca_va_config *c, const char *host, long long deadline,
			 struct dns_addr *out, size_t max, size_t *n, const char **problem,
			 struct aclm_err *err);

/* RFC 8737 tls-alpn-01 for r (ca_va_tls.c), within deadline. */
aclm_status ca__va_tlsalpn01(const struct ca_va_config *c, const struct ca_va_request *r,
			     long long deadline, const char **problem, struct aclm_err *err);

/* ---- CAA (ca_caa.c) ---- */

/* An issue/issuewild property value (RFC 8659 §4.2, RFC 8657 §3, §4). */
struct ca__caa_issue {
	char domain[256];          /* issuer-domain-name; "" forbids issuance */
	bool has_accounturi;
	char accounturi[256];
	bool has_methods;
	char methods[256];         /* validationmethods: comma-separated labels */
};
/* Parses value (untrusted, NUL-terminated); a value outside the grammar
 * (a bad domain, a bad parameter, one of ours given twice) ->
 * ACLM_ERR_PARSE: such a record authorizes no one. */
aclm_status ca__caa_issue_parse(const char *value, struct ca__caa_issue *out,
				struct aclm_err *err);

/* Decides on the relevant CAA RRset rrs[0..n) (RFC 8659 §4.2-4.3, RFC 8657):
 * ACLM_OK when issuance is allowed; ACLM_ERR_VERIFY with the reason in err
 * when not. identities is the JSON array of our issuer domain names (NULL:
 * none). */
aclm_status ca__caa_decide(const struct ca_caa_rr *rrs, size_t n, const json_t *identities,
			   bool wildcard, const char *method, const char *account_uri,
			   struct aclm_err *err);

/* The levels of a CAA climb (RFC 8659 §3: the name, then each parent, the
 * TLD included) as queries for dns_query_raw_many or
 * dns_resolve_addrs_also; the queries point into name, so the struct stays
 * where it was initialised. */
struct ca__caa_levels {
	char name[DNS_NAME_MAX + 1]; /* lowercased, without a final dot */
	struct dns_raw *q;
	size_t n;
	bool asked;                /* q[] holds answers */
};
aclm_status ca__caa_levels_init(const char *name, struct ca__caa_levels *l,
				struct aclm_err *err);
void ca__caa_levels_free(struct ca__caa_levels *l);

/* ca_caa_check's decision on answers already asked for l. */
aclm_status ca__caa_levels_decide(const struct ca_va_config *c, const struct ca__caa_levels *l,
				  bool wildcard, const char *method, const char *account_uri,
				  const char **problem, struct aclm_err *err);

#endif
