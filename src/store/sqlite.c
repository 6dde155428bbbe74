/* SQLite backend: the connection (file, PRAGMAs, statement cache, errors),
 * transactions, tenants and the ops table. The other ops live in
 * sqlite_cert.c, sqlite_query.c, sqlite_keys.c, sqlite_audit.c,
 * sqlite_backup.c, sqlite_acme.c, sqlite_ca.c and sqlite_caserver.c; the
 * schema in sqlite_migrations.c. */
#include "store/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/time.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000
#define TENANT_NAME_MAX 255

/* ---- errors, statements, binds ---- */

static aclm_status status_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ACLM_ERR_BUSY;
	case SQLITE_NOMEM:
		return ACLM_ERR_NOMEM;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
			return ACLM_ERR_EXISTS;
		return ACLM_ERR_INVALID;
	default:
		return ACLM_ERR_DB;
	}
}

aclm_status store__sqlite_err(const struct store__sqlite *s, int rc, struct aclm_err *err,
			      const char *what)
{
	const char *msg = s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);

	/* errmsg describes the last call on the connection; when rc came from
	 * elsewhere (a bind, the backup handle) errstr is the honest text. */
	if (s->db != NULL && sqlite3_extended_errcode(s->db) != rc)
		msg = sqlite3_errstr(rc);
	return aclm_err_set(err, status_of(rc), "%s: %s: %s", s->path, what, msg);
}

/* The cache slot of a keyed statement: found by its SQL's address, or the
 * first free slot on the probe path. NULL when the table is full (a bug:
 * raise STORE__SQLITE_KEYED_MAX). */
static sqlite3_stmt **keyed_slot(struct store__sqlite *s, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % STORE__SQLITE_KEYED_MAX;

	for (size_t i = 0; i < STORE__SQLITE_KEYED_MAX; i++) {
		size_t k = (h + i) % STORE__SQLITE_KEYED_MAX;

		if (s->keyed[k].sql == sql || s->keyed[k].sql == NULL) {
			s->keyed[k].sql = sql;
			return &s->keyed[k].st;
		}
	}
	return NULL;
}

aclm_status store__sqlite_stmt(struct store__sqlite *s, enum store__sqlite_stmt_id id,
			       const char *sql, sqlite3_stmt **out, struct aclm_err *err)
{
	sqlite3_stmt **slot = id == SQ_KEYED ? keyed_slot(s, sql) : &s->stmt[id];
	int rc;

	*out = NULL;
	if (slot == NULL)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "%s: statement cache full", s->path);
	if (*slot == NULL) {
		rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
		if (rc != SQLITE_OK)
			return store__sqlite_err(s, rc, err, "prepare");
	}
	*out = *slot;
	return ACLM_OK;
}

void store__sqlite_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

aclm_status store__sqlite_exec(struct store__sqlite *s, const char *sql, struct aclm_err *err)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store__sqlite_err(s, rc, err, sql);
	return ACLM_OK;
}

void store__bind_text(struct store__bind *b, int idx, const char *v)
{
	if (b->rc != SQLITE_OK)
		return;
	b->rc = v != NULL ? sqlite3_bind_text(b->st, idx, v, -1, SQLITE_STATIC)
			  : sqlite3_bind_null(b->st, idx);
}

void store__bind_int(struct store__bind *b, int idx, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_int64(b->st, idx, v);
}

static void bind_blob(struct store__bind *b, int idx, const void *v, size_t len)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_blob64(b->st, idx, v, len, SQLITE_STATIC);
}

static void bind_arg(struct store__bind *b, int idx, const struct store__arg *a)
{
	switch (a->type) {
	case STORE__ARG_NULL:
		if (b->rc == SQLITE_OK)
			b->rc = sqlite3_bind_null(b->st, idx);
		break;
	case STORE__ARG_INT:
		store__bind_int(b, idx, a->v.i);
		break;
	case STORE__ARG_TEXT:
		store__bind_text(b, idx, a->v.text);
		break;
	case STORE__ARG_BLOB:
		bind_blob(b, idx, a->v.blob.p, a->v.blob.len);
		break;
	}
}

aclm_status store__sqlite_run(struct store__sqlite *s, enum store__sqlite_stmt_id id,
			      const char *sql, const struct store__arg *args, size_t nargs,
			      store__sqlite_row_fn row, void *out, bool *found, const char *what,
			      struct aclm_err *err)
{
	sqlite3_stmt *st = NULL;
	struct store__bind b = { 0 };
	aclm_status ret;
	int rc;

	if (found != NULL)
		*found = false;
	ret = store__sqlite_stmt(s, id, sql, &st, err);
	if (ret != ACLM_OK)
		goto out;
	b.st = st;
	for (size_t i = 0; i < nargs; i++)
		bind_arg(&b, (int)i + 1, &args[i]);
	rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
	if (rc == SQLITE_ROW) {
		if (found != NULL)
			*found = true;
		if (row != NULL)
			ret = row(s, st, out, err);
		if (ret != ACLM_OK || sqlite3_stmt_readonly(st))
			goto out;
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, what);
out:
	store__sqlite_done(st);
	return ret;
}

aclm_status store__sqlite_each(struct store__sqlite *s, enum store__sqlite_stmt_id id,
			       const char *sql, const struct store__arg *args, size_t nargs,
			       store__sqlite_each_fn each, void *arg, const char *what,
			       struct aclm_err *err)
{
	sqlite3_stmt *st = NULL;
	struct store__bind b = { 0 };
	aclm_status ret = store__sqlite_stmt(s, id, sql, &st, err);
	int rc;

	if (ret != ACLM_OK)
		return ret;
	b.st = st;
	for (size_t i = 0; i < nargs; i++)
		bind_arg(&b, (int)i + 1, &args[i]);
	rc = b.rc;
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = each(s, st, arg, err);
		if (ret != ACLM_OK)
			goto out;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, what);
out:
	store__sqlite_done(st);
	return ret;
}

aclm_status store__sqlite_row_id(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
				 struct aclm_err *err)
{
	*(int64_t *)out = sqlite3_column_int64(st, 0);
	return ACLM_OK;
}

char *store__sqlite_text_dup(sqlite3_stmt *st, int col, bool *ok)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	char *copy;

	if (t == NULL)
		return NULL;
	copy = strdup((const char *)t);
	if (copy == NULL)
		*ok = false;
	return copy;
}

/* ---- opening ---- */

/* "sqlite:PATH" and "sqlite:///abs/path" -> an absolute or ./-relative path.
 * The "./" keeps SQLite (built with URI filenames) from reading a relative
 * "file:..." name as a URI. */
static aclm_status resolve_path(const char *target, const char *home, char **out,
				struct aclm_err *err)
{
	char *joined = NULL;

	*out = NULL;
	if (strncmp(target, "///", 3) == 0)
		target += 2;
	if (target[0] == '\0')
		return aclm_err_set(err, ACLM_ERR_CONFIG, "store \"sqlite:\": no database path");
	joined = aclm_fs_join(home, target);
	if (joined != NULL && joined[0] != '/') {
		char *rel = aclm_fs_join(".", joined);

		free(joined);
		joined = rel;
	}
	if (joined == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "store \"sqlite:%s\": out of memory", target);
	*out = joined;
	return ACLM_OK;
}

/* Creates the parent directory (0700) and the database file (0600) before
 * SQLite touches them: SQLite creates files 0644 and gives its -wal and
 * -shm files the database file's mode, so this is the one place to set it. */
static aclm_status create_private_file(const char *path, struct aclm_err *err)
{
	char *copy = strdup(path);
	const char *dir;
	int fd = -1;
	aclm_status st = ACLM_OK;

	if (copy == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", path);
	dir = dirname(copy);
	if (!aclm_fs_is_dir(dir)) {
		st = aclm_fs_mkdirs(dir, 0700, err);
		if (st != ACLM_OK)
			goto out;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno != EEXIST) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: cannot create database: %s", path,
				  strerror(errno));
		goto out;
	}
	/* The umask may have narrowed 0600 further; a key store needs exactly it. */
	if (fd >= 0 && fchmod(fd, 0600) != 0)
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: chmod: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(copy);
	return st;
}

static aclm_status set_wal(struct store__sqlite *s, struct aclm_err *err)
{
	sqlite3_stmt *st = NULL;
	const char *mode;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = store__sqlite_err(s, rc, err, "PRAGMA journal_mode=WAL");
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0)
		ret = aclm_err_set(err, ACLM_ERR_DB, "%s: cannot switch to WAL (journal mode %s)",
				   s->path, mode != NULL ? mode : "unknown");
out:
	sqlite3_finalize(st);
	return ret;
}

/* The WAL between two checkpoints: wal_autocheckpoint pages, and the limit
 * the file is cut back to after one (journal_size_limit) is that many
 * frames and a commit's worth more, so that a WAL reserved to the limit
 * (sqlite_reserve_log) is neither outgrown nor cut between checkpoints. */
#define WAL_CHECKPOINT_PAGES 16384
#define WAL_CHECKPOINT_PAGES_TEXT "16384"
#define WAL_SLACK_FRAMES 512
#define WAL_HEADER_BYTES 32       /* SQLite's file format, "WAL File Format" */
#define WAL_FRAME_HEADER_BYTES 24

static long long wal_limit(struct store__sqlite *s)
{
	sqlite3_stmt *st = NULL;
	long long page = 4096;

	if (sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
		page = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return WAL_HEADER_BYTES +
	       (WAL_CHECKPOINT_PAGES + WAL_SLACK_FRAMES) * (WAL_FRAME_HEADER_BYTES + page);
}

/* WAL lets readers run beside the one writer; synchronous=NORMAL is safe
 * with WAL (a power loss may drop the last commits, never corrupt). A
 * durable store takes synchronous=FULL, which syncs the WAL at each commit
 * (the CA server instead commits under NORMAL and calls store_sync once
 * for a group of commits: sqlite_sync below). An
 * import dirties about one page per row in each random-key index; a 64 MiB
 * WAL between checkpoints lets a checkpoint write each such page once for
 * several transactions (measured at 200k rows: 37 -> 29 KB written per
 * row), and journal_size_limit shrinks the WAL back after a big one. */
static aclm_status sqlite_set_durable(void *state, bool durable, struct aclm_err *err)
{
	return store__sqlite_exec(state, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
				  err);
}

/* store_sync: fdatasync of the -wal file, through a descriptor of our own.
 * A commit under synchronous=NORMAL has written its frames (and its commit
 * frame) into the WAL without syncing; syncing the file afterwards is what
 * synchronous=FULL does at the commit (no sector padding either way: the
 * unix VFS assumes power-safe overwrite), so one call covers every commit
 * that returned before it, on every connection. Why not the connection's
 * own WAL handle (SQLITE_FCNTL_JOURNAL_POINTER and its xSync): that is
 * SQLite's internal object, its xSync is fsync or fdatasync by compile
 * option, and it exists only while that connection has the WAL open; an
 * open + fdatasync + close costs microseconds beside the sync. The file
 * may be rewritten or gone, neither loses a commit: SQLite rewinds the WAL
 * only after a checkpoint copied every frame into the database and synced
 * it, and deletes it only when the last connection closes, after such a
 * checkpoint (so ENOENT means "already in the synced database"). Its
 * directory entry is durable already: SQLite syncs the WAL header, and with
 * a new file its directory, before the first frame, even under NORMAL. */
static aclm_status sqlite_sync(void *state, struct aclm_err *err)
{
	const struct store__sqlite *s = state;
	aclm_status st = ACLM_OK;
	int fd = open(s->wal, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno != ENOENT)
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: open: %s", s->wal, strerror(errno));
	else if (fd >= 0 && fdatasync(fd) != 0)
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: fdatasync: %s", s->wal, strerror(errno));
	if (fd >= 0)
		close(fd);
	return st;
}

/* Writes zeros from the end of the WAL file up to the size limit, under the
 * write lock (BEGIN IMMEDIATE: no connection appends or rewinds the WAL
 * meanwhile), then syncs it once. Why: a commit that extends the file makes
 * its fdatasync also journal the file's new size and blocks (ext4: a jbd2
 * commit), one that overwrites written blocks syncs only data, so a CA
 * that syncs each issuance runs cheaper on a WAL of its full size (the same
 * reason PostgreSQL fills new WAL segments with zeros). SQLite reads frames
 * only up to the last valid one (salts and checksums): zeros past it are
 * never frames, and a rewound WAL overwrites them. The limit is also
 * journal_size_limit, so the file is not cut back after a checkpoint; the
 * last connection's close still removes it. */
static aclm_status sqlite_reserve_log(void *state, struct aclm_err *err)
{
	static const char zeros[64 * 1024];
	struct store__sqlite *s = state;
	const char *wal = s->wal;
	long long limit = wal_limit(s);
	aclm_status st;
	struct stat sb;
	int fd = -1;

	if ((st = store__sqlite_exec(s, "BEGIN IMMEDIATE", err)) != ACLM_OK)
		return st;
	fd = open(wal, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: %s", wal, strerror(errno));
		goto out;
	}
	for (off_t at = sb.st_size; at < limit && st == ACLM_OK;) {
		size_t n = limit - at < (long long)sizeof(zeros) ? (size_t)(limit - at) : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, n, at);

		if (w > 0)
			at += w;
		else if (w == 0 || errno != EINTR) /* 0: no progress, never retried forever */
			st = aclm_err_set(err, ACLM_ERR_IO, "%s: write: %s", wal,
					  w == 0 ? "nothing written" : strerror(errno));
	}
	if (st == ACLM_OK && sb.st_size < limit && fdatasync(fd) != 0)
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: fdatasync: %s", wal, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return st;
}

static aclm_status connect_db(struct store__sqlite *s, const struct store_options *opt,
			      struct aclm_err *err)
{
	long timeout = opt != NULL && opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms
							       : DEFAULT_BUSY_TIMEOUT_MS;
	aclm_status st;
	int rc;

	/* No SQLITE_OPEN_CREATE: create_private_file made it with the right mode. */
	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return store__sqlite_err(s, rc, err, "open");
	sqlite3_extended_result_codes(s->db, 1);
	/* Once, here: store_sync then needs nothing of the connection, which
	 * another thread may be using (store_share). */
	s->wal = strdup(sqlite3_filename_wal(sqlite3_db_filename(s->db, "main")));
	if (s->wal == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
	/* Refuse schema tricks a crafted database file could play. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_busy_timeout(s->db, timeout > 0x7fffffffL ? 0x7fffffff : (int)timeout);
	st = set_wal(s, err);
	if (st == ACLM_OK)
		st = store__sqlite_exec(s, opt != NULL && opt->durable ? "PRAGMA synchronous=FULL"
								       : "PRAGMA synchronous=NORMAL",
					err);
	if (st == ACLM_OK)
		st = store__sqlite_exec(s, "PRAGMA foreign_keys=ON;"
					   " PRAGMA temp_store=MEMORY;"
					   " PRAGMA wal_autocheckpoint=" WAL_CHECKPOINT_PAGES_TEXT,
					err);
	if (st == ACLM_OK) {
		char pragma[64];

		snprintf(pragma, sizeof(pragma), "PRAGMA journal_size_limit=%lld", wal_limit(s));
		st = store__sqlite_exec(s, pragma, err);
	}
	if (st == ACLM_OK) {
		/* Page cache: 16 MiB by default (docs/BENCHMARKS.md, inventory). */
		char pragma[64];

		snprintf(pragma, sizeof(pragma), "PRAGMA cache_size=-%ld",
			 opt != NULL && opt->cache_kib > 0 ? opt->cache_kib : 16384L);
		st = store__sqlite_exec(s, pragma, err);
	}
	return st;
}

static void sqlite_close(void *state)
{
	struct store__sqlite *s = state;

	if (s == NULL)
		return;
	for (size_t i = 0; i < SQ_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	for (size_t i = 0; i < STORE__SQLITE_KEYED_MAX; i++)
		sqlite3_finalize(s->keyed[i].st);
	sqlite3_close(s->db);
	free(s->path);
	free(s->wal);
	free(s);
}

static aclm_status sqlite_open(const char *target, const struct store_options *opt, void **state,
			       struct aclm_err *err)
{
	struct store__sqlite *s = calloc(1, sizeof(*s));
	aclm_status st;

	*state = NULL;
	if (s == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "store: out of memory");
	st = resolve_path(target, opt != NULL ? opt->home : NULL, &s->path, err);
	if (st == ACLM_OK)
		st = create_private_file(s->path, err);
	if (st == ACLM_OK)
		st = connect_db(s, opt, err);
	if (st == ACLM_OK)
		st = store__sqlite_migrate(s, err);
	if (st != ACLM_OK)
		goto out;
	*state = s;
	s = NULL;
out:
	sqlite_close(s);
	return st;
}

/* ---- transactions ---- */

/* IMMEDIATE takes the write lock up front: a deferred transaction that
 * reads then writes can fail with SQLITE_BUSY_SNAPSHOT, which no busy
 * timeout resolves. */
static aclm_status sqlite_begin(void *state, struct aclm_err *err)
{
	return store__sqlite_exec(state, "BEGIN IMMEDIATE", err);
}

static void sqlite_rollback(void *state)
{
	struct store__sqlite *s = state;

	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A failed COMMIT can leave the transaction open; roll it back so that the
 * caller never has to guess. */
static aclm_status sqlite_commit(void *state, struct aclm_err *err)
{
	aclm_status st = store__sqlite_exec(state, "COMMIT", err);

	if (st != ACLM_OK)
		sqlite_rollback(state);
	return st;
}

/* ---- tenants ---- */

static aclm_status check_tenant_name(const char *name, struct aclm_err *err)
{
	if (name == NULL || name[0] == '\0')
		return aclm_err_set(err, ACLM_ERR_INVALID, "tenant name is empty");
	if (strlen(name) > TENANT_NAME_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "tenant name longer than %d bytes",
				    TENANT_NAME_MAX);
	return ACLM_OK;
}

static aclm_status tenant_lookup(struct store__sqlite *s, const char *name, int64_t *id,
				 bool *found, struct aclm_err *err)
{
	return store__sqlite_run(s, SQ_TENANT_FIND, "SELECT id FROM tenants WHERE name = ?1",
				 STORE__ARGS(STORE__TEXT(name)), store__sqlite_row_id, id, found,
				 "find tenant", err);
}

static aclm_status tenant_insert(struct store__sqlite *s, const char *name, struct aclm_err *err)
{
	return store__sqlite_run(s, SQ_TENANT_INSERT,
				 "INSERT INTO tenants(name, created_at) VALUES(?1, ?2) "
				 "ON CONFLICT(name) DO NOTHING",
				 STORE__ARGS(STORE__TEXT(name), STORE__INT(aclm_time_now())), NULL,
				 NULL, NULL, "create tenant", err);
}

static aclm_status sqlite_tenant_find(void *state, const char *name, int64_t *id,
				      struct aclm_err *err)
{
	bool found = false;
	aclm_status st = check_tenant_name(name, err);

	if (st == ACLM_OK)
		st = tenant_lookup(state, name, id, &found, err);
	if (st == ACLM_OK && !found)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "tenant \"%s\" does not exist", name);
	return st;
}

/* Look first: the tenant nearly always exists, and a lookup takes no write lock. */
static aclm_status sqlite_tenant_ensure(void *state, const char *name, int64_t *id,
					struct aclm_err *err)
{
	bool found = false;
	aclm_status st = check_tenant_name(name, err);

	if (st == ACLM_OK)
		st = tenant_lookup(state, name, id, &found, err);
	if (st == ACLM_OK && !found)
		st = tenant_insert(state, name, err);
	if (st == ACLM_OK && !found)
		st = tenant_lookup(state, name, id, &found, err);
	if (st == ACLM_OK && !found)
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "tenant \"%s\" vanished after insert", name);
	return st;
}

const struct store_ops store_sqlite_ops = {
	.scheme = "sqlite",
	.caps = STORE_CAP_BACKUP,
	.open = sqlite_open,
	.close = sqlite_close,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.tenant_ensure = sqlite_tenant_ensure,
	.tenant_find = sqlite_tenant_find,
	.cert_insert = store__sqlite_cert_insert,
	.cert_get = store__sqlite_cert_get,
	.cert_find_fingerprint = store__sqlite_cert_find_fingerprint,
	.cert_update = store__sqlite_cert_update,
	.cert_delete = store__sqlite_cert_delete,
	.cert_list = store__sqlite_cert_list,
	.cert_link_issuers = store__sqlite_cert_link_issuers,
	.cert_summary = store__sqlite_cert_summary,
	.key_put = store__sqlite_key_put,
	.key_get = store__sqlite_key_get,
	.key_delete = store__sqlite_key_delete,
	.audit_last_hash = store__sqlite_audit_last_hash,
	.audit_insert = store__sqlite_audit_insert,
	.audit_verify = store__sqlite_audit_verify,
	.audit_list = store__sqlite_audit_list,
	.backup = store__sqlite_backup,
	.set_durable = sqlite_set_durable,
	.sync = sqlite_sync,
	.reserve_log = sqlite_reserve_log,
	.acme_account_put = store__sqlite_acme_account_put,
	.acme_account_get = store__sqlite_acme_account_get,
	.acme_account_find = store__sqlite_acme_account_find,
	.acme_account_list = store__sqlite_acme_account_list,
	.acme_account_page = store__sqlite_acme_account_page,
	.lineage_put = store__sqlite_lineage_put,
	.lineage_get = store__sqlite_lineage_get,
	.lineage_list = store__sqlite_lineage_list,
	.lineage_page = store__sqlite_lineage_page,
	.lineage_lock = store__sqlite_lineage_lock,
	.lineage_unlock = store__sqlite_lineage_unlock,
	.ca_put = store__sqlite_ca_put,
	.ca_list = store__sqlite_ca_list,
	.ca_cross_put = store__sqlite_ca_cross_put,
	.ca_cross_list = store__sqlite_ca_cross_list,
	.ca_account_put = store__sqlite_ca_account_put,
	.ca_account_get = store__sqlite_ca_account_get,
	.ca_account_find = store__sqlite_ca_account_find,
	.ca_order_put = store__sqlite_ca_order_put,
	.ca_order_get = store__sqlite_ca_order_get,
	.ca_authz_put = store__sqlite_ca_authz_put,
	.ca_authz_get = store__sqlite_ca_authz_get,
	.ca_authz_find_valid = store__sqlite_ca_authz_find_valid,
	.ca_authz_list_va_pending = store__sqlite_ca_authz_list_va_pending,
	.ca_issued_put = store__sqlite_ca_issued_put,
	.ca_issued_get = store__sqlite_ca_issued_get,
	.ca_issued_revoke = store__sqlite_ca_issued_revoke,
	.ca_issued_replace = store__sqlite_ca_issued_replace,
	.ca_issued_list = store__sqlite_ca_issued_list,
	.ca_eab_put = store__sqlite_ca_eab_put,
	.ca_eab_get = store__sqlite_ca_eab_get,
	.ca_eab_bind = store__sqlite_ca_eab_bind,
	.auth = &store__sqlite_auth_ops,
	.sched = &store__sqlite_sched_ops,
	.notify = &store__sqlite_notify_ops,
	.scan = &store__sqlite_scan_ops,
	.deploy = &store__sqlite_deploy_ops,
};
