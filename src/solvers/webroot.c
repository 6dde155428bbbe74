/* webroot: answers http-01 by writing WEBROOT/.well-known/acme-challenge/TOKEN
 * for a web server that already serves WEBROOT (RFC 8555 §8.3). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define WEBROOT_DIR ".well-known/acme-challenge"

struct webroot_state {
	char *root;
};

/* Creates dir readable by the web server whatever the umask: 0755 on the
 * directories it creates, existing ones left as they are. */
static aclm_status webroot_mkdir(const char *dir, struct aclm_err *err)
{
	if (mkdir(dir, 0755) == 0) {
		if (chmod(dir, 0755) != 0)
			return aclm_err_set(err, ACLM_ERR_IO, "%s: chmod: %s", dir, strerror(errno));
		return ACLM_OK;
	}
	if (errno == EEXIST && aclm_fs_is_dir(dir))
		return ACLM_OK;
	return aclm_err_set(err, ACLM_ERR_IO, "%s: cannot create directory: %s", dir,
			    errno == EEXIST ? "exists and is not a directory" : strerror(errno));
}

static aclm_status webroot_start(const struct solver_config *cfg, void **state,
				 struct aclm_err *err)
{
	struct webroot_state *s = NULL;
	aclm_status st = ACLM_OK;

	*state = NULL;
	if (cfg == NULL || cfg->webroot == NULL || cfg->webroot[0] == '\0') {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "webroot: no directory configured");
		goto out;
	}
	if (!aclm_fs_is_dir(cfg->webroot)) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "webroot: %s: not a directory",
				  cfg->webroot);
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->root = strdup(cfg->webroot)) == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "webroot: out of memory");
		goto out;
	}
	*state = s;
	s = NULL;
out:
	if (s != NULL)
		free(s->root);
	free(s);
	return st;
}

/* The token was validated: base64url, so no '/' and no "..". */
static char *webroot_path(const struct webroot_state *s, const char *sub)
{
	size_t n = strlen(s->root) + strlen(sub) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", s->root, sub);
	return p;
}

static aclm_status webroot_present(void *state, const struct solver_challenge *ch,
				   struct aclm_err *err)
{
	struct webroot_state *s = state;
	char *wk = NULL, *dir = NULL, *file = NULL;
	char sub[sizeof(WEBROOT_DIR) + SOLVER__TOKEN_MAX + 2];
	aclm_status st = solver__check_keyauth("webroot", ch, err);

	if (st != ACLM_OK)
		goto out;
	snprintf(sub, sizeof(sub), WEBROOT_DIR "/%s", ch->token);
	wk = webroot_path(s, ".well-known");
	dir = webroot_path(s, WEBROOT_DIR);
	file = webroot_path(s, sub);
	if (wk == NULL || dir == NULL || file == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "webroot: out of memory");
		goto out;
	}
	st = webroot_mkdir(wk, err);
	if (st == ACLM_OK)
		st = webroot_mkdir(dir, err);
	if (st == ACLM_OK)
		st = aclm_fs_write_atomic(file, ch->key_authorization,
					  strlen(ch->key_authorization), 0644, err);
	if (st != ACLM_OK)
		aclm_err_prefix(err, "webroot");
out:
	free(wk);
	free(dir);
	free(file);
	return st;
}

/* Removing a file that is already gone is success: cleanup may be retried.
 * The directories stay: another challenge may be writing into them. */
static aclm_status webroot_cleanup(void *state, const struct solver_challenge *ch,
				   struct aclm_err *err)
{
	struct webroot_state *s = state;
	char sub[sizeof(WEBROOT_DIR) + SOLVER__TOKEN_MAX + 2];
	char *file = NULL;
	aclm_status st = ACLM_OK;

	if (!solver__token_valid(ch->token)) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "webroot: challenge token is not base64url");
		goto out;
	}
	snprintf(sub, sizeof(sub), WEBROOT_DIR "/%s", ch->token);
	file = webroot_path(s, sub);
	if (file == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "webroot: out of memory");
		goto out;
	}
	if (unlink(file) != 0 && errno != ENOENT)
		st = aclm_err_set(err, ACLM_ERR_IO, "webroot: %s: %s", file, strerror(errno));
out:
	free(file);
	return st;
}

static void webroot_stop(void *state)
{
	struct webroot_state *s = state;

	if (s == NULL)
		return;
	free(s->root);
	free(s);
}

const struct solver_ops solver_webroot_ops = {
	.name = "webroot",
	.types = SOLVER_HTTP01,
	.start = webroot_start,
	.present = webroot_present,
	.cleanup = webroot_cleanup,
	.stop = webroot_stop,
};
