/* api/: the resources beyond certificates and identities, through a real
 * server in-process: endpoints (pages, last observation, inventory status,
 * drift), scans (checked before storing, no @FILE, update by name, runs
 * queued as jobs), jobs, orders (issue and renew jobs, revoke without a
 * certificate), channels (no inline secrets, CRUD, failing test send),
 * targets (the installation's admins only) and deployments (deploy jobs).
 * Every one is checked for tenant isolation: another tenant's row answers
 * byte for byte as an absent one. tests/integration/test_api_resources.sh
 * runs the jobs against real peers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "api/api.h"
#include "auth/auth.h"
#include "inventory/inventory.h"
#include "store/store.h"
#include "store/store_scan.h"
#include "store/store_sched.h"
#include "testsupport.h"

#define BODY_MAX (256 * 1024)

struct got {
	long status;
	char *body;
	size_t len;
	char location[256];
	json_t *json;
};

static void got_free(struct got *g)
{
	free(g->body);
	json_decref(g->json);
	memset(g, 0, sizeof(*g));
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct got *g = arg;
	size_t len = size * n;

	if (g->len + len > BODY_MAX)
		return 0;
	memcpy(g->body + g->len, p, len);
	g->len += len;
	g->body[g->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct got *g = arg;
	size_t len = size * n;

	if (len > 10 && strncasecmp(p, "Location: ", 10) == 0)
		snprintf(g->location, sizeof(g->location), "%.*s", (int)(len - 12), p + 10);
	return len;
}

struct env {
	struct ts_home h;
	struct api_server *srv;
	int port;
	int64_t tenant_b;
	char viewer[AUTH_TOKEN_MAX], operator_[AUTH_TOKEN_MAX], other[AUTH_TOKEN_MAX];
	char admin[AUTH_TOKEN_MAX];
};

/* METHOD path with token and an optional JSON body; the answer in g. */
static void call(const struct env *e, const char *method, const char *path, const char *token,
		 const char *json_body, struct got *g)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[512], authz[AUTH_TOKEN_MAX + 32];

	memset(g, 0, sizeof(*g));
	g->body = calloc(1, BODY_MAX + 1);
	assert_non_null(g->body);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", e->port, path);
	snprintf(authz, sizeof(authz), "Authorization: Bearer %s", token);
	hdrs = curl_slist_append(hdrs, authz);
	if (json_body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, g);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
	g->json = json_loadb(g->body, g->len, 0, NULL);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

static void token(struct env *e, int64_t tenant, enum auth_role role, char out[AUTH_TOKEN_MAX])
{
	struct auth_token_req t = { .tenant_id = tenant, .name = "t", .role = role,
				    .scope = AUTH_SCOPE_API };
	struct aclm_err err = { 0 };
	char id[32];

	if (auth_token_create(e->h.store, &t, out, id, &err) != ACLM_OK)
		fail_msg("auth_token_create: %s", err.msg);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct api_opts o = { .db = "sqlite:aclm.db", .workers = 2 };
	struct aclm_err err = { 0 };
	char listen[32];

	assert_non_null(e);
	assert_int_equal(ts_home_open(&e->h, "api-res"), 0);
	assert_int_equal(store_tenant_ensure(e->h.store, "other", &e->tenant_b, &err), ACLM_OK);
	token(e, e->h.tenant, AUTH_ROLE_VIEWER, e->viewer);
	token(e, e->h.tenant, AUTH_ROLE_OPERATOR, e->operator_);
	token(e, e->tenant_b, AUTH_ROLE_ADMIN, e->other);
	token(e, e->h.tenant, AUTH_ROLE_ADMIN, e->admin);
	e->port = ts_free_port(SOCK_STREAM);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", e->port);
	o.home = e->h.dir;
	o.listen = listen;
	if (api_server_start(&o, &e->srv, &err) != ACLM_OK)
		fail_msg("api_server_start: %s", err.msg);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	api_server_stop(e->srv);
	assert_int_equal(ts_home_close(&e->h), 0);
	free(e);
	return 0;
}

/* A self-signed P-256 leaf for name, added to the tenant's inventory with
 * source; its row id and fingerprint. */
static int64_t add_leaf(struct env *e, int64_t tenant, const char *name, const char *source,
			char fp[65])
{
	struct inventory inv = { .store = e->h.store, .ks = e->h.ks, .tenant_id = tenant,
				 .tenant = "t", .actor = "test" };
	struct inventory_import_opts io = { .source = source };
	struct aclm_err err = { 0 };
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char md[32];
	unsigned int mdlen = 0;
	int64_t id = 0;
	static long serial = 1;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 30 * 86400);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	X509_digest(x, EVP_sha256(), md, &mdlen);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(fp + 2 * i, 3, "%02x", md[i]);
	assert_int_equal(store_begin(e->h.store, &err), ACLM_OK);
	if (inventory_add_cert(&inv, x, &io, &id, &err) != ACLM_OK)
		fail_msg("inventory_add_cert: %s", err.msg);
	assert_int_equal(store_commit(e->h.store, &err), ACLM_OK);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
	return id;
}

static int64_t add_endpoint(struct env *e, int64_t tenant, const char *host, int port,
			    int64_t seen)
{
	struct store_scan_endpoint ep = { .tenant_id = tenant, .port = port, .last_seen = seen };
	struct aclm_err err = { 0 };
	int64_t id = 0;

	snprintf(ep.host, sizeof(ep.host), "%s", host);
	snprintf(ep.ip, sizeof(ep.ip), "127.0.0.1");
	assert_int_equal(store_scan_endpoint_upsert(e->h.store, &ep, &id, &err), ACLM_OK);
	return id;
}

static void observe(struct env *e, int64_t tenant, int64_t endpoint, int64_t cert, int64_t at)
{
	struct store_scan_observation o = { .tenant_id = tenant, .endpoint_id = endpoint,
					    .cert_id = cert, .observed_at = at };
	struct aclm_err err = { 0 };
	int64_t id;

	snprintf(o.ip, sizeof(o.ip), "127.0.0.1");
	assert_int_equal(store_scan_observation_add(e->h.store, &o, &id, &err), ACLM_OK);
}

/* Another tenant's row and an absent one: same status, same bytes. */
static void assert_looks_absent(struct env *e, const char *method, const char *theirs,
				const char *absent, const char *body)
{
	struct got a, b;

	call(e, method, theirs, e->other, body, &a);
	call(e, method, absent, e->other, body, &b);
	if (a.status != 404 || b.status != 404 || strcmp(a.body, b.body) != 0)
		fail_msg("%s %s: %ld %s vs absent %ld %s", method, theirs, a.status, a.body, b.status,
			 b.body);
	got_free(&a);
	got_free(&b);
}

static const char *str_at(const json_t *j, const char *path)
{
	char buf[128], *save = NULL;
	const json_t *v = j;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k != NULL && v != NULL;
	     k = strtok_r(NULL, ".", &save)) {
		char *end;
		long idx = strtol(k, &end, 10);

		v = *end == '\0' && json_is_array(v) ? json_array_get(v, (size_t)idx)
						     : json_object_get(v, k);
	}
	return json_string_value(v);
}

/* ---- endpoints ---- */

static void test_endpoints_page_with_last_observation_in_own_tenant(void **state)
{
	struct env *e = *state;
	char fp_known[65], fp_scan[65], path[256], cursor[128];
	int64_t c_known = add_leaf(e, e->h.tenant, "known.test", "import", fp_known);
	int64_t c_scan = add_leaf(e, e->h.tenant, "ghost.test", "scan", fp_scan);
	int64_t e1 = add_endpoint(e, e->h.tenant, "known.test", 443, 1000);
	int64_t e2 = add_endpoint(e, e->h.tenant, "ghost.test", 443, 1000);
	int64_t e3 = add_endpoint(e, e->h.tenant, "silent.test", 443, 1000);
	int64_t eb = add_endpoint(e, e->tenant_b, "known.test", 443, 1000);
	struct got g;

	(void)e3;
	observe(e, e->h.tenant, e1, c_known, 1000);
	observe(e, e->h.tenant, e2, c_scan, 1000);
	observe(e, e->tenant_b, eb, 0, 1000);
	call(e, "GET", "/api/v1/endpoints?limit=2", e->viewer, NULL, &g);
	assert_int_equal(g.status, 200);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 2);
	assert_string_equal(str_at(g.json, "items.0.host"), "known.test");
	assert_string_equal(str_at(g.json, "items.0.last_observation.fingerprint_sha256"),
			    fp_known);
	assert_string_equal(str_at(g.json, "items.0.last_observation.inventory_status"), "known");
	assert_string_equal(str_at(g.json, "items.1.last_observation.inventory_status"), "unknown");
	assert_non_null(str_at(g.json, "next_cursor"));
	snprintf(cursor, sizeof(cursor), "%s", str_at(g.json, "next_cursor"));
	got_free(&g);
	snprintf(path, sizeof(path), "/api/v1/endpoints?limit=2&cursor=%s", cursor);
	call(e, "GET", path, e->viewer, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 1);
	assert_string_equal(str_at(g.json, "items.0.host"), "silent.test");
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(g.json, "items"), 0),
						 "last_observation")));
	assert_true(json_is_null(json_object_get(g.json, "next_cursor")));
	got_free(&g);
	/* The other tenant lists its own endpoint only. */
	call(e, "GET", "/api/v1/endpoints", e->other, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 1);
	assert_string_equal(str_at(g.json, "items.0.last_observation.inventory_status"), "none");
	got_free(&g);
	snprintf(path, sizeof(path), "/api/v1/endpoints/%lld", (long long)e1);
	assert_looks_absent(e, "GET", path, "/api/v1/endpoints/999999", NULL);
	assert_looks_absent(e, "GET", path, "/api/v1/endpoints/0x1", NULL);
}

static void test_endpoint_shows_observations_newest_first_with_drift(void **state)
{
	struct env *e = *state;
	char fp1[65], fp2[65], path[128];
	int64_t c1 = add_leaf(e, e->h.tenant, "drift.test", "import", fp1);
	int64_t c2 = add_leaf(e, e->h.tenant, "drift.test", "import", fp2);
	int64_t ep = add_endpoint(e, e->h.tenant, "drift.test", 8443, 2000);
	struct got g;

	observe(e, e->h.tenant, ep, c1, 2000);
	observe(e, e->h.tenant, ep, c1, 2100);
	observe(e, e->h.tenant, ep, c2, 2200);
	snprintf(path, sizeof(path), "/api/v1/endpoints/%lld", (long long)ep);
	call(e, "GET", path, e->viewer, NULL, &g);
	assert_int_equal(g.status, 200);
	assert_int_equal(json_array_size(json_object_get(g.json, "observations")), 3);
	assert_string_equal(str_at(g.json, "observations.0.fingerprint_sha256"), fp2);
	assert_string_equal(str_at(g.json, "observations.0.inventory_status"), "drift");
	assert_string_equal(str_at(g.json, "observations.1.inventory_status"), "known");
	assert_string_equal(str_at(g.json, "observations.2.inventory_status"), "known");
	assert_string_equal(str_at(g.json, "last_observation.inventory_status"), "drift");
	got_free(&g);
	/* The list judges the last observation the same way. */
	call(e, "GET", "/api/v1/endpoints?limit=1000", e->viewer, NULL, &g);
	{
		json_t *items = json_object_get(g.json, "items"), *it;
		size_t i;
		bool seen = false;

		json_array_foreach(items, i, it)
			if (strcmp(json_string_value(json_object_get(it, "host")), "drift.test") == 0) {
				seen = true;
				assert_string_equal(str_at(it, "last_observation.inventory_status"),
						    "drift");
			}
		assert_true(seen);
	}
	got_free(&g);
}

/* ---- scans and jobs ---- */

static void expect_status(struct env *e, const char *method, const char *path, const char *tok,
			  const char *body, long status, const char *needle)
{
	struct got g;

	call(e, method, path, tok, body, &g);
	if (g.status != status || (needle != NULL && strstr(g.body, needle) == NULL))
		fail_msg("%s %s %s: %ld %s (wanted %ld with %s)", method, path,
			 body != NULL ? body : "", g.status, g.body, status,
			 needle != NULL ? needle : "-");
	got_free(&g);
}

static void test_scan_definitions_are_checked_before_storing(void **state)
{
	struct env *e = *state;

	/* A client must not make the server read its files. */
	expect_status(e, "POST", "/api/v1/scans", e->operator_, "{\"targets\": [\"@/etc/passwd\"]}",
		      400, "@FILE");
	expect_status(e, "POST", "/api/v1/scans", e->operator_, "{\"targets\": []}", 400,
		      "targets");
	expect_status(e, "POST", "/api/v1/scans", e->operator_,
		      "{\"targets\": [\"127.0.0.1\"], \"ports\": \"99999\"}", 400, NULL);
	expect_status(e, "POST", "/api/v1/scans", e->operator_,
		      "{\"targets\": [\"127.0.0.1\"], \"checks\": \"bogus\"}", 400, "bogus");
	expect_status(e, "POST", "/api/v1/scans", e->operator_,
		      "{\"targets\": [\"127.0.0.1\"], \"interval\": 5}", 400, "interval");
	expect_status(e, "POST", "/api/v1/scans", e->operator_,
		      "{\"targets\": [\"10.0.0.0/8\"], \"ports\": \"443\"}", 400, "endpoints");
	expect_status(e, "POST", "/api/v1/scans", e->operator_,
		      "{\"name\": \"a b\", \"targets\": [\"127.0.0.1\"]}", 400, "name");
	expect_status(e, "POST", "/api/v1/scans", e->viewer, "{\"targets\": [\"127.0.0.1\"]}", 403,
		      "forbidden");
}

static void test_scans_create_update_run_and_stay_in_their_tenant(void **state)
{
	struct env *e = *state;
	struct store_scandef cfg = { .tenant_id = e->h.tenant, .name = "fromconf", .origin = "config" };
	struct aclm_err err = { 0 };
	char path[128], other[128], jobpath[128], id[24], job[24];
	int64_t cfg_id = 0;
	struct got g;

	call(e, "POST", "/api/v1/scans", e->operator_,
	     "{\"name\": \"web\", \"targets\": [\"127.0.0.1\", \"localhost:8443\"],"
	     " \"ports\": 443, \"interval\": \"6h\", \"checks\": \"cert\"}", &g);
	assert_int_equal(g.status, 201);
	assert_string_equal(str_at(g.json, "name"), "web");
	assert_string_equal(str_at(g.json, "ports"), "443");
	assert_string_equal(str_at(g.json, "origin"), "api");
	assert_int_equal(json_integer_value(json_object_get(g.json, "interval")), 6 * 3600);
	snprintf(id, sizeof(id), "%s", str_at(g.json, "id"));
	got_free(&g);
	/* The same name updates the same row. */
	call(e, "POST", "/api/v1/scans", e->operator_,
	     "{\"name\": \"web\", \"targets\": [\"127.0.0.2\"]}", &g);
	assert_int_equal(g.status, 200);
	assert_string_equal(str_at(g.json, "id"), id);
	assert_string_equal(str_at(g.json, "targets.0"), "127.0.0.2");
	got_free(&g);
	/* A [scan.NAME] of the configuration is not the API's to change. */
	cfg.targets = json_pack("[s]", "127.0.0.1");
	assert_int_equal(store_scandef_put(e->h.store, &cfg, 1, &cfg_id, &err), ACLM_OK);
	json_decref(cfg.targets);
	expect_status(e, "POST", "/api/v1/scans", e->operator_,
		      "{\"name\": \"fromconf\", \"targets\": [\"127.0.0.1\"]}", 409, "configuration");
	call(e, "GET", "/api/v1/scans?limit=1", e->viewer, NULL, &g);
	assert_int_equal(g.status, 200);
	assert_string_equal(str_at(g.json, "items.0.name"), "web");
	assert_non_null(str_at(g.json, "next_cursor"));
	got_free(&g);
	snprintf(path, sizeof(path), "/api/v1/scans/%s/run", id);
	call(e, "POST", path, e->operator_, NULL, &g);
	assert_int_equal(g.status, 202);
	snprintf(job, sizeof(job), "%s", str_at(g.json, "job_id"));
	snprintf(jobpath, sizeof(jobpath), "/api/v1/jobs/%s", job);
	assert_string_equal(g.location, jobpath);
	assert_true(json_is_true(json_object_get(g.json, "created")));
	got_free(&g);
	/* Queued already: the same job, not a second one. */
	call(e, "POST", path, e->operator_, NULL, &g);
	assert_int_equal(g.status, 202);
	assert_string_equal(str_at(g.json, "job_id"), job);
	assert_true(json_is_false(json_object_get(g.json, "created")));
	got_free(&g);
	call(e, "GET", jobpath, e->viewer, NULL, &g);
	assert_int_equal(g.status, 200);
	assert_string_equal(str_at(g.json, "kind"), "scan");
	assert_string_equal(str_at(g.json, "state"), "queued");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(g.json, "payload"),
							    "scan_id")),
			 strtoll(id, NULL, 10));
	got_free(&g);
	call(e, "GET", "/api/v1/jobs?state=queued", e->viewer, NULL, &g);
	assert_string_equal(str_at(g.json, "items.0.id"), job);
	got_free(&g);
	expect_status(e, "GET", "/api/v1/jobs?state=bogus", e->viewer, NULL, 400, "state");
	expect_status(e, "POST", path, e->viewer, NULL, 403, "forbidden");
	/* The other tenant sees none of it. */
	call(e, "GET", "/api/v1/scans", e->other, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 0);
	got_free(&g);
	call(e, "GET", "/api/v1/jobs", e->other, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 0);
	got_free(&g);
	snprintf(path, sizeof(path), "/api/v1/scans/%s", id);
	assert_looks_absent(e, "GET", path, "/api/v1/scans/987654", NULL);
	snprintf(path, sizeof(path), "/api/v1/scans/%s/run", id);
	assert_looks_absent(e, "POST", path, "/api/v1/scans/987654/run", NULL);
	snprintf(path, sizeof(path), "/api/v1/scans/%s/runs", id);
	assert_looks_absent(e, "GET", path, "/api/v1/scans/987654/runs", NULL);
	snprintf(other, sizeof(other), "/api/v1/scans/%lld", (long long)cfg_id);
	assert_looks_absent(e, "GET", other, "/api/v1/scans/987654", NULL);
	assert_looks_absent(e, "GET", jobpath, "/api/v1/jobs/987654", NULL);
	/* Runs: newest first. */
	{
		int64_t run1 = 0, run2 = 0;
		struct store_scanrun fin = { .tenant_id = e->h.tenant, .state = "done",
					     .finished_at = 20, .endpoints = 2, .reachable = 1 };

		assert_int_equal(store_scanrun_start(e->h.store, e->h.tenant, strtoll(id, NULL, 10),
						     10, &run1, &err), ACLM_OK);
		fin.id = run1;
		assert_int_equal(store_scanrun_finish(e->h.store, &fin, &err), ACLM_OK);
		assert_int_equal(store_scanrun_start(e->h.store, e->h.tenant, strtoll(id, NULL, 10),
						     30, &run2, &err), ACLM_OK);
		call(e, "GET", path, e->viewer, NULL, &g);
		assert_int_equal(g.status, 200);
		assert_int_equal(json_array_size(json_object_get(g.json, "items")), 2);
		assert_string_equal(str_at(g.json, "items.0.state"), "running");
		assert_string_equal(str_at(g.json, "items.1.state"), "done");
		got_free(&g);
	}
}

/* ---- orders ---- */

static void test_orders_queue_issue_jobs_and_stay_in_their_tenant(void **state)
{
	struct env *e = *state;
	struct store_lineage l = { .tenant_id = e->h.tenant, .name = "have.test",
				   .server = "https://acme.test/dir", .key_type = "p256" };
	struct aclm_err err = { 0 };
	char jobpath[128];
	int64_t id = 0;
	struct got g;

	l.names = json_pack("[s]", "have.test");
	l.options = json_pack("{s:s}", "challenge", "http-01");
	assert_int_equal(store_lineage_put(e->h.store, &l, &id, &err), ACLM_OK);
	json_decref(l.names);
	json_decref(l.options);
	/* No [acme] server in this server's configuration: the order must name one. */
	expect_status(e, "POST", "/api/v1/orders", e->operator_,
		      "{\"names\": [\"new.test\"]}", 400, "server");
	expect_status(e, "POST", "/api/v1/orders", e->operator_,
		      "{\"names\": [\"new.test\"], \"server\": \"http://plain.test/\"}", 400,
		      "server");
	expect_status(e, "POST", "/api/v1/orders", e->operator_,
		      "{\"names\": [\"a b\"], \"server\": \"https://acme.test/dir\"}", 400, NULL);
	expect_status(e, "POST", "/api/v1/orders", e->operator_,
		      "{\"names\": [\"x.test\"], \"server\": \"https://acme.test/dir\","
		      " \"key_type\": \"rsa1\"}", 400, "key_type");
	expect_status(e, "POST", "/api/v1/orders", e->viewer,
		      "{\"names\": [\"new.test\"], \"server\": \"https://acme.test/dir\"}", 403,
		      "forbidden");
	expect_status(e, "POST", "/api/v1/orders", e->operator_,
		      "{\"names\": [\"have.test\"], \"server\": \"https://acme.test/dir\"}", 409,
		      "renew");
	call(e, "POST", "/api/v1/orders", e->operator_,
	     "{\"names\": [\"WWW.New.Test\", \"new.test\"], \"server\": \"https://acme.test/dir\","
	     " \"key_type\": \"p384\", \"challenge\": \"dns-01\"}", &g);
	assert_int_equal(g.status, 202);
	snprintf(jobpath, sizeof(jobpath), "/api/v1/jobs/%s", str_at(g.json, "job_id"));
	got_free(&g);
	call(e, "GET", jobpath, e->viewer, NULL, &g);
	assert_string_equal(str_at(g.json, "kind"), "issue");
	assert_string_equal(str_at(g.json, "key"), "www.new.test");
	assert_string_equal(str_at(g.json, "payload.names.0"), "www.new.test");
	assert_string_equal(str_at(g.json, "payload.key_type"), "p384");
	assert_string_equal(str_at(g.json, "payload.challenge"), "dns-01");
	got_free(&g);
	/* The order exists once its job ran; until then a second is the same job. */
	call(e, "POST", "/api/v1/orders", e->operator_,
	     "{\"names\": [\"www.new.test\"], \"server\": \"https://acme.test/dir\"}", &g);
	assert_int_equal(g.status, 202);
	assert_true(json_is_false(json_object_get(g.json, "created")));
	got_free(&g);
	call(e, "GET", "/api/v1/orders/have.test", e->viewer, NULL, &g);
	assert_int_equal(g.status, 200);
	assert_true(json_is_null(json_object_get(g.json, "cert_id")));
	assert_string_equal(str_at(g.json, "renewal.why"), "no certificate yet");
	got_free(&g);
	call(e, "POST", "/api/v1/orders/have.test/renew", e->operator_, NULL, &g);
	assert_int_equal(g.status, 202);
	snprintf(jobpath, sizeof(jobpath), "/api/v1/jobs/%s", str_at(g.json, "job_id"));
	got_free(&g);
	call(e, "GET", jobpath, e->viewer, NULL, &g);
	assert_string_equal(str_at(g.json, "kind"), "renew");
	assert_string_equal(str_at(g.json, "payload.lineage"), "have.test");
	got_free(&g);
	expect_status(e, "POST", "/api/v1/orders/have.test/revoke", e->operator_, NULL, 409,
		      "no current certificate");
	call(e, "GET", "/api/v1/orders", e->other, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 0);
	got_free(&g);
	assert_looks_absent(e, "GET", "/api/v1/orders/have.test", "/api/v1/orders/nope.test", NULL);
	assert_looks_absent(e, "POST", "/api/v1/orders/have.test/renew",
			    "/api/v1/orders/nope.test/renew", NULL);
	assert_looks_absent(e, "POST", "/api/v1/orders/have.test/revoke",
			    "/api/v1/orders/nope.test/revoke", NULL);
	assert_looks_absent(e, "GET", jobpath, "/api/v1/jobs/987654", NULL);
}

/* ---- channels ---- */

static void test_channels_refuse_inline_secrets_and_stay_in_their_tenant(void **state)
{
	struct env *e = *state;
	char body[512];
	int port = ts_free_port(SOCK_STREAM);
	struct got g;

	expect_status(e, "POST", "/api/v1/channels", e->operator_,
		      "{\"name\": \"m\", \"type\": \"email\", \"params\": {\"smtp_url\":"
		      " \"smtp://127.0.0.1:25\", \"from\": \"a@x.test\", \"to\": \"b@x.test\","
		      " \"password\": \"hunter2\"}}", 400, "never inline");
	expect_status(e, "POST", "/api/v1/channels", e->operator_,
		      "{\"name\": \"w\", \"type\": \"webhook\", \"params\": {\"url\":"
		      " \"http://127.0.0.1:1/\", \"secret\": \"s3cr3t\"}}", 400, "never inline");
	expect_status(e, "POST", "/api/v1/channels", e->operator_,
		      "{\"name\": \"w\", \"type\": \"pager\", \"params\": {}}", 400, NULL);
	expect_status(e, "POST", "/api/v1/channels", e->operator_,
		      "{\"name\": \"w\", \"type\": \"webhook\", \"params\": {\"url\": 5}}", 400,
		      "url");
	snprintf(body, sizeof(body),
		 "{\"name\": \"hook\", \"type\": \"webhook\", \"params\": {\"url\":"
		 " \"http://127.0.0.1:%d/hook\", \"timeout_ms\": \"2000\"}}", port);
	expect_status(e, "POST", "/api/v1/channels", e->viewer, body, 403, "forbidden");
	call(e, "POST", "/api/v1/channels", e->operator_, body, &g);
	assert_int_equal(g.status, 201);
	assert_string_equal(str_at(g.json, "type"), "webhook");
	assert_string_equal(str_at(g.json, "origin"), "api");
	got_free(&g);
	expect_status(e, "POST", "/api/v1/channels", e->operator_, body, 409, NULL);
	call(e, "GET", "/api/v1/channels", e->viewer, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 1);
	got_free(&g);
	/* Nobody listens there: the test send reports the failure. */
	expect_status(e, "POST", "/api/v1/channels/hook/test", e->operator_, NULL, 502, "hook");
	snprintf(body, sizeof(body),
		 "{\"type\": \"webhook\", \"params\": {\"url\": \"http://127.0.0.1:%d/v2\"}}",
		 port);
	call(e, "PUT", "/api/v1/channels/hook", e->operator_, body, &g);
	assert_int_equal(g.status, 200);
	assert_non_null(strstr(str_at(g.json, "params.url"), "/v2"));
	got_free(&g);
	expect_status(e, "PUT", "/api/v1/channels/hook", e->operator_,
		      "{\"type\": \"webhook\", \"params\": {\"url\": \"x\", \"token\": \"t\"}}",
		      400, "never inline");
	/* The other tenant: nothing listed, everything absent, even with a bad body. */
	call(e, "GET", "/api/v1/channels", e->other, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 0);
	got_free(&g);
	assert_looks_absent(e, "GET", "/api/v1/channels/hook", "/api/v1/channels/nope", NULL);
	assert_looks_absent(e, "PUT", "/api/v1/channels/hook", "/api/v1/channels/nope", body);
	assert_looks_absent(e, "PUT", "/api/v1/channels/hook", "/api/v1/channels/nope", "{}");
	assert_looks_absent(e, "DELETE", "/api/v1/channels/hook", "/api/v1/channels/nope", NULL);
	assert_looks_absent(e, "POST", "/api/v1/channels/hook/test", "/api/v1/channels/nope/test",
			    NULL);
	expect_status(e, "GET", "/api/v1/channels/hook", e->viewer, NULL, 200, "/v2");
	expect_status(e, "DELETE", "/api/v1/channels/hook", e->viewer, NULL, 403, "forbidden");
	expect_status(e, "DELETE", "/api/v1/channels/hook", e->operator_, NULL, 204, NULL);
	expect_status(e, "GET", "/api/v1/channels/hook", e->viewer, NULL, 404, "no such channel");
}

/* ---- targets and deployments ---- */

static void test_targets_are_the_installation_admins_and_deployments_queue_jobs(void **state)
{
	struct env *e = *state;
	char body[512], fp[65], jobpath[128];
	int64_t cert = add_leaf(e, e->h.tenant, "deploy.test", "import", fp);
	int64_t cert_b = add_leaf(e, e->tenant_b, "deploy-b.test", "import", fp);
	struct got g;

	snprintf(body, sizeof(body),
		 "{\"name\": \"f\", \"type\": \"file\", \"options\": {\"cert_path\":"
		 " \"%s/cert.pem\"}}", e->h.dir);
	/* Files and commands on this host: not an operator's, nor another tenant's admin's. */
	expect_status(e, "POST", "/api/v1/targets", e->operator_, body, 403, "forbidden");
	expect_status(e, "POST", "/api/v1/targets", e->other, body, 403, "forbidden");
	expect_status(e, "POST", "/api/v1/targets", e->admin,
		      "{\"name\": \"r\", \"type\": \"file\", \"options\": {\"cert_path\":"
		      " \"relative.pem\"}}", 400, NULL);
	expect_status(e, "POST", "/api/v1/targets", e->admin,
		      "{\"name\": \"r\", \"type\": \"ftp\", \"options\": {}}", 400, "type");
	expect_status(e, "POST", "/api/v1/targets", e->admin,
		      "{\"name\": \"r\", \"type\": \"webhook\", \"options\": {\"url\":"
		      " \"https://x.test/\", \"secret\": \"s\"}}", 400, "never inline");
	call(e, "POST", "/api/v1/targets", e->admin, body, &g);
	if (g.status != 201)
		fail_msg("target add: %ld %s", g.status, g.body);
	assert_string_equal(str_at(g.json, "type"), "file");
	got_free(&g);
	expect_status(e, "POST", "/api/v1/targets", e->admin, body, 409, NULL);
	expect_status(e, "GET", "/api/v1/targets/f", e->viewer, NULL, 200, "cert_path");
	call(e, "GET", "/api/v1/targets", e->other, NULL, &g);
	assert_int_equal(json_array_size(json_object_get(g.json, "items")), 0);
	got_free(&g);
	assert_looks_absent(e, "GET", "/api/v1/targets/f", "/api/v1/targets/nope", NULL);
	/* Deployments: the certificate and every target must be the caller's. */
	expect_status(e, "POST", "/api/v1/deployments", e->viewer,
		      "{\"cert\": \"1\", \"targets\": [\"f\"]}", 403, "forbidden");
	snprintf(body, sizeof(body), "{\"cert\": \"%lld\", \"targets\": [\"f\", \"nope\"]}",
		 (long long)cert);
	expect_status(e, "POST", "/api/v1/deployments", e->operator_, body, 404, "no such target");
	snprintf(body, sizeof(body), "{\"cert\": \"%lld\", \"targets\": [\"f\"]}",
		 (long long)cert_b);
	expect_status(e, "POST", "/api/v1/deployments", e->operator_, body, 404,
		      "no such certificate");
	expect_status(e, "POST", "/api/v1/deployments", e->operator_,
		      "{\"lineage\": \"nope\", \"targets\": [\"f\"]}", 404, "no such lineage");
	snprintf(body, sizeof(body), "{\"cert\": \"%lld\", \"targets\": [\"f\"]}",
		 (long long)cert);
	assert_looks_absent(e, "POST", "/api/v1/deployments",
			    "/api/v1/deployments", "{\"cert\": \"987654\", \"targets\": [\"f\"]}");
	call(e, "POST", "/api/v1/deployments", e->other, body, &g);
	assert_int_equal(g.status, 404);
	got_free(&g);
	call(e, "POST", "/api/v1/deployments", e->operator_, body, &g);
	assert_int_equal(g.status, 202);
	snprintf(jobpath, sizeof(jobpath), "/api/v1/jobs/%s", str_at(g.json, "job_id"));
	got_free(&g);
	call(e, "GET", jobpath, e->viewer, NULL, &g);
	assert_string_equal(str_at(g.json, "kind"), "deploy");
	assert_string_equal(str_at(g.json, "payload.targets.0"), "f");
	got_free(&g);
	expect_status(e, "GET", "/api/v1/deployments", e->viewer, NULL, 200, "items");
	expect_status(e, "DELETE", "/api/v1/targets/f", e->operator_, NULL, 403, "forbidden");
	expect_status(e, "DELETE", "/api/v1/targets/f", e->admin, NULL, 204, NULL);
	expect_status(e, "GET", "/api/v1/targets/f", e->viewer, NULL, 404, NULL);
}

/* ---- cursor pages of jobs and alerts ---- */

/* Walks path (a list with ?limit=) page by page: the ids, in order. */
static size_t walk(struct env *e, const char *path, const char *tok, char ids[][24], size_t max)
{
	char url[512], cursor[128] = "";
	size_t n = 0;

	for (int pages = 0; pages < 100; pages++) {
		struct got g;
		json_t *items, *it;
		size_t i;

		snprintf(url, sizeof(url), "%s%s%s", path, cursor[0] != '\0' ? "&cursor=" : "", cursor);
		call(e, "GET", url, tok, NULL, &g);
		assert_int_equal(g.status, 200);
		items = json_object_get(g.json, "items");
		json_array_foreach(items, i, it) {
			json_t *id = json_object_get(it, "id");

			assert_true(n < max);
			if (json_is_integer(id))
				snprintf(ids[n++], 24, "%lld", (long long)json_integer_value(id));
			else
				snprintf(ids[n++], 24, "%s", json_string_value(id));
		}
		if (json_is_null(json_object_get(g.json, "next_cursor"))) {
			got_free(&g);
			return n;
		}
		snprintf(cursor, sizeof(cursor), "%s", str_at(g.json, "next_cursor"));
		got_free(&g);
	}
	fail_msg("%s: no last page", path);
	return 0;
}

static void test_jobs_and_alerts_walk_in_cursor_pages_newest_first(void **state)
{
	struct env *e = *state;
	struct aclm_err err = { 0 };
	char one[64][24], all[64][24];
	size_t n1, n2;

	for (int i = 0; i < 5; i++) {
		char object[32];
		struct store_alert a = { .tenant_id = e->h.tenant, .kind = "expiry", .object = object,
					 .dedupe = "30d", .severity = "medium", .message = "m",
					 .created_at = 100 + i };
		struct store_alert b = a;
		bool created;

		snprintf(object, sizeof(object), "cert:%d", i);
		b.tenant_id = e->tenant_b;
		assert_int_equal(store_alert_raise(e->h.store, &a, NULL, &created, &err), ACLM_OK);
		assert_int_equal(store_alert_raise(e->h.store, &b, NULL, &created, &err), ACLM_OK);
	}
	n1 = walk(e, "/api/v1/alerts?limit=2", e->viewer, one, 64);
	n2 = walk(e, "/api/v1/alerts?limit=1000", e->viewer, all, 64);
	assert_int_equal(n1, 5);
	assert_int_equal(n2, 5);
	for (size_t i = 0; i < n1; i++) {
		assert_string_equal(one[i], all[i]);
		if (i > 0)
			assert_true(strtoll(one[i], NULL, 10) < strtoll(one[i - 1], NULL, 10));
	}
	/* The jobs the earlier tests queued, one per page, and by state. */
	n1 = walk(e, "/api/v1/jobs?limit=1", e->viewer, one, 64);
	n2 = walk(e, "/api/v1/jobs?limit=1000", e->viewer, all, 64);
	assert_true(n1 >= 4);
	assert_int_equal(n1, n2);
	for (size_t i = 0; i < n1; i++)
		assert_string_equal(one[i], all[i]);
	n1 = walk(e, "/api/v1/jobs?limit=1&state=queued", e->viewer, one, 64);
	assert_int_equal(n1, n2);
	n1 = walk(e, "/api/v1/jobs?limit=1&state=done", e->viewer, one, 64);
	assert_int_equal(n1, 0);
	expect_status(e, "GET", "/api/v1/jobs?cursor=bogus", e->viewer, NULL, 400, "cursor");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints_page_with_last_observation_in_own_tenant),
		cmocka_unit_test(test_endpoint_shows_observations_newest_first_with_drift),
		cmocka_unit_test(test_scan_definitions_are_checked_before_storing),
		cmocka_unit_test(test_scans_create_update_run_and_stay_in_their_tenant),
		cmocka_unit_test(test_orders_queue_issue_jobs_and_stay_in_their_tenant),
		cmocka_unit_test(test_channels_refuse_inline_secrets_and_stay_in_their_tenant),
		cmocka_unit_test(test_targets_are_the_installation_admins_and_deployments_queue_jobs),
		cmocka_unit_test(test_jobs_and_alerts_walk_in_cursor_pages_newest_first),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
