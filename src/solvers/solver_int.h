/* Internals shared by the solvers (not part of the solvers/ interface). */
#ifndef ACLM_SOLVER_INT_H
#define ACLM_SOLVER_INT_H

#include <stdbool.h>

#include "core/status.h"
#include "solvers/solver.h"

#define SOLVER__TOKEN_MAX 256
#define SOLVER__KEYAUTH_MAX 1024

/* RFC 8555 §8.3: the token is base64url (RFC 4648 §5, no padding), so it
 * can never hold '/', '.' or '%'; anything else is refused before it can
 * reach a path or a URL. */
bool solver__token_valid(const char *token);

/* Checks the challenge for http-01 (token and key authorization, RFC 8555
 * §8.1: token "." base64url-thumbprint); err names the solver and token. */
aclm_status solver__check_http01(const char *solver, const struct solver_challenge *ch,
				 struct aclm_err *err);

#endif
