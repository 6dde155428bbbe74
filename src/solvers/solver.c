/* The table of solvers and the one place that picks a solver for a
 * challenge; token and key authorization checks shared by the solvers. */
#include "solvers/solver.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solvers/solver_int.h"

#define SOLVER_ALWAYS SIZE_MAX

/* In order of preference: the first entry that answers the type and whose
 * configuration field is set wins. Adding a solver = one line here. */
static const struct solver_choice {
	const struct solver_ops *ops;
	size_t needs;              /* offsetof a struct solver_config string, or SOLVER_ALWAYS */
} solver_table[] = {
	{ &solver_webroot_ops, offsetof(struct solver_config, webroot) },
	{ &solver_http_listen_ops, SOLVER_ALWAYS }, /* the default for http-01 */
	{ &solver_rfc2136_ops, offsetof(struct solver_config, dns_rfc2136) },
	{ &solver_dns_hook_ops, offsetof(struct solver_config, dns_hook) },
	{ &solver_tls_alpn_ops, offsetof(struct solver_config, tlsalpn_listen) },
};

static const struct {
	const char *name;
	unsigned bit;
} solver_types[] = {
	{ "http-01", SOLVER_HTTP01 },
	{ "dns-01", SOLVER_DNS01 },
	{ "tls-alpn-01", SOLVER_TLSALPN01 },
};

static unsigned solver_type_bit(const char *type)
{
	for (size_t i = 0; i < sizeof(solver_types) / sizeof(solver_types[0]); i++) {
		if (strcmp(type, solver_types[i].name) == 0)
			return solver_types[i].bit;
	}
	return 0;
}

static bool solver_configured(const struct solver_config *cfg, size_t needs)
{
	const char *v;

	if (needs == SOLVER_ALWAYS)
		return true;
	if (cfg == NULL)
		return false;
	memcpy(&v, (const char *)cfg + needs, sizeof(v));
	return v != NULL && *v != '\0';
}

const struct solver_ops *solver_for(const char *type, const struct solver_config *cfg)
{
	unsigned bit = type != NULL ? solver_type_bit(type) : 0;

	for (size_t i = 0; bit != 0 && i < sizeof(solver_table) / sizeof(solver_table[0]); i++) {
		if ((solver_table[i].ops->types & bit) && solver_configured(cfg, solver_table[i].needs))
			return solver_table[i].ops;
	}
	return NULL;
}

static bool solver_b64url(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	}
	return true;
}

bool solver__token_valid(const char *token)
{
	return token != NULL && strlen(token) <= SOLVER__TOKEN_MAX &&
	       solver_b64url(token, strlen(token));
}

aclm_status solver__check_keyauth(const char *solver, const struct solver_challenge *ch,
				  struct aclm_err *err)
{
	const char *ka = ch->key_authorization;
	size_t tlen;

	if (!solver__token_valid(ch->token))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "%s: challenge token \"%.64s\" is not base64url (RFC 8555 §8.3)",
				    solver, ch->token != NULL ? ch->token : "");
	tlen = strlen(ch->token);
	if (ka == NULL || strlen(ka) > SOLVER__KEYAUTH_MAX || strncmp(ka, ch->token, tlen) != 0 ||
	    ka[tlen] != '.' || !solver_b64url(ka + tlen + 1, strlen(ka + tlen + 1)))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "%s: token %s: key authorization is not TOKEN.THUMBPRINT "
				    "(RFC 8555 §8.1)", solver, ch->token);
	return ACLM_OK;
}

aclm_status solver__dns01_fqdn(const char *who, const char *ident, char *fqdn, size_t len,
			       struct aclm_err *err)
{
	unsigned char ip[16];
	size_t n = ident != NULL ? strlen(ident) : 0;

	if (n > 0 && ident[n - 1] == '.')
		n--;
	if (n == 0 || n > SOLVER__DNS_NAME_MAX || strspn(ident, "abcdefghijklmnopqrstuvwxyz"
							 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") < n)
		return aclm_err_set(err, ACLM_ERR_INVALID, "%s: \"%.100s\" is not a DNS name", who,
				    ident != NULL ? ident : "");
	if (inet_pton(AF_INET, ident, ip) == 1)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "%s: %s: dns-01 cannot validate an IP address (RFC 8738)", who, ident);
	snprintf(fqdn, len, SOLVER__DNS01_LABEL "%.*s.", (int)n, ident);
	return ACLM_OK;
}
