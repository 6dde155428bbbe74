/* Helpers shared by the store unit tests: a store in a fresh temporary
 * directory, a raw sqlite3 connection beside it, and certificates built by
 * hand with exactly the facts keys the store reads. */
#ifndef ACLM_TEST_STORE_H
#define ACLM_TEST_STORE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "store/store.h"

#define DAY 86400
#define NOW ((int64_t)1800000000) /* a fixed "now" (2027-01-15) for expiry filters */

/* Undoes migrations 9 (indexes, some on tables of 5), 7 (ca_cross) and 5
 * (tables, and the columns it added to jobs and observations), for tests
 * that take a database back to an older version. */
#define STORE_TEST_UNDO_5                                                                   \
	"DROP INDEX lineages_tenant; DELETE FROM schema_migrations WHERE version = 9;"       \
	" DROP TABLE ca_cross; DELETE FROM schema_migrations WHERE version = 7;"            \
	" DROP TABLE deployments; DROP TABLE bindings; DROP TABLE targets;"                 \
	" DROP TABLE scan_runs; DROP TABLE scans; DROP TABLE notify_channels;"              \
	" DROP TABLE alerts; DROP TABLE sessions; DROP TABLE api_tokens; DROP TABLE users;" \
	" DROP INDEX jobs_active_key; DROP INDEX jobs_tenant;"                              \
	" DROP INDEX endpoints_tenant_last_seen;"                                           \
	" ALTER TABLE jobs DROP COLUMN key; ALTER TABLE jobs DROP COLUMN max_attempts;"     \
	" ALTER TABLE jobs DROP COLUMN heartbeat_at; ALTER TABLE jobs DROP COLUMN result;"  \
	" ALTER TABLE observations DROP COLUMN scan_run_id;"                                \
	" DELETE FROM schema_migrations WHERE version = 5;"

struct tdb {
	char dir[64];
	char path[128];
	struct store *s;
	int64_t tenant;
	struct aclm_err err;
};

static inline int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void tdb_reopen(struct tdb *t)
{
	struct store_options opt = { .home = t->dir, .busy_timeout_ms = 2000 };

	store_close(t->s);
	t->s = NULL;
	assert_int_equal(store_open("sqlite:aclm.db", &opt, &t->s, &t->err), ACLM_OK);
}

/* A fresh directory, the store at DIR/aclm.db, and tenant "default". */
static inline void tdb_open(struct tdb *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/aclm-store-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/aclm.db", t->dir);
	tdb_reopen(t);
	assert_int_equal(store_tenant_ensure(t->s, "default", &t->tenant, &t->err), ACLM_OK);
}

static inline void tdb_close(struct tdb *t)
{
	store_close(t->s);
	t->s = NULL;
	rm_rf(t->dir);
}

static inline sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	return db;
}

/* The detail lines of sql's query plan (EXPLAIN QUERY PLAN), joined by
 * newlines into out. */
static inline void plan_of(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	char q[4200];
	sqlite3_stmt *st = NULL;

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		strncat(out, (const char *)sqlite3_column_text(st, 3), outlen - strlen(out) - 2);
		strncat(out, "\n", outlen - strlen(out) - 1);
	}
	sqlite3_finalize(st);
}

/* The single integer a query returns (-1 when it returns no row). */
static inline int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* What the store reads from crypto_cert_facts(); NULL fields are left out. */
struct tfacts {
	const char *cn, *subject, *issuer, *serial;
	const char *key_type, *curve, *sig;
	int bits;
	bool is_ca, self_signed;
	const char *aki, *ski, *spki;
	const char *dns[4];
	const char *ip;
};

static inline json_t *tfacts_json(const struct tfacts *f)
{
	json_t *o = json_object(), *sans = json_object(), *dns = json_array(), *key = json_object();

	for (size_t i = 0; i < 4 && f->dns[i] != NULL; i++)
		json_array_append_new(dns, json_string(f->dns[i]));
	json_object_set_new(sans, "dns", dns);
	json_object_set_new(sans, "ip", f->ip != NULL ? json_pack("[s]", f->ip) : json_array());
	json_object_set_new(o, "sans", sans);
	if (f->key_type != NULL)
		aclm_json_set_str(key, "type", f->key_type);
	if (f->bits > 0)
		aclm_json_set_int(key, "bits", f->bits);
	aclm_json_set_str(key, "curve", f->curve != NULL ? f->curve : "");
	json_object_set_new(o, "key", key);
	aclm_json_set_str(o, "common_name", f->cn);
	aclm_json_set_str(o, "subject", f->subject);
	aclm_json_set_str(o, "issuer", f->issuer);
	aclm_json_set_str(o, "serial", f->serial != NULL ? f->serial : "01");
	aclm_json_set_str(o, "signature_algorithm", f->sig != NULL ? f->sig : "sha256WithRSAEncryption");
	aclm_json_set_bool(o, "is_ca", f->is_ca);
	aclm_json_set_bool(o, "self_signed", f->self_signed);
	aclm_json_set_str(o, "aki", f->aki);
	aclm_json_set_str(o, "ski", f->ski);
	aclm_json_set_str(o, "spki_sha256", f->spki);
	return o;
}

/* A 64-digit fingerprint: prefix, zeros, then n in hex at the end. */
static inline void tfp(char out[65], const char *prefix, unsigned n)
{
	char tail[17];
	size_t plen = strlen(prefix);

	memset(out, '0', 64);
	out[64] = '\0';
	memcpy(out, prefix, plen);
	snprintf(tail, sizeof(tail), "%08x", n);
	memcpy(out + 64 - strlen(tail), tail, strlen(tail));
}

static const unsigned char tder[] = { 0x30, 0x03, 0x02, 0x01, 0x2a };

/* Inserts a certificate expiring at not_after into tenant; returns its id. */
static inline int64_t tinsert(struct tdb *t, int64_t tenant, const char *fp,
			      const struct tfacts *f, int64_t not_after)
{
	struct store_cert c = { 0 };
	int64_t id = 0;
	bool created = false;

	c.tenant_id = tenant;
	memcpy(c.fingerprint, fp, 65);
	c.facts = tfacts_json(f);
	c.not_before = not_after - 90 * DAY;
	c.not_after = not_after;
	c.der = (unsigned char *)tder;
	c.der_len = sizeof(tder);
	c.source = "import";
	assert_int_equal(store_cert_insert(t->s, &c, &id, &created, &t->err), ACLM_OK);
	json_decref(c.facts);
	return id;
}

#endif
