/* api/ internals shared by the files of src/api/: the server, one worker
 * per thread, the request being answered, the route table and the helpers
 * every handler uses (replies, problems, cursors, bodies). */
#ifndef ACLM_API_INT_H
#define ACLM_API_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "api/api.h"
#include "auth/auth.h"
#include "core/buf.h"
#include "inventory/inventory.h"
#include "keystore/keystore.h"
#include "store/store.h"

struct evhttp_request;
struct ssl_ctx_st;
struct httpd;

#define API__PREFIX "/api/v1"
#define API__MAX_WORKERS 64
#define API__MAX_HEADERS 16384
#define API__MAX_BODY (1024 * 1024)  /* one PEM bundle or JSON object */
#define API__TIMEOUT_S 30
#define API__PATH_MAX 512
#define API__PARAMS_MAX 2
#define API__PARAM_MAX 128
#define API__LIST_DEFAULT 100
#define API__LIST_MAX 1000
#define API__CURSOR_MAX 64           /* base64url of "KEY.ID", two 19-character numbers */
#define API__SESSION_TTL (12 * 3600)
#define API__LOGIN_USER_PER_MIN 5     /* per user name: guessing one password */
#define API__LOGIN_IP_PER_MIN 30      /* per address: offices share one behind NAT */

/* ---- route classes: the label of the HTTP metrics ---- */
enum api__class {
	API__C_HEALTH = 0,
	API__C_METRICS,
	API__C_OPENAPI,
	API__C_AUTH,
	API__C_CERTIFICATES,
	API__C_TENANTS,
	API__C_USERS,
	API__C_TOKENS,
	API__C_AUDIT,
	API__C_REPORTS,
	API__C_ENDPOINTS,
	API__C_SCANS,
	API__C_ACME,         /* ACME accounts and orders */
	API__C_JOBS,
	API__C_CHANNELS,
	API__C_ALERTS,
	API__C_DEPLOY,       /* targets and deployments */
	API__C_OTHER,        /* no route matched */
	API__C_COUNT
};
const char *api__class_name(enum api__class c);

/* ---- metrics (atomic counters; metrics.c) ---- */
#define API__STATUS_SLOTS 16
#define API__LATENCY_BUCKETS 11
extern const int api__status_codes[API__STATUS_SLOTS];   /* last slot: any other */
extern const double api__latency_bounds[API__LATENCY_BUCKETS]; /* seconds, ascending */

struct api__http_metrics {
	atomic_uint_fast64_t requests[API__C_COUNT][API__STATUS_SLOTS];
	atomic_uint_fast64_t latency[API__C_COUNT][API__LATENCY_BUCKETS + 1]; /* +Inf last */
	atomic_uint_fast64_t latency_sum_us[API__C_COUNT];
};
void api__metrics_observe(struct api__http_metrics *m, enum api__class c, int status,
			  int64_t micros);
/* Prometheus text 0.0.4 of the HTTP counters and histogram. */
aclm_status api__metrics_http_text(const struct api__http_metrics *m, struct aclm_buf *out);
/* A label value escaped as the text format wants (\\, \", \n). */
aclm_status api__metrics_label(struct aclm_buf *out, const char *v);

/* ---- login rate limit (ratelimit.c): fixed one-minute windows ---- */
#define API__LIMIT_SLOTS 1024
#define API__LIMIT_KEY_MAX 200
struct api__limit {
	pthread_mutex_t lock;
	int per_window;
	int64_t window_s;
	struct {
		char key[API__LIMIT_KEY_MAX];
		int64_t start;
		int count;
	} slot[API__LIMIT_SLOTS];
};
void api__limit_init(struct api__limit *l, int per_window, int64_t window_s);
void api__limit_destroy(struct api__limit *l);
/* Counts one attempt for key at now; false (and *retry_after in seconds)
 * when key already used up its window. */
bool api__limit_take(struct api__limit *l, const char *key, int64_t now, int64_t *retry_after);

/* ---- server and workers (server.c) ---- */
struct api_server;
struct api__worker {
	struct api_server *srv;
	struct store *store;
	struct keystore *ks;
	int index;
};

struct api_server {
	struct api_opts o;
	struct ssl_ctx_st *tls;
	struct httpd *httpd;
	struct api__worker *workers;
	void **worker_args;
	int nworkers;
	atomic_bool ready;
	struct api__limit login_ip, login_user;
	struct api__http_metrics http;
	char fingerprint[100];      /* of the serving certificate, "AB:CD:..." */
};

/* ---- one request ---- */
struct api__route;
struct api__cursor;
struct api__req {
	struct evhttp_request *ev;
	struct api__worker *w;
	int method;                 /* EVHTTP_REQ_* */
	char path[API__PATH_MAX];   /* decoded, without the query */
	struct evkeyvalq query;
	char params[API__PARAMS_MAX][API__PARAM_MAX];
	int nparams;
	const struct api__route *route;
	struct auth_principal p;
	struct inventory inv;       /* the principal's tenant */
	char peer[64];
	int status;                 /* what was answered */
	int64_t now;
};

typedef void (*api__handler)(struct api__req *r);

enum api__route_flags {
	API__PUBLIC = 1u << 0,      /* no authentication */
	API__METRICS_SCOPE = 1u << 1 /* metrics-scoped tokens allowed (and only here) */
};

struct api__route {
	int method;                 /* EVHTTP_REQ_* */
	const char *pattern;        /* "/api/v1/certificates/{id}" */
	enum auth_action action;
	unsigned flags;
	enum api__class cls;
	api__handler fn;
};

/* The route table (routes.c). */
extern const struct api__route api__routes[];
extern const size_t api__routes_n;

/* Matching (router.c): the route whose pattern matches path and method;
 * params receive the {..} segments. NULL when none: *allow is then the
 * EVHTTP_REQ_* mask of the methods the path has (0: no such path). */
const struct api__route *api__route_find(const struct api__route *t, size_t n, int method,
					 const char *path,
					 char params[API__PARAMS_MAX][API__PARAM_MAX], int *nparams,
					 unsigned *allow);
/* "GET, HEAD, POST" for an EVHTTP_REQ_* mask. */
void api__allow_header(unsigned mask, char *out, size_t outlen);
const char *api__method_name(int method);

/* The entry point of every request (dispatch.c). */
void api__on_request(struct evhttp_request *ev, void *arg);

/* JSON text: aclm_json_write (core/json.h). */
#define API__REPLY_MAX (64u << 20) /* a response body; lists are capped far below */

/* ---- replies (reply.c) ---- */
/* The problem document (RFC 9457): type "urn:aclm:problem:<slug>", title
 * from the status, detail. */
json_t *api__problem_body(int status, const char *slug, const char *detail);
void api__problem(struct api__req *r, int status, const char *slug, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The problem for a failed call: NOTFOUND 404, EXISTS 409, INVALID 400,
 * TOOBIG 413, PASSWORD 401, BUSY 503, the rest 500 (logged, not shown). */
void api__problem_err(struct api__req *r, const struct aclm_err *err);
/* Sends body (stolen) as application/json. */
void api__reply_json(struct api__req *r, int status, json_t *body);
void api__reply_raw(struct api__req *r, int status, const char *content_type, const void *data,
		    size_t len);
void api__reply_empty(struct api__req *r, int status);
void api__header(struct api__req *r, const char *name, const char *value);
/* A request header or NULL. */
const char *api__req_header(struct api__req *r, const char *name);
/* The JSON object body; on failure the problem is already sent. */
json_t *api__body_json(struct api__req *r);
/* The raw body (NUL-terminated copy, caller frees); NULL: problem sent. */
unsigned char *api__body_raw(struct api__req *r, size_t *len);
/* The value of cookie name (RFC 6265 §4.2.1); false when absent, empty or
 * not shorter than outlen. */
bool api__cookie(struct api__req *r, const char *name, char *out, size_t outlen);
/* A query parameter or NULL. */
const char *api__query(struct api__req *r, const char *name);
/* limit and cursor of a list: false when invalid (problem sent). */
bool api__page(struct api__req *r, int64_t *limit, struct api__cursor *after);

/* A list walked by id (jobs, alerts, scans, endpoints): the store is asked
 * for limit + 1 rows; the extra one only sets `more`; the cursor is the
 * last id shown. */
struct api__idpage {
	json_t *items;
	int64_t limit, n, last_id, after_id;
	bool more;
};
/* limit and cursor (one with a key is refused); false: problem sent and
 * nothing to free. Then api__idpage_reply answers and frees the items. */
bool api__idpage_begin(struct api__req *r, struct api__idpage *pg);
/* True (and `more` set) once the page holds limit rows: skip the row. */
bool api__idpage_full(struct api__idpage *pg);
/* Appends o (taken; NULL: out of memory) as the row with this id. */
aclm_status api__idpage_add(struct api__idpage *pg, int64_t id, json_t *o);
/* {"items", "next_cursor"}, or the problem of a failed listing (st not
 * ACLM_OK; err may be empty: out of memory); frees the items. */
void api__idpage_reply(struct api__req *r, struct api__idpage *pg, aclm_status st,
		       struct aclm_err *err);
/* Audits an action of the request's principal (actor, tenant); detail
 * borrowed. */
aclm_status api__audit(struct api__req *r, const char *action, const char *object,
		       json_t *detail, struct aclm_err *err);

/* ---- cursors (cursor.c): opaque base64url of the last row's position ---- */
struct api__cursor {
	bool has_key;               /* lists in expiry order: (key = not_after, id) */
	int64_t key, id;
};
void api__cursor_encode(const struct api__cursor *c, char out[API__CURSOR_MAX]);
/* false when s is not a cursor this server made. */
bool api__cursor_decode(const char *s, struct api__cursor *c);

/* ---- handlers, one file per resource ---- */
void api__h_healthz(struct api__req *r);
void api__h_readyz(struct api__req *r);
void api__h_metrics(struct api__req *r);
void api__h_openapi(struct api__req *r);
void api__h_login(struct api__req *r);
void api__h_logout(struct api__req *r);
void api__h_cert_list(struct api__req *r);
void api__h_cert_get(struct api__req *r);
void api__h_cert_import(struct api__req *r);
void api__h_cert_export(struct api__req *r);
void api__h_cert_delete(struct api__req *r);
void api__h_tenant_list(struct api__req *r);
void api__h_tenant_create(struct api__req *r);
void api__h_user_list(struct api__req *r);
void api__h_user_create(struct api__req *r);
void api__h_user_delete(struct api__req *r);
void api__h_token_list(struct api__req *r);
void api__h_token_create(struct api__req *r);
void api__h_token_revoke(struct api__req *r);
void api__h_audit_list(struct api__req *r);
void api__h_report_summary(struct api__req *r);

void api__h_endpoint_list(struct api__req *r);
void api__h_endpoint_get(struct api__req *r);
void api__h_scan_list(struct api__req *r);
void api__h_scan_put(struct api__req *r);
void api__h_scan_get(struct api__req *r);
void api__h_scan_run(struct api__req *r);
void api__h_scan_runs(struct api__req *r);
void api__h_job_list(struct api__req *r);
void api__h_job_get(struct api__req *r);
void api__h_acme_account_list(struct api__req *r);
void api__h_order_list(struct api__req *r);
void api__h_order_get(struct api__req *r);
void api__h_order_create(struct api__req *r);
void api__h_order_renew(struct api__req *r);
void api__h_order_revoke(struct api__req *r);
void api__h_channel_list(struct api__req *r);
void api__h_channel_create(struct api__req *r);
void api__h_channel_get(struct api__req *r);
void api__h_channel_update(struct api__req *r);
void api__h_channel_delete(struct api__req *r);
void api__h_channel_test(struct api__req *r);
void api__h_alert_list(struct api__req *r);
void api__h_target_list(struct api__req *r);
void api__h_target_create(struct api__req *r);
void api__h_target_get(struct api__req *r);
void api__h_target_delete(struct api__req *r);
void api__h_deploy_create(struct api__req *r);
void api__h_deploy_list(struct api__req *r);

/* ---- helpers of the resource handlers (resource.c) ---- */
#define API__NAME_MAX 64
/* 1 to API__NAME_MAX of A-Z a-z 0-9 . _ - @ (names of channels, targets,
 * scans, users). */
bool api__name_ok(const char *s);
/* Sets key to the RFC 3339 text of t, or null when t is 0. */
int api__json_time(json_t *o, const char *key, int64_t t);
/* The {..} path parameter i as a row id (1 to 18 digits, no sign); false
 * (and a 404 "no such WHAT" sent, as for an absent row) otherwise. */
bool api__param_id(struct api__req *r, int i, const char *what, int64_t *id);
/* 404 "no such WHAT" when err is NOTFOUND, else the problem for err. */
void api__problem_absent(struct api__req *r, const struct aclm_err *err, const char *what);
/* 202 {job_id, created, location} with Location: /api/v1/jobs/ID (a job
 * queued, or the same job already queued or running when !created). */
void api__reply_job(struct api__req *r, int64_t job_id, bool created);
/* An option key that carries a secret itself ("password", "secret",
 * "token", ...) rather than naming its file ("..._file", "..._path"). */
bool api__secret_inline(const char *key);
struct store_job;
/* A job as the API shows it (h_jobs.c). */
json_t *api__job_json(const struct store_job *j);

/* The OpenAPI document, generated at build time from docs/openapi.json. */
extern const unsigned char api__openapi_json[];
extern const size_t api__openapi_json_len;

#endif
