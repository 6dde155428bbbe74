/* api/dispatch: one request from evhttp to a handler: parse the target,
 * route, authenticate (bearer token, or session cookie + CSRF token for
 * unsafe methods), authorize by role and scope, run the handler, count it
 * and log one line (never tokens or bodies). */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ca/ca.h"
#include "core/log.h"
#include "core/time.h"

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool unsafe_method(int m)
{
	return m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD && m != EVHTTP_REQ_OPTIONS;
}

static bool check_failed(struct api__req *r, const struct aclm_err *err, int status,
			 const char *slug, const char *detail)
{
	if (err->code == ACLM_ERR_PASSWORD || err->code == ACLM_ERR_NOTFOUND)
		api__problem(r, status, slug, "%s", detail);
	else
		api__problem_err(r, err);
	return false;
}

static bool auth_bearer(struct api__req *r, const char *authz)
{
	struct aclm_err err = { 0 };
	const char *tok = authz + 7;

	if (strncasecmp(authz, "Bearer ", 7) != 0) {
		api__problem(r, 401, "unauthorized", "use Authorization: Bearer TOKEN");
		return false;
	}
	while (*tok == ' ')
		tok++;
	if (strlen(tok) >= AUTH_TOKEN_MAX) {
		api__problem(r, 401, "unauthorized", "invalid or expired token");
		return false;
	}
	if (auth_token_check(r->w->store, tok, r->now, &r->p, &err) != ACLM_OK)
		return check_failed(r, &err, 401, "unauthorized", "invalid or expired token");
	return true;
}

/* A session authenticates safe methods; unsafe ones also need the
 * session's CSRF token in X-CSRF-Token (a cross-site form cannot set it). */
static bool auth_cookie(struct api__req *r, const char *sess)
{
	struct aclm_err err = { 0 };
	const char *csrf = api__req_header(r, "X-CSRF-Token");

	if (auth_session_check(r->w->store, sess, NULL, r->now, &r->p, &err) != ACLM_OK)
		return check_failed(r, &err, 401, "unauthorized", "invalid or expired session");
	if (!unsafe_method(r->method))
		return true;
	if (csrf == NULL || strlen(csrf) >= AUTH_CSRF_MAX) {
		api__problem(r, 403, "csrf", "missing or invalid X-CSRF-Token");
		return false;
	}
	if (auth_session_check(r->w->store, sess, csrf, r->now, &r->p, &err) != ACLM_OK)
		return check_failed(r, &err, 403, "csrf", "missing or invalid X-CSRF-Token");
	return true;
}

static bool authenticate(struct api__req *r)
{
	const char *authz = api__req_header(r, "Authorization");
	char sess[AUTH_SESSION_MAX];

	if (authz != NULL)
		return auth_bearer(r, authz);
	if (api__cookie(r, "aclm_session", sess, sizeof(sess)))
		return auth_cookie(r, sess);
	api__problem(r, 401, "unauthorized", "authentication required: Authorization: Bearer TOKEN");
	return false;
}

/* Metrics tokens read /metrics and nothing else; /metrics otherwise needs
 * an admin. */
static bool authorize(struct api__req *r)
{
	const struct api__route *rt = r->route;
	bool metrics_route = (rt->flags & API__METRICS_SCOPE) != 0;

	if (r->p.scope == AUTH_SCOPE_METRICS && !metrics_route) {
		api__problem(r, 403, "forbidden", "a metrics token can only read /metrics");
		return false;
	}
	if (metrics_route && r->p.scope == AUTH_SCOPE_METRICS)
		return true;
	if (!auth_allows(&r->p, rt->action)) {
		api__problem(r, 403, "forbidden", "role %s may not do this",
			     auth_role_name(r->p.role));
		return false;
	}
	return true;
}

static bool parse_target(struct api__req *r)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r->ev);
	const char *raw = u != NULL ? evhttp_uri_get_path(u) : NULL, *q;
	char *dec = NULL;
	size_t len = 0;
	bool ok = false;

	if (raw == NULL || strlen(raw) >= API__PATH_MAX) {
		api__problem(r, raw == NULL ? 400 : 404, "not-found", "no such resource");
		goto out;
	}
	dec = evhttp_uridecode(raw, 0, &len);
	if (dec == NULL || len >= API__PATH_MAX || strlen(dec) != len) {
		api__problem(r, 400, "malformed", "malformed path");
		goto out;
	}
	memcpy(r->path, dec, len + 1);
	q = evhttp_uri_get_query(u);
	if (q != NULL && evhttp_parse_query_str(q, &r->query) != 0) {
		api__problem(r, 400, "malformed", "malformed query string");
		goto out;
	}
	ok = true;
out:
	free(dec);
	return ok;
}

static void route(struct api__req *r)
{
	unsigned allow = 0;
	char methods[64];

	r->route = api__route_find(api__routes, api__routes_n, r->method, r->path, r->params,
				   &r->nparams, &allow);
	if (r->route == NULL && allow != 0) {
		api__allow_header(allow, methods, sizeof(methods));
		api__header(r, "Allow", methods);
		api__problem(r, 405, "method-not-allowed", "%s is not allowed here; use %s",
			     api__method_name(r->method), methods);
		return;
	}
	if (r->route == NULL) {
		api__problem(r, 404, "not-found", "no such resource");
		return;
	}
	if ((r->route->flags & API__PUBLIC) == 0 && (!authenticate(r) || !authorize(r)))
		return;
	r->inv = (struct inventory){ .store = r->w->store,
				     .ks = r->w->ks,
				     .tenant_id = r->p.tenant_id,
				     .tenant = r->p.tenant,
				     .actor = r->p.actor,
				     .max_file_bytes = API__MAX_BODY };
	r->route->fn(r);
}

static void peer_of(struct api__req *r)
{
	struct evhttp_connection *c = evhttp_request_get_connection(r->ev);
	char *addr = NULL;
	ev_uint16_t port = 0;

	snprintf(r->peer, sizeof(r->peer), "-");
	if (c != NULL)
		evhttp_connection_get_peer(c, &addr, &port);
	if (addr != NULL)
		snprintf(r->peer, sizeof(r->peer), "%s", addr);
}

/* aclm's own ACME CA at /acme/ (`aclm serve` with [ca] enabled): its web
 * front end does its own JWS authentication, problems and logging. */
static bool acme_request(struct evhttp_request *ev, struct api__worker *w)
{
	const char *uri = evhttp_request_get_uri(ev);

	if (w->srv->o.ca == NULL || uri == NULL || strncmp(uri, "/acme/", 6) != 0)
		return false;
	ca_embedded_handle(w->srv->o.ca, w->index, ev);
	return true;
}

void api__on_request(struct evhttp_request *ev, void *arg)
{
	struct api__worker *w = arg;
	struct api__req *r;
	int64_t t0 = mono_us(), dt;

	if (acme_request(ev, w))
		return;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		evhttp_send_error(ev, 503, NULL);
		return;
	}
	TAILQ_INIT(&r->query);
	r->ev = ev;
	r->w = w;
	r->method = (int)evhttp_request_get_command(ev);
	r->now = aclm_time_now();
	peer_of(r);
	if (parse_target(r))
		route(r);
	if (r->status == 0)
		api__problem(r, 500, "internal", "no answer");
	dt = mono_us() - t0;
	api__metrics_observe(&w->srv->http, r->route != NULL ? r->route->cls : API__C_OTHER,
			     r->status, dt);
	log_info("api: %s %s %d %lldus peer=%s actor=%s", api__method_name(r->method),
		 r->path[0] != '\0' ? r->path : "-", r->status, (long long)dt, r->peer,
		 r->p.actor[0] != '\0' ? r->p.actor : "-");
	evhttp_clear_headers(&r->query);
	free(r);
}
