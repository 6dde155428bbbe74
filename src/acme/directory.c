/* acme/directory: the directory object (RFC 8555 §7.1.1) with its meta
 * (§9.7.6 fields), RFC 9773 renewalInfo and the profiles draft's "profiles". */
#include "acme/acme.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"

#define DIRECTORY_MAX_BYTES (64 * 1024)
#define DIRECTORY_URL_MAX 2048

struct dir_field {
	const char *name;
	size_t offset;      /* of the char * in struct acme_directory */
	bool required;
};

static const struct dir_field dir_fields[] = {
	{ "newNonce", offsetof(struct acme_directory, new_nonce), true },
	{ "newAccount", offsetof(struct acme_directory, new_account), true },
	{ "newOrder", offsetof(struct acme_directory, new_order), true },
	{ "newAuthz", offsetof(struct acme_directory, new_authz), false },
	{ "revokeCert", offsetof(struct acme_directory, revoke_cert), false },
	{ "keyChange", offsetof(struct acme_directory, key_change), false },
	{ "renewalInfo", offsetof(struct acme_directory, renewal_info), false },
};

#define N_DIR_FIELDS (sizeof(dir_fields) / sizeof(dir_fields[0]))

/* An absolute URL we will send requests to: https:// (http:// only when
 * allowed, e.g. a local Pebble), a host, no whitespace or control bytes. */
static aclm_status check_url(const char *what, const char *url, size_t len, bool allow_http,
			     struct aclm_err *err)
{
	size_t skip = 0;
	aclm_status st = ACLM_OK;

	if (len >= 8 && strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else if (len >= 7 && strncasecmp(url, "http://", 7) == 0 && allow_http)
		skip = 7;
	if (skip == 0) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "directory: \"%s\" is not an absolute %s URL",
				  what, allow_http ? "http(s)://" : "https://");
		goto out;
	}
	if (len > DIRECTORY_URL_MAX || len == skip || url[skip] == '/' || strlen(url) != len) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "directory: \"%s\" is %s", what,
				  len > DIRECTORY_URL_MAX ? "too long" : "not a URL with a host");
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c == 0x7F) {
			st = aclm_err_set(err, ACLM_ERR_PARSE,
					  "directory: \"%s\" contains whitespace or control bytes",
					  what);
			goto out;
		}
	}
out:
	return st;
}

/* Reads the URL member key of obj (called name in messages) into *dst
 * (malloc'd); absent is fine unless required. */
static aclm_status get_url(const json_t *obj, const char *key, const char *name, bool required,
			   bool allow_http, char **dst, struct aclm_err *err)
{
	const json_t *v = json_object_get(obj, key);
	aclm_status st = ACLM_OK;

	if (v == NULL) {
		if (required)
			st = aclm_err_set(err, ACLM_ERR_PARSE, "directory: \"%s\" is missing", name);
		goto out;
	}
	if (!json_is_string(v)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "directory: \"%s\" is not a string", name);
		goto out;
	}
	st = check_url(name, json_string_value(v), json_string_length(v), allow_http, err);
	if (st != ACLM_OK)
		goto out;
	*dst = strdup(json_string_value(v));
	if (*dst == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "directory: out of memory");
out:
	return st;
}

/* A URI shown to people, never requested (any scheme: Pebble's terms are a
 * data: URI): a string without control bytes, capped. */
static aclm_status get_shown_uri(const json_t *obj, const char *key, const char *name, char **dst,
				 struct aclm_err *err)
{
	const json_t *v = json_object_get(obj, key);
	const char *p;

	if (v == NULL)
		return ACLM_OK;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 2048)
		return aclm_err_set(err, ACLM_ERR_PARSE, "directory: \"%s\" is not a URI", name);
	for (p = json_string_value(v); *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return aclm_err_set(err, ACLM_ERR_PARSE,
					    "directory: \"%s\" contains control bytes", name);
	*dst = strdup(json_string_value(v));
	return *dst != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "directory: out of memory");
}

/* profiles: {"name": "description", ...}; caaIdentities: ["domain", ...]. */
static aclm_status get_meta_collections(const json_t *meta, struct acme_directory *out,
					struct aclm_err *err)
{
	const json_t *profiles = json_object_get(meta, "profiles");
	const json_t *caa = json_object_get(meta, "caaIdentities");
	const char *name;
	const json_t *v;
	size_t i;
	aclm_status st = ACLM_OK;

	if (profiles != NULL && !json_is_object(profiles)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "directory: meta.profiles is not an object");
		goto out;
	}
	json_object_foreach ((json_t *)profiles, name, v)
		if (!json_is_string(v)) {
			st = aclm_err_set(err, ACLM_ERR_PARSE,
					  "directory: meta.profiles: a description is not a string");
			goto out;
		}
	if (caa != NULL && !json_is_array(caa)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE,
				  "directory: meta.caaIdentities is not an array");
		goto out;
	}
	json_array_foreach (caa, i, v)
		if (!json_is_string(v)) {
			st = aclm_err_set(err, ACLM_ERR_PARSE,
					  "directory: meta.caaIdentities[%zu] is not a string", i);
			goto out;
		}
	out->profiles = json_incref((json_t *)profiles);
	out->caa_identities = json_incref((json_t *)caa);
out:
	return st;
}

/* RFC 8555 §9.7.6: the meta object's fields are all optional. termsOfService
 * and website are shown to people, not requested by us: any URI scheme. */
static aclm_status get_meta(const json_t *doc, struct acme_directory *out, struct aclm_err *err)
{
	const json_t *meta = json_object_get(doc, "meta");
	const json_t *eab;
	aclm_status st = ACLM_OK;

	if (meta == NULL)
		goto out;
	if (!json_is_object(meta)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "directory: \"meta\" is not an object");
		goto out;
	}
	st = get_shown_uri(meta, "termsOfService", "meta.termsOfService", &out->terms_of_service,
			   err);
	if (st == ACLM_OK)
		st = get_shown_uri(meta, "website", "meta.website", &out->website, err);
	if (st != ACLM_OK)
		goto out;
	eab = json_object_get(meta, "externalAccountRequired");
	if (eab != NULL && !json_is_boolean(eab)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE,
				  "directory: meta.externalAccountRequired is not a boolean");
		goto out;
	}
	out->external_account_required = json_is_true(eab);
	st = get_meta_collections(meta, out, err);
out:
	return st;
}

aclm_status acme_directory_parse(const char *body, size_t len, bool allow_http,
				 struct acme_directory *out, struct aclm_err *err)
{
	json_t *doc = NULL;
	aclm_status st;

	memset(out, 0, sizeof(*out));
	if (body == NULL) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "directory: no body");
		goto out;
	}
	st = aclm_json_parse(body, len, DIRECTORY_MAX_BYTES, "directory", &doc, err);
	if (st != ACLM_OK)
		goto out;
	if (!json_is_object(doc)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "directory: not a JSON object");
		goto out;
	}
	for (size_t i = 0; st == ACLM_OK && i < N_DIR_FIELDS; i++)
		st = get_url(doc, dir_fields[i].name, dir_fields[i].name, dir_fields[i].required,
			     allow_http,
			     (char **)((char *)out + dir_fields[i].offset), err);
	if (st == ACLM_OK)
		st = get_meta(doc, out, err);
out:
	if (st != ACLM_OK)
		acme_directory_free(out);
	json_decref(doc);
	return st;
}

void acme_directory_free(struct acme_directory *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < N_DIR_FIELDS; i++)
		free(*(char **)((char *)d + dir_fields[i].offset));
	free(d->terms_of_service);
	free(d->website);
	json_decref(d->profiles);
	json_decref(d->caa_identities);
	memset(d, 0, sizeof(*d));
}
