/* store/: store_share, one store used by several threads: another thread's
 * call waits while a transaction is open instead of running inside it, and
 * the store stays open until its last reference is closed. */
#include "store_test.h"

#include <pthread.h>
#include <time.h>

struct other {
	struct store *s;
	pthread_mutex_t m;
	pthread_cond_t c;
	bool go, done;
	aclm_status st;
};

/* The other thread: once told, adds tenant "other" in a call of its own. */
static void *other_main(void *arg)
{
	struct other *o = arg;
	struct aclm_err err = { 0 };
	int64_t id;

	pthread_mutex_lock(&o->m);
	while (!o->go)
		pthread_cond_wait(&o->c, &o->m);
	pthread_mutex_unlock(&o->m);
	o->st = store_tenant_ensure(o->s, "other", &id, &err);
	pthread_mutex_lock(&o->m);
	o->done = true;
	pthread_mutex_unlock(&o->m);
	return NULL;
}

static bool other_done(struct other *o)
{
	bool done;

	pthread_mutex_lock(&o->m);
	done = o->done;
	pthread_mutex_unlock(&o->m);
	return done;
}

/* A transaction that is rolled back while another thread's call waits: that
 * call must neither finish inside the transaction nor be undone with it. */
static void test_a_call_waits_for_another_threads_transaction(void **state)
{
	struct other o = { .m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER };
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	struct tdb t;
	pthread_t th;
	int64_t id;
	sqlite3 *raw;

	(void)state;
	tdb_open(&t);
	o.s = store_share(t.s);
	assert_int_equal(pthread_create(&th, NULL, other_main, &o), 0);
	assert_int_equal(store_begin(t.s, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "mine", &id, &t.err), ACLM_OK);
	pthread_mutex_lock(&o.m);
	o.go = true;
	pthread_cond_signal(&o.c);
	pthread_mutex_unlock(&o.m);
	nanosleep(&pause, NULL);
	assert_false(other_done(&o)); /* waiting for the transaction */
	store_rollback(t.s);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(o.st, ACLM_OK);
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM tenants WHERE name = 'mine'"), 0);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM tenants WHERE name = 'other'"), 1);
	sqlite3_close(raw);
	store_close(o.s); /* one reference left: still open */
	assert_int_equal(store_tenant_find(t.s, "other", &id, &t.err), ACLM_OK);
	tdb_close(&t);
}

/* The same thread may call inside its own transaction (the lock is
 * recursive), and an audit append joins that transaction. */
static void test_own_calls_join_own_transaction(void **state)
{
	struct store_audit_event ev = { .actor = "test", .action = "share.check" };
	struct tdb t;
	int64_t id, count = 0;

	(void)state;
	tdb_open(&t);
	ev.tenant_id = t.tenant;
	assert_int_equal(store_begin(t.s, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "inner", &id, &t.err), ACLM_OK);
	assert_int_equal(store_audit_append(t.s, &ev, &t.err), ACLM_OK);
	store_rollback(t.s);
	assert_int_equal(store_tenant_find(t.s, "inner", &id, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_audit_verify(t.s, &count, &t.err), ACLM_OK);
	assert_int_equal(count, 0);
	/* outside a transaction the append commits on its own */
	assert_int_equal(store_audit_append(t.s, &ev, &t.err), ACLM_OK);
	assert_int_equal(store_audit_verify(t.s, &count, &t.err), ACLM_OK);
	assert_int_equal(count, 1);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_call_waits_for_another_threads_transaction),
		cmocka_unit_test(test_own_calls_join_own_transaction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
