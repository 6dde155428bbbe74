/* The scheduler's threads: a planner every tick_s, N workers claiming jobs
 * (each with its own store connection and keystore), and a heartbeat that
 * extends the lease of every running job; `jobs run --once` runs one
 * planner pass and the due jobs in the calling thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/time.h"
#include "crypto/crypto.h"
#include "sched/sched_int.h"

#define HB_MAX 64               /* running jobs per process: workers are fewer */
#define WORKERS_MAX 32
#define ONCE_MAX_JOBS 100000    /* bounds `--once` even if handlers enqueue forever */
#define IDLE_POLL_S 1           /* a worker with nothing to do looks again after this */

struct hb_slot {
	int64_t tenant, id;
	char owner[128];
};

struct sched__hb {
	pthread_mutex_t lock;
	struct hb_slot slot[HB_MAX];
};

struct worker {
	struct sched *s;
	struct sched__ctx ctx;
	char owner[128];
	pthread_t tid;
	bool started;
};

struct sched {
	char *home, *db;
	const struct aclm_config *cfg;
	struct aclm_config *own_cfg; /* the defaults, when no configuration was given */
	int nworkers;
	int64_t lease_s, tick_s, backoff_s;
	char owner[96];
	struct sched__hb hb;
	pthread_mutex_t lock;      /* stop, cfg */
	pthread_cond_t wake;
	bool inited, stop, started, planner_started;
	pthread_t planner_tid, hb_tid;
	struct worker workers[WORKERS_MAX];
};

aclm_status sched__ctx_open(struct sched__ctx *c, const char *db, const char *home,
			    struct aclm_err *err)
{
	/* A worker writes a few rows per job: a small page cache each. */
	struct store_options so = { .home = home, .busy_timeout_ms = 10000, .cache_kib = 2048 };
	aclm_status st = store_open(db, &so, &c->store, err);

	if (st == ACLM_OK)
		st = keystore_open(c->store, home, &c->ks, err);
	c->home = home;
	c->inv.store = c->store;
	c->inv.ks = c->ks;
	c->inv.actor = "sched";
	c->inv.max_file_bytes = 16u << 20;
	return st;
}

void sched__ctx_close(struct sched__ctx *c)
{
	keystore_close(c->ks);
	store_close(c->store);
	c->ks = NULL;
	c->store = NULL;
}

void sched__ctx_tenant(struct sched__ctx *c, int64_t id, const char *name)
{
	snprintf(c->tenant, sizeof(c->tenant), "%s", name != NULL ? name : "");
	c->inv.tenant_id = id;
	c->inv.tenant = c->tenant;
}

/* ---- heartbeats ---- */

static __thread const char *hb_owner; /* the worker thread's lease owner */

void sched__hb_add(struct sched__hb *hb, int64_t tenant, int64_t id)
{
	pthread_mutex_lock(&hb->lock);
	for (size_t i = 0; i < HB_MAX; i++) {
		if (hb->slot[i].id == 0) {
			hb->slot[i].tenant = tenant;
			hb->slot[i].id = id;
			snprintf(hb->slot[i].owner, sizeof(hb->slot[i].owner), "%s",
				 hb_owner != NULL ? hb_owner : "");
			break;
		}
	}
	pthread_mutex_unlock(&hb->lock);
}

void sched__hb_remove(struct sched__hb *hb, int64_t tenant, int64_t id)
{
	pthread_mutex_lock(&hb->lock);
	for (size_t i = 0; i < HB_MAX; i++)
		if (hb->slot[i].id == id && hb->slot[i].tenant == tenant)
			hb->slot[i].id = 0;
	pthread_mutex_unlock(&hb->lock);
}

/* Waits up to secs, until woken (the planner queued jobs) or until stop;
 * true when stopping. An early wake-up only costs one more look. */
static bool nap(struct sched *s, int64_t secs)
{
	struct timespec until;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs;
	pthread_mutex_lock(&s->lock);
	if (!s->stop && secs > 0)
		(void)pthread_cond_timedwait(&s->wake, &s->lock, &until);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static void hb_beat(struct sched *s, struct sched__ctx *c)
{
	struct hb_slot snap[HB_MAX];
	struct aclm_err err = { 0 };
	int64_t now = aclm_time_now();

	pthread_mutex_lock(&s->hb.lock);
	memcpy(snap, s->hb.slot, sizeof(snap));
	pthread_mutex_unlock(&s->hb.lock);
	for (size_t i = 0; i < HB_MAX; i++)
		if (snap[i].id != 0 &&
		    store_job_heartbeat(c->store, snap[i].tenant, snap[i].id, snap[i].owner, now,
					now + s->lease_s, &err) != ACLM_OK)
			log_warn("heartbeat: %s", err.msg);
}

static void *hb_main(void *arg)
{
	struct sched *s = arg;
	struct sched__ctx c = { 0 };
	struct aclm_err err = { 0 };
	int64_t every = s->lease_s / 3 > 0 ? s->lease_s / 3 : 1;

	if (sched__ctx_open(&c, s->db, s->home, &err) != ACLM_OK) {
		log_error("scheduler heartbeat: %s", err.msg);
		sched__ctx_close(&c);
		return NULL;
	}
	while (!nap(s, every))
		hb_beat(s, &c);
	sched__ctx_close(&c);
	return NULL;
}

/* ---- tenants ---- */

struct tenant_list {
	int64_t *id;
	char (*name)[128];
	size_t n, cap;
};

static aclm_status tenant_add(const struct store_tenant *row, void *arg)
{
	struct tenant_list *t = arg;

	if (t->n == t->cap) {
		size_t cap = t->cap > 0 ? t->cap * 2 : 16;
		int64_t *ids = realloc(t->id, cap * sizeof(*ids));
		char(*names)[128];

		if (ids == NULL)
			return ACLM_ERR_NOMEM;
		t->id = ids;
		names = realloc(t->name, cap * sizeof(*names));
		if (names == NULL)
			return ACLM_ERR_NOMEM;
		t->name = names;
		t->cap = cap;
	}
	t->id[t->n] = row->id;
	snprintf(t->name[t->n], sizeof(t->name[t->n]), "%s", row->name);
	t->n++;
	return ACLM_OK;
}

static void tenants_free(struct tenant_list *t)
{
	free(t->id);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

/* One pass over every tenant: at most one job each, so that one tenant's
 * backlog does not starve the others. *ran counts the jobs run. */
static aclm_status work_pass(struct sched__ctx *c, int *ran, struct aclm_err *err)
{
	struct tenant_list t = { 0 };
	aclm_status st = store_tenant_list(c->store, tenant_add, &t, err);

	for (size_t i = 0; st == ACLM_OK && i < t.n; i++) {
		bool one = false;

		st = sched__run_one(c, t.id[i], t.name[i], aclm_time_now(), &one, err);
		*ran += one ? 1 : 0;
	}
	if (st == ACLM_ERR_NOMEM && err->msg[0] == '\0')
		aclm_err_set(err, st, "out of memory");
	tenants_free(&t);
	return st;
}

static void ctx_setup(struct sched *s, struct sched__ctx *c, const char *owner)
{
	c->cfg = s->cfg;
	c->owner = owner;
	c->lease_s = s->lease_s;
	c->backoff_s = s->backoff_s;
	c->hb = &s->hb;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sched *s = w->s;
	struct aclm_err err = { 0 };

	hb_owner = w->owner;
	if (sched__ctx_open(&w->ctx, s->db, s->home, &err) != ACLM_OK) {
		log_error("scheduler worker %s: %s", w->owner, err.msg);
		sched__ctx_close(&w->ctx);
		return NULL;
	}
	ctx_setup(s, &w->ctx, w->owner);
	for (;;) {
		int ran = 0;

		pthread_mutex_lock(&s->lock);
		w->ctx.cfg = s->cfg;
		pthread_mutex_unlock(&s->lock);
		if (work_pass(&w->ctx, &ran, &err) != ACLM_OK)
			log_error("scheduler worker %s: %s", w->owner, err.msg);
		/* Idle: wait for the planner or the poll; busy: only look. */
		if (nap(s, ran == 0 ? IDLE_POLL_S : 0))
			break;
	}
	sched__ctx_close(&w->ctx);
	return NULL;
}

static void *planner_main(void *arg)
{
	struct sched *s = arg;
	struct sched__ctx c = { 0 };
	struct aclm_err err = { 0 };

	if (sched__ctx_open(&c, s->db, s->home, &err) != ACLM_OK) {
		log_error("scheduler planner: %s", err.msg);
		sched__ctx_close(&c);
		return NULL;
	}
	ctx_setup(s, &c, s->owner);
	do {
		pthread_mutex_lock(&s->lock);
		c.cfg = s->cfg;
		pthread_mutex_unlock(&s->lock);
		if (sched__plan(&c, aclm_time_now(), &err) != ACLM_OK)
			log_error("scheduler planner: %s", err.msg);
		pthread_mutex_lock(&s->lock);
		pthread_cond_broadcast(&s->wake);
		pthread_mutex_unlock(&s->lock);
	} while (!nap(s, s->tick_s));
	sched__ctx_close(&c);
	return NULL;
}

/* An option given, else the [sched] key, else the default. */
static int64_t setting(int64_t given, const struct aclm_config *cfg, const char *key, int64_t dflt)
{
	const char *v = cfg != NULL ? aclm_config_get(cfg, "sched", key) : NULL;

	if (given > 0)
		return given;
	if (v != NULL && aclm_config_get_int(cfg, "sched", key) > 0)
		return aclm_config_get_int(cfg, "sched", key);
	return dflt;
}

aclm_status sched_new(const struct sched_opts *o, struct sched **out, struct aclm_err *err)
{
	struct sched *s = calloc(1, sizeof(*s));
	char host[64] = "";

	*out = NULL;
	if (s == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	s->home = strdup(o->home != NULL ? o->home : ".");
	s->db = strdup(o->db != NULL ? o->db : "sqlite:aclm.db");
	if (s->home == NULL || s->db == NULL) {
		sched_free(s);
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	s->cfg = o->cfg;
	if (s->cfg == NULL) {
		if (aclm_config_new(&s->own_cfg) != ACLM_OK) {
			sched_free(s);
			return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		}
		s->cfg = s->own_cfg;
	}
	s->nworkers = (int)setting(o->workers, o->cfg, "workers", 2);
	if (s->nworkers > WORKERS_MAX)
		s->nworkers = WORKERS_MAX;
	s->lease_s = setting(o->lease_s, o->cfg, "lease_s", 300);
	s->tick_s = setting(o->tick_s, o->cfg, "tick_s", 60);
	s->backoff_s = setting(0, o->cfg, "backoff_s", SCHED__BACKOFF_BASE);
	gethostname(host, sizeof(host) - 1);
	if (o->owner != NULL)
		snprintf(s->owner, sizeof(s->owner), "%s", o->owner);
	else
		snprintf(s->owner, sizeof(s->owner), "sched:%ld@%s", (long)getpid(), host);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->hb.lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	s->inited = true;
	*out = s;
	return ACLM_OK;
}

aclm_status sched_start(struct sched *s, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	if (s->started)
		return aclm_err_set(err, ACLM_ERR_INVALID, "the scheduler is already running");
	if (pthread_create(&s->hb_tid, NULL, hb_main, s) != 0)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "cannot start the heartbeat thread");
	s->started = true;
	for (int i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];

		w->s = s;
		snprintf(w->owner, sizeof(w->owner), "%s/w%d", s->owner, i);
		if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
			st = aclm_err_set(err, ACLM_ERR_INTERNAL, "cannot start worker thread %d", i);
			break;
		}
		w->started = true;
	}
	if (st == ACLM_OK && pthread_create(&s->planner_tid, NULL, planner_main, s) != 0)
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "cannot start the planner thread");
	else if (st == ACLM_OK)
		s->planner_started = true;
	if (st == ACLM_OK)
		log_info("scheduler: %d workers, lease %llds, tick %llds", s->nworkers,
			 (long long)s->lease_s, (long long)s->tick_s);
	if (st != ACLM_OK)
		sched_stop(s);
	return st;
}

aclm_status sched_reload(struct sched *s, const struct aclm_config *cfg, struct aclm_err *err)
{
	pthread_mutex_lock(&s->lock);
	s->cfg = cfg;
	pthread_mutex_unlock(&s->lock);
	return ACLM_OK;
}

void sched_stop(struct sched *s)
{
	if (s == NULL || !s->started)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < s->nworkers; i++)
		if (s->workers[i].started)
			pthread_join(s->workers[i].tid, NULL);
	if (s->planner_started)
		pthread_join(s->planner_tid, NULL);
	pthread_join(s->hb_tid, NULL);
	s->started = false;
}

void sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	sched_stop(s);
	if (s->inited) {
		pthread_mutex_destroy(&s->lock);
		pthread_mutex_destroy(&s->hb.lock);
		pthread_cond_destroy(&s->wake);
	}
	aclm_config_free(s->own_cfg);
	free(s->home);
	free(s->db);
	free(s);
}

aclm_status sched_run_once(struct sched *s, int *ran, struct aclm_err *err)
{
	struct sched__ctx c = { 0 };
	aclm_status st;
	int total = 0;

	*ran = 0;
	st = sched__ctx_open(&c, s->db, s->home, err);
	if (st != ACLM_OK)
		goto out;
	ctx_setup(s, &c, s->owner);
	hb_owner = s->owner;
	/* The heartbeat alone: a job that runs longer than lease_s must keep it. */
	if (pthread_create(&s->hb_tid, NULL, hb_main, s) != 0) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "cannot start the heartbeat thread");
		goto out;
	}
	s->started = true;
	st = sched__plan(&c, aclm_time_now(), err);
	for (int pass = 0; st == ACLM_OK && total < ONCE_MAX_JOBS; pass++) {
		int n = 0;

		st = work_pass(&c, &n, err);
		total += n;
		if (n == 0)
			break;
	}
	*ran = total;
	sched_stop(s);
out:
	sched__ctx_close(&c);
	return st;
}
