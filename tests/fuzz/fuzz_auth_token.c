/* libFuzzer target: the credentials a request presents (auth_token_check's
 * "aclm_ID_SECRET", auth_session_check's cookie and CSRF token) against a
 * store holding one token and one session. Only those exact strings may
 * pass; everything else fails with ACLM_ERR_PASSWORD and the one message. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW ((int64_t)1800000000)

static struct store *s;
static char dir[] = "/tmp/aclm-fuzz-auth-XXXXXX";
static char token[AUTH_TOKEN_MAX], cookie[AUTH_SESSION_MAX], csrf[AUTH_CSRF_MAX];

/* libFuzzer ends with exit(): the database goes with it. */
static void teardown(void)
{
	static const char *const files[] = { "fuzz.db", "fuzz.db-wal", "fuzz.db-shm" };
	char path[sizeof(dir) + 16];

	store_close(s);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		remove(path);
	}
	remove(dir);
}

static void setup(void)
{
	struct store_options opt = { .busy_timeout_ms = 1000 };
	struct auth_token_req req = { .name = "fuzz", .role = AUTH_ROLE_ADMIN };
	struct auth_principal p = { 0 };
	struct aclm_err err = { 0 };
	char id[32];
	int64_t tenant = 0, user = 0;

	opt.home = mkdtemp(dir);
	if (opt.home == NULL || store_open("sqlite:fuzz.db", &opt, &s, &err) != ACLM_OK ||
	    store_tenant_ensure(s, "default", &tenant, &err) != ACLM_OK ||
	    auth_user_add(s, tenant, "u", AUTH_ROLE_VIEWER, NULL, &user, &err) != ACLM_OK)
		abort();
	atexit(teardown);
	req.tenant_id = tenant;
	p.tenant_id = tenant;
	p.user_id = user;
	if (auth_token_create(s, &req, token, id, &err) != ACLM_OK ||
	    auth_session_create(s, &p, 1000000000, cookie, csrf, &err) != ACLM_OK)
		abort();
}

static void expect_refused(aclm_status st, const struct aclm_err *err, const char *msg)
{
	if (st != ACLM_ERR_PASSWORD || strcmp(err->msg, msg) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_principal p;
	struct aclm_err err = { 0 };
	char *text;
	aclm_status st;

	if (s == NULL)
		setup();
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	st = auth_token_check(s, text, NOW, &p, &err);
	if (strcmp(text, token) != 0)
		expect_refused(st, &err, "invalid or expired token");
	else if (st != ACLM_OK)
		__builtin_trap();
	st = auth_session_check(s, text, NULL, NOW, &p, &err);
	if (strcmp(text, cookie) != 0)
		expect_refused(st, &err, "invalid or expired session");
	st = auth_session_check(s, cookie, text, NOW, &p, &err);
	if (strcmp(text, csrf) != 0)
		expect_refused(st, &err, "invalid or expired session");
	free(text);
	return 0;
}
