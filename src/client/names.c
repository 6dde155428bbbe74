/* Identifier checks and normalisation (RFC 8555 §7.1.4, RFC 8738; IDNs to
 * punycode, RFC 5891 + UTS#46), lineage names. */
#include "client/client_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "core/dnsname.h"

#define NAME_MAX_LEN 253

/* IDNA2008 with UTS#46 non-transitional mapping (what browsers and Let's
 * Encrypt use): "Bücher.example" -> "xn--bcher-kva.example". A leading "*."
 * is kept aside: '*' is not a valid IDN label. The result is checked as an
 * ASCII name by the caller. */
static aclm_status idn_to_ascii(const char *in, char **out, struct aclm_err *err)
{
	const char *rest = strncmp(in, "*.", 2) == 0 ? in + 2 : in;
	char *ascii = NULL;
	int rc = idn2_to_ascii_8z(rest, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);

	*out = NULL;
	if (rc != IDN2_OK)
		return aclm_err_set(err, ACLM_ERR_INVALID, "\"%s\": not a valid internationalised name: %s",
				    in, idn2_strerror(rc));
	if (asprintf(out, "%s%s", rest != in ? "*." : "", ascii) < 0)
		*out = NULL;
	idn2_free(ascii);
	return *out != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
}

aclm_status client_normalise_name(const char *in, char **out, bool *is_ip, struct aclm_err *err)
{
	char ip[64], *s = NULL;
	const char *p;
	size_t n;

	*out = NULL;
	*is_ip = aclm_ip_canonical(in, ip, sizeof(ip));
	if (*is_ip) {
		*out = strdup(ip);
		return *out != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	for (p = in; *p != '\0' && (unsigned char)*p < 0x80; p++)
		;
	if (*p != '\0') {
		aclm_status st = idn_to_ascii(in, &s, err);

		if (st != ACLM_OK)
			return st;
	} else if ((s = strdup(in)) == NULL) {
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	p = strncmp(s, "*.", 2) == 0 ? s + 2 : s;
	if (n == 0 || n > NAME_MAX_LEN || strchr(p, '.') == NULL)
		goto bad;
	for (const char *l = p;;) {
		const char *dot = strchr(l, '.');
		size_t len = dot != NULL ? (size_t)(dot - l) : strlen(l);

		if (!aclm_dns_label_ok(l, len))
			goto bad;
		if (dot == NULL)
			break;
		l = dot + 1;
	}
	*out = s;
	return ACLM_OK;
bad:
	free(s);
	return aclm_err_set(err, ACLM_ERR_INVALID,
			    "\"%s\": not a valid DNS name (labels of 1-63 letters, digits or hyphens, "
			    "at least two labels, at most 253 characters) nor an IP address", in);
}

void client_default_lineage(const char *first, char *out, size_t outlen)
{
	size_t i = 0;

	if (strncmp(first, "*.", 2) == 0)
		first += 2;
	for (; first[i] != '\0' && i + 1 < outlen; i++)
		out[i] = first[i] == ':' ? '-' : first[i];
	out[i] = '\0';
}

bool client_lineage_name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++, n++)
		if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f || n >= 200)
			return false;
	return true;
}

bool client_name_is_ip(const char *name)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}
