/* DNS name and IP literal pieces shared by the ACME client, the CA and the
 * scanner. */
#ifndef ACLM_CORE_DNSNAME_H
#define ACLM_CORE_DNSNAME_H

#include <stdbool.h>
#include <stddef.h>

#define ACLM_DNS_LABEL_MAX 63      /* RFC 1035 §2.3.4 */

/* One label of n bytes: letters, digits and hyphens, 1..63 characters, no
 * hyphen at either end (RFC 1123 §2.1). */
bool aclm_dns_label_ok(const char *l, size_t n);

/* An IPv4 or IPv6 literal in its canonical text into out (RFC 8738 §3:
 * RFC 5952 for IPv6); false when in is not one. */
bool aclm_ip_canonical(const char *in, char *out, size_t outlen);

#endif
