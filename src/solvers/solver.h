/* solvers/: ACME challenge solvers behind one ops table. One file per solver;
 * the table of solvers lives in solver.c. A solver is started once per run,
 * presents and cleans up many challenges (concurrently: present and cleanup
 * are thread-safe), and is stopped at the end. */
#ifndef ACLM_SOLVER_H
#define ACLM_SOLVER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

#define SOLVER_HTTP01 0x1u
#define SOLVER_DNS01 0x2u
#define SOLVER_TLSALPN01 0x4u

struct solver_config {
	const char *http_listen;   /* "ADDR:PORT" / "[v6]:PORT" for the built-in http-01 listener */
	const char *webroot;       /* directory for http-01 token files */
	const char *tlsalpn_listen;
	const char *dns_hook;      /* command (lego exec protocol), split like shell words */
	const char *dns_rfc2136;   /* "HOST:PORT" (numeric) of the server taking RFC 2136 updates */
	const char *tsig_file;     /* BIND key file signing them (hmac-sha256/384/512) */
	const char *dns_resolver;  /* "HOST:PORT" checked for the TXT record after present */
	const char *dns_propagation; /* "resolver" | "off"; NULL: "resolver" when dns_resolver */
	long dns_timeout_s;        /* propagation check bound; 0: 60 s */
	long dns_hook_timeout_s;   /* per hook run, then its process group is killed; 0: 120 s */
};

struct solver_challenge {
	const char *type;          /* "http-01", "dns-01", "tls-alpn-01" */
	const char *identifier;    /* DNS name (without "*.") or IP address */
	const char *token;
	const char *key_authorization;
};

struct solver_ops {
	const char *name;          /* "http-listen", "webroot", ... */
	unsigned types;            /* SOLVER_* it can answer */
	aclm_status (*start)(const struct solver_config *cfg, void **state, struct aclm_err *err);
	aclm_status (*present)(void *state, const struct solver_challenge *ch, struct aclm_err *err);
	aclm_status (*cleanup)(void *state, const struct solver_challenge *ch, struct aclm_err *err);
	void (*stop)(void *state);
};

/* The registered solvers. */
extern const struct solver_ops solver_http_listen_ops;
extern const struct solver_ops solver_webroot_ops;
extern const struct solver_ops solver_tls_alpn_ops;
extern const struct solver_ops solver_dns_hook_ops;
extern const struct solver_ops solver_rfc2136_ops;

/* Picks the solver for a challenge type from the configuration (one place):
 * http-01 -> webroot when cfg->webroot, else http-listen; dns-01 ->
 * dns-rfc2136 when cfg->dns_rfc2136, else dns-hook when cfg->dns_hook.
 * NULL when none fits. */
const struct solver_ops *solver_for(const char *type, const struct solver_config *cfg);

#endif
