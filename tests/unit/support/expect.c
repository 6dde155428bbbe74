/* The check the CA tests make on every call that fails with an ACME
 * problem type (RFC 8555 §6.7): success, or that type with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "testsupport.h"

void ts_expect_problem(const char *what, bool ok, const char *problem, const char *msg,
		       const char *expect, const char *in_msg)
{
	const char *got = problem != NULL ? problem : "(null)";

	if (expect == NULL) {
		if (!ok)
			fail_msg("%s: expected success, got %s: %s", what, got, msg);
		return;
	}
	if (ok)
		fail_msg("%s: expected %s, got success", what, expect);
	if (problem == NULL || strcmp(problem, expect) != 0)
		fail_msg("%s: expected %s, got %s: %s", what, expect, got, msg);
	if (in_msg != NULL && strstr(msg, in_msg) == NULL)
		fail_msg("%s: \"%s\" not in \"%s\"", what, in_msg, msg);
}
