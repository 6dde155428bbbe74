/* http/: HTTP client (libcurl) used by the ACME client and later by
 * notifiers and deploy targets. Every body read from the network is capped. */
#ifndef ACLM_HTTP_H
#define ACLM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/status.h"

struct http_client_opts {
	const char *ca_bundle;     /* PEM file of trusted roots; NULL = system store */
	const char *user_agent;    /* NULL = "aclm/VERSION" */
	long connect_timeout_ms;   /* 0 = 10000 */
	long timeout_ms;           /* whole request; 0 = 30000 */
	size_t max_body;           /* response cap; 0 = 1 MiB */
	bool insecure;             /* tests only: no TLS verification */
};

struct http_link {
	char *rel;
	char *url;                 /* resolved against the request URL */
};

struct http_response {
	long status;
	struct aclm_buf body;      /* NUL-terminated; capped at max_body */
	char *content_type;        /* without parameters, lowercased; or NULL */
	char *location;            /* resolved against the request URL; or NULL */
	char *replay_nonce;        /* RFC 8555 §6.5; or NULL */
	int64_t retry_after;       /* seconds (delta or HTTP-date turned into delta); -1 when absent */
	struct http_link *links;   /* every Link header value (RFC 8288) */
	size_t nlinks;
};

struct http_client;

/* Proxies come from the usual environment variables (http_proxy,
 * https_proxy, no_proxy), as libcurl reads them. */
aclm_status http_client_new(const struct http_client_opts *opts, struct http_client **out,
			    struct aclm_err *err);
void http_client_free(struct http_client *c);

/* One request. method "GET", "HEAD" or "POST"; body may be NULL. A transport
 * failure (DNS, connect, TLS verification, timeout, body over the cap) is an
 * error naming the URL and the reason; any HTTP status is a success here
 * (the caller judges it). resp is initialised by the call; free it with
 * http_response_free, also after an error. Not thread-safe per client: use
 * one client per thread. */
aclm_status http_request(struct http_client *c, const char *method, const char *url,
			 const char *content_type, const void *body, size_t len,
			 struct http_response *resp, struct aclm_err *err);
void http_response_free(struct http_response *resp);

/* The first link with rel (e.g. "up", "alternate", "index"), or NULL. */
const char *http_response_link(const struct http_response *resp, const char *rel);

#endif
