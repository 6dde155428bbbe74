/* api/resource: small helpers the resource handlers share: names, times,
 * numeric path ids and the "absent" answer that must not tell another
 * tenant's row from a missing one. */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

bool api__name_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > API__NAME_MAX)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-' || *p == '@'))
			return false;
	return true;
}

int api__json_time(json_t *o, const char *key, int64_t t)
{
	char buf[ACLM_TIME_RFC3339_LEN];

	if (t == 0)
		return json_object_set_new(o, key, json_null());
	return aclm_json_set_str(o, key, aclm_time_fmt(t, buf));
}

bool api__param_id(struct api__req *r, int i, const char *what, int64_t *id)
{
	const char *p = i < r->nparams ? r->params[i] : "";
	size_t n = strlen(p);
	int64_t v = 0;

	/* One spelling per id: "007" or "+7" would otherwise alias row 7. */
	for (size_t k = 0; k < n && n <= 18 && p[0] != '0'; k++) {
		if (p[k] < '0' || p[k] > '9') {
			v = 0;
			break;
		}
		v = v * 10 + (p[k] - '0');
	}
	if (n == 0 || n > 18 || v <= 0) {
		api__problem(r, 404, "not-found", "no such %s", what);
		return false;
	}
	*id = v;
	return true;
}

void api__problem_absent(struct api__req *r, const struct aclm_err *err, const char *what)
{
	if (err->code == ACLM_ERR_NOTFOUND)
		api__problem(r, 404, "not-found", "no such %s", what);
	else
		api__problem_err(r, err);
}

void api__reply_job(struct api__req *r, int64_t job_id, bool created)
{
	char id[24], loc[64];

	snprintf(id, sizeof(id), "%lld", (long long)job_id);
	snprintf(loc, sizeof(loc), API__PREFIX "/jobs/%lld", (long long)job_id);
	api__header(r, "Location", loc);
	api__reply_json(r, 202, json_pack("{s:s, s:b, s:s}", "job_id", id, "created", created,
					  "location", loc));
}

bool api__secret_inline(const char *key)
{
	static const char *const words[] = { "password", "passwd", "secret", "token" };
	static const char *const names[] = { "key", "private_key", "key_pem" };
	size_t n = strlen(key);

	/* "password_file", "secret_file", "key_path": where the secret is. */
	if (n > 5 && (strcmp(key + n - 5, "_file") == 0 || strcmp(key + n - 5, "_path") == 0))
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(key, words[i]) != NULL)
			return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(key, names[i]) == 0)
			return true;
	return false;
}
