/* ca/wfe_order: orders and authorizations (RFC 8555 §7.4, §7.5): newOrder
 * with identifier checks, tenant patterns, profiles and ARI "replaces";
 * authorization reuse; challenges handed to the VA; the order's state
 * derived from its authorizations. Finalize is in wfe_finalize.c. */
#include "ca/wfe.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/dnsname.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

#define TOKEN_BYTES 32

/* ---- identifiers ---- */

/* RFC 1123 §2.1 labels (core/dnsname), total <= 253, at least two labels.
 * Lowercases s. */
static bool dns_name_ok(char *s)
{
	size_t len = strlen(s), labels = 0;
	char *l = s;

	if (len == 0 || len > 253)
		return false;
	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	for (;;) {
		char *dot = strchr(l, '.');
		size_t n = dot != NULL ? (size_t)(dot - l) : strlen(l);

		if (!aclm_dns_label_ok(l, n))
			return false;
		labels++;
		if (dot == NULL)
			break;
		l = dot + 1;
	}
	return labels >= 2;
}

/* "*.corp.example" matches names under corp.example (wildcards included);
 * "a.example" only itself; "10.0.0.0/8", "fd00::/8" match IP identifiers. */
static bool cidr_match(const char *pattern, const char *ip)
{
	char net[64];
	unsigned char a[16], b[16];
	const char *slash = strchr(pattern, '/');
	int family, bits, max;

	if (slash == NULL || (size_t)(slash - pattern) >= sizeof(net))
		return false;
	snprintf(net, sizeof(net), "%.*s", (int)(slash - pattern), pattern);
	family = strchr(net, ':') != NULL ? AF_INET6 : AF_INET;
	max = family == AF_INET6 ? 128 : 32;
	bits = atoi(slash + 1);
	if (bits < 0 || bits > max || inet_pton(family, net, a) != 1 || inet_pton(family, ip, b) != 1)
		return false;
	for (int i = 0; i < bits; i++)
		if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static bool pattern_match(const char *pattern, const char *type, const char *value)
{
	if (strcmp(type, "ip") == 0)
		return cidr_match(pattern, value);
	if (strncmp(pattern, "*.", 2) == 0) {
		size_t pl = strlen(pattern + 1), vl = strlen(value);

		return vl > pl && strcasecmp(value + vl - pl, pattern + 1) == 0;
	}
	return strcasecmp(pattern, value) == 0;
}

static bool allowed(const json_t *allow, const char *type, const char *value)
{
	size_t i;
	json_t *p;

	if (allow == NULL)
		return true;
	json_array_foreach(allow, i, p)
		if (json_is_string(p) && pattern_match(json_string_value(p), type, value))
			return true;
	return false;
}

/* The order's identifiers, checked and normalised, duplicates dropped. */
static json_t *identifiers_check(struct wfe_req *r, const json_t *in)
{
	json_t *out = json_array(), *id;
	size_t i, j;
	json_t *seen;

	if (!json_is_array(in) || json_array_size(in) == 0 ||
	    json_array_size(in) > WFE_MAX_IDENTIFIERS) {
		wfe_reply_problem(r, "malformed", "identifiers must be an array of 1 to %d objects",
				  WFE_MAX_IDENTIFIERS);
		goto fail;
	}
	json_array_foreach(in, i, id) {
		const char *type = aclm_json_str(id, "type"), *value = aclm_json_str(id, "value");
		char v[256];
		bool dup = false;

		if (type == NULL || value == NULL || strlen(value) >= sizeof(v)) {
			wfe_reply_problem(r, "malformed", "identifier %zu needs a type and a value", i);
			goto fail;
		}
		if (strcmp(type, "dns") == 0) {
			snprintf(v, sizeof(v), "%s", value);
			if (!dns_name_ok(strncmp(v, "*.", 2) == 0 ? v + 2 : v) ||
			    aclm_ip_canonical(v, (char[64]){ 0 }, 64)) {
				wfe_reply_problem(r, "rejectedIdentifier",
						  "\"%.100s\" is not a DNS name this CA issues for", value);
				goto fail;
			}
		} else if (strcmp(type, "ip") == 0) {
			if (!aclm_ip_canonical(value, v, sizeof(v))) {
				wfe_reply_problem(r, "malformed", "\"%.100s\" is not an IP address", value);
				goto fail;
			}
		} else {
			wfe_reply_problem(r, "unsupportedIdentifier",
					  "identifier type \"%.32s\" (dns and ip are supported)", type);
			goto fail;
		}
		if (!allowed(r->acct->allow, type, strncmp(v, "*.", 2) == 0 ? v + 2 : v)) {
			wfe_reply_problem(r, "rejectedIdentifier",
					  "%s is outside the names this account may get", v);
			goto fail;
		}
		json_array_foreach(out, j, seen)
			dup |= strcmp(aclm_json_str(seen, "type"), type) == 0 &&
			       strcmp(aclm_json_str(seen, "value"), v) == 0;
		if (!dup)
			json_array_append_new(out, json_pack("{s:s, s:s}", "type", type, "value", v));
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* ---- authorizations ---- */

/* RFC 8555 §7.1.3: wildcards only by dns-01; RFC 8738 §7: IP identifiers
 * never by dns-01. */
static json_t *new_challenges(const char *type, bool wildcard)
{
	static const char *const all[] = { "http-01", "dns-01", "tls-alpn-01" };
	json_t *arr = json_array();

	for (size_t i = 0; i < 3; i++) {
		unsigned char raw[TOKEN_BYTES];
		char *token;

		if ((wildcard && strcmp(all[i], "dns-01") != 0) ||
		    (strcmp(type, "ip") == 0 && strcmp(all[i], "dns-01") == 0))
			continue;
		if (RAND_bytes(raw, sizeof(raw)) != 1 || (token = acme_b64url_encode(raw, sizeof(raw))) == NULL)
			abort(); /* no randomness: a token could be guessed */
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "type", all[i], "token",
						     token, "status", "pending"));
		free(token);
	}
	return arr;
}

static const char *authz_shown_status(const struct store_ca_authz *a, int64_t now)
{
	if (a->expires < now && (strcmp(a->status, "pending") == 0 || strcmp(a->status, "valid") == 0))
		return "expired";
	return a->status;
}

json_t *wfe_authz_json(const struct wfe_req *r, const struct store_ca_authz *a)
{
	char ts[ACLM_TIME_RFC3339_LEN], url[WFE_BASE_MAX + 128], path[2 * STORE_CA_ID_MAX];
	json_t *o, *chs = json_array(), *ch;
	size_t i;

	json_array_foreach(a->challenges, i, ch) {
		json_t *c = json_deep_copy(ch);

		snprintf(path, sizeof(path), "%s/%s", a->id, aclm_json_str(ch, "type"));
		wfe_url(r, "chall", path, url, sizeof(url));
		aclm_json_set_str(c, "url", url);
		json_array_append_new(chs, c);
	}
	o = json_pack("{s:{s:s, s:s}, s:s, s:s, s:o}", "identifier", "type", a->ident_type, "value",
		      a->ident_value, "status", authz_shown_status(a, aclm_time_now()), "expires",
		      aclm_time_fmt(a->expires, ts), "challenges", chs);
	if (a->wildcard)
		aclm_json_set_bool(o, "wildcard", true);
	return o;
}

/* The account's own authorization, or a reply. */
static struct store_ca_authz *authz_load(struct wfe_req *r, const char *id)
{
	struct store_ca_authz *a = NULL;
	struct aclm_err err = { 0 };
	aclm_status st = store_ca_authz_get(r->w->store, r->srv->tenant, r->srv->ca_name, id, &a, &err);

	if (st == ACLM_ERR_NOTFOUND || (st == ACLM_OK && strcmp(a->account_id, r->acct->id) != 0)) {
		wfe_reply_problem_status(r, "malformed", 404, "no authorization %.64s", id);
		store_ca_authz_free(a);
		return NULL;
	}
	if (st != ACLM_OK)
		wfe_reply_err(r, NULL, &err);
	return a;
}

static aclm_status authz_store(struct wfe_req *r, struct store_ca_authz *a, struct aclm_err *err)
{
	aclm_status st = wfe_write_begin(r, err);

	if (st != ACLM_OK)
		return st;
	st = store_ca_authz_put(r->w->store, a, err);
	if (st != ACLM_OK) {
		wfe_write_abort(r);
		return st;
	}
	return wfe_write_commit(r, err);
}

void wfe_authz(struct wfe_req *r)
{
	struct store_ca_authz *a = authz_load(r, r->rest);
	const json_t *status = json_object_get(r->jws.payload, "status");
	struct aclm_err err = { 0 };
	json_t *body;

	if (a == NULL)
		return;
	if (status != NULL) {
		/* §7.5.2: the client may deactivate a pending or valid one. */
		if (!json_is_string(status) || strcmp(json_string_value(status), "deactivated") != 0 ||
		    (strcmp(a->status, "pending") != 0 && strcmp(a->status, "valid") != 0)) {
			wfe_reply_problem(r, "malformed", "only a pending or valid authorization can be deactivated");
			goto out;
		}
		free(a->status);
		a->status = strdup("deactivated");
		a->updated_at = aclm_time_now();
		if (a->status == NULL || authz_store(r, a, &err) != ACLM_OK) {
			wfe_reply_err(r, NULL, &err);
			goto out;
		}
	}
	/* No Retry-After while validating: it is whole seconds (RFC 9110
	 * §10.2.3) and a validation here takes milliseconds. */
	body = wfe_authz_json(r, a);
	wfe_reply_json(r, 200, body, NULL);
	json_decref(body);
out:
	store_ca_authz_free(a);
}

/* POST chall/AUTHZ/TYPE: {} starts the validation (§7.5.1); POST-as-GET
 * only shows the challenge. */
void wfe_challenge(struct wfe_req *r)
{
	const char *slash = strchr(r->rest, '/');
	char id[STORE_CA_ID_MAX], url[WFE_BASE_MAX + 128], link[WFE_BASE_MAX + 160];
	struct store_ca_authz *a = NULL;
	struct aclm_err err = { 0 };
	json_t *ch = NULL, *c;
	const char *type = slash != NULL ? slash + 1 : "";
	size_t i;
	bool start;

	if (slash == NULL || (size_t)(slash - r->rest) >= sizeof(id)) {
		wfe_reply_problem_status(r, "malformed", 404, "no such challenge");
		return;
	}
	snprintf(id, sizeof(id), "%.*s", (int)(slash - r->rest), r->rest);
	if ((a = authz_load(r, id)) == NULL)
		return;
	json_array_foreach(a->challenges, i, c)
		if (strcmp(aclm_json_str(c, "type"), type) == 0)
			ch = c;
	if (ch == NULL) {
		wfe_reply_problem_status(r, "malformed", 404, "no such challenge");
		goto out;
	}
	start = r->jws.payload != NULL && strcmp(a->status, "pending") == 0 && !a->va_pending &&
		a->expires >= aclm_time_now() && strcmp(aclm_json_str(ch, "status"), "pending") == 0;
	if (start) {
		json_object_set_new(ch, "status", json_string("processing"));
		a->va_pending = true;
		a->updated_at = aclm_time_now();
		if (authz_store(r, a, &err) != ACLM_OK) {
			wfe_reply_err(r, NULL, &err);
			goto out;
		}
		wfe_va_enqueue(r->srv, a->id, type);
	}
	wfe_url(r, "authz", a->id, url, sizeof(url));
	snprintf(link, sizeof(link), "<%s>;rel=\"up\"", url);
	wfe_add_header(r, "Link", link);
	{
		json_t *body = json_deep_copy(ch);
		char path[2 * STORE_CA_ID_MAX];

		snprintf(path, sizeof(path), "%s/%s", a->id, type);
		wfe_url(r, "chall", path, url, sizeof(url));
		aclm_json_set_str(body, "url", url);
		wfe_reply_json(r, 200, body, NULL);
		json_decref(body);
	}
out:
	store_ca_authz_free(a);
}

/* ---- orders ---- */

json_t *wfe_order_json(const struct wfe_req *r, const struct store_ca_order *o)
{
	char ts[ACLM_TIME_RFC3339_LEN], url[WFE_BASE_MAX + 128];
	json_t *j = json_object(), *authzs = json_array(), *id;
	size_t i;

	aclm_json_set_str(j, "status", o->status);
	aclm_json_set_str(j, "expires", aclm_time_fmt(o->expires, ts));
	json_object_set(j, "identifiers", o->identifiers);
	json_array_foreach(o->authz_ids, i, id) {
		wfe_url(r, "authz", json_string_value(id), url, sizeof(url));
		json_array_append_new(authzs, json_string(url));
	}
	aclm_json_set_new(j, "authorizations", authzs);
	wfe_url(r, "finalize", o->id, url, sizeof(url));
	aclm_json_set_str(j, "finalize", url);
	if (o->cert_serial != NULL) {
		wfe_url(r, "cert", o->cert_serial, url, sizeof(url));
		aclm_json_set_str(j, "certificate", url);
	}
	if (o->profile != NULL)
		aclm_json_set_str(j, "profile", o->profile);
	if (o->replaces != NULL)
		aclm_json_set_str(j, "replaces", o->replaces);
	if (o->error != NULL)
		json_object_set(j, "error", o->error);
	return j;
}

/* pending -> invalid when an authorization failed or expired, ready when
 * all are valid; pending/ready -> invalid when the order expired. */
static const char *order_status_now(struct wfe_req *r, const struct store_ca_order *o,
				    json_t **error, struct aclm_err *err, aclm_status *st)
{
	int64_t now = aclm_time_now();
	bool all_valid = true;
	size_t i;
	json_t *id;

	*st = ACLM_OK;
	if (strcmp(o->status, "pending") != 0 && strcmp(o->status, "ready") != 0)
		return o->status;
	if (o->expires < now) {
		*error = acme_problem_json("malformed", "the order expired");
		return "invalid";
	}
	if (strcmp(o->status, "ready") == 0)
		return o->status;
	json_array_foreach(o->authz_ids, i, id) {
		struct store_ca_authz *a = NULL;
		const char *s;

		*st = store_ca_authz_get(r->w->store, r->srv->tenant, r->srv->ca_name,
					 json_string_value(id), &a, err);
		if (*st != ACLM_OK)
			return o->status;
		s = authz_shown_status(a, now);
		if (strcmp(s, "valid") != 0)
			all_valid = false;
		if (strcmp(s, "pending") != 0 && strcmp(s, "valid") != 0) {
			size_t k;
			json_t *ch, *e = NULL;

			json_array_foreach(a->challenges, k, ch)
				if (json_object_get(ch, "error") != NULL)
					e = json_object_get(ch, "error");
			*error = e != NULL ? json_deep_copy(e)
					   : acme_problem_json("unauthorized", "an authorization is not valid");
			store_ca_authz_free(a);
			return "invalid";
		}
		store_ca_authz_free(a);
	}
	return all_valid ? "ready" : "pending";
}

/* The status brought up to date in *o; stored when persist (else the
 * caller's next write stores it, and until then every load derives the
 * same status again from the authorizations and the clock). */
static aclm_status order_refresh(struct wfe_req *r, struct store_ca_order *o, bool persist,
				 struct aclm_err *err)
{
	json_t *error = NULL;
	aclm_status st;
	const char *now_status = order_status_now(r, o, &error, err, &st);
	char *dup;

	if (st != ACLM_OK || strcmp(now_status, o->status) == 0) {
		json_decref(error);
		return st;
	}
	dup = strdup(now_status);
	if (dup == NULL) {
		json_decref(error);
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	free(o->status);
	o->status = dup;
	json_decref(o->error);
	o->error = error;
	o->updated_at = aclm_time_now();
	if (!persist)
		return ACLM_OK;
	st = wfe_write_begin(r, err);
	if (st != ACLM_OK)
		return st;
	st = store_ca_order_put(r->w->store, o, err);
	if (st != ACLM_OK) {
		wfe_write_abort(r);
		return st;
	}
	return wfe_write_commit(r, err);
}

aclm_status wfe_order_refresh(struct wfe_req *r, struct store_ca_order *o, struct aclm_err *err)
{
	return order_refresh(r, o, true, err);
}

static struct store_ca_order *order_load(struct wfe_req *r, const char *id, bool persist)
{
	struct store_ca_order *o = NULL;
	struct aclm_err err = { 0 };
	aclm_status st = store_ca_order_get(r->w->store, r->srv->tenant, r->srv->ca_name, id, &o, &err);

	/* A valid order shows its certificate: wait for finalize's sync. */
	wfe_sync_saw(r, id);
	if (st == ACLM_ERR_NOTFOUND || (st == ACLM_OK && strcmp(o->account_id, r->acct->id) != 0)) {
		wfe_reply_problem_status(r, "malformed", 404, "no order %.64s", id);
		store_ca_order_free(o);
		return NULL;
	}
	if (st == ACLM_OK)
		st = order_refresh(r, o, persist, &err);
	if (st != ACLM_OK) {
		wfe_reply_err(r, NULL, &err);
		store_ca_order_free(o);
		return NULL;
	}
	return o;
}

struct store_ca_order *wfe_order_load(struct wfe_req *r, const char *id)
{
	return order_load(r, id, true);
}

struct store_ca_order *wfe_order_load_unsaved(struct wfe_req *r, const char *id)
{
	return order_load(r, id, false);
}

void wfe_order(struct wfe_req *r)
{
	struct store_ca_order *o = wfe_order_load(r, r->rest);
	json_t *body;

	if (o == NULL)
		return;
	if (strcmp(o->status, "processing") == 0)
		wfe_add_header(r, "Retry-After", "1");
	body = wfe_order_json(r, o);
	wfe_reply_json(r, 200, body, NULL);
	json_decref(body);
	store_ca_order_free(o);
}

/* One authorization per identifier: a reusable valid one, else a new
 * pending one (put in the caller's transaction). */
static aclm_status order_authz(struct wfe_req *r, const json_t *ident, int64_t now,
			       char id_out[STORE_CA_ID_MAX], bool *valid, struct aclm_err *err)
{
	const char *type = aclm_json_str(ident, "type"), *value = aclm_json_str(ident, "value");
	bool wildcard = strncmp(value, "*.", 2) == 0;
	struct store_ca_authz a = { .tenant_id = r->srv->tenant }, *found = NULL;
	aclm_status st = ACLM_ERR_NOTFOUND;

	if (wildcard)
		value += 2;
	if (r->srv->o->authz_reuse_s > 0)
		st = store_ca_authz_find_valid(r->w->store, r->srv->tenant, r->srv->ca_name,
					       r->acct->id, type, value, wildcard,
					       now, now + 86400, &found, err);
	if (st == ACLM_OK && found->updated_at + r->srv->o->authz_reuse_s >= now) {
		snprintf(id_out, STORE_CA_ID_MAX, "%s", found->id);
		*valid = true;
		store_ca_authz_free(found);
		return ACLM_OK;
	}
	store_ca_authz_free(found);
	if (st != ACLM_OK && st != ACLM_ERR_NOTFOUND)
		return st;
	*valid = false;
	wfe_new_id(a.id);
	a.ca_name = r->srv->ca_name;
	a.account_id = r->acct->id;
	a.ident_type = (char *)type;
	a.ident_value = (char *)value;
	a.wildcard = wildcard;
	a.status = "pending";
	a.expires = now + WFE_AUTHZ_PENDING_S;
	a.challenges = new_challenges(type, wildcard);
	a.created_at = a.updated_at = now;
	st = store_ca_authz_put(r->w->store, &a, err);
	json_decref(a.challenges);
	snprintf(id_out, STORE_CA_ID_MAX, "%s", a.id);
	return st;
}

static const struct ca_profile *profile_find(const struct wfe_server *srv, const char *name)
{
	if (name == NULL)
		return srv->default_profile;
	for (size_t i = 0; i < srv->nprofiles; i++)
		if (strcmp(srv->profiles[i].name, name) == 0)
			return &srv->profiles[i];
	return NULL;
}

/* RFC 9773 §5: "replaces" names a certificate of this account, which may
 * be replaced once (in the order's transaction). */
static aclm_status order_replaces(struct wfe_req *r, const char *certid, const char *order_id,
				  const char **problem, struct aclm_err *err)
{
	char serial[41];
	unsigned char aki[64];
	size_t aki_len = 0;
	struct store_ca_issued *c = NULL;
	aclm_status st = acme_ari_cert_id_parse(certid, serial, aki, sizeof(aki), &aki_len, err);

	*problem = "malformed";
	if (st == ACLM_OK) {
		st = store_ca_issued_get(r->w->store, r->srv->tenant, r->srv->ca_name, serial, &c, err);
		wfe_sync_saw(r, serial);
	}
	if (st == ACLM_ERR_NOTFOUND)
		aclm_err_set(err, st, "replaces: no certificate %s from this CA", certid);
	if (st == ACLM_OK && (c->account_id == NULL || strcmp(c->account_id, r->acct->id) != 0))
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "replaces: certificate %s is another account's",
				  certid);
	if (st == ACLM_OK) {
		*problem = "alreadyReplaced";
		st = store_ca_issued_replace(r->w->store, r->srv->tenant, r->srv->ca_name, serial,
					     order_id, err);
		if (st == ACLM_ERR_EXISTS)
			aclm_err_set(err, st, "certificate %s was already replaced by another order",
				     certid);
		else if (st != ACLM_OK)
			*problem = NULL;
	}
	store_ca_issued_free(c);
	return st;
}

static bool new_order_payload_ok(struct wfe_req *r, const json_t *p)
{
	const json_t *profile = json_object_get(p, "profile");

	if (p == NULL) {
		wfe_reply_problem(r, "malformed", "newOrder needs a payload");
		return false;
	}
	if (json_object_get(p, "notBefore") != NULL || json_object_get(p, "notAfter") != NULL) {
		wfe_reply_problem(r, "malformed",
				  "notBefore/notAfter are not supported: choose a profile instead");
		return false;
	}
	if (profile != NULL && (!json_is_string(profile) ||
				profile_find(r->srv, json_string_value(profile)) == NULL)) {
		wfe_reply_problem(r, "invalidProfile", "profile \"%.32s\" is not offered (see the directory)",
				  json_is_string(profile) ? json_string_value(profile) : "?");
		return false;
	}
	if (json_object_get(p, "replaces") != NULL && !json_is_string(json_object_get(p, "replaces"))) {
		wfe_reply_problem(r, "malformed", "replaces must be a string");
		return false;
	}
	return true;
}

static aclm_status new_order_store(struct wfe_req *r, struct store_ca_order *o,
				   const char **problem, struct aclm_err *err)
{
	int64_t now = o->created_at;
	bool all_valid = true;
	size_t i;
	json_t *ident;
	aclm_status st = wfe_write_begin(r, err);

	if (st != ACLM_OK)
		return st;
	json_array_foreach(o->identifiers, i, ident) {
		char id[STORE_CA_ID_MAX];
		bool valid = false;

		st = order_authz(r, ident, now, id, &valid, err);
		if (st != ACLM_OK)
			break;
		all_valid &= valid;
		json_array_append_new(o->authz_ids, json_string(id));
	}
	if (st == ACLM_OK && o->replaces != NULL)
		st = order_replaces(r, o->replaces, o->id, problem, err);
	o->status = all_valid ? "ready" : "pending";
	if (st == ACLM_OK)
		st = store_ca_order_put(r->w->store, o, err);
	if (st != ACLM_OK) {
		wfe_write_abort(r);
		return st;
	}
	return wfe_write_commit(r, err);
}

void wfe_new_order(struct wfe_req *r)
{
	const json_t *p = r->jws.payload;
	struct store_ca_order o = { .tenant_id = r->srv->tenant };
	struct aclm_err err = { 0 };
	const char *problem = NULL;
	char loc[WFE_BASE_MAX + 64], limit_key[96];
	int64_t now = aclm_time_now(), retry = 0;
	json_t *body;

	if (!new_order_payload_ok(r, p))
		return;
	o.identifiers = identifiers_check(r, json_object_get(p, "identifiers"));
	if (o.identifiers == NULL)
		return;
	snprintf(limit_key, sizeof(limit_key), "order:%s", r->acct->id);
	if (!wfe_limit_take(&r->srv->limits, limit_key, r->srv->o->limit_orders, now, &retry)) {
		wfe_reply_limited(r, retry, "too many new orders for this account");
		goto out;
	}
	wfe_new_id(o.id);
	o.ca_name = r->srv->ca_name;
	o.account_id = r->acct->id;
	o.authz_ids = json_array();
	o.profile = (char *)aclm_json_str(p, "profile");
	o.replaces = (char *)aclm_json_str(p, "replaces");
	o.expires = now + WFE_ORDER_LIFETIME_S;
	o.created_at = o.updated_at = now;
	if (new_order_store(r, &o, &problem, &err) != ACLM_OK) {
		wfe_reply_err(r, problem, &err);
		goto out;
	}
	wfe_url(r, "order", o.id, loc, sizeof(loc));
	body = wfe_order_json(r, &o);
	wfe_reply_json(r, 201, body, loc);
	json_decref(body);
out:
	json_decref(o.identifiers);
	json_decref(o.authz_ids);
}
