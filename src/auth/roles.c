/* The four roles, the two token scopes, and what each role may do. */
#include "auth/auth_int.h"

#include <string.h>

static const char *const role_names[] = {
	[AUTH_ROLE_VIEWER] = "viewer",
	[AUTH_ROLE_AUDITOR] = "auditor",
	[AUTH_ROLE_OPERATOR] = "operator",
	[AUTH_ROLE_ADMIN] = "admin",
};
#define N_ROLES (sizeof(role_names) / sizeof(role_names[0]))

static const char *const scope_names[] = {
	[AUTH_SCOPE_API] = "api",
	[AUTH_SCOPE_METRICS] = "metrics",
};
#define N_SCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

/* Rows: roles; columns: READ, WRITE, AUDIT, ADMIN, ADMIN_TENANTS. The last
 * column is further limited to the "default" tenant (auth_allows). The
 * auditor reads everything a viewer does plus the audit log, and changes
 * nothing; the operator changes inventory but not people. */
static const bool allowed[N_ROLES][AUTH_ADMIN_TENANTS + 1] = {
	[AUTH_ROLE_VIEWER] = { true, false, false, false, false },
	[AUTH_ROLE_AUDITOR] = { true, false, true, false, false },
	[AUTH_ROLE_OPERATOR] = { true, true, false, false, false },
	[AUTH_ROLE_ADMIN] = { true, true, true, true, true },
};

bool auth__role_known(enum auth_role r)
{
	return (size_t)r < N_ROLES;
}

bool auth__scope_known(enum auth_scope s)
{
	return (size_t)s < N_SCOPES;
}

const char *auth_role_name(enum auth_role r)
{
	return auth__role_known(r) ? role_names[r] : "?";
}

bool auth__role_from(const char *name, enum auth_role *out)
{
	for (size_t i = 0; name != NULL && i < N_ROLES; i++)
		if (strcmp(name, role_names[i]) == 0) {
			*out = (enum auth_role)i;
			return true;
		}
	return false;
}

aclm_status auth_role_parse(const char *name, enum auth_role *out, struct aclm_err *err)
{
	if (!auth__role_from(name, out))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "role \"%s\" is not one of viewer, auditor, operator, admin",
				    name != NULL ? name : "");
	return ACLM_OK;
}

const char *auth_scope_name(enum auth_scope s)
{
	return auth__scope_known(s) ? scope_names[s] : "?";
}

bool auth__scope_from(const char *name, enum auth_scope *out)
{
	for (size_t i = 0; name != NULL && i < N_SCOPES; i++)
		if (strcmp(name, scope_names[i]) == 0) {
			*out = (enum auth_scope)i;
			return true;
		}
	return false;
}

bool auth_allows(const struct auth_principal *p, enum auth_action a)
{
	if (p == NULL || p->scope != AUTH_SCOPE_API || !auth__role_known(p->role) ||
	    (unsigned)a > AUTH_ADMIN_TENANTS || !allowed[p->role][a])
		return false;
	/* Tenants are managed from the installation's own tenant only. */
	return a != AUTH_ADMIN_TENANTS || strcmp(p->tenant, "default") == 0;
}
