/* api/router: matching a method and path against the route table; "{x}"
 * in a pattern matches one non-empty path segment. */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include <event2/http.h>

static const struct {
	int method;
	const char *name;
} methods[] = {
	{ EVHTTP_REQ_GET, "GET" },	   { EVHTTP_REQ_HEAD, "HEAD" }, { EVHTTP_REQ_POST, "POST" },
	{ EVHTTP_REQ_PUT, "PUT" },	   { EVHTTP_REQ_PATCH, "PATCH" },
	{ EVHTTP_REQ_DELETE, "DELETE" }, { EVHTTP_REQ_OPTIONS, "OPTIONS" },
};

const char *api__method_name(int method)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].method == method)
			return methods[i].name;
	return "OTHER";
}

void api__allow_header(unsigned mask, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if ((mask & (unsigned)methods[i].method) != 0 && used < outlen) {
			int n = snprintf(out + used, outlen - used, "%s%s", used > 0 ? ", " : "",
					 methods[i].name);

			used += n > 0 ? (size_t)n : 0;
		}
}

/* Walks pattern and path segment by segment; captures {..} segments. */
static bool match(const char *pattern, const char *path,
		  char params[API__PARAMS_MAX][API__PARAM_MAX], int *nparams)
{
	const char *p = pattern, *s = path;
	int n = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			size_t len = strcspn(s, "/");
			const char *close = strchr(p, '}');

			if (close == NULL || len == 0 || len >= API__PARAM_MAX || n >= API__PARAMS_MAX)
				return false;
			memcpy(params[n], s, len);
			params[n][len] = '\0';
			n++;
			p = close + 1;
			s += len;
		} else if (*p++ != *s++) {
			return false;
		}
	}
	if (*p != '\0' || *s != '\0')
		return false;
	*nparams = n;
	return true;
}

const struct api__route *api__route_find(const struct api__route *t, size_t n, int method,
					 const char *path,
					 char params[API__PARAMS_MAX][API__PARAM_MAX], int *nparams,
					 unsigned *allow)
{
	const struct api__route *found = NULL;
	char tmp[API__PARAMS_MAX][API__PARAM_MAX];
	int ntmp = 0;

	*allow = 0;
	*nparams = 0;
	for (size_t i = 0; i < n && found == NULL; i++) {
		if (!match(t[i].pattern, path, tmp, &ntmp))
			continue;
		*allow |= (unsigned)t[i].method;
		/* RFC 9110 §9.3.2: HEAD is GET without the body. */
		if (t[i].method == EVHTTP_REQ_GET)
			*allow |= EVHTTP_REQ_HEAD;
		if (t[i].method == method ||
		    (method == EVHTTP_REQ_HEAD && t[i].method == EVHTTP_REQ_GET)) {
			found = &t[i];
			memcpy(params, tmp, sizeof(tmp));
			*nparams = ntmp;
		}
	}
	return found;
}
