/* core/dnsname: DNS name and IP literal checks shared by client/, ca/ and scan/. */
#include "core/dnsname.h"

#include <arpa/inet.h>
#include <ctype.h>

bool aclm_dns_label_ok(const char *l, size_t n)
{
	if (n == 0 || n > ACLM_DNS_LABEL_MAX || l[0] == '-' || l[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)l[i]) && l[i] != '-')
			return false;
	return true;
}

bool aclm_ip_canonical(const char *in, char *out, size_t outlen)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, in, addr) == 1)
		return inet_ntop(AF_INET, addr, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, in, addr) == 1)
		return inet_ntop(AF_INET6, addr, out, (socklen_t)outlen) != NULL;
	return false;
}
