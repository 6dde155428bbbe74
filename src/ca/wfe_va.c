/* ca/wfe_va: the validation threads. A challenge POST commits "processing"
 * and queues a job; a VA thread validates (ca_va_validate, blocking, never
 * on an HTTP thread) and commits the outcome to the authorization. Jobs are
 * also re-queued at start from the store, so a crash loses none. */
#include "ca/wfe.h"
#include "ca/ca_va_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "core/log.h"
#include "core/time.h"

struct va_thread {
	struct wfe_server *srv;
	struct store *store;
	struct keystore *ks;
};

void wfe_va_enqueue(struct wfe_server *srv, const char *authz_id, const char *challenge)
{
	struct wfe_va_queue *q = &srv->vaq;
	struct wfe_va_job *j = calloc(1, sizeof(*j));

	if (j == NULL || challenge == NULL) {
		/* Left "processing" in the store: the next start retries it. */
		aclm_log(ACLM_LOG_ERROR, "ca: cannot queue validation of %s", authz_id);
		free(j);
		return;
	}
	snprintf(j->authz_id, sizeof(j->authz_id), "%s", authz_id);
	snprintf(j->challenge, sizeof(j->challenge), "%s", challenge);
	pthread_mutex_lock(&q->lock);
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

static struct wfe_va_job *va_next(struct wfe_va_queue *q)
{
	struct wfe_va_job *j = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->head == NULL && !q->stopping)
		pthread_cond_wait(&q->cond, &q->lock);
	if (!q->stopping) {
		j = q->head;
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	return j;
}

static json_t *va_challenge(const struct store_ca_authz *a, const char *type)
{
	size_t i;
	json_t *ch;

	json_array_foreach(a->challenges, i, ch) {
		const char *t = json_string_value(json_object_get(ch, "type"));

		if (t != NULL && strcmp(t, type) == 0)
			return ch;
	}
	return NULL;
}

/* The outcome into the authorization (RFC 8555 §7.1.6: one challenge
 * decides it: valid, or invalid with the error). */
static aclm_status va_record(struct va_thread *t, const char *authz_id, const char *type,
			     const char *problem, const char *detail, struct aclm_err *err)
{
	struct wfe_server *srv = t->srv;
	struct store_ca_authz *a = NULL;
	json_t *ch;
	int64_t now = aclm_time_now();
	char ts[ACLM_TIME_RFC3339_LEN];
	aclm_status st;

	pthread_mutex_lock(&srv->write_lock);
	st = store_begin(t->store, err);
	if (st != ACLM_OK) {
		pthread_mutex_unlock(&srv->write_lock);
		return st;
	}
	st = store_ca_authz_get(t->store, srv->tenant, srv->ca_name, authz_id, &a, err);
	if (st == ACLM_OK && (ch = va_challenge(a, type)) != NULL) {
		json_object_set_new(ch, "status", json_string(problem == NULL ? "valid" : "invalid"));
		json_object_set_new(ch, "validated", json_string(aclm_time_fmt(now, ts)));
		if (problem != NULL)
			json_object_set_new(ch, "error", acme_problem_json(problem, detail));
		free(a->status);
		a->status = strdup(problem == NULL ? "valid" : "invalid");
		a->va_pending = false;
		if (problem == NULL)
			a->expires = now + WFE_AUTHZ_VALID_S;
		a->updated_at = now;
		st = a->status != NULL ? store_ca_authz_put(t->store, a, err)
				       : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	if (st == ACLM_OK)
		st = store_commit(t->store, err);
	if (st != ACLM_OK)
		store_rollback(t->store);
	pthread_mutex_unlock(&srv->write_lock);
	store_ca_authz_free(a);
	return st;
}

static void va_run(struct va_thread *t, const struct wfe_va_job *j)
{
	struct wfe_server *srv = t->srv;
	struct store_ca_authz *a = NULL;
	struct store_ca_account *acct = NULL;
	struct aclm_err err = { 0 }, verr = { 0 };
	const char *problem = NULL, *token;
	char *keyauth = NULL, account_uri[WFE_BASE_MAX + 64];
	struct ca_va_request req = { .challenge = j->challenge };
	json_t *ch;
	aclm_status st;

	st = store_ca_authz_get(t->store, srv->tenant, srv->ca_name, j->authz_id, &a, &err);
	if (st == ACLM_OK)
		st = store_ca_account_get(t->store, srv->tenant, srv->ca_name, a->account_id, &acct,
					  &err);
	if (st != ACLM_OK)
		goto out;
	ch = va_challenge(a, j->challenge);
	token = ch != NULL ? json_string_value(json_object_get(ch, "token")) : NULL;
	if (token == NULL || strcmp(a->status, "pending") != 0)
		goto out;
	/* Tests: the "processing" state is committed, the outcome not yet. */
	aclm_test_crash_point("ca-before-validate");
	keyauth = acme_key_authorization(token, acct->thumbprint);
	/* RFC 8657 accounturi: the account URL as the client knows it; the
	 * listen address is the one stable authority we have. */
	snprintf(account_uri, sizeof(account_uri), "%sacct/%s", srv->acme_base, acct->id);
	req.ident_type = a->ident_type;
	req.ident_value = a->ident_value;
	req.wildcard = a->wildcard;
	req.token = token;
	req.key_authorization = keyauth;
	req.account_uri = account_uri;
	if (ca_va_validate(&srv->va, &req, &problem, &verr) != ACLM_OK && problem == NULL)
		problem = "serverInternal";
	aclm_log(ACLM_LOG_INFO, "ca: %s %s%s %s: %s%s%s", j->challenge, a->wildcard ? "*." : "",
		 a->ident_value, a->id, problem == NULL ? "valid" : problem,
		 problem == NULL ? "" : ": ", problem == NULL ? "" : verr.msg);
	st = va_record(t, a->id, j->challenge, problem, verr.msg, &err);
out:
	if (st != ACLM_OK)
		aclm_log(ACLM_LOG_ERROR, "ca: validation of %s: %s", j->authz_id, err.msg);
	free(keyauth);
	store_ca_authz_free(a);
	store_ca_account_free(acct);
}

static void *va_thread_main(void *arg)
{
	struct va_thread *t = arg;
	struct wfe_va_job *j;

	ca__va_thread_begin();
	while ((j = va_next(&t->srv->vaq)) != NULL) {
		va_run(t, j);
		free(j);
	}
	ca__va_thread_end();
	keystore_close(t->ks);
	store_close(t->store);
	free(t);
	return NULL;
}

aclm_status wfe_va_start(struct wfe_server *srv, struct aclm_err *err)
{
	struct wfe_va_queue *q = &srv->vaq;
	int n = srv->o->va_workers > 0 ? srv->o->va_workers : 8;
	aclm_status st = ACLM_OK;

	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->threads = calloc((size_t)n, sizeof(*q->threads));
	if (q->threads == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (int i = 0; i < n && st == ACLM_OK; i++) {
		struct va_thread *t = calloc(1, sizeof(*t));

		if (t == NULL)
			return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		t->srv = srv;
		st = wfe_open_store(srv, &t->store, &t->ks, err);
		if (st == ACLM_OK && pthread_create(&q->threads[i], NULL, va_thread_main, t) != 0)
			st = aclm_err_set(err, ACLM_ERR_INTERNAL, "ca serve: cannot start a VA thread");
		if (st != ACLM_OK) {
			keystore_close(t->ks);
			store_close(t->store);
			free(t);
		} else {
			q->nthreads++;
		}
	}
	return st;
}

void wfe_va_stop(struct wfe_server *srv)
{
	struct wfe_va_queue *q = &srv->vaq;
	struct wfe_va_job *j;

	if (q->threads == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	/* Jobs not run stay "processing" in the store: re-queued at start. */
	while ((j = q->head) != NULL) {
		q->head = j->next;
		free(j);
	}
	free(q->threads);
	q->threads = NULL;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
}
