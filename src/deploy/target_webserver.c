/* deploy/: nginx and apache: the same steps with different default
 * commands. The files go in place, the configuration test runs against
 * them, then the reload; on failure the previous files come back and the
 * server is reloaded again. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "deploy/deploy_int.h"

struct webserver {
	const char *type;
	const char *test_cmd, *reload_cmd; /* defaults */
};

static const struct webserver nginx = { "nginx", "nginx -t", "nginx -s reload" };
static const struct webserver apache = { "apache", "apachectl configtest", "apachectl graceful" };

static const char *cmd_of(const json_t *options, const char *key, const char *dflt)
{
	const char *v = aclm_json_str(options, key);

	return v != NULL ? v : dflt;
}

static aclm_status ws_check(const struct webserver *w, const json_t *options, struct aclm_err *err)
{
	aclm_status st = deploy__check_keys(options, w->type, "test_cmd reload_cmd", true, err);

	if (st == ACLM_OK)
		st = deploy__files_check(options, false, err);
	if (st == ACLM_OK)
		st = deploy__check_cmd("test_cmd", cmd_of(options, "test_cmd", w->test_cmd), err);
	if (st == ACLM_OK)
		st = deploy__check_cmd("reload_cmd", cmd_of(options, "reload_cmd", w->reload_cmd), err);
	return st;
}

static aclm_status ws_stage(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct deploy__files *f = NULL;
	aclm_status st = deploy__files_stage(c->target->options, c->m, NULL, &f, err);

	c->state = f;
	return st;
}

static aclm_status files_activate(void *arg, struct aclm_err *err)
{
	struct deploy_step_ctx *c = arg;

	return deploy__files_activate(c->state, err);
}

static aclm_status files_restore(void *arg, struct aclm_err *err)
{
	struct deploy_step_ctx *c = arg;

	return deploy__files_restore(c->state, err);
}

/* After the reload: until this target's endpoints serve its new leaf,
 * which means the server has read every file of the batch. The verify
 * step afterwards decides; a timeout here only lets the next batch go. */
static void settle(void *arg)
{
	struct deploy_step_ctx *c = arg;
	struct aclm_err ignored = { 0 };

	deploy__await_served(c->target->verify, c->m->fingerprint, DEPLOY__SETTLE_MS, &ignored);
}

/* Files in place, then the configuration test and the reload (shared with
 * the other targets of the same server that changed meanwhile). */
static aclm_status ws_activate(const struct webserver *w, struct deploy_step_ctx *c,
			       struct aclm_err *err)
{
	const json_t *o = c->target->options;
	aclm_status st = deploy__server_commit(cmd_of(o, "test_cmd", w->test_cmd),
					       cmd_of(o, "reload_cmd", w->reload_cmd), files_activate,
					       settle, c, err);

	deploy__files_detail(c->state, c->detail);
	aclm_json_set_bool(c->detail, "reloaded", st == ACLM_OK);
	return st;
}

/* The previous files were accepted before, so no test: reload straight away. */
static aclm_status ws_rollback(const struct webserver *w, struct deploy_step_ctx *c,
			       struct aclm_err *err)
{
	return deploy__server_commit(NULL, cmd_of(c->target->options, "reload_cmd", w->reload_cmd),
				     files_restore, NULL, c, err);
}

static void ws_release(struct deploy_step_ctx *c)
{
	deploy__files_free(c->state);
	c->state = NULL;
}

static aclm_status nginx_check(const json_t *o, struct aclm_err *err) { return ws_check(&nginx, o, err); }
static aclm_status nginx_activate(struct deploy_step_ctx *c, struct aclm_err *err) { return ws_activate(&nginx, c, err); }
static aclm_status nginx_rollback(struct deploy_step_ctx *c, struct aclm_err *err) { return ws_rollback(&nginx, c, err); }
static aclm_status apache_check(const json_t *o, struct aclm_err *err) { return ws_check(&apache, o, err); }
static aclm_status apache_activate(struct deploy_step_ctx *c, struct aclm_err *err) { return ws_activate(&apache, c, err); }
static aclm_status apache_rollback(struct deploy_step_ctx *c, struct aclm_err *err) { return ws_rollback(&apache, c, err); }

const struct deploy_type_ops deploy_nginx_ops = {
	.name = "nginx",
	.needs_key = true,
	.check = nginx_check,
	.stage = ws_stage,
	.activate = nginx_activate,
	.rollback = nginx_rollback,
	.release = ws_release,
	.wants_key = deploy__files_want_key,
};

const struct deploy_type_ops deploy_apache_ops = {
	.name = "apache",
	.needs_key = true,
	.check = apache_check,
	.stage = ws_stage,
	.activate = apache_activate,
	.rollback = apache_rollback,
	.release = ws_release,
	.wants_key = deploy__files_want_key,
};
