/* Internals shared by the solvers (not part of the solvers/ interface). */
#ifndef ACLM_SOLVER_INT_H
#define ACLM_SOLVER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"
#include "net/net.h"
#include "solvers/solver.h"

#define SOLVER__TOKEN_MAX 256
#define SOLVER__KEYAUTH_MAX 1024

/* RFC 8555 §8.3: the token is base64url (RFC 4648 §5, no padding), so it
 * can never hold '/', '.' or '%'; anything else is refused before it can
 * reach a path or a URL. */
bool solver__token_valid(const char *token);

/* Checks the challenge's token and key authorization (RFC 8555 §8.1: token
 * "." base64url-thumbprint), built the same for http-01, dns-01 and
 * tls-alpn-01 (RFC 8737 §3); err names the solver and token. */
aclm_status solver__check_keyauth(const char *solver, const struct solver_challenge *ch,
				  struct aclm_err *err);

/* RFC 8555 §8.4: the dns-01 record name "_acme-challenge." + the identifier
 * (a wildcard's "*." already removed, §7.1.3), fully qualified with the
 * final dot. IP identifiers have no dns-01 (RFC 8738). who names the
 * solver in errors. */
#define SOLVER__DNS_NAME_MAX 253 /* RFC 1035 §2.3.4, without the final dot */
#define SOLVER__DNS01_LABEL "_acme-challenge."
#define SOLVER__DNS01_FQDN_MAX (sizeof(SOLVER__DNS01_LABEL) + SOLVER__DNS_NAME_MAX + 2)
aclm_status solver__dns01_fqdn(const char *who, const char *ident, char *fqdn, size_t len,
			       struct aclm_err *err);


/* RFC 8555 §8.4: asks resolver ("HOST:PORT", "[V6]:PORT" or "HOST") for the
 * TXT records of name (no trailing dot) once a second until one of them,
 * its strings concatenated, equals value. Not there after timeout_s ->
 * ACLM_ERR_BUSY naming the name, the resolver and the last answer. */
aclm_status solver__dns_txt_wait(const char *resolver, const char *name, const char *value,
				 long timeout_s, struct aclm_err *err);

/* The same wait at every authoritative server of name's zone: asks
 * resolver ("HOST:PORT"; NULL: the system's) for the NS records of name,
 * then of its parents, resolves those hosts and waits at each IP:53 (at
 * IP:PORT when IP is hint's host, hint "HOST:PORT" or NULL), all within
 * timeout_s. No NS set found -> ACLM_ERR_NOTFOUND (NOTIMP named as such);
 * a server without the value -> ACLM_ERR_BUSY naming it. */
aclm_status solver__dns_txt_wait_authoritative(const char *resolver, const char *name,
					       const char *value, const char *hint, long timeout_s,
					       struct aclm_err *err);

/* ---- TSIG keys (dns_rfc2136.c) ---- */

/* One BIND key file: key "NAME" { algorithm hmac-sha256; secret "B64"; };
 * (tsig-keygen's output; #, // and C comments allowed). */
struct solver__tsig_key {
	char name[256];            /* as written, without a final dot unless given */
	char algorithm[16];        /* "hmac-sha256", "hmac-sha384" or "hmac-sha512" */
	char secret[512];          /* base64, checked */
};

/* Parses text (len bytes; file names it in messages). Anything else than
 * exactly one such key -> ACLM_ERR_PARSE "FILE:LINE: what was expected". */
aclm_status solver__tsig_parse(const char *file, const char *text, size_t len,
			       struct solver__tsig_key *key, struct aclm_err *err);
/* Reads file (at most 64 KiB) and parses it. */
aclm_status solver__tsig_load(const char *file, struct solver__tsig_key *key, struct aclm_err *err);

#endif
