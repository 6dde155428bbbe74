/* ca/: the group commit's wiring in the WFE (wfe.c): a durable transaction
 * committed through wfe_write_commit is synced before wfe_reply_raw lets its
 * answer out; a request that read a row a durable commit marked (another
 * connection, wfe_sync_saw) is held the same way; an answer that saw no
 * durable write syncs nothing. The store is a real SQLite one in a temporary
 * directory; the requests have no connection (evhttp frees them on reply). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/http.h>
#include <ftw.h>

#include "ca/wfe.h"

struct env {
	char dir[64];
	struct wfe_server srv;
	struct wfe_worker w1, w2;  /* two workers: two store connections */
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void env_open(struct env *e)
{
	struct store_options opt = { .busy_timeout_ms = 2000 };
	struct aclm_err err = { 0 };

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/aclm-wfe-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	opt.home = e->dir;
	pthread_mutex_init(&e->srv.write_lock, NULL);
	wfe_sync_init(&e->srv.sync);
	assert_int_equal(wfe_nonces_init(&e->srv.nonces, &err), ACLM_OK);
	e->w1.srv = e->w2.srv = &e->srv;
	assert_int_equal(store_open("sqlite:aclm.db", &opt, &e->w1.store, &err), ACLM_OK);
	assert_int_equal(store_open("sqlite:aclm.db", &opt, &e->w2.store, &err), ACLM_OK);
}

static void env_close(struct env *e)
{
	store_close(e->w1.store);
	store_close(e->w2.store);
	wfe_nonces_destroy(&e->srv.nonces);
	wfe_sync_destroy(&e->srv.sync);
	pthread_mutex_destroy(&e->srv.write_lock);
	nftw(e->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static struct wfe_req req(struct env *e, struct wfe_worker *w)
{
	struct wfe_req r = { .w = w, .srv = &e->srv };

	r.ev = evhttp_request_new(NULL, NULL);
	assert_non_null(r.ev);
	snprintf(r.base, sizeof(r.base), "https://localhost");
	return r;
}

static uint64_t synced(struct env *e)
{
	return __atomic_load_n(&e->srv.sync.synced, __ATOMIC_SEQ_CST);
}

/* The durable write of a request: a tenant row, marked with key. */
static void durable_write(struct wfe_req *r, const char *key)
{
	struct aclm_err err = { 0 };
	int64_t id = 0;

	assert_int_equal(wfe_write_begin_durable(r, &err), ACLM_OK);
	wfe_write_durable_key(r, key);
	assert_int_equal(store_tenant_ensure(r->w->store, key, &id, &err), ACLM_OK);
	assert_int_equal(wfe_write_commit(r, &err), ACLM_OK);
}

static void test_a_durable_commit_is_synced_before_its_answer(void **state)
{
	struct env e;
	struct wfe_req r;

	(void)state;
	env_open(&e);
	r = req(&e, &e.w1);
	durable_write(&r, "order-1");
	/* Committed, lock released, not yet synced: the answer does it. */
	assert_true(r.sync_target > 0);
	assert_true(synced(&e) < r.sync_target);
	wfe_reply_raw(&r, 200, "application/json", (const unsigned char *)"{}", 2);
	assert_true(synced(&e) >= 1);
	assert_int_equal(e.srv.sync.syncs, 1);
	env_close(&e);
}

static void test_a_reader_of_a_marked_row_waits_for_its_sync(void **state)
{
	struct env e;
	struct wfe_req writer, reader;

	(void)state;
	env_open(&e);
	writer = req(&e, &e.w1);
	durable_write(&writer, "serial-1");
	/* Another connection reads the row before the writer answered. */
	reader = req(&e, &e.w2);
	wfe_sync_saw(&reader, "serial-1");
	assert_true(reader.sync_target >= writer.sync_target);
	wfe_reply_raw(&reader, 200, NULL, NULL, 0);
	assert_true(synced(&e) >= writer.sync_target);
	assert_int_equal(e.srv.sync.syncs, 1);
	/* The writer's own answer finds it covered: no second sync. */
	wfe_reply_raw(&writer, 200, NULL, NULL, 0);
	assert_int_equal(e.srv.sync.syncs, 1);
	env_close(&e);
}

static void test_an_answer_that_saw_no_durable_write_syncs_nothing(void **state)
{
	struct env e;
	struct wfe_req writer, reader, plain;
	struct aclm_err err = { 0 };
	int64_t id = 0;

	(void)state;
	env_open(&e);
	writer = req(&e, &e.w1);
	durable_write(&writer, "order-2");
	reader = req(&e, &e.w2);
	wfe_sync_saw(&reader, "some-other-order");
	/* A plain (non-durable) write takes no number either. */
	plain = req(&e, &e.w2);
	assert_int_equal(wfe_write_begin(&plain, &err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(plain.w->store, "plain", &id, &err), ACLM_OK);
	assert_int_equal(wfe_write_commit(&plain, &err), ACLM_OK);
	assert_int_equal(plain.sync_target, 0);
	wfe_reply_raw(&plain, 200, NULL, NULL, 0);
	if (reader.sync_target == 0) /* unless "some-other-order" shares order-2's slot */
		wfe_reply_raw(&reader, 200, NULL, NULL, 0);
	assert_int_equal(e.srv.sync.syncs, 0);
	wfe_reply_raw(&writer, 200, NULL, NULL, 0);
	assert_int_equal(e.srv.sync.syncs, 1);
	if (reader.sync_target != 0)
		wfe_reply_raw(&reader, 200, NULL, NULL, 0);
	env_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_durable_commit_is_synced_before_its_answer),
		cmocka_unit_test(test_a_reader_of_a_marked_row_waits_for_its_sync),
		cmocka_unit_test(test_an_answer_that_saw_no_durable_write_syncs_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
