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

/* Splits cmd into words as a POSIX shell does, without any expansion:
 * blanks separate words; '...' keeps everything literally; "..." keeps
 * everything but \\ \" \$ \` and backslash-newline; outside quotes a
 * backslash escapes the next character; "" and '' make an empty word.
 * $, `, *, ;, | and # are ordinary characters: no shell ever sees the words.
 * *argv is NULL-terminated, released with solver__argv_free. An unterminated
 * quote or a trailing backslash -> ACLM_ERR_CONFIG naming the column (1-based);
 * no words -> ACLM_ERR_CONFIG. */
#define SOLVER__CMD_MAX 4096
aclm_status solver__split_argv(const char *cmd, char ***argv, struct aclm_err *err);
void solver__argv_free(char **argv);

/* RFC 8555 §8.4: asks resolver ("HOST:PORT", "[V6]:PORT" or "HOST") for the
 * TXT records of name (no trailing dot) once a second until one of them,
 * its strings concatenated, equals value. Not there after timeout_s ->
 * ACLM_ERR_BUSY naming the name, the resolver and the last answer. */
aclm_status solver__dns_txt_wait(const char *resolver, const char *name, const char *value,
				 long timeout_s, struct aclm_err *err);

#endif
