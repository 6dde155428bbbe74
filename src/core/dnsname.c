/* core/dnsname: DNS name checks shared by client/, ca/ and scan/. */
#include "core/dnsname.h"

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
