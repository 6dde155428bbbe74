/* store/: the scan area: endpoints the scanner saw (tables endpoints and
 * observations, migrations 1 and 5), the queries `scan --save` judges the
 * inventory findings with (drift, inconsistent, stale), pages of scan runs
 * (rows the sched area writes), and the backend ops. */
#ifndef ACLM_STORE_SCAN_H
#define ACLM_STORE_SCAN_H

#include "store/store.h"
#include "store/store_sched.h" /* struct store_scanrun */

#define STORE_SCAN_HOST_MAX 256
#define STORE_SCAN_IP_MAX 64

/* One endpoint: unique per (tenant, host, port, sni); sni is "" when none.
 * ip is the address seen last (a name's other addresses share the row; each
 * observation keeps its own address). */
struct store_scan_endpoint {
	int64_t id;
	int64_t tenant_id;
	char host[STORE_SCAN_HOST_MAX];
	char ip[STORE_SCAN_IP_MAX];
	int port;
	char sni[STORE_SCAN_HOST_MAX];
	int64_t first_seen, last_seen;
};
typedef aclm_status (*store_scan_endpoint_cb)(const struct store_scan_endpoint *e, void *arg);

/* One observation: the leaf an endpoint served at observed_at, from the
 * address ip. cert_id 0: the certificate row is gone (or none was served).
 * On read, sni and fingerprint (of cert_id, "" when none) are filled too. */
struct store_scan_observation {
	int64_t id;
	int64_t tenant_id;
	int64_t endpoint_id;
	int64_t cert_id;
	int64_t scan_run_id;       /* 0: not part of a scheduled run (the CLI) */
	int64_t observed_at;
	char ip[STORE_SCAN_IP_MAX];
	char sni[STORE_SCAN_HOST_MAX];
	char fingerprint[65];
};
typedef aclm_status (*store_scan_observation_cb)(const struct store_scan_observation *o,
						 void *arg);

struct store_scan_ops {
	aclm_status (*endpoint_upsert)(void *state, const struct store_scan_endpoint *e, int64_t *id,
				       struct aclm_err *err);
	aclm_status (*endpoint_list)(void *state, int64_t tenant, store_scan_endpoint_cb cb,
				     void *arg, struct aclm_err *err);
	aclm_status (*observation_add)(void *state, const struct store_scan_observation *o,
				       int64_t *id, struct aclm_err *err);
	aclm_status (*observation_last)(void *state, int64_t tenant, int64_t endpoint_id,
					const char *ip, struct store_scan_observation *out,
					bool *found, struct aclm_err *err);
	aclm_status (*observation_list)(void *state, int64_t tenant, int64_t endpoint_id,
					store_scan_observation_cb cb, void *arg,
					struct aclm_err *err);
	aclm_status (*observation_conflict)(void *state, int64_t tenant, const char *host, int port,
					    int64_t endpoint_id, const char *ip, int64_t cert_id,
					    int64_t scan_run_id, int64_t since,
					    struct store_scan_observation *out, bool *found,
					    struct aclm_err *err);
	aclm_status (*cert_newer)(void *state, int64_t tenant, const char *common_name,
				  const char *name, int64_t not_after, store_cert_cb cb, void *arg,
				  struct aclm_err *err);
	aclm_status (*endpoint_page)(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				     store_scan_endpoint_cb cb, void *arg, struct aclm_err *err);
	aclm_status (*endpoint_get)(void *state, int64_t tenant, int64_t id,
				    struct store_scan_endpoint *out, struct aclm_err *err);
	aclm_status (*observation_recent)(void *state, int64_t tenant, int64_t endpoint_id,
					  int64_t limit, store_scan_observation_cb cb, void *arg,
					  struct aclm_err *err);
	aclm_status (*observation_prev)(void *state, int64_t tenant, int64_t endpoint_id,
					const char *ip, int64_t before_id,
					struct store_scan_observation *out, bool *found,
					struct aclm_err *err);
	aclm_status (*run_page)(void *state, int64_t tenant, int64_t scan_id, int64_t before_id,
				int64_t limit, store_scanrun_cb cb, void *arg, struct aclm_err *err);
};

/* Inserts the endpoint (first_seen = last_seen = e->last_seen) or, when
 * (tenant, host, port, sni) exists, updates its ip and last_seen; *id is
 * the row either way. */
aclm_status store_scan_endpoint_upsert(struct store *s, const struct store_scan_endpoint *e,
				       int64_t *id, struct aclm_err *err);
/* The tenant's endpoints, most recently seen first. */
aclm_status store_scan_endpoint_list(struct store *s, int64_t tenant, store_scan_endpoint_cb cb,
				     void *arg, struct aclm_err *err);
/* Appends an observation of one of the tenant's endpoints (sni and
 * fingerprint are ignored); *id is the new row. */
aclm_status store_scan_observation_add(struct store *s, const struct store_scan_observation *o,
				       int64_t *id, struct aclm_err *err);
/* The endpoint's latest observation from address ip (NULL: any address);
 * *found false when there is none. */
aclm_status store_scan_observation_last(struct store *s, int64_t tenant, int64_t endpoint_id,
					const char *ip, struct store_scan_observation *out,
					bool *found, struct aclm_err *err);
/* The endpoint's observations, newest first. */
aclm_status store_scan_observation_list(struct store *s, int64_t tenant, int64_t endpoint_id,
					store_scan_observation_cb cb, void *arg,
					struct aclm_err *err);
/* An observation of the same scan (scan_run_id when > 0, else observed at
 * or after since) of the same host and port, from another endpoint row
 * (another SNI) or another address, that saw a certificate other than
 * cert_id: the newest such, *found false when none ("inconsistent"). */
aclm_status store_scan_observation_conflict(struct store *s, int64_t tenant, const char *host,
					    int port, int64_t endpoint_id, const char *ip,
					    int64_t cert_id, int64_t scan_run_id, int64_t since,
					    struct store_scan_observation *out, bool *found,
					    struct aclm_err *err);
/* The tenant's non-CA certificates that expire after not_after, latest
 * expiry first ("stale" candidates: the caller compares their names), whose
 * common name is common_name; or, when common_name is NULL, that carry name
 * as common name or SAN (compared case-insensitively; slower: no index). */
aclm_status store_scan_cert_newer(struct store *s, int64_t tenant, const char *common_name,
				  const char *name, int64_t not_after, store_cert_cb cb, void *arg,
				  struct aclm_err *err);

/* One page of the tenant's endpoints in id order (the API's cursor lists):
 * ids above after_id, at most limit rows (limit > 0). */
aclm_status store_scan_endpoint_page(struct store *s, int64_t tenant, int64_t after_id,
				     int64_t limit, store_scan_endpoint_cb cb, void *arg,
				     struct aclm_err *err);
/* One of the tenant's endpoints; ACLM_ERR_NOTFOUND when absent or another
 * tenant's. */
aclm_status store_scan_endpoint_get(struct store *s, int64_t tenant, int64_t id,
				    struct store_scan_endpoint *out, struct aclm_err *err);
/* The endpoint's newest limit observations (limit > 0), newest first. */
aclm_status store_scan_observation_recent(struct store *s, int64_t tenant, int64_t endpoint_id,
					  int64_t limit, store_scan_observation_cb cb, void *arg,
					  struct aclm_err *err);
/* The endpoint's newest observation from address ip older than the
 * observation before_id (what that one is compared with for drift); *found
 * false when none. */
aclm_status store_scan_observation_prev(struct store *s, int64_t tenant, int64_t endpoint_id,
					const char *ip, int64_t before_id,
					struct store_scan_observation *out, bool *found,
					struct aclm_err *err);

/* One page of a scan definition's runs, newest first (the API's cursor
 * lists): ids below before_id (0: from the newest), at most limit rows
 * (limit > 0). */
aclm_status store_scan_run_page(struct store *s, int64_t tenant, int64_t scan_id,
				int64_t before_id, int64_t limit, store_scanrun_cb cb, void *arg,
				struct aclm_err *err);

#endif
