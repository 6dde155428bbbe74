/* ca/: the group commit (wfe_sync.c): a waiter returns only after a sync
 * that began once its commit had ended, concurrent commits share syncs, a
 * reader waits for the commits marked on the key it read, a failed sync
 * covers nothing, and nothing pending costs no sync. The sync is a counting
 * stand-in for store_sync. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ca/wfe.h"

struct fake {
	struct wfe_sync *s;
	pthread_mutex_t lock;
	int calls;
	int fail;                  /* this many calls fail first */
	uint64_t covered;          /* the highest "committed" a finished sync began with */
	long sleep_us;
};

/* A sync covers what had ended when it began: s->committed, read as the
 * real one would find the WAL. */
static aclm_status fake_sync(void *arg, struct aclm_err *err)
{
	struct fake *f = arg;
	struct timespec ts = { 0, f->sleep_us * 1000 };
	uint64_t began;
	aclm_status st = ACLM_OK;

	pthread_mutex_lock(&f->s->lock);
	began = f->s->committed;
	pthread_mutex_unlock(&f->s->lock);
	if (f->sleep_us > 0)
		nanosleep(&ts, NULL);
	pthread_mutex_lock(&f->lock);
	f->calls++;
	if (f->fail > 0) {
		f->fail--;
		st = aclm_err_set(err, ACLM_ERR_IO, "fake: fdatasync failed");
	} else if (began > f->covered) {
		f->covered = began;
	}
	pthread_mutex_unlock(&f->lock);
	return st;
}

static void fake_init(struct fake *f, struct wfe_sync *s)
{
	memset(f, 0, sizeof(*f));
	f->s = s;
	pthread_mutex_init(&f->lock, NULL);
}

static void test_a_commit_is_synced_before_the_wait_returns(void **state)
{
	struct wfe_sync s;
	struct fake f;
	struct aclm_err err = { 0 };
	const char *keys[] = { "order-1", "serial-1" };
	uint64_t seq;

	(void)state;
	wfe_sync_init(&s);
	fake_init(&f, &s);
	seq = wfe_sync_begin(&s, keys, 2);
	wfe_sync_end(&s, seq);
	assert_int_equal(wfe_sync_wait(&s, seq, fake_sync, &f, &err), ACLM_OK);
	assert_int_equal(f.calls, 1);
	assert_true(f.covered >= seq);
	/* Covered: waiting again (a reader of the same rows) syncs nothing. */
	assert_int_equal(wfe_sync_wait(&s, wfe_sync_seen(&s, "order-1"), fake_sync, &f, &err),
			 ACLM_OK);
	assert_int_equal(f.calls, 1);
	wfe_sync_destroy(&s);
}

static void test_nothing_pending_costs_no_sync(void **state)
{
	struct wfe_sync s;
	struct fake f;
	struct aclm_err err = { 0 };

	(void)state;
	wfe_sync_init(&s);
	fake_init(&f, &s);
	assert_int_equal(wfe_sync_seen(&s, "never-written"), 0);
	assert_int_equal(wfe_sync_wait(&s, wfe_sync_seen(&s, "never-written"), fake_sync, &f, &err),
			 ACLM_OK);
	assert_int_equal(f.calls, 0);
	wfe_sync_destroy(&s);
}

static void test_the_mark_of_a_key_is_its_last_durable_commit(void **state)
{
	struct wfe_sync s;
	const char *a[] = { "order-a" }, *b[] = { "order-b" };
	uint64_t first, second;

	(void)state;
	wfe_sync_init(&s);
	first = wfe_sync_begin(&s, a, 1);
	wfe_sync_end(&s, first);
	second = wfe_sync_begin(&s, b, 1);
	wfe_sync_end(&s, second);
	assert_true(wfe_sync_seen(&s, "order-a") >= first);
	assert_true(wfe_sync_seen(&s, "order-b") >= second);
	assert_true(wfe_sync_seen(&s, NULL) >= second);
	wfe_sync_destroy(&s);
}

static void test_a_failed_sync_covers_nothing(void **state)
{
	struct wfe_sync s;
	struct fake f;
	struct aclm_err err = { 0 };
	uint64_t seq;

	(void)state;
	wfe_sync_init(&s);
	fake_init(&f, &s);
	f.fail = 1;
	seq = wfe_sync_begin(&s, NULL, 0);
	wfe_sync_end(&s, seq);
	assert_int_equal(wfe_sync_wait(&s, seq, fake_sync, &f, &err), ACLM_ERR_IO);
	assert_int_equal(f.calls, 1);
	/* The next waiter syncs again instead of trusting the failed one. */
	assert_int_equal(wfe_sync_wait(&s, seq, fake_sync, &f, &err), ACLM_OK);
	assert_int_equal(f.calls, 2);
	wfe_sync_destroy(&s);
}

/* ---- concurrent writers, as the CA's workers ---- */

#define WRITERS 8
#define COMMITS 25

struct writer {
	struct wfe_sync *s;
	struct fake *f;
	pthread_mutex_t *write_lock;
	int short_waits;           /* waits that returned before a sync covered the commit */
	int errors;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct aclm_err err = { 0 };

	for (int i = 0; i < COMMITS; i++) {
		uint64_t seq;

		pthread_mutex_lock(w->write_lock);
		seq = wfe_sync_begin(w->s, NULL, 0);
		wfe_sync_end(w->s, seq);
		pthread_mutex_unlock(w->write_lock);
		if (wfe_sync_wait(w->s, seq, fake_sync, w->f, &err) != ACLM_OK)
			w->errors++;
		pthread_mutex_lock(&w->f->lock);
		if (w->f->covered < seq)
			w->short_waits++;
		pthread_mutex_unlock(&w->f->lock);
	}
	return NULL;
}

static void test_concurrent_commits_share_syncs_and_each_is_covered(void **state)
{
	struct wfe_sync s;
	struct fake f;
	pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
	struct writer w[WRITERS];
	pthread_t th[WRITERS];

	(void)state;
	wfe_sync_init(&s);
	fake_init(&f, &s);
	f.sleep_us = 1000; /* about an fdatasync */
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .s = &s, .f = &f, .write_lock = &write_lock };
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
		assert_int_equal(w[i].short_waits, 0);
	}
	/* Shared: far fewer syncs than commits (one each would be 200). */
	assert_true(f.calls < WRITERS * COMMITS / 2);
	assert_true(f.covered == WRITERS * COMMITS);
	wfe_sync_destroy(&s);
}

/* A reader that saw a commit before its sync (the commit is still between
 * begin and end, or ended and unsynced) waits for that sync. */
struct reader {
	struct wfe_sync *s;
	struct fake *f;
	uint64_t target;
	int done;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct aclm_err err = { 0 };

	(void)wfe_sync_wait(r->s, r->target, fake_sync, r->f, &err);
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_a_reader_waits_for_the_commit_it_saw(void **state)
{
	struct wfe_sync s;
	struct fake f;
	struct reader rd;
	const char *keys[] = { "cert-1" };
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	pthread_t th;
	uint64_t seq;

	(void)state;
	wfe_sync_init(&s);
	fake_init(&f, &s);
	seq = wfe_sync_begin(&s, keys, 1); /* COMMIT under way */
	rd = (struct reader){ .s = &s, .f = &f, .target = wfe_sync_seen(&s, "cert-1") };
	assert_true(rd.target >= seq);
	assert_int_equal(pthread_create(&th, NULL, reader_main, &rd), 0);
	nanosleep(&ts, NULL);
	/* The commit has not ended: no sync can cover it yet. */
	assert_int_equal(__atomic_load_n(&rd.done, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(f.calls, 0);
	wfe_sync_end(&s, seq);
	pthread_join(th, NULL);
	assert_int_equal(rd.done, 1);
	assert_int_equal(f.calls, 1);
	assert_true(f.covered >= seq);
	wfe_sync_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_commit_is_synced_before_the_wait_returns),
		cmocka_unit_test(test_nothing_pending_costs_no_sync),
		cmocka_unit_test(test_the_mark_of_a_key_is_its_last_durable_commit),
		cmocka_unit_test(test_a_failed_sync_covers_nothing),
		cmocka_unit_test(test_concurrent_commits_share_syncs_and_each_is_covered),
		cmocka_unit_test(test_a_reader_waits_for_the_commit_it_saw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
