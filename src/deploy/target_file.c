/* deploy/: the file target: cert, chain, fullchain, key, combined PEM or
 * PKCS#12 written with owner, group and mode, then an optional reload
 * command (argv, no shell). */
#include <stdlib.h>

#include "core/json.h"
#include "deploy/deploy_int.h"

static aclm_status file_check(const json_t *options, struct aclm_err *err)
{
	const char *reload = aclm_json_str(options, "reload_cmd");
	aclm_status st = deploy__check_keys(options, "file", "reload_cmd", true, err);

	if (st == ACLM_OK)
		st = deploy__files_check(options, false, err);
	if (st == ACLM_OK && reload != NULL)
		st = deploy__check_cmd("reload_cmd", reload, err);
	return st;
}

static aclm_status file_stage(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct deploy__files *f = NULL;
	aclm_status st = deploy__files_stage(c->target->options, c->m, NULL, &f, err);

	c->state = f;
	return st;
}

static aclm_status files_activate(void *f, struct aclm_err *err)
{
	return deploy__files_activate(f, err);
}

static aclm_status files_restore(void *f, struct aclm_err *err)
{
	return deploy__files_restore(f, err);
}

static aclm_status file_activate(struct deploy_step_ctx *c, struct aclm_err *err)
{
	const char *reload = aclm_json_str(c->target->options, "reload_cmd");
	aclm_status st = reload != NULL
				 ? deploy__server_commit(NULL, reload, files_activate, NULL, c->state, err)
				 : deploy__files_activate(c->state, err);

	deploy__files_detail(c->state, c->detail);
	return st;
}

static aclm_status file_rollback(struct deploy_step_ctx *c, struct aclm_err *err)
{
	const char *reload = aclm_json_str(c->target->options, "reload_cmd");

	return reload != NULL ? deploy__server_commit(NULL, reload, files_restore, NULL, c->state, err)
			      : deploy__files_restore(c->state, err);
}

static void file_release(struct deploy_step_ctx *c)
{
	deploy__files_free(c->state);
	c->state = NULL;
}

const struct deploy_type_ops deploy_file_ops = {
	.name = "file",
	.needs_key = true,
	.check = file_check,
	.stage = file_stage,
	.activate = file_activate,
	.rollback = file_rollback,
	.release = file_release,
	.wants_key = deploy__files_want_key,
};
