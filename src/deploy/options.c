/* deploy/: reading a target's options (a JSON object as `aclm target add`
 * stored it): strings, booleans and integers, the latter two also as the
 * strings the CLI stores. Errors name the target type and the option. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/deploy_int.h"

aclm_status deploy__opt_str(const char *type, const json_t *options, const char *key,
			    bool required, const char **out, struct aclm_err *err)
{
	json_t *v = json_object_get(options, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return aclm_err_set(err, ACLM_ERR_CONFIG, "%s target: option %s is required",
					    type, key);
		return ACLM_OK;
	}
	/* a NUL inside would cut the value short where C reads it */
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return aclm_err_set(err, ACLM_ERR_CONFIG, "%s target: option %s must be a "
				    "non-empty string", type, key);
	*out = json_string_value(v);
	return ACLM_OK;
}

aclm_status deploy__opt_bool(const char *type, const json_t *options, const char *key, bool *out,
			     struct aclm_err *err)
{
	json_t *v = json_object_get(options, key);
	const char *s = json_string_value(v);

	*out = false;
	if (v == NULL || json_is_null(v))
		return ACLM_OK;
	if (json_is_boolean(v))
		*out = json_is_true(v);
	else if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
		*out = strcmp(s, "true") == 0;
	else
		return aclm_err_set(err, ACLM_ERR_CONFIG, "%s target: option %s must be true or "
				    "false", type, key);
	return ACLM_OK;
}

aclm_status deploy__opt_int(const char *type, const json_t *options, const char *key, int64_t def,
			    int64_t min, int64_t max, int64_t *out, struct aclm_err *err)
{
	json_t *v = json_object_get(options, key);
	const char *s = json_string_value(v);
	char *end = NULL;

	*out = def;
	if (v == NULL || json_is_null(v))
		return ACLM_OK;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (s != NULL && *s >= '0' && *s <= '9') {
		errno = 0;
		*out = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0')
			*out = min - 1;
	} else {
		*out = min - 1;
	}
	if (*out < min || *out > max)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "%s target: option %s must be an integer "
				    "from %lld to %lld", type, key, (long long)min, (long long)max);
	return ACLM_OK;
}
