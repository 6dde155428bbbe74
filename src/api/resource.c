/* api/resource: small helpers the resource handlers share: names, times,
 * numeric path ids and the "absent" answer that must not tell another
 * tenant's row from a missing one. */
#include "api/api_int.h"

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
