/* store/: the built-in CA's ACME server state (migration 4): every struct
 * round-trips, puts update in place, the uniqueness and single-winner rules
 * hold (thumbprints, serials, revocation, replacement, EAB binding), the
 * reuse lookup picks the right authorization, every row stays inside its
 * tenant and CA name, and a durable store syncs each commit. */
#include "store_test.h"

#include "core/time.h"
#include "store/sqlite_int.h"

#define CA "corp"
#define THUMB_A "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
#define THUMB_B "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"

static json_t *jwk(const char *x)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", x, "y", "yy");
}

static void put_account(struct tdb *t, int64_t tenant, const char *ca_name, const char *id,
			const char *thumb)
{
	struct store_ca_account a = { .tenant_id = tenant, .ca_name = (char *)ca_name,
				      .member_tenant = tenant, .status = "valid" };

	snprintf(a.id, sizeof(a.id), "%s", id);
	snprintf(a.thumbprint, sizeof(a.thumbprint), "%s", thumb);
	a.jwk = jwk(id);
	assert_int_equal(store_ca_account_put(t->s, &a, &t->err), ACLM_OK);
	json_decref(a.jwk);
}

struct tauthz {
	const char *id, *account, *type, *value, *status;
	bool wildcard, va_pending;
	int64_t expires, created_at;
};

static void put_authz(struct tdb *t, int64_t tenant, const char *ca_name, const struct tauthz *z)
{
	struct store_ca_authz a = { .tenant_id = tenant, .ca_name = (char *)ca_name,
				    .account_id = (char *)z->account,
				    .ident_type = (char *)(z->type != NULL ? z->type : "dns"),
				    .ident_value = (char *)z->value, .wildcard = z->wildcard,
				    .status = (char *)z->status, .expires = z->expires,
				    .va_pending = z->va_pending, .created_at = z->created_at };

	snprintf(a.id, sizeof(a.id), "%s", z->id);
	assert_int_equal(store_ca_authz_put(t->s, &a, &t->err), ACLM_OK);
}

static const unsigned char der_a[] = { 0x30, 0x82, 0x01, 0x00, 0xaa, 0x00, 0xbb };

static struct store_ca_issued issued(int64_t tenant, const char *ca_name, const char *serial,
				     const char *key_type, int64_t created_at)
{
	struct store_ca_issued c = { .tenant_id = tenant, .ca_name = (char *)ca_name,
				     .key_type = (char *)key_type, .der = (unsigned char *)der_a,
				     .der_len = sizeof(der_a), .not_before = NOW,
				     .not_after = NOW + 90 * DAY, .created_at = created_at };

	snprintf(c.serial, sizeof(c.serial), "%s", serial);
	return c;
}

static void put_issued(struct tdb *t, int64_t tenant, const char *ca_name, const char *serial,
		       const char *key_type, int64_t created_at)
{
	struct store_ca_issued c = issued(tenant, ca_name, serial, key_type, created_at);

	assert_int_equal(store_ca_issued_put(t->s, &c, &t->err), ACLM_OK);
}

static void put_eab(struct tdb *t, int64_t tenant, const char *ca_name, const char *kid)
{
	unsigned char sealed[] = { 'A', 'K', '1', 9, 8, 7 };
	struct store_ca_eab e = { .tenant_id = tenant, .ca_name = (char *)ca_name,
				  .member_tenant = tenant, .hmac_sealed = sealed,
				  .hmac_sealed_len = sizeof(sealed) };

	snprintf(e.kid, sizeof(e.kid), "%s", kid);
	assert_int_equal(store_ca_eab_put(t->s, &e, &t->err), ACLM_OK);
}

/* ---- accounts ---- */

static void test_account_round_trips_every_field_and_put_updates_in_place(void **state)
{
	struct tdb t;
	struct store_ca_account a = { 0 }, *got = NULL;
	int64_t member = 0, before = aclm_time_now();

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "member", &member, &t.err), ACLM_OK);
	a.tenant_id = t.tenant;
	a.ca_name = CA;
	snprintf(a.id, sizeof(a.id), "acct-0123456789abcdefABCD");
	a.member_tenant = member;
	snprintf(a.thumbprint, sizeof(a.thumbprint), THUMB_A);
	a.jwk = jwk("x1");
	a.contact = json_pack("[s]", "mailto:ops@example.com");
	a.status = "valid";
	a.eab_kid = "kid-1";
	a.allow = json_pack("[ss]", "*.example.com", "example.org");
	a.created_at = NOW - DAY;
	assert_int_equal(store_ca_account_put(t.s, &a, &t.err), ACLM_OK);
	assert_int_equal(store_ca_account_get(t.s, t.tenant, CA, a.id, &got, &t.err), ACLM_OK);
	assert_string_equal(got->id, a.id);
	assert_int_equal(got->tenant_id, t.tenant);
	assert_string_equal(got->ca_name, CA);
	assert_int_equal(got->member_tenant, member);
	assert_string_equal(got->thumbprint, THUMB_A);
	assert_true(json_equal(got->jwk, a.jwk));
	assert_true(json_equal(got->contact, a.contact));
	assert_string_equal(got->status, "valid");
	assert_string_equal(got->eab_kid, "kid-1");
	assert_true(json_equal(got->allow, a.allow));
	assert_int_equal(got->created_at, NOW - DAY);
	assert_true(got->updated_at >= before);
	store_ca_account_free(got);

	/* Same id: replaced in place (key rollover, deactivation), created_at kept. */
	json_decref(a.jwk);
	json_decref(a.contact);
	json_decref(a.allow);
	a.jwk = jwk("x2");
	a.contact = NULL;
	a.allow = NULL;
	a.eab_kid = NULL;
	a.status = "deactivated";
	a.member_tenant = t.tenant;
	a.created_at = 0;
	snprintf(a.thumbprint, sizeof(a.thumbprint), THUMB_B);
	assert_int_equal(store_ca_account_put(t.s, &a, &t.err), ACLM_OK);
	assert_int_equal(store_ca_account_find(t.s, t.tenant, CA, THUMB_B, &got, &t.err), ACLM_OK);
	assert_string_equal(got->id, a.id);
	assert_true(json_equal(got->jwk, a.jwk));
	assert_int_equal(json_array_size(got->contact), 0);
	assert_null(got->allow);
	assert_null(got->eab_kid);
	assert_string_equal(got->status, "deactivated");
	assert_int_equal(got->member_tenant, t.tenant);
	assert_int_equal(got->created_at, NOW - DAY);
	store_ca_account_free(got);
	assert_int_equal(store_ca_account_find(t.s, t.tenant, CA, THUMB_A, &got, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_null(got);

	/* Refused: no member tenant, one that does not exist, unknown status, no key. */
	a.member_tenant = 0;
	assert_int_equal(store_ca_account_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	a.member_tenant = 9999;
	assert_int_equal(store_ca_account_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	a.member_tenant = t.tenant;
	a.status = "pending";
	assert_int_equal(store_ca_account_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	a.status = "valid";
	json_decref(a.jwk);
	a.jwk = NULL;
	assert_int_equal(store_ca_account_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_account_thumbprint_is_unique_per_ca(void **state)
{
	struct tdb t;
	struct store_ca_account *got = NULL;
	int64_t other = 0;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	put_account(&t, t.tenant, CA, "a1", THUMB_A);
	put_account(&t, t.tenant, CA, "a2", THUMB_B);
	/* A new account with a1's key, and a2 rolling over to a1's key. */
	struct store_ca_account a = { .tenant_id = t.tenant, .ca_name = CA,
				      .member_tenant = t.tenant, .status = "valid" };
	snprintf(a.id, sizeof(a.id), "a3");
	snprintf(a.thumbprint, sizeof(a.thumbprint), THUMB_A);
	a.jwk = jwk("a3");
	assert_int_equal(store_ca_account_put(t.s, &a, &t.err), ACLM_ERR_EXISTS);
	assert_non_null(strstr(t.err.msg, THUMB_A));
	snprintf(a.id, sizeof(a.id), "a2");
	assert_int_equal(store_ca_account_put(t.s, &a, &t.err), ACLM_ERR_EXISTS);
	json_decref(a.jwk);
	assert_int_equal(store_ca_account_find(t.s, t.tenant, CA, THUMB_A, &got, &t.err), ACLM_OK);
	assert_string_equal(got->id, "a1");
	store_ca_account_free(got);
	assert_int_equal(store_ca_account_find(t.s, t.tenant, CA, THUMB_B, &got, &t.err), ACLM_OK);
	assert_string_equal(got->id, "a2");
	store_ca_account_free(got);
	/* The same key may hold an account at another CA or in another tenant. */
	put_account(&t, t.tenant, "other-ca", "a1", THUMB_A);
	put_account(&t, other, CA, "a1", THUMB_A);
	tdb_close(&t);
}

/* ---- orders ---- */

static void test_order_round_trips_every_field_and_put_updates_in_place(void **state)
{
	struct tdb t;
	struct store_ca_order o = { 0 }, *got = NULL;
	int64_t before = aclm_time_now();

	(void)state;
	tdb_open(&t);
	put_account(&t, t.tenant, CA, "acct", THUMB_A);
	o.tenant_id = t.tenant;
	o.ca_name = CA;
	snprintf(o.id, sizeof(o.id), "order-1");
	o.account_id = "acct";
	o.status = "pending";
	o.identifiers = json_pack("[{s:s,s:s},{s:s,s:s}]", "type", "dns", "value", "*.example.com",
				  "type", "ip", "value", "192.0.2.1");
	o.authz_ids = json_pack("[ss]", "z1", "z2");
	o.profile = "tlsserver";
	o.not_before = NOW;
	o.not_after = NOW + 7 * DAY;
	o.expires = NOW + DAY;
	o.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
	o.created_at = NOW - 60;
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_OK);
	assert_int_equal(store_ca_order_get(t.s, t.tenant, CA, "order-1", &got, &t.err), ACLM_OK);
	assert_string_equal(got->id, "order-1");
	assert_int_equal(got->tenant_id, t.tenant);
	assert_string_equal(got->ca_name, CA);
	assert_string_equal(got->account_id, "acct");
	assert_string_equal(got->status, "pending");
	assert_true(json_equal(got->identifiers, o.identifiers));
	assert_true(json_equal(got->authz_ids, o.authz_ids));
	assert_string_equal(got->profile, "tlsserver");
	assert_int_equal(got->not_before, NOW);
	assert_int_equal(got->not_after, NOW + 7 * DAY);
	assert_int_equal(got->expires, NOW + DAY);
	assert_null(got->error);
	assert_null(got->cert_serial);
	assert_string_equal(got->replaces, o.replaces);
	assert_int_equal(got->created_at, NOW - 60);
	assert_true(got->updated_at >= before);
	store_ca_order_free(got);

	/* Finalized: status, serial and error change; profile and replaces cleared. */
	o.status = "invalid";
	o.error = json_pack("{s:s, s:s}", "type", "urn:ietf:params:acme:error:badCSR", "detail",
			    "no");
	o.cert_serial = "0a1b";
	o.profile = NULL;
	o.replaces = NULL;
	o.created_at = 0;
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_OK);
	assert_int_equal(store_ca_order_get(t.s, t.tenant, CA, "order-1", &got, &t.err), ACLM_OK);
	assert_string_equal(got->status, "invalid");
	assert_true(json_equal(got->error, o.error));
	assert_string_equal(got->cert_serial, "0a1b");
	assert_null(got->profile);
	assert_null(got->replaces);
	assert_int_equal(got->created_at, NOW - 60);
	store_ca_order_free(got);

	/* An order must name an account of this CA, and a known status. */
	o.account_id = "nobody";
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_ERR_INVALID);
	assert_non_null(strstr(t.err.msg, "nobody"));
	o.account_id = "acct";
	o.status = "done";
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_ERR_INVALID);
	json_decref(o.identifiers);
	json_decref(o.authz_ids);
	json_decref(o.error);
	tdb_close(&t);
}

/* ---- authorizations ---- */

static void test_authz_round_trips_every_field_and_put_updates_in_place(void **state)
{
	struct tdb t;
	struct store_ca_authz a = { 0 }, *got = NULL;
	int64_t before = aclm_time_now();

	(void)state;
	tdb_open(&t);
	put_account(&t, t.tenant, CA, "acct", THUMB_A);
	a.tenant_id = t.tenant;
	a.ca_name = CA;
	snprintf(a.id, sizeof(a.id), "authz-1");
	a.account_id = "acct";
	a.ident_type = "dns";
	a.ident_value = "example.com";
	a.wildcard = true;
	a.status = "pending";
	a.expires = NOW + DAY;
	a.challenges = json_pack("[{s:s,s:s,s:s}]", "type", "dns-01", "token", "tok",
				 "status", "pending");
	a.va_pending = true;
	a.created_at = NOW - 5;
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_OK);
	assert_int_equal(store_ca_authz_get(t.s, t.tenant, CA, "authz-1", &got, &t.err), ACLM_OK);
	assert_string_equal(got->id, "authz-1");
	assert_int_equal(got->tenant_id, t.tenant);
	assert_string_equal(got->ca_name, CA);
	assert_string_equal(got->account_id, "acct");
	assert_string_equal(got->ident_type, "dns");
	assert_string_equal(got->ident_value, "example.com");
	assert_true(got->wildcard);
	assert_string_equal(got->status, "pending");
	assert_int_equal(got->expires, NOW + DAY);
	assert_true(json_equal(got->challenges, a.challenges));
	assert_true(got->va_pending);
	assert_int_equal(got->created_at, NOW - 5);
	assert_true(got->updated_at >= before);
	store_ca_authz_free(got);

	/* Validated: status, challenges, expiry and the VA flag change. */
	json_decref(a.challenges);
	a.challenges = json_pack("[{s:s,s:s,s:s,s:s}]", "type", "dns-01", "token", "tok",
				 "status", "valid", "validated", "2027-01-15T08:00:00Z");
	a.status = "valid";
	a.va_pending = false;
	a.expires = NOW + 30 * DAY;
	a.created_at = 0;
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_OK);
	assert_int_equal(store_ca_authz_get(t.s, t.tenant, CA, "authz-1", &got, &t.err), ACLM_OK);
	assert_string_equal(got->status, "valid");
	assert_false(got->va_pending);
	assert_int_equal(got->expires, NOW + 30 * DAY);
	assert_true(json_equal(got->challenges, a.challenges));
	assert_int_equal(got->created_at, NOW - 5);
	store_ca_authz_free(got);

	/* Refused: "*." in the value, an unknown type or status, a stranger account. */
	a.ident_value = "*.example.com";
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	a.ident_value = "example.com";
	a.ident_type = "email";
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	a.ident_type = "dns";
	a.status = "ready";
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	a.status = "valid";
	a.account_id = "nobody";
	assert_int_equal(store_ca_authz_put(t.s, &a, &t.err), ACLM_ERR_INVALID);
	json_decref(a.challenges);
	tdb_close(&t);
}

/* The id of the authorization find_valid returns, or "-" for none. */
static const char *find_valid(struct tdb *t, const char *account, const char *type,
			      const char *value, bool wildcard, int64_t now, int64_t min_expires)
{
	static char id[STORE_CA_ID_MAX];
	struct store_ca_authz *got = NULL;
	aclm_status st = store_ca_authz_find_valid(t->s, t->tenant, CA, account, type, value,
						   wildcard, now, min_expires, &got, &t->err);

	snprintf(id, sizeof(id), "-");
	if (st == ACLM_OK)
		snprintf(id, sizeof(id), "%s", got->id);
	else
		assert_int_equal(st, ACLM_ERR_NOTFOUND);
	store_ca_authz_free(got);
	return id;
}

static void test_authz_find_valid_returns_the_newest_matching_unexpired(void **state)
{
	struct tdb t;
	int64_t other = 0;
	const struct tauthz rows[] = {
		{ "z10", "acct", "dns", "example.com", "valid", false, false, NOW + 10 * DAY, 0 },
		{ "z20", "acct", "dns", "example.com", "valid", false, false, NOW + 20 * DAY, 0 },
		{ "zwild", "acct", "dns", "example.com", "valid", true, false, NOW + 30 * DAY, 0 },
		{ "zother", "acct2", "dns", "example.com", "valid", false, false, NOW + 40 * DAY, 0 },
		{ "zpend", "acct", "dns", "example.com", "pending", false, false, NOW + 50 * DAY, 0 },
		{ "zinv", "acct", "dns", "example.com", "invalid", false, false, NOW + 55 * DAY, 0 },
		{ "zold", "acct", "dns", "example.com", "valid", false, false, NOW - DAY, 0 },
		{ "zname", "acct", "dns", "www.example.com", "valid", false, false, NOW + 60 * DAY, 0 },
		{ "zip", "acct", "ip", "192.0.2.1", "valid", false, false, NOW + 70 * DAY, 0 },
	};
	const struct tauthz elsewhere = { "zfar", "acct", "dns", "example.com", "valid", false,
					  false, NOW + 90 * DAY, 0 };

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	put_account(&t, t.tenant, CA, "acct", THUMB_A);
	put_account(&t, t.tenant, CA, "acct2", THUMB_B);
	put_account(&t, t.tenant, "ca2", "acct", THUMB_A);
	put_account(&t, other, CA, "acct", THUMB_A);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		put_authz(&t, t.tenant, CA, &rows[i]);
	/* Later expiries of the same identifier in another CA and another tenant. */
	put_authz(&t, t.tenant, "ca2", &elsewhere);
	put_authz(&t, other, CA, &elsewhere);

	assert_string_equal(find_valid(&t, "acct", "dns", "example.com", false, NOW, 0), "z20");
	assert_string_equal(find_valid(&t, "acct", "dns", "EXAMPLE.com", false, NOW, 0), "z20");
	assert_string_equal(find_valid(&t, "acct", "dns", "example.com", true, NOW, 0), "zwild");
	assert_string_equal(find_valid(&t, "acct2", "dns", "example.com", false, NOW, 0), "zother");
	assert_string_equal(find_valid(&t, "acct", "ip", "192.0.2.1", false, NOW, 0), "zip");
	assert_string_equal(find_valid(&t, "acct", "dns", "192.0.2.1", false, NOW, 0), "-");
	/* min_expires and now both bound from below, strictly. */
	assert_string_equal(find_valid(&t, "acct", "dns", "example.com", false, NOW,
				       NOW + 15 * DAY), "z20");
	assert_string_equal(find_valid(&t, "acct", "dns", "example.com", false, NOW,
				       NOW + 20 * DAY), "-");
	assert_string_equal(find_valid(&t, "acct", "dns", "example.com", false, NOW + 20 * DAY,
				       0), "-");
	assert_string_equal(find_valid(&t, "acct", "dns", "example.com", false, NOW + 19 * DAY,
				       NOW), "z20");
	/* The newest one revoked: the next one is chosen. */
	struct tauthz z20 = rows[1];
	z20.status = "revoked";
	put_authz(&t, t.tenant, CA, &z20);
	assert_string_equal(find_valid(&t, "acct", "dns", "example.com", false, NOW, 0), "z10");
	tdb_close(&t);
}

static aclm_status collect_authz(const struct store_ca_authz *a, void *arg)
{
	json_array_append_new(arg, json_string(a->id));
	return ACLM_OK;
}

static void test_authz_va_pending_lists_only_flagged_rows_of_the_ca(void **state)
{
	struct tdb t;
	json_t *ids = json_array();
	struct tauthz z = { .account = "acct", .value = "example.com", .status = "pending",
			    .expires = NOW + DAY };

	(void)state;
	tdb_open(&t);
	put_account(&t, t.tenant, CA, "acct", THUMB_A);
	put_account(&t, t.tenant, "ca2", "acct", THUMB_A);
	z.id = "late";
	z.va_pending = true;
	z.created_at = NOW + 2;
	put_authz(&t, t.tenant, CA, &z);
	z.id = "early";
	z.created_at = NOW + 1;
	put_authz(&t, t.tenant, CA, &z);
	z.id = "idle";
	z.va_pending = false;
	put_authz(&t, t.tenant, CA, &z);
	z.id = "elsewhere";
	z.va_pending = true;
	put_authz(&t, t.tenant, "ca2", &z);
	assert_int_equal(store_ca_authz_list_va_pending(t.s, t.tenant, CA, collect_authz, ids,
							&t.err), ACLM_OK);
	assert_int_equal(json_array_size(ids), 2);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), "early");
	assert_string_equal(json_string_value(json_array_get(ids, 1)), "late");
	/* Validation done: the flag cleared by a put drops it from the list. */
	z.id = "early";
	z.va_pending = false;
	z.status = "valid";
	put_authz(&t, t.tenant, CA, &z);
	json_array_clear(ids);
	assert_int_equal(store_ca_authz_list_va_pending(t.s, t.tenant, CA, collect_authz, ids,
							&t.err), ACLM_OK);
	assert_int_equal(json_array_size(ids), 1);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), "late");
	json_decref(ids);
	tdb_close(&t);
}

/* ---- issued certificates ---- */

static void test_issued_round_trips_every_field_and_refuses_a_duplicate_serial(void **state)
{
	struct tdb t;
	struct store_ca_issued c, *got = NULL;
	struct tfacts f = { .cn = "leaf", .subject = "CN=leaf", .issuer = "CN=int" };
	char fp[65];
	int64_t cert;

	(void)state;
	tdb_open(&t);
	put_account(&t, t.tenant, CA, "acct", THUMB_A);
	tfp(fp, "cc", 1);
	cert = tinsert(&t, t.tenant, fp, &f, NOW + 90 * DAY);
	c = issued(t.tenant, CA, "00f1e2d3c4b5a69788796a5b4c3d2e1f", "p256", NOW - 3);
	c.account_id = "acct";
	c.order_id = "order-1";
	c.cert_id = cert;
	c.profile = "tlsserver";
	c.replaced_by = "order-2";
	assert_int_equal(store_ca_issued_put(t.s, &c, &t.err), ACLM_OK);
	assert_int_equal(store_ca_issued_get(t.s, t.tenant, CA, c.serial, &got, &t.err), ACLM_OK);
	assert_string_equal(got->serial, c.serial);
	assert_int_equal(got->tenant_id, t.tenant);
	assert_string_equal(got->ca_name, CA);
	assert_string_equal(got->key_type, "p256");
	assert_string_equal(got->account_id, "acct");
	assert_string_equal(got->order_id, "order-1");
	assert_int_equal(got->cert_id, cert);
	assert_int_equal(got->der_len, sizeof(der_a));
	assert_memory_equal(got->der, der_a, sizeof(der_a));
	assert_int_equal(got->not_before, NOW);
	assert_int_equal(got->not_after, NOW + 90 * DAY);
	assert_string_equal(got->profile, "tlsserver");
	assert_false(got->revoked);
	assert_int_equal(got->revoked_at, 0);
	assert_int_equal(got->reason, 0);
	assert_string_equal(got->replaced_by, "order-2");
	assert_int_equal(got->created_at, NOW - 3);
	store_ca_issued_free(got);

	/* A serial is issued once per CA; the first row is untouched. */
	c.key_type = "sm2";
	assert_int_equal(store_ca_issued_put(t.s, &c, &t.err), ACLM_ERR_EXISTS);
	assert_non_null(strstr(t.err.msg, c.serial));
	assert_int_equal(store_ca_issued_get(t.s, t.tenant, CA, c.serial, &got, &t.err), ACLM_OK);
	assert_string_equal(got->key_type, "p256");
	store_ca_issued_free(got);
	/* Without account, order or inventory row (NULLs), pre-revoked. */
	c = issued(t.tenant, CA, "01", "rsa2048", 0);
	c.revoked = true;
	c.revoked_at = NOW;
	c.reason = 4;
	assert_int_equal(store_ca_issued_put(t.s, &c, &t.err), ACLM_OK);
	assert_int_equal(store_ca_issued_get(t.s, t.tenant, CA, "01", &got, &t.err), ACLM_OK);
	assert_null(got->account_id);
	assert_null(got->order_id);
	assert_int_equal(got->cert_id, 0);
	assert_null(got->profile);
	assert_null(got->replaced_by);
	assert_true(got->revoked);
	assert_int_equal(got->revoked_at, NOW);
	assert_int_equal(got->reason, 4);
	assert_true(got->created_at > 0);
	store_ca_issued_free(got);
	/* Refused: uppercase serial, a stranger account, no DER. */
	c = issued(t.tenant, CA, "0A", "p256", 0);
	assert_int_equal(store_ca_issued_put(t.s, &c, &t.err), ACLM_ERR_INVALID);
	c = issued(t.tenant, CA, "0b", "p256", 0);
	c.account_id = "nobody";
	assert_int_equal(store_ca_issued_put(t.s, &c, &t.err), ACLM_ERR_INVALID);
	c.account_id = NULL;
	c.der_len = 0;
	assert_int_equal(store_ca_issued_put(t.s, &c, &t.err), ACLM_ERR_INVALID);
	/* Deleting the inventory row keeps the issuance record. */
	assert_int_equal(store_cert_delete(t.s, t.tenant, cert, &t.err), ACLM_OK);
	assert_int_equal(store_ca_issued_get(t.s, t.tenant, CA, "00f1e2d3c4b5a69788796a5b4c3d2e1f",
					     &got, &t.err), ACLM_OK);
	assert_int_equal(got->cert_id, 0);
	store_ca_issued_free(got);
	tdb_close(&t);
}

static void test_issued_revoke_once(void **state)
{
	struct tdb t;
	struct store_ca_issued *got = NULL;

	(void)state;
	tdb_open(&t);
	put_issued(&t, t.tenant, CA, "0abc", "p256", 0);
	assert_int_equal(store_ca_issued_revoke(t.s, t.tenant, CA, "0abc", 1, NOW, &t.err), ACLM_OK);
	assert_int_equal(store_ca_issued_get(t.s, t.tenant, CA, "0abc", &got, &t.err), ACLM_OK);
	assert_true(got->revoked);
	assert_int_equal(got->reason, 1);
	assert_int_equal(got->revoked_at, NOW);
	store_ca_issued_free(got);
	/* Twice: refused, and the first reason and time stay. */
	assert_int_equal(store_ca_issued_revoke(t.s, t.tenant, CA, "0abc", 4, NOW + 9, &t.err),
			 ACLM_ERR_EXISTS);
	assert_non_null(strstr(t.err.msg, "already revoked"));
	assert_int_equal(store_ca_issued_get(t.s, t.tenant, CA, "0abc", &got, &t.err), ACLM_OK);
	assert_int_equal(got->reason, 1);
	assert_int_equal(got->revoked_at, NOW);
	store_ca_issued_free(got);
	assert_int_equal(store_ca_issued_revoke(t.s, t.tenant, CA, "0abd", 0, NOW, &t.err),
			 ACLM_ERR_NOTFOUND);
	/* RFC 5280 §5.3.1: 7 is unused, 10 is the last reason. */
	put_issued(&t, t.tenant, CA, "0abe", "p256", 0);
	assert_int_equal(store_ca_issued_revoke(t.s, t.tenant, CA, "0abe", 7, NOW, &t.err),
			 ACLM_ERR_INVALID);
	assert_int_equal(store_ca_issued_revoke(t.s, t.tenant, CA, "0abe", 11, NOW, &t.err),
			 ACLM_ERR_INVALID);
	assert_int_equal(store_ca_issued_revoke(t.s, t.tenant, CA, "0abe", 10, 0, &t.err), ACLM_OK);
	assert_int_equal(store_ca_issued_get(t.s, t.tenant, CA, "0abe", &got, &t.err), ACLM_OK);
	assert_true(got->revoked_at > 0); /* 0: now */
	store_ca_issued_free(got);
	tdb_close(&t);
}

static void test_issued_replace_by_one_order_only(void **state)
{
	struct tdb t;
	struct store_ca_issued *got = NULL;

	(void)state;
	tdb_open(&t);
	put_issued(&t, t.tenant, CA, "0abc", "p256", 0);
	assert_int_equal(store_ca_issued_replace(t.s, t.tenant, CA, "0abc", "o1", &t.err), ACLM_OK);
	assert_int_equal(store_ca_issued_replace(t.s, t.tenant, CA, "0abc", "o1", &t.err), ACLM_OK);
	assert_int_equal(store_ca_issued_replace(t.s, t.tenant, CA, "0abc", "o2", &t.err),
			 ACLM_ERR_EXISTS);
	assert_non_null(strstr(t.err.msg, "o1"));
	assert_int_equal(store_ca_issued_get(t.s, t.tenant, CA, "0abc", &got, &t.err), ACLM_OK);
	assert_string_equal(got->replaced_by, "o1");
	store_ca_issued_free(got);
	assert_int_equal(store_ca_issued_replace(t.s, t.tenant, CA, "0abd", "o1", &t.err),
			 ACLM_ERR_NOTFOUND);
	tdb_close(&t);
}

/* "serial:key_type:revoked" per row, in list order. */
static aclm_status collect_issued(const struct store_ca_issued *c, void *arg)
{
	json_array_append_new(arg, json_sprintf("%s:%s:%d", c->serial, c->key_type, c->revoked));
	return ACLM_OK;
}

static const char *issued_list(struct tdb *t, const char *key_type, bool revoked_only,
			       json_t *out)
{
	static char joined[256];

	json_array_clear(out);
	assert_int_equal(store_ca_issued_list(t->s, t->tenant, CA, key_type, revoked_only,
					      collect_issued, out, &t->err), ACLM_OK);
	joined[0] = '\0';
	for (size_t i = 0; i < json_array_size(out); i++) {
		strncat(joined, i ? " " : "", sizeof(joined) - strlen(joined) - 1);
		strncat(joined, json_string_value(json_array_get(out, i)),
			sizeof(joined) - strlen(joined) - 1);
	}
	return joined;
}

static aclm_status stop_at_first(const struct store_ca_issued *c, void *arg)
{
	(*(int *)arg)++;
	return ACLM_ERR_BUSY;
}

static void test_issued_list_orders_by_creation_and_filters(void **state)
{
	struct tdb t;
	json_t *rows = json_array();
	int calls = 0;

	(void)state;
	tdb_open(&t);
	put_issued(&t, t.tenant, CA, "05", "p256", NOW + 3);
	put_issued(&t, t.tenant, CA, "1b", "sm2", NOW + 1);
	put_issued(&t, t.tenant, CA, "1a", "p256", NOW + 1);
	put_issued(&t, t.tenant, CA, "20", "sm2", NOW + 2);
	put_issued(&t, t.tenant, "ca2", "10", "p256", NOW);
	assert_int_equal(store_ca_issued_revoke(t.s, t.tenant, CA, "05", 1, NOW, &t.err), ACLM_OK);
	assert_int_equal(store_ca_issued_revoke(t.s, t.tenant, CA, "1b", 1, NOW, &t.err), ACLM_OK);
	/* Creation order first, serial among equals (1a/1b). */
	assert_string_equal(issued_list(&t, NULL, false, rows),
			    "1a:p256:0 1b:sm2:1 20:sm2:0 05:p256:1");
	assert_string_equal(issued_list(&t, "p256", false, rows), "1a:p256:0 05:p256:1");
	assert_string_equal(issued_list(&t, "sm2", false, rows), "1b:sm2:1 20:sm2:0");
	assert_string_equal(issued_list(&t, NULL, true, rows), "1b:sm2:1 05:p256:1");
	assert_string_equal(issued_list(&t, "p256", true, rows), "05:p256:1");
	assert_string_equal(issued_list(&t, "rsa2048", false, rows), "");
	/* A callback's failure stops the listing and is returned. */
	assert_int_equal(store_ca_issued_list(t.s, t.tenant, CA, NULL, false, stop_at_first, &calls,
					      &t.err), ACLM_ERR_BUSY);
	assert_int_equal(calls, 1);
	json_decref(rows);
	tdb_close(&t);
}

/* ---- EAB keys ---- */

static void test_eab_round_trips_and_binds_one_account(void **state)
{
	struct tdb t;
	unsigned char sealed[] = { 'A', 'K', '1', 0, 1, 2, 3, 0xff };
	struct store_ca_eab e = { 0 }, *got = NULL;
	int64_t member = 0;

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "member", &member, &t.err), ACLM_OK);
	e.tenant_id = t.tenant;
	e.ca_name = CA;
	snprintf(e.kid, sizeof(e.kid), "kid-0123456789abcdefghijklmnopqrstuvwxyzABC");
	e.member_tenant = member;
	e.hmac_sealed = sealed;
	e.hmac_sealed_len = sizeof(sealed);
	e.allow = json_pack("[s]", "*.example.com");
	e.created_at = NOW;
	assert_int_equal(store_ca_eab_put(t.s, &e, &t.err), ACLM_OK);
	assert_int_equal(store_ca_eab_get(t.s, t.tenant, CA, e.kid, &got, &t.err), ACLM_OK);
	assert_string_equal(got->kid, e.kid);
	assert_int_equal(got->tenant_id, t.tenant);
	assert_string_equal(got->ca_name, CA);
	assert_int_equal(got->member_tenant, member);
	assert_int_equal(got->hmac_sealed_len, sizeof(sealed));
	assert_memory_equal(got->hmac_sealed, sealed, sizeof(sealed));
	assert_true(json_equal(got->allow, e.allow));
	assert_null(got->account_id);
	assert_int_equal(got->created_at, NOW);
	store_ca_eab_free(got);
	assert_int_equal(store_ca_eab_put(t.s, &e, &t.err), ACLM_ERR_EXISTS);
	json_decref(e.allow);

	put_account(&t, t.tenant, CA, "acct1", THUMB_A);
	put_account(&t, t.tenant, CA, "acct2", THUMB_B);
	assert_int_equal(store_ca_eab_bind(t.s, t.tenant, CA, e.kid, "acct1", &t.err), ACLM_OK);
	assert_int_equal(store_ca_eab_bind(t.s, t.tenant, CA, e.kid, "acct1", &t.err), ACLM_OK);
	assert_int_equal(store_ca_eab_bind(t.s, t.tenant, CA, e.kid, "acct2", &t.err),
			 ACLM_ERR_EXISTS);
	assert_non_null(strstr(t.err.msg, "acct1"));
	assert_int_equal(store_ca_eab_get(t.s, t.tenant, CA, e.kid, &got, &t.err), ACLM_OK);
	assert_string_equal(got->account_id, "acct1");
	assert_non_null(got->allow); /* binding changes only account_id */
	store_ca_eab_free(got);
	assert_int_equal(store_ca_eab_bind(t.s, t.tenant, CA, "no-such-kid", "acct1", &t.err),
			 ACLM_ERR_NOTFOUND);
	tdb_close(&t);
}

/* The account reference is checked at commit, so a registration may claim
 * the key before it writes the account; an account that never comes is
 * refused. */
static void test_eab_bind_before_the_account_in_one_transaction(void **state)
{
	struct tdb t;

	(void)state;
	tdb_open(&t);
	put_eab(&t, t.tenant, CA, "kid1");
	put_eab(&t, t.tenant, CA, "kid2");
	assert_int_equal(store_begin(t.s, &t.err), ACLM_OK);
	assert_int_equal(store_ca_eab_bind(t.s, t.tenant, CA, "kid1", "new", &t.err), ACLM_OK);
	put_account(&t, t.tenant, CA, "new", THUMB_A);
	assert_int_equal(store_commit(t.s, &t.err), ACLM_OK);
	assert_int_equal(store_ca_eab_bind(t.s, t.tenant, CA, "kid2", "ghost", &t.err),
			 ACLM_ERR_INVALID);
	assert_int_equal(store_begin(t.s, &t.err), ACLM_OK);
	assert_int_equal(store_ca_eab_bind(t.s, t.tenant, CA, "kid2", "ghost", &t.err), ACLM_OK);
	assert_int_not_equal(store_commit(t.s, &t.err), ACLM_OK);
	/* The failed commit rolled back: kid2 is still free. */
	assert_int_equal(store_ca_eab_bind(t.s, t.tenant, CA, "kid2", "new", &t.err), ACLM_OK);
	tdb_close(&t);
}

/* ---- isolation ---- */

/* Every row of tenant/CA (t->tenant, CA); asks (tenant, ca_name) for each. */
static void assert_invisible(struct tdb *t, int64_t tenant, const char *ca_name)
{
	struct store_ca_account *a = NULL;
	struct store_ca_order *o = NULL;
	struct store_ca_authz *z = NULL;
	struct store_ca_issued *c = NULL;
	struct store_ca_eab *e = NULL;
	json_t *rows = json_array();

	assert_int_equal(store_ca_account_get(t->s, tenant, ca_name, "acct", &a, &t->err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_ca_account_find(t->s, tenant, ca_name, THUMB_A, &a, &t->err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_ca_order_get(t->s, tenant, ca_name, "o1", &o, &t->err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_ca_authz_get(t->s, tenant, ca_name, "z1", &z, &t->err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_ca_authz_find_valid(t->s, tenant, ca_name, "acct", "dns",
						   "example.com", false, NOW, 0, &z, &t->err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_ca_issued_get(t->s, tenant, ca_name, "0abc", &c, &t->err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_ca_eab_get(t->s, tenant, ca_name, "kid", &e, &t->err),
			 ACLM_ERR_NOTFOUND);
	assert_null(a);
	assert_null(o);
	assert_null(z);
	assert_null(c);
	assert_null(e);
	assert_int_equal(store_ca_authz_list_va_pending(t->s, tenant, ca_name, collect_authz, rows,
							&t->err), ACLM_OK);
	assert_int_equal(store_ca_issued_list(t->s, tenant, ca_name, NULL, false, collect_issued,
					      rows, &t->err), ACLM_OK);
	assert_int_equal(json_array_size(rows), 0);
	/* Nor can they be changed from there. */
	assert_int_equal(store_ca_issued_revoke(t->s, tenant, ca_name, "0abc", 1, NOW, &t->err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_ca_issued_replace(t->s, tenant, ca_name, "0abc", "o9", &t->err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_ca_eab_bind(t->s, tenant, ca_name, "kid", "acct", &t->err),
			 ACLM_ERR_NOTFOUND);
	json_decref(rows);
}

static void test_rows_are_invisible_from_another_tenant_or_ca(void **state)
{
	struct tdb t;
	struct store_ca_issued *c = NULL;
	struct store_ca_eab *e = NULL;
	struct store_ca_order o = { 0 }, *og = NULL;
	int64_t other = 0;
	struct tauthz z = { "z1", "acct", "dns", "example.com", "valid", false, true,
			    NOW + DAY, 0 };

	(void)state;
	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "other", &other, &t.err), ACLM_OK);
	put_account(&t, t.tenant, CA, "acct", THUMB_A);
	o.tenant_id = t.tenant;
	o.ca_name = CA;
	snprintf(o.id, sizeof(o.id), "o1");
	o.account_id = "acct";
	o.status = "pending";
	o.identifiers = json_pack("[{s:s,s:s}]", "type", "dns", "value", "example.com");
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_OK);
	put_authz(&t, t.tenant, CA, &z);
	put_issued(&t, t.tenant, CA, "0abc", "p256", 0);
	put_eab(&t, t.tenant, CA, "kid");

	assert_invisible(&t, other, CA);
	assert_invisible(&t, t.tenant, "ca2");
	assert_invisible(&t, t.tenant, "CORP"); /* CA names are exact */
	/* The rows are still there, unchanged, for their own tenant and CA. */
	assert_int_equal(store_ca_order_get(t.s, t.tenant, CA, "o1", &og, &t.err), ACLM_OK);
	store_ca_order_free(og);
	assert_int_equal(store_ca_issued_get(t.s, t.tenant, CA, "0abc", &c, &t.err), ACLM_OK);
	assert_false(c->revoked);
	assert_null(c->replaced_by);
	store_ca_issued_free(c);
	assert_int_equal(store_ca_eab_get(t.s, t.tenant, CA, "kid", &e, &t.err), ACLM_OK);
	assert_null(e->account_id);
	store_ca_eab_free(e);
	/* An order cannot point at an account of another tenant or CA. */
	o.tenant_id = other;
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_ERR_INVALID);
	o.tenant_id = t.tenant;
	o.ca_name = "ca2";
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_ERR_INVALID);
	/* Tenant 0 is a caller bug, never "every tenant". */
	assert_int_equal(store_ca_issued_get(t.s, 0, CA, "0abc", &c, &t.err), ACLM_ERR_INVALID);
	o.tenant_id = 0;
	assert_int_equal(store_ca_order_put(t.s, &o, &t.err), ACLM_ERR_INVALID);
	json_decref(o.identifiers);
	tdb_close(&t);
}

/* ---- schema ---- */

/* The reuse lookup, the restart scan and a CRL's list are index walks
 * without a sort (the statements the store runs; test_store_ca_schema.c
 * checks each b-tree they walk). */
static void test_lookups_use_their_indexes(void **state)
{
	struct tdb t;
	char plan[1024];
	sqlite3 *raw;

	(void)state;
	tdb_open(&t);
	raw = raw_open(t.path);
	plan_of(raw, store__sqlite_ca_sql_authz_find_valid, plan, sizeof(plan));
	assert_non_null(strstr(plan, "ca_authzs_reuse"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	plan_of(raw, store__sqlite_ca_sql_authz_va_pending, plan, sizeof(plan));
	assert_non_null(strstr(plan, "ca_authzs_va_pending"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	plan_of(raw, store__sqlite_ca_sql_issued_list[1][1], plan, sizeof(plan));
	assert_non_null(strstr(plan, "ca_issued_crl"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	sqlite3_close(raw);
	tdb_close(&t);
}

static bool has_table(sqlite3 *raw, const char *name)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE name = '%s'", name);
	return raw_int(raw, sql) == 1;
}

static void test_migration_4_upgrades_a_version_3_database(void **state)
{
	struct tdb t;
	sqlite3 *raw;
	const char *const tables[] = { "ca_accounts", "ca_orders", "ca_authzs", "ca_issued",
				       "ca_eab", "ca_authzs_reuse", "ca_authzs_va_pending",
				       "ca_issued_crl", "ca_issued_created", "ca_issued_cert" };

	(void)state;
	tdb_open(&t);
	raw = raw_open(t.path);
	store_close(t.s);
	t.s = NULL;
	assert_int_equal(sqlite3_exec(raw, STORE_TEST_UNDO_5 " DROP TABLE ca_issued; DROP TABLE ca_eab;"
					   " DROP TABLE ca_authzs; DROP TABLE ca_orders;"
					   " DROP TABLE ca_accounts;"
					   " DELETE FROM schema_migrations WHERE version IN (4, 10)",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_false(has_table(raw, "ca_accounts"));
	tdb_reopen(&t);
	assert_int_equal(raw_int(raw, "SELECT max(version) FROM schema_migrations"),
			 store__sqlite_schema_version());
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		assert_true(has_table(raw, tables[i]));
	put_account(&t, t.tenant, CA, "acct", THUMB_A);
	sqlite3_close(raw);
	tdb_close(&t);
}

/* ---- durability: count the syncs SQLite asks of the file system ---- */

/* A VFS that forwards to the default one and counts xSync. */
struct count_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs count_vfs;
static int n_syncs;

#define REAL(f) (((struct count_file *)(f))->real)

static int cf_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}
static int cf_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int cf_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int cf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int cf_sync(sqlite3_file *f, int flags)
{
	n_syncs++;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int cf_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int cf_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int cf_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int cf_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int cf_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int cf_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int cf_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int cf_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int cf_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void cf_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int cf_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

/* Version 2 methods: no xFetch, so SQLite reads through xRead. */
static const sqlite3_io_methods count_io = {
	2, cf_close, cf_read, cf_write, cf_truncate, cf_sync, cf_size, cf_lock, cf_unlock,
	cf_reserved, cf_fcntl, cf_sector, cf_devchar, cf_shm_map, cf_shm_lock, cf_shm_barrier,
	cf_shm_unmap, NULL, NULL,
};

static int cf_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct count_file *cf = (struct count_file *)f;
	int rc;

	(void)vfs;
	cf->real = (sqlite3_file *)(cf + 1);
	rc = real_vfs->xOpen(real_vfs, name, cf->real, flags, out);
	cf->base.pMethods = cf->real->pMethods != NULL ? &count_io : NULL;
	return rc;
}

static void count_vfs_install(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	assert_non_null(real_vfs);
	count_vfs = *real_vfs;
	count_vfs.zName = "aclm-count";
	count_vfs.szOsFile = (int)sizeof(struct count_file) + real_vfs->szOsFile;
	count_vfs.xOpen = cf_open;
	assert_int_equal(sqlite3_vfs_register(&count_vfs, 1), SQLITE_OK);
}

/* Syncs of the second of two small commits (the first may start a WAL). */
static int syncs_per_commit(bool durable)
{
	struct tdb t = { 0 };
	struct store_options opt = { .busy_timeout_ms = 2000, .durable = durable };
	int64_t id = 0;
	int n;

	snprintf(t.dir, sizeof(t.dir), "/tmp/aclm-store-XXXXXX");
	assert_non_null(mkdtemp(t.dir));
	opt.home = t.dir;
	assert_int_equal(store_open("sqlite:aclm.db", &opt, &t.s, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "first", &id, &t.err), ACLM_OK);
	n_syncs = 0;
	assert_int_equal(store_tenant_ensure(t.s, "second", &id, &t.err), ACLM_OK);
	n = n_syncs;
	tdb_close(&t);
	return n;
}

static void test_durable_store_syncs_every_commit(void **state)
{
	(void)state;
	count_vfs_install();
	assert_int_equal(syncs_per_commit(false), 0);
	assert_true(syncs_per_commit(true) >= 1);
	sqlite3_vfs_unregister(&count_vfs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_account_round_trips_every_field_and_put_updates_in_place),
		cmocka_unit_test(test_account_thumbprint_is_unique_per_ca),
		cmocka_unit_test(test_order_round_trips_every_field_and_put_updates_in_place),
		cmocka_unit_test(test_authz_round_trips_every_field_and_put_updates_in_place),
		cmocka_unit_test(test_authz_find_valid_returns_the_newest_matching_unexpired),
		cmocka_unit_test(test_authz_va_pending_lists_only_flagged_rows_of_the_ca),
		cmocka_unit_test(test_issued_round_trips_every_field_and_refuses_a_duplicate_serial),
		cmocka_unit_test(test_issued_revoke_once),
		cmocka_unit_test(test_issued_replace_by_one_order_only),
		cmocka_unit_test(test_issued_list_orders_by_creation_and_filters),
		cmocka_unit_test(test_eab_round_trips_and_binds_one_account),
		cmocka_unit_test(test_eab_bind_before_the_account_in_one_transaction),
		cmocka_unit_test(test_rows_are_invisible_from_another_tenant_or_ca),
		cmocka_unit_test(test_lookups_use_their_indexes),
		cmocka_unit_test(test_migration_4_upgrades_a_version_3_database),
		cmocka_unit_test(test_durable_store_syncs_every_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
