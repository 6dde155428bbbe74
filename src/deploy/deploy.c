/* deploy/: the type table and the engine: load the targets and the material
 * (chain from the inventory, key from the keystore only when a target needs
 * it), deploy to every target concurrently (stage -> activate -> verify ->
 * rollback + re-verify), record each result in the store and the audit log. */
#include <pthread.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "core/exec.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "deploy/deploy_int.h"
#include "store/store_deploy.h"

/* The one list of types: adding a type is one file and one line here. */
static const struct deploy_type_ops *const deploy_types[] = {
	&deploy_file_ops, &deploy_nginx_ops, &deploy_apache_ops,
	&deploy_haproxy_ops, &deploy_ssh_ops, &deploy_webhook_ops,
};
const char deploy_type_names[] = "file|nginx|apache|haproxy|ssh|webhook";

/* A probe attempt inside the verify loop; the loop repeats until the
 * target's deadline, since reloads take effect asynchronously. */
#define PROBE_ATTEMPT_MS 3000L
#define PROBE_RETRY_SLEEP_MS 100L
/* Before staging: what each endpoint serves now, to check the rollback. */
#define PROBE_BEFORE_MS 3000L
#define DEPLOY_TARGETS_MAX 1024

const struct deploy_type_ops *deploy_type_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof(deploy_types) / sizeof(deploy_types[0]); i++)
		if (deploy_types[i]->name != NULL && strcmp(deploy_types[i]->name, name) == 0)
			return deploy_types[i];
	return NULL;
}

/* ---- helpers for the types ---- */

aclm_status deploy__run_cmd(const char *what, const char *cmd, long timeout_s, struct aclm_err *err)
{
	char **argv = NULL, line[256];
	struct aclm_exec_result res = { 0 };
	aclm_status st = aclm_split_argv(cmd, &argv, err);

	if (st != ACLM_OK) {
		aclm_err_prefix(err, "%s", what);
		return st;
	}
	st = aclm_exec(argv, NULL, timeout_s, &res, err);
	if (st != ACLM_OK) {
		aclm_err_prefix(err, "%s", what);
	} else if (res.timed_out) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "%s `%s` timed out after %lds", what, cmd,
				  timeout_s);
	} else if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0) {
		aclm_exec_first_line(&res, line, sizeof(line));
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "%s `%s` failed (exit %d): %s", what, cmd,
				  WIFEXITED(res.status) ? WEXITSTATUS(res.status) : -1, line);
	}
	aclm_exec_result_free(&res);
	aclm_argv_free(argv);
	return st;
}

aclm_status deploy__check_cmd(const char *option, const char *cmd, struct aclm_err *err)
{
	char **argv = NULL;
	aclm_status st = aclm_split_argv(cmd, &argv, err);

	if (st != ACLM_OK)
		aclm_err_prefix(err, "%s", option);
	aclm_argv_free(argv);
	return st;
}

/* ---- group commit per server ----
 * Targets that share a server (the same reload command) must not change
 * files while a configuration test or reload of that server runs: it would
 * see one target's new certificate beside its old key. Changes wait for the
 * run in progress; then one waiter runs the test and the reload once for
 * every change made before it started, and each target gets that result. */
#define SERVERS_MAX 64

struct server {
	char *reload;              /* the key; NULL: free slot */
	char *test;                /* test of the next run (the first asked), or NULL */
	pthread_cond_t cv;
	bool running;
	int pending;               /* waiting to make a change */
	uint64_t changed, done;    /* changes made; changes covered by a finished run */
	aclm_status last;
	struct aclm_err last_err;
};

static pthread_mutex_t servers_mu = PTHREAD_MUTEX_INITIALIZER;
static struct server servers[SERVERS_MAX];
static struct server server_overflow; /* shared by the rest: correct, less batched */

static struct server *server_of(const char *reload)
{
	for (size_t i = 0; i < SERVERS_MAX; i++) {
		struct server *s = &servers[i];

		if (s->reload != NULL && strcmp(s->reload, reload) == 0)
			return s;
		if (s->reload == NULL && (s->reload = strdup(reload)) != NULL) {
			pthread_cond_init(&s->cv, NULL);
			return s;
		}
	}
	if (server_overflow.reload == NULL) {
		server_overflow.reload = "";
		pthread_cond_init(&server_overflow.cv, NULL);
	}
	return &server_overflow;
}

/* The run: test (when any change asked for one), then reload. Called with
 * servers_mu held, released meanwhile. */
static void server_run(struct server *s, const char *reload, void (*settle)(void *arg),
		       void *arg, struct aclm_err *err)
{
	char *test = s->test;
	uint64_t cover = s->changed;
	aclm_status st = ACLM_OK;

	s->test = NULL;
	s->running = true;
	pthread_mutex_unlock(&servers_mu);
	if (test != NULL)
		st = deploy__run_cmd("configuration test", test, DEPLOY__CMD_TIMEOUT_S, err);
	if (st == ACLM_OK)
		st = deploy__run_cmd("reload", reload, DEPLOY__CMD_TIMEOUT_S, err);
	/* A reload command may only signal the server (nginx -s reload), which
	 * then reads its files on its own: no change may start before it did. */
	if (st == ACLM_OK && settle != NULL)
		settle(arg);
	free(test);
	pthread_mutex_lock(&servers_mu);
	s->done = cover;
	s->last = st;
	if (st != ACLM_OK)
		s->last_err = *err;
	s->running = false;
	pthread_cond_broadcast(&s->cv);
}

/* Past SERVERS_MAX servers: one change, test and reload at a time, each
 * for itself (servers_mu held on entry, released). */
static aclm_status server_alone(struct server *s, const char *test, const char *reload,
				aclm_status (*change)(void *arg, struct aclm_err *err),
				void (*settle)(void *arg), void *arg, struct aclm_err *err)
{
	aclm_status st;

	s->running = true;
	pthread_mutex_unlock(&servers_mu);
	st = change(arg, err);
	if (st == ACLM_OK && test != NULL)
		st = deploy__run_cmd("configuration test", test, DEPLOY__CMD_TIMEOUT_S, err);
	if (st == ACLM_OK)
		st = deploy__run_cmd("reload", reload, DEPLOY__CMD_TIMEOUT_S, err);
	if (st == ACLM_OK && settle != NULL)
		settle(arg);
	pthread_mutex_lock(&servers_mu);
	s->running = false;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&servers_mu);
	return st;
}

aclm_status deploy__server_commit(const char *test, const char *reload,
				  aclm_status (*change)(void *arg, struct aclm_err *err),
				  void (*settle)(void *arg), void *arg, struct aclm_err *err)
{
	struct server *s;
	uint64_t mine;
	aclm_status st;

	pthread_mutex_lock(&servers_mu);
	s = server_of(reload);
	s->pending++;
	while (s->running)
		pthread_cond_wait(&s->cv, &servers_mu);
	s->pending--;
	if (s == &server_overflow)
		return server_alone(s, test, reload, change, settle, arg, err);
	st = change(arg, err);
	if (st == ACLM_OK && test != NULL && s->test == NULL && (s->test = strdup(test)) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	mine = st == ACLM_OK ? ++s->changed : 0;
	pthread_cond_broadcast(&s->cv);
	while (st == ACLM_OK) {
		if (s->done >= mine) {
			st = s->last;
			if (st != ACLM_OK)
				*err = s->last_err;
			break;
		}
		/* Lead once nobody is still about to change files. */
		if (!s->running && s->pending == 0) {
			server_run(s, s->reload, settle, arg, err);
			continue;
		}
		pthread_cond_wait(&s->cv, &servers_mu);
	}
	pthread_mutex_unlock(&servers_mu);
	return st;
}

static bool word_in(const char *word, const char *list)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

aclm_status deploy__check_keys(const json_t *options, const char *type, const char *allowed,
			       bool files, struct aclm_err *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(options))
		return aclm_err_set(err, ACLM_ERR_CONFIG, "%s target: options must be an object", type);
	json_object_foreach((json_t *)options, key, v) {
		if (!word_in(key, allowed) && !(files && deploy__files_option(key)))
			return aclm_err_set(err, ACLM_ERR_CONFIG,
					    "%s target: option \"%s\" does not apply", type, key);
		if (!json_is_string(v) && !(strcmp(key, "port") == 0 && json_is_integer(v)))
			return aclm_err_set(err, ACLM_ERR_CONFIG, "%s target: option \"%s\" must be a string",
					    type, key);
	}
	return ACLM_OK;
}

/* ---- one deploy ---- */

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Probes every endpoint until each serves want (want[i] "" : anything
 * reachable) or deadline passes; served gets what the failing (or last)
 * endpoint served. */
static aclm_status verify_all(const json_t *verify, const char *const *want, long timeout_ms,
			      char served[65], struct aclm_err *err)
{
	long deadline = mono_ms() + timeout_ms;
	aclm_status st = ACLM_OK;
	size_t i;
	json_t *v;

	json_array_foreach(verify, i, v) {
		const char *spec = json_string_value(v);
		char fp[65] = "";

		if (spec == NULL)
			continue;
		for (;;) {
			long left = deadline - mono_ms();

			st = deploy_probe(spec, left < PROBE_ATTEMPT_MS ? left : PROBE_ATTEMPT_MS, fp, err);
			if (st == ACLM_OK)
				snprintf(served, 65, "%s", fp);
			if (st == ACLM_OK && (want[i][0] == '\0' || strcmp(fp, want[i]) == 0))
				break;
			if (mono_ms() + PROBE_RETRY_SLEEP_MS >= deadline) {
				if (st == ACLM_OK)
					st = aclm_err_set(err, ACLM_ERR_VERIFY,
							  "verify %s: serves %.16s..., expected "
							  "%.16s...", spec, fp, want[i]);
				return st;
			}
			sleep_ms(PROBE_RETRY_SLEEP_MS);
		}
	}
	return st;
}

aclm_status deploy__await_served(const json_t *verify, const char *fingerprint, long timeout_ms,
				 struct aclm_err *err)
{
	size_t n = json_array_size(verify);
	const char **want = calloc(n + 1, sizeof(*want));
	char served[65] = "";
	aclm_status st;

	if (want == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		want[i] = fingerprint;
	st = verify_all(verify, want, timeout_ms, served, err);
	free(want);
	return st;
}

static void result_error(json_t *result, const char *state, const struct aclm_err *e)
{
	aclm_json_set_str(result, "state", state);
	aclm_json_set_str(result, "error", e->msg);
	aclm_json_set_str(result, "error_code", aclm_status_name(e->code));
}

/* After a failed activate or verify: puts the previous certificate back and
 * checks it is served again; records how in result. */
static void roll_back(const struct deploy_type_ops *ops, struct deploy_step_ctx *c,
		      const json_t *verify, char **prev, long timeout_ms, json_t *result)
{
	struct aclm_err rerr = { 0 };
	char served[65] = "";
	aclm_status st = ops->rollback != NULL
				 ? ops->rollback(c, &rerr)
				 : aclm_err_set(&rerr, ACLM_ERR_UNSUPPORTED, "%s cannot roll back", ops->name);

	if (st == ACLM_OK && json_array_size(verify) > 0)
		st = verify_all(verify, (const char *const *)prev, timeout_ms, served, &rerr);
	aclm_json_set_str(c->detail, "rollback", st == ACLM_OK ? "ok" : rerr.msg);
	if (served[0] != '\0')
		aclm_json_set_str(result, "served_fingerprint", served);
	aclm_json_set_str(result, "state", st == ACLM_OK ? "rolled_back" : "failed");
	if (st != ACLM_OK)
		aclm_log(ACLM_LOG_WARN, "deploy to %s: rollback failed: %s", c->target->name, rerr.msg);
}

aclm_status deploy__one(const struct deploy_type_ops *ops, const struct deploy_target *target,
			const struct deploy_material *m, const struct deploy_material *previous,
			bool dry_run, long timeout_ms, json_t *result, struct aclm_err *err)
{
	struct deploy_step_ctx c = { .target = target, .m = m, .previous = previous,
				     .dry_run = dry_run, .detail = json_object() };
	size_t nv = json_array_size(target->verify);
	char **prev = calloc(nv + 1, sizeof(*prev)), **want = calloc(nv + 1, sizeof(*want));
	char served[65] = "";
	long t0 = mono_ms();
	aclm_status st = ACLM_OK;
	bool staged = false;

	if (c.detail == NULL || prev == NULL || want == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		result_error(result, "failed", err);
		goto out;
	}
	if (ops->check != NULL)
		st = ops->check(target->options, err);
	if (st == ACLM_OK && (ops->stage == NULL || ops->activate == NULL))
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "%s targets cannot deploy", ops->name);
	if (st != ACLM_OK || dry_run) {
		if (st != ACLM_OK)
			result_error(result, "failed", err);
		else
			aclm_json_set_str(result, "state", "dry_run");
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		struct aclm_err perr = { 0 };
		const char *spec = json_string_value(json_array_get(target->verify, i));

		prev[i] = calloc(1, 65);
		want[i] = (char *)m->fingerprint;
		/* Unknown before (down, or not TLS yet): the re-verify after a
		 * rollback then accepts whatever is served. */
		if (prev[i] != NULL && spec != NULL)
			deploy_probe(spec, PROBE_BEFORE_MS, prev[i], &perr);
		if (prev[i] == NULL) {
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
			result_error(result, "failed", err);
			goto out;
		}
	}
	st = ops->stage(&c, err);
	staged = true; /* release frees what a failed stage kept */
	if (st != ACLM_OK) {
		/* Nothing is live yet: the previous certificate is untouched. */
		result_error(result, "failed", err);
		goto out;
	}
	st = ops->activate(&c, err);
	if (st == ACLM_OK && nv > 0)
		st = verify_all(target->verify, (const char *const *)want, timeout_ms, served, err);
	if (served[0] != '\0')
		aclm_json_set_str(result, "served_fingerprint", served);
	aclm_json_set_bool(c.detail, "verified", st == ACLM_OK && nv > 0);
	if (st == ACLM_OK) {
		aclm_json_set_str(result, "state", "deployed");
		goto out;
	}
	result_error(result, "failed", err);
	roll_back(ops, &c, target->verify, prev, timeout_ms, result);
out:
	if (staged && ops->release != NULL)
		ops->release(&c);
	aclm_json_set_int(result, "ms", mono_ms() - t0);
	if (c.detail != NULL)
		aclm_json_set_new(result, "detail", c.detail);
	for (size_t i = 0; prev != NULL && i < nv; i++)
		free(prev[i]);
	free(prev);
	free(want);
	return st;
}

/* ---- the material ---- */

struct material {
	struct deploy_material m;
	char *lineage, *cert_pem, *chain_pem, *fullchain_pem, *key_pem;
	unsigned char *der;
	char *key_id;
};

static aclm_status pem_of(X509 *x, char **out, struct aclm_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	*out = NULL;
	if (b == NULL || !PEM_write_bio_X509(b, x) || (n = BIO_get_mem_data(b, &p)) <= 0 ||
	    (*out = strndup(p, (size_t)n)) == NULL) {
		BIO_free(b);
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "cannot write the certificate as PEM");
	}
	BIO_free(b);
	return ACLM_OK;
}

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *out = malloc(la + lb + 1);

	if (out != NULL) {
		memcpy(out, a, la);
		memcpy(out + la, b, lb + 1);
	}
	return out;
}

/* ref: a lineage name (its current certificate) or an inventory id or
 * fingerprint prefix. */
static aclm_status resolve_ref(struct inventory *inv, const char *ref, int64_t *id, char **lineage,
			       struct aclm_err *err)
{
	struct store_lineage *l = NULL;
	struct aclm_err lerr = { 0 };
	aclm_status st = store_lineage_get(inv->store, inv->tenant_id, ref, &l, &lerr);

	*lineage = NULL;
	if (st == ACLM_OK) {
		if (l->cert_id <= 0) {
			st = aclm_err_set(err, ACLM_ERR_NOTFOUND, "lineage %s has no certificate yet", ref);
		} else {
			*id = l->cert_id;
			*lineage = strdup(ref);
			st = *lineage != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		}
		store_lineage_free(l);
		return st;
	}
	if (st != ACLM_ERR_NOTFOUND) {
		*err = lerr;
		return st;
	}
	st = inventory_resolve(inv, ref, id, err);
	if (st == ACLM_ERR_NOTFOUND || st == ACLM_ERR_INVALID)
		st = aclm_err_set(err, ACLM_ERR_NOTFOUND,
				  "%s: no such certificate id, fingerprint or lineage", ref);
	return st;
}

static aclm_status load_chain(struct inventory *inv, struct material *mt, struct aclm_err *err)
{
	STACK_OF(X509) *chain = NULL;
	char *pem = NULL, *joined;
	aclm_status st = inventory_chain(inv, mt->m.cert_id, &chain, err);

	if (st != ACLM_OK)
		return st;
	mt->chain_pem = strdup("");
	st = mt->chain_pem != NULL ? pem_of(sk_X509_value(chain, 0), &mt->cert_pem, err)
				   : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (int i = 1; st == ACLM_OK && i < sk_X509_num(chain); i++) {
		st = pem_of(sk_X509_value(chain, i), &pem, err);
		joined = st == ACLM_OK ? concat(mt->chain_pem, pem) : NULL;
		if (st == ACLM_OK && joined == NULL)
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		free(pem);
		pem = NULL;
		if (joined != NULL) {
			free(mt->chain_pem);
			mt->chain_pem = joined;
		}
	}
	if (st == ACLM_OK && (mt->fullchain_pem = concat(mt->cert_pem, mt->chain_pem)) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	sk_X509_pop_free(chain, X509_free);
	return st;
}

/* The key as PKCS#8 PEM, through a secure-heap BIO so that no copy
 * lingers outside the buffer we wipe. */
static aclm_status load_key(struct inventory *inv, struct material *mt, struct aclm_err *err)
{
	EVP_PKEY *pkey = NULL;
	BIO *b = NULL;
	char *p = NULL;
	long n;
	aclm_status st;

	if (mt->key_id == NULL)
		return aclm_err_set(err, ACLM_ERR_NOTFOUND,
				    "certificate %lld: its private key is not in the keystore",
				    (long long)mt->m.cert_id);
	st = keystore_pkey(inv->ks, inv->tenant_id, mt->key_id, &pkey, err);
	if (st == ACLM_ERR_NOTFOUND)
		aclm_err_prefix(err, "certificate %lld: its private key is not in the keystore",
				(long long)mt->m.cert_id);
	if (st != ACLM_OK)
		return st;
	b = BIO_new(BIO_s_secmem());
	if (b == NULL || !PEM_write_bio_PKCS8PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) ||
	    (n = BIO_get_mem_data(b, &p)) <= 0 || (mt->key_pem = malloc((size_t)n + 1)) == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "cannot export the private key");
	} else {
		memcpy(mt->key_pem, p, (size_t)n);
		mt->key_pem[n] = '\0';
	}
	BIO_free(b);
	EVP_PKEY_free(pkey);
	return st;
}

/* A key imported after its certificate is not linked to the row: the
 * keystore id follows from the public key, so look there too. */
static char *key_id_by_spki(struct inventory *inv, const json_t *facts)
{
	const char *spki = aclm_json_str(facts, "spki_sha256");
	char id[KEYSTORE_ID_MAX];

	if (spki == NULL)
		return NULL;
	keystore_key_id_from_spki(spki, id);
	return keystore_exists(inv->ks, inv->tenant_id, id, NULL) == ACLM_OK ? strdup(id) : NULL;
}

/* The certificate row mt->m.cert_id, its chain and its key's id. */
static aclm_status material_load_id(struct inventory *inv, struct material *mt,
				    struct aclm_err *err)
{
	struct store_cert *c = NULL;
	aclm_status st = store_cert_get(inv->store, inv->tenant_id, mt->m.cert_id, &c, err);

	if (st == ACLM_OK) {
		snprintf(mt->m.fingerprint, sizeof(mt->m.fingerprint), "%s", c->fingerprint);
		mt->der = c->der;
		mt->m.leaf_der_len = c->der_len;
		c->der = NULL;
		if (c->key_id != NULL && (mt->key_id = strdup(c->key_id)) == NULL)
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		else if (c->key_id == NULL)
			mt->key_id = key_id_by_spki(inv, c->facts);
	}
	store_cert_free(c);
	if (st == ACLM_OK)
		st = load_chain(inv, mt, err);
	mt->m.lineage = mt->lineage;
	mt->m.cert_pem = mt->cert_pem;
	mt->m.chain_pem = mt->chain_pem;
	mt->m.fullchain_pem = mt->fullchain_pem;
	mt->m.leaf_der = mt->der;
	return st;
}

static aclm_status material_load(struct inventory *inv, const char *ref, struct material *mt,
				 struct aclm_err *err)
{
	aclm_status st = resolve_ref(inv, ref, &mt->m.cert_id, &mt->lineage, err);

	return st != ACLM_OK ? st : material_load_id(inv, mt, err);
}

static void material_free(struct material *mt)
{
	if (mt->key_pem != NULL)
		OPENSSL_clear_free(mt->key_pem, strlen(mt->key_pem) + 1);
	free(mt->lineage);
	free(mt->cert_pem);
	free(mt->chain_pem);
	free(mt->fullchain_pem);
	free(mt->der);
	free(mt->key_id);
	memset(mt, 0, sizeof(*mt));
}

/* ---- the run: many targets on a small pool ---- */

struct job {
	struct store_target *row;
	const struct deploy_type_ops *ops;
	struct deploy_target t;
	bool wants_key;
	int64_t deployment_id;
	const struct deploy_material *previous; /* last deployed to it, or NULL */
	json_t *result;            /* pre-filled with target, type, fingerprint */
	bool ready;                /* loaded: the pool runs it */
};

struct pool {
	struct job *jobs;
	size_t n;
	atomic_size_t next;
	const struct deploy_material *with_key, *without_key;
	bool dry_run;
	long timeout_ms;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n) {
		struct job *j = &p->jobs[i];
		struct aclm_err e = { 0 };

		if (!j->ready)
			continue;
		deploy__one(j->ops, &j->t, j->wants_key ? p->with_key : p->without_key, j->previous,
			    p->dry_run, p->timeout_ms, j->result, &e);
	}
	return NULL;
}

static void pool_run(struct pool *p, int workers)
{
	pthread_t th[DEPLOY_WORKERS_MAX];
	int started = 0;

	if (workers <= 0)
		workers = (int)(p->n < DEPLOY_WORKERS_MAX ? p->n : DEPLOY_WORKERS_MAX);
	if (workers > DEPLOY_WORKERS_MAX)
		workers = DEPLOY_WORKERS_MAX;
	for (int i = 1; i < workers; i++)
		if (pthread_create(&th[started], NULL, worker, p) == 0)
			started++;
	worker(p); /* this thread works too: no thread at all is still progress */
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* Loads target j by name: unknown target or type is this target's failure. */
static void job_load(struct inventory *inv, struct job *j, const char *name,
		     const struct material *mt)
{
	struct aclm_err e = { 0 };
	aclm_status st = store_target_get(inv->store, inv->tenant_id, name, &j->row, &e);

	j->result = json_pack("{s:s, s:s?, s:s, s:n, s:n, s:n}", "target", name, "type",
			      j->row != NULL ? j->row->type : NULL, "fingerprint", mt->m.fingerprint,
			      "served_fingerprint", "error", "lineage");
	if (j->result == NULL)
		return;
	if (mt->lineage != NULL)
		aclm_json_set_str(j->result, "lineage", mt->lineage);
	aclm_json_set_int(j->result, "cert_id", mt->m.cert_id);
	if (st == ACLM_OK && (j->ops = deploy_type_find(j->row->type)) == NULL)
		st = aclm_err_set(&e, ACLM_ERR_CONFIG, "target %s: unknown type %s", name, j->row->type);
	if (st != ACLM_OK) {
		result_error(j->result, "failed", &e);
		return;
	}
	j->t = (struct deploy_target){ .id = j->row->id, .tenant_id = j->row->tenant_id,
				       .name = j->row->name, .type = j->row->type,
				       .options = j->row->options, .verify = j->row->verify };
	j->wants_key = j->ops->wants_key != NULL ? j->ops->wants_key(j->row->options)
						 : j->ops->needs_key;
	j->ready = true;
}

/* The certificates last deployed to the targets (without key), each loaded
 * once: most targets of a run had the same one. */
struct previous {
	struct material **v;       /* each its own allocation: jobs point into them */
	size_t n;
};

static void previous_find(struct inventory *inv, struct previous *p, struct job *j)
{
	struct aclm_err e = { 0 };
	struct material **grown, *mt;
	int64_t id = 0;

	if (store_deployment_last_cert(inv->store, inv->tenant_id, j->t.id, &id, &e) != ACLM_OK ||
	    id <= 0)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i]->m.cert_id == id) {
			j->previous = &p->v[i]->m;
			aclm_json_set_str(j->result, "previous_fingerprint", j->previous->fingerprint);
			return;
		}
	grown = realloc(p->v, (p->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return;
	p->v = grown;
	if ((mt = calloc(1, sizeof(*mt))) == NULL)
		return;
	mt->m.cert_id = id;
	if (material_load_id(inv, mt, &e) != ACLM_OK) {
		material_free(mt);
		free(mt);
		return;
	}
	p->v[p->n++] = mt;
	j->previous = &mt->m;
	aclm_json_set_str(j->result, "previous_fingerprint", j->previous->fingerprint);
}

static void previous_free(struct previous *p)
{
	for (size_t i = 0; i < p->n; i++) {
		material_free(p->v[i]);
		free(p->v[i]);
	}
	free(p->v);
}

/* Records the result of job j (store row + audit event); store errors are
 * logged, not returned: the deploy itself happened. */
static void job_record(struct inventory *inv, struct job *j, bool dry_run)
{
	struct aclm_err e = { 0 };
	const char *state = aclm_json_str(j->result, "state");
	struct store_deployment d = {
		.id = j->deployment_id, .tenant_id = inv->tenant_id,
		.state = (char *)(state != NULL ? state : "failed"),
		.served_fingerprint = (char *)aclm_json_str(j->result, "served_fingerprint"),
		.error = (char *)aclm_json_str(j->result, "error"),
		.detail = json_object_get(j->result, "detail"), .finished_at = aclm_time_now(),
	};
	json_t *audit;

	if (dry_run)
		return;
	if (j->deployment_id > 0 && store_deployment_finish(inv->store, &d, &e) != ACLM_OK)
		aclm_log(ACLM_LOG_WARN, "deploy to %s: cannot record the result: %s",
			      aclm_json_str(j->result, "target"), e.msg);
	audit = json_pack("{s:O?, s:O?, s:s, s:O?}", "cert_id", json_object_get(j->result, "cert_id"),
			  "fingerprint", json_object_get(j->result, "fingerprint"), "state", d.state,
			  "error", json_object_get(j->result, "error"));
	if (audit != NULL && inventory_audit(inv, "deploy", aclm_json_str(j->result, "target"), audit,
					     &e) != ACLM_OK)
		aclm_log(ACLM_LOG_WARN, "deploy: cannot write the audit event: %s", e.msg);
	json_decref(audit);
}

static void job_start(struct inventory *inv, struct job *j, const struct material *mt)
{
	struct aclm_err e = { 0 };
	struct store_deployment d = { .tenant_id = inv->tenant_id, .target_id = j->t.id,
				      .cert_id = mt->m.cert_id, .lineage = mt->lineage,
				      .fingerprint = (char *)mt->m.fingerprint, .state = "running",
				      .started_at = aclm_time_now() };

	if (store_deployment_start(inv->store, &d, &j->deployment_id, &e) != ACLM_OK)
		aclm_log(ACLM_LOG_WARN, "deploy to %s: cannot record the start: %s", j->t.name, e.msg);
}

aclm_status deploy_run(struct inventory *inv, const char *ref, const char *const *targets,
		       size_t ntargets, const struct deploy_opts *opts, json_t **results,
		       struct aclm_err *err)
{
	struct deploy_opts o = opts != NULL ? *opts : (struct deploy_opts){ 0 };
	struct material mt = { 0 };
	struct deploy_material without_key;
	struct job *jobs = NULL;
	struct pool pool = { 0 };
	struct aclm_err kerr = { 0 };
	struct previous prev = { 0 };
	aclm_status st, key_st = ACLM_OK;
	size_t failed = 0;
	bool any_key = false;
	const char *first_failed = NULL;

	*results = NULL;
	if (ntargets == 0 || ntargets > DEPLOY_TARGETS_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "deploy: give 1 to %d targets",
				    DEPLOY_TARGETS_MAX);
	st = material_load(inv, ref, &mt, err);
	jobs = st == ACLM_OK ? calloc(ntargets, sizeof(*jobs)) : NULL;
	if (st == ACLM_OK && jobs == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st != ACLM_OK)
		goto out;
	for (size_t i = 0; i < ntargets; i++) {
		job_load(inv, &jobs[i], targets[i], &mt);
		any_key |= jobs[i].ready && jobs[i].wants_key;
		if (jobs[i].ready)
			previous_find(inv, &prev, &jobs[i]);
	}
	/* The key leaves the keystore only when some target writes it. */
	if (any_key && !o.dry_run)
		key_st = load_key(inv, &mt, &kerr);
	mt.m.key_pem = mt.key_pem;
	without_key = mt.m;
	without_key.key_pem = NULL;
	for (size_t i = 0; i < ntargets; i++) {
		if (jobs[i].ready && jobs[i].wants_key && key_st != ACLM_OK) {
			result_error(jobs[i].result, "failed", &kerr);
			jobs[i].ready = false;
		}
		if (jobs[i].ready && !o.dry_run)
			job_start(inv, &jobs[i], &mt);
	}
	pool = (struct pool){ .jobs = jobs, .n = ntargets, .with_key = &mt.m,
			      .without_key = &without_key, .dry_run = o.dry_run,
			      .timeout_ms = o.verify_timeout_ms > 0 ? o.verify_timeout_ms
								    : DEPLOY_VERIFY_TIMEOUT_MS };
	atomic_init(&pool.next, 0);
	pool_run(&pool, o.workers);
	*results = json_array();
	for (size_t i = 0; i < ntargets; i++) {
		const char *state = aclm_json_str(jobs[i].result, "state");

		if (jobs[i].ready)
			job_record(inv, &jobs[i], o.dry_run);
		if (state == NULL || (strcmp(state, "deployed") != 0 && strcmp(state, "dry_run") != 0)) {
			failed++;
			if (first_failed == NULL)
				first_failed = targets[i];
		}
		json_array_append(*results, jobs[i].result);
	}
	if (failed > 0)
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "deploy: %zu of %zu targets failed (first: %s)",
				  failed, ntargets, first_failed);
out:
	for (size_t i = 0; jobs != NULL && i < ntargets; i++) {
		store_target_free(jobs[i].row);
		json_decref(jobs[i].result);
	}
	free(jobs);
	material_free(&mt);
	previous_free(&prev);
	return st;
}

struct names {
	char **v;
	size_t n;
};

static aclm_status collect_name(const struct store_target *t, void *arg)
{
	struct names *n = arg;
	char **grown;

	if (n->n >= DEPLOY_TARGETS_MAX)
		return ACLM_OK;
	grown = realloc(n->v, (n->n + 1) * sizeof(*grown));
	if (grown == NULL)
		return ACLM_ERR_NOMEM;
	n->v = grown;
	if ((n->v[n->n] = strdup(t->name)) == NULL)
		return ACLM_ERR_NOMEM;
	n->n++;
	return ACLM_OK;
}

aclm_status deploy_lineage(struct inventory *inv, const char *lineage, json_t **results,
			   struct aclm_err *err)
{
	struct names n = { 0 };
	aclm_status st = store_binding_list(inv->store, inv->tenant_id, lineage, collect_name, &n, err);

	*results = NULL;
	if (st == ACLM_ERR_NOMEM)
		aclm_err_set(err, st, "out of memory");
	if (st == ACLM_OK && n.n == 0)
		*results = json_array();
	else if (st == ACLM_OK)
		st = deploy_run(inv, lineage, (const char *const *)n.v, n.n, NULL, results, err);
	for (size_t i = 0; i < n.n; i++)
		free(n.v[i]);
	free(n.v);
	return st;
}
