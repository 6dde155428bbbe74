/* SQLite schema: numbered migrations, applied in order at open, each once
 * and in its own transaction. Never edit a released migration; append one. */
#include "store/sqlite_int.h"

#include <stdio.h>

#include "core/time.h"

static const char *const migrations[] = {
	/* 1: tenants, the inventory, keys, discovery, jobs, audit. Every
	 * tenant-owned table carries tenant_id. */
	"CREATE TABLE tenants("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT UNIQUE NOT NULL,"
	"  created_at INTEGER NOT NULL);"

	/* The indexed columns copy facts (the JSON stays the full record);
	 * search is the lowercased text `cert list --search` matches with LIKE. */
	"CREATE TABLE certificates("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  fingerprint TEXT NOT NULL,"
	"  serial TEXT, subject TEXT, issuer TEXT, common_name TEXT,"
	"  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
	"  key_type TEXT, key_bits INTEGER, key_curve TEXT, sig_alg TEXT,"
	"  is_ca INTEGER NOT NULL DEFAULT 0, self_signed INTEGER NOT NULL DEFAULT 0,"
	"  spki_sha256 TEXT, aki TEXT, ski TEXT,"
	"  search TEXT NOT NULL,"
	"  facts TEXT NOT NULL,"
	"  der BLOB NOT NULL,"
	"  key_id TEXT,"
	"  source TEXT NOT NULL,"
	"  sources TEXT NOT NULL,"
	"  owner TEXT,"
	"  tags TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	/* The uniqueness of (tenant, fingerprint) is this named index: it also
	 * serves fingerprint-prefix range lookups, so no second copy is needed. */
	"CREATE UNIQUE INDEX certificates_tenant_fingerprint ON certificates(tenant_id, fingerprint);"
	"CREATE INDEX certificates_tenant_not_after ON certificates(tenant_id, not_after);"
	/* Chain building looks up issuers by subject and SKI, and only a CA
	 * (or a self-signed v1 root) issues: indexing just those keeps two
	 * random-key indexes off every leaf insert (measured at 300k rows: 44 ->
	 * 28 KB written per row). */
	"CREATE INDEX certificates_tenant_subject ON certificates(tenant_id, subject)"
	"  WHERE is_ca = 1 OR self_signed = 1;"
	"CREATE INDEX certificates_tenant_ski ON certificates(tenant_id, ski)"
	"  WHERE is_ca = 1 OR self_signed = 1;"
	"CREATE INDEX certificates_tenant_issuer ON certificates(tenant_id, issuer);"
	"CREATE INDEX certificates_tenant_spki ON certificates(tenant_id, spki_sha256);"

	"CREATE TABLE cert_links("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  cert_id INTEGER NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,"
	"  issuer_id INTEGER NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,"
	"  PRIMARY KEY(cert_id, issuer_id)) WITHOUT ROWID;"
	"CREATE INDEX cert_links_issuer ON cert_links(issuer_id);"

	"CREATE TABLE keys("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  id TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  spki_sha256 TEXT NOT NULL,"
	"  sealed BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY(tenant_id, id));"
	"CREATE INDEX keys_tenant_spki ON keys(tenant_id, spki_sha256);"

	/* sni is '' rather than NULL when absent: NULLs never collide in a
	 * UNIQUE constraint, which would let duplicate endpoints in. */
	"CREATE TABLE endpoints("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  host TEXT NOT NULL, ip TEXT, port INTEGER NOT NULL, sni TEXT NOT NULL DEFAULT '',"
	"  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	"  UNIQUE(tenant_id, host, port, sni));"
	/* The indexes on the foreign keys keep cascades from scanning. */
	"CREATE TABLE observations("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  endpoint_id INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,"
	"  cert_id INTEGER REFERENCES certificates(id) ON DELETE SET NULL,"
	"  observed_at INTEGER NOT NULL,"
	"  detail TEXT);"
	"CREATE INDEX observations_endpoint ON observations(endpoint_id, observed_at);"
	"CREATE INDEX observations_cert ON observations(cert_id);"

	"CREATE TABLE jobs("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL,"
	"  kind TEXT NOT NULL, state TEXT NOT NULL, payload TEXT,"
	"  run_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	"  lease_owner TEXT, lease_until INTEGER, last_error TEXT,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	"CREATE INDEX jobs_state_run_at ON jobs(state, run_at);"

	/* Append-only: the triggers make UPDATE and DELETE fail, and the hash
	 * chain (store.c) reveals edits made around them. No foreign key on
	 * tenant_id: the log outlives what it describes. */
	"CREATE TABLE audit("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  tenant_id INTEGER NOT NULL,"
	"  actor TEXT NOT NULL, action TEXT NOT NULL, object TEXT, detail TEXT,"
	"  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;",

	/* 2: the ACME client's state: accounts held at ACME servers and the
	 * lineages renewed with them. contact and names are JSON arrays,
	 * options a JSON object. */
	"CREATE TABLE acme_accounts("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  server TEXT NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  url TEXT,"
	"  contact TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  UNIQUE(tenant_id, server, key_id));"
	/* store_acme_account_find: the newest valid account at a server; the
	 * rowid at the end of the index serves its ORDER BY id DESC. */
	"CREATE INDEX acme_accounts_tenant_server_status"
	"  ON acme_accounts(tenant_id, server, status);"

	/* lock_owner/lock_until is a lease (store_lineage_lock); lock_until 0
	 * with lock_owner NULL is free. */
	"CREATE TABLE lineages("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  name TEXT NOT NULL,"
	"  server TEXT NOT NULL,"
	"  account_id INTEGER REFERENCES acme_accounts(id),"
	"  names TEXT NOT NULL,"
	"  key_type TEXT NOT NULL,"
	"  options TEXT NOT NULL,"
	"  cert_id INTEGER REFERENCES certificates(id) ON DELETE SET NULL,"
	"  order_url TEXT, order_state TEXT, ari_id TEXT,"
	"  next_check INTEGER NOT NULL DEFAULT 0,"
	"  lock_owner TEXT, lock_until INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  UNIQUE(tenant_id, name));"
	/* Keeps every certificate delete (ON DELETE SET NULL) from scanning. */
	"CREATE INDEX lineages_cert ON lineages(cert_id);",

	/* 3: the built-in CA: per (tenant, name, key type) a root and an
	 * intermediate, both certificates in the inventory. root_key_id stays
	 * when the root key went offline (exported and removed from the
	 * keystore): it names the key the file holds. The indexes keep
	 * certificate deletes (foreign key checks) from scanning. */
	"CREATE TABLE cas("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  name TEXT NOT NULL,"
	"  key_type TEXT NOT NULL,"
	"  root_cert_id INTEGER NOT NULL REFERENCES certificates(id),"
	"  root_key_id TEXT NOT NULL,"
	"  intermediate_cert_id INTEGER NOT NULL REFERENCES certificates(id),"
	"  intermediate_key_id TEXT NOT NULL,"
	"  offline_root INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE(tenant_id, name, key_type));"
	"CREATE INDEX cas_root_cert ON cas(root_cert_id);"
	"CREATE INDEX cas_intermediate_cert ON cas(intermediate_cert_id);",

	/* 4: the built-in CA's ACME server. Every row belongs to the tenant
	 * that owns the CA and to one CA name, and ids are only unique within
	 * them, so both lead every key and every index. JSON columns hold what
	 * is only read whole. References to accounts name the same tenant and
	 * CA (composite foreign keys), so a row cannot point across CAs;
	 * order ids have no foreign key, as orders may be purged while the
	 * certificates they produced stay listed on CRLs. */
	"CREATE TABLE ca_accounts("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  ca_name TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  member_tenant INTEGER NOT NULL REFERENCES tenants(id),"
	"  thumbprint TEXT NOT NULL,"
	"  jwk TEXT NOT NULL,"
	"  contact TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  eab_kid TEXT,"
	"  allow TEXT,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY(tenant_id, ca_name, id),"
	"  UNIQUE(tenant_id, ca_name, thumbprint));"

	"CREATE TABLE ca_orders("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  ca_name TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  account_id TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  identifiers TEXT NOT NULL,"
	"  authz_ids TEXT NOT NULL,"
	"  profile TEXT,"
	"  not_before INTEGER NOT NULL DEFAULT 0, not_after INTEGER NOT NULL DEFAULT 0,"
	"  expires INTEGER NOT NULL,"
	"  error TEXT,"
	"  cert_serial TEXT,"
	"  replaces TEXT,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY(tenant_id, ca_name, id),"
	"  FOREIGN KEY(tenant_id, ca_name, account_id)"
	"    REFERENCES ca_accounts(tenant_id, ca_name, id));"

	/* DNS names compare without case (RFC 4343), so does the reuse lookup.
	 * ca_authzs_reuse serves store_ca_authz_find_valid entirely: equality
	 * on the leading columns, then a backwards range scan of expires. */
	"CREATE TABLE ca_authzs("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  ca_name TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  account_id TEXT NOT NULL,"
	"  ident_type TEXT NOT NULL,"
	"  ident_value TEXT NOT NULL COLLATE NOCASE,"
	"  wildcard INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  challenges TEXT NOT NULL,"
	"  va_pending INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY(tenant_id, ca_name, id),"
	"  FOREIGN KEY(tenant_id, ca_name, account_id)"
	"    REFERENCES ca_accounts(tenant_id, ca_name, id));"
	"CREATE INDEX ca_authzs_reuse ON ca_authzs(tenant_id, ca_name, account_id, ident_type,"
	"  ident_value, wildcard, status, expires);"
	/* Only the few authorizations being validated, for the restart scan. */
	"CREATE INDEX ca_authzs_va_pending ON ca_authzs(tenant_id, ca_name, created_at, id)"
	"  WHERE va_pending = 1;"

	/* cert_id is the inventory row in the account's member tenant; it may
	 * be deleted there, the issuance record stays. */
	"CREATE TABLE ca_issued("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  ca_name TEXT NOT NULL,"
	"  serial TEXT NOT NULL,"
	"  key_type TEXT NOT NULL,"
	"  account_id TEXT,"
	"  order_id TEXT,"
	"  cert_id INTEGER REFERENCES certificates(id) ON DELETE SET NULL,"
	"  der BLOB NOT NULL,"
	"  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
	"  profile TEXT,"
	"  revoked INTEGER NOT NULL DEFAULT 0,"
	"  revoked_at INTEGER NOT NULL DEFAULT 0,"
	"  reason INTEGER NOT NULL DEFAULT 0,"
	"  replaced_by TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY(tenant_id, ca_name, serial),"
	"  FOREIGN KEY(tenant_id, ca_name, account_id)"
	"    REFERENCES ca_accounts(tenant_id, ca_name, id));"
	/* A CRL lists one intermediate's revoked certificates in list order. */
	"CREATE INDEX ca_issued_crl ON ca_issued(tenant_id, ca_name, key_type, revoked,"
	"  created_at, serial);"
	"CREATE INDEX ca_issued_created ON ca_issued(tenant_id, ca_name, created_at, serial);"
	"CREATE INDEX ca_issued_cert ON ca_issued(cert_id);"

	/* The account reference is checked at commit: a server may claim the
	 * key (store_ca_eab_bind) before it writes the account, in one
	 * transaction. */
	"CREATE TABLE ca_eab("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  ca_name TEXT NOT NULL,"
	"  kid TEXT NOT NULL,"
	"  member_tenant INTEGER NOT NULL REFERENCES tenants(id),"
	"  hmac_sealed BLOB NOT NULL,"
	"  allow TEXT,"
	"  account_id TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY(tenant_id, ca_name, kid),"
	"  FOREIGN KEY(tenant_id, ca_name, account_id)"
	"    REFERENCES ca_accounts(tenant_id, ca_name, id) DEFERRABLE INITIALLY DEFERRED);",

	/* 5: the service (aclm serve): users, API tokens and sessions; the job
	 * table's dedupe key and heartbeat; alerts; notification channels;
	 * scan definitions and runs; deployment targets, bindings and results.
	 * Secrets never live here: passwords as argon2id strings, tokens and
	 * session ids as SHA-256 hex, channel and target secrets as file paths. */
	"CREATE TABLE users("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  password_hash TEXT,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  UNIQUE(tenant_id, name));"
	/* id is the token's public part (looked up), hash covers its secret
	 * part (compared in constant time). */
	"CREATE TABLE api_tokens("
	"  id TEXT PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  scope TEXT NOT NULL DEFAULT 'api',"
	"  hash TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER,"
	"  last_used_at INTEGER);"
	"CREATE INDEX api_tokens_tenant ON api_tokens(tenant_id);"
	"CREATE INDEX api_tokens_user ON api_tokens(user_id);"
	"CREATE TABLE sessions("
	"  id_hash TEXT PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  csrf TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
	"CREATE INDEX sessions_user ON sessions(user_id);"

	/* At most one queued or running job per (tenant, kind, key): enqueueing
	 * a renewal twice is a no-op. */
	"ALTER TABLE jobs ADD COLUMN key TEXT;"
	"ALTER TABLE jobs ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 5;"
	"ALTER TABLE jobs ADD COLUMN heartbeat_at INTEGER;"
	"ALTER TABLE jobs ADD COLUMN result TEXT;"
	"CREATE UNIQUE INDEX jobs_active_key ON jobs(tenant_id, kind, key)"
	"  WHERE state IN ('queued', 'running');"
	"CREATE INDEX jobs_tenant ON jobs(tenant_id, id);"

	/* One row per alert raised; the UNIQUE key is what makes each alert
	 * fire once (dedupe: a threshold, or a day stamp below 3 days). */
	"CREATE TABLE alerts("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  kind TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  dedupe TEXT NOT NULL,"
	"  severity TEXT NOT NULL,"
	"  message TEXT NOT NULL,"
	"  detail TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE(tenant_id, kind, object, dedupe));"
	"CREATE INDEX alerts_tenant_created ON alerts(tenant_id, created_at);"

	"CREATE TABLE notify_channels("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  name TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  params TEXT NOT NULL,"
	"  origin TEXT NOT NULL DEFAULT 'api',"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  UNIQUE(tenant_id, name));"

	"CREATE TABLE scans("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  name TEXT NOT NULL,"
	"  targets TEXT NOT NULL,"
	"  options TEXT NOT NULL,"
	"  interval_s INTEGER NOT NULL DEFAULT 0,"
	"  origin TEXT NOT NULL DEFAULT 'api',"
	"  next_run INTEGER,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  UNIQUE(tenant_id, name));"
	"CREATE TABLE scan_runs("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  scan_id INTEGER REFERENCES scans(id) ON DELETE SET NULL,"
	"  state TEXT NOT NULL,"
	"  started_at INTEGER NOT NULL, finished_at INTEGER,"
	"  endpoints INTEGER NOT NULL DEFAULT 0, reachable INTEGER NOT NULL DEFAULT 0,"
	"  findings INTEGER NOT NULL DEFAULT 0,"
	"  summary TEXT, error TEXT);"
	"CREATE INDEX scan_runs_scan ON scan_runs(scan_id, id);"
	"CREATE INDEX scan_runs_tenant ON scan_runs(tenant_id, id);"
	"ALTER TABLE observations ADD COLUMN scan_run_id INTEGER;"
	"CREATE INDEX endpoints_tenant_last_seen ON endpoints(tenant_id, last_seen);"

	"CREATE TABLE targets("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  name TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  options TEXT NOT NULL,"
	"  verify TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  UNIQUE(tenant_id, name));"
	"CREATE TABLE bindings("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  lineage TEXT NOT NULL,"
	"  target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY(tenant_id, lineage, target_id)) WITHOUT ROWID;"
	"CREATE INDEX bindings_target ON bindings(target_id);"
	"CREATE TABLE deployments("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,"
	"  cert_id INTEGER REFERENCES certificates(id) ON DELETE SET NULL,"
	"  lineage TEXT,"
	"  fingerprint TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  served_fingerprint TEXT,"
	"  error TEXT,"
	"  detail TEXT,"
	"  started_at INTEGER NOT NULL, finished_at INTEGER);"
	"CREATE INDEX deployments_target ON deployments(target_id, id);"
	"CREATE INDEX deployments_tenant_lineage ON deployments(tenant_id, lineage, id);",

	/* 6: the API pages a tenant's audit log by id; scan --save looks up a
	 * newer certificate with the same common name (the "stale" finding) on
	 * every endpoint it saves. IF NOT EXISTS: tests that replay older
	 * migrations on a newer database keep these. */
	"CREATE INDEX IF NOT EXISTS audit_tenant ON audit(tenant_id, id);"
	"CREATE INDEX IF NOT EXISTS certificates_tenant_cn ON certificates(tenant_id, common_name);",

	/* 7: cross-signed copies of a CA's intermediates (ca cross-sign): the
	 * certificates live in the inventory, this says whose copy each is. */
	"CREATE TABLE ca_cross("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  ca_id INTEGER NOT NULL REFERENCES cas(id),"
	"  cert_id INTEGER NOT NULL REFERENCES certificates(id),"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE(ca_id, cert_id));"
	"CREATE INDEX ca_cross_cert ON ca_cross(cert_id);",

	/* 8: a tenant's certificates in id order without a sort. With only
	 * certificates_tenant_cn (6) to find a tenant's rows, SQLite sorted every
	 * row — facts and DER included — in a temporary B-tree in memory for
	 * ORDER BY id: 180 MB for `cert list` and each alert pass of 100,000
	 * certificates. An index on tenant_id alone is ordered by rowid within
	 * a tenant. */
	"CREATE INDEX IF NOT EXISTS certificates_tenant_id ON certificates(tenant_id);",

	/* 9: the same for the other lists paged by id (the REST API's alerts,
	 * endpoints, orders, targets, channels): their tenant's rows came
	 * through (tenant_id, created_at | last_seen | name) indexes, so each
	 * page sorted all of them again; one on tenant_id alone walks rowid
	 * order from the cursor and stops at the limit. */
	"CREATE INDEX IF NOT EXISTS alerts_tenant ON alerts(tenant_id);"
	"CREATE INDEX IF NOT EXISTS endpoints_tenant ON endpoints(tenant_id);"
	"CREATE INDEX IF NOT EXISTS lineages_tenant ON lineages(tenant_id);"
	"CREATE INDEX IF NOT EXISTS targets_tenant ON targets(tenant_id);"
	"CREATE INDEX IF NOT EXISTS notify_channels_tenant ON notify_channels(tenant_id);",

	/* 10: fewer pages written per certificate by the CA server (34 WAL
	 * frames per certificate before, 4 commits). Orders are found only by
	 * (tenant, CA, id), so they become a WITHOUT ROWID table keyed by it:
	 * the separate primary-key index (a page write per insert, a descent
	 * per lookup) goes. Authorizations and issued certificates stay rowid
	 * tables: their rows (300-700 bytes) would fill the interior pages of a
	 * WITHOUT ROWID b-tree, and their random keys split those few-row pages
	 * on insert (measured: more pages written than the index saves). The
	 * reuse index keeps only the authorization's identity, which never
	 * changes, so status and expiry updates leave it alone
	 * (store_ca_authz_find_valid filters those few rows); a CRL lists only
	 * revoked certificates, so its index holds only them and issuing writes
	 * nothing to it. The orders table is rebuilt as
	 * https://www.sqlite.org/lang_altertable.html §7 says (new table, copy,
	 * drop, rename): no table refers to it, and its reference to
	 * ca_accounts is declared again unchanged. */
	"CREATE TABLE ca_orders_new("
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  ca_name TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  account_id TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  identifiers TEXT NOT NULL,"
	"  authz_ids TEXT NOT NULL,"
	"  profile TEXT,"
	"  not_before INTEGER NOT NULL DEFAULT 0, not_after INTEGER NOT NULL DEFAULT 0,"
	"  expires INTEGER NOT NULL,"
	"  error TEXT,"
	"  cert_serial TEXT,"
	"  replaces TEXT,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY(tenant_id, ca_name, id),"
	"  FOREIGN KEY(tenant_id, ca_name, account_id)"
	"    REFERENCES ca_accounts(tenant_id, ca_name, id)) WITHOUT ROWID;"
	"INSERT INTO ca_orders_new(tenant_id, ca_name, id, account_id, status, identifiers,"
	"  authz_ids, profile, not_before, not_after, expires, error, cert_serial, replaces,"
	"  created_at, updated_at)"
	" SELECT tenant_id, ca_name, id, account_id, status, identifiers, authz_ids, profile,"
	"  not_before, not_after, expires, error, cert_serial, replaces, created_at, updated_at"
	" FROM ca_orders;"
	"DROP TABLE ca_orders;"
	"ALTER TABLE ca_orders_new RENAME TO ca_orders;"

	"DROP INDEX ca_authzs_reuse;"
	"CREATE INDEX ca_authzs_reuse ON ca_authzs(tenant_id, ca_name, account_id, ident_type,"
	"  ident_value, wildcard);"
	"DROP INDEX ca_issued_crl;"
	"CREATE INDEX ca_issued_crl ON ca_issued(tenant_id, ca_name, key_type, created_at, serial)"
	"  WHERE revoked = 1;",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store__sqlite_schema_version(void)
{
	return N_MIGRATIONS;
}

/* One-row integer query on fixed SQL, bound to v when v >= 0. */
static aclm_status query_int(struct store__sqlite *s, const char *sql, int64_t v, int64_t *out,
			     bool *found, struct aclm_err *err)
{
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	*found = false;
	if (rc == SQLITE_OK && v >= 0)
		rc = sqlite3_bind_int64(st, 1, v);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		*found = sqlite3_column_type(st, 0) != SQLITE_NULL;
	} else if (rc != SQLITE_DONE) {
		ret = store__sqlite_err(s, rc, err, "read schema version");
	}
	sqlite3_finalize(st);
	return ret;
}

static aclm_status record_version(struct store__sqlite *s, int v, struct aclm_err *err)
{
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db,
				    "INSERT INTO schema_migrations(version, applied_at) VALUES(?1, ?2)",
				    -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 1, v);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, aclm_time_now());
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "record schema version");
	sqlite3_finalize(st);
	return ret;
}

/* Re-checks under the write lock: another process may have applied it
 * between our first look and BEGIN IMMEDIATE. */
static aclm_status apply(struct store__sqlite *s, int v, struct aclm_err *err)
{
	char what[64];
	int64_t one = 0;
	bool done = false;
	aclm_status st = store__sqlite_exec(s, "BEGIN IMMEDIATE", err);

	if (st != ACLM_OK)
		return st;
	st = query_int(s, "SELECT 1 FROM schema_migrations WHERE version = ?1", v, &one, &done, err);
	if (st == ACLM_OK && !done &&
	    sqlite3_exec(s->db, migrations[v - 1], NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(what, sizeof(what), "schema migration %d", v);
		st = store__sqlite_err(s, sqlite3_extended_errcode(s->db), err, what);
	}
	if (st == ACLM_OK && !done)
		st = record_version(s, v, err);
	if (st == ACLM_OK)
		st = store__sqlite_exec(s, "COMMIT", err);
	if (st != ACLM_OK && !sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return st;
}

aclm_status store__sqlite_migrate(struct store__sqlite *s, struct aclm_err *err)
{
	int64_t have = 0, one = 0;
	bool found = false;
	aclm_status st;

	st = store__sqlite_exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations("
				   "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
				err);
	if (st == ACLM_OK)
		st = query_int(s, "SELECT max(version) FROM schema_migrations", -1, &have, &found, err);
	if (st != ACLM_OK)
		return st;
	if (found && have > N_MIGRATIONS)
		return aclm_err_set(err, ACLM_ERR_DB,
				    "%s: database schema version %lld is newer than this aclm (%d)",
				    s->path, (long long)have, N_MIGRATIONS);
	for (int v = 1; st == ACLM_OK && v <= N_MIGRATIONS; v++) {
		st = query_int(s, "SELECT 1 FROM schema_migrations WHERE version = ?1", v, &one,
			       &found, err);
		if (st == ACLM_OK && !found)
			st = apply(s, v, err);
	}
	return st;
}
