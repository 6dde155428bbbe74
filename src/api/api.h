/* api/: the HTTPS service of `aclm serve`: the REST API under /api/v1
 * (JSON; errors as application/problem+json; cursor pagination), /healthz,
 * /readyz, /metrics (Prometheus text, behind a token) and
 * /api/v1/openapi.json. N worker threads, each with its own libevent loop,
 * store connection and keystore handle, accept on one socket (the CA's
 * server works the same way). Every handler runs with the caller's
 * auth_principal: its tenant is on every query. */
#ifndef ACLM_API_H
#define ACLM_API_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/status.h"

struct api_server;
struct ca_embedded;

struct api_opts {
	const char *home;          /* state directory (keystore master key, ...) */
	const char *db;            /* store URL; every worker opens its own connection */
	const char *listen;        /* "127.0.0.1:8443" */
	const char *tls_cert;      /* PEM files; NULL: a certificate issued by aclm's own CA */
	const char *tls_key;
	int workers;               /* 0 = 4 */
	bool per_cert_metrics;     /* x509-style per-certificate expiry gauges (default on) */
	const struct aclm_config *cfg; /* for channel tests and scans; may be NULL */
	struct ca_embedded *ca;    /* aclm's ACME CA answers /acme/ (ca/ca.h); NULL: 404 */
};

/* Binds, loads TLS, opens the workers' stores and starts serving. Port in
 * use -> ACLM_ERR_BUSY naming the address. */
aclm_status api_server_start(const struct api_opts *o, struct api_server **out,
			     struct aclm_err *err);
/* /readyz answers 503 until set ready (after the scheduler started). */
void api_server_set_ready(struct api_server *s, bool ready);
/* Stops accepting, finishes in-flight requests, joins, frees. */
void api_server_stop(struct api_server *s);

#endif
