/* libFuzzer target: ACME problem documents (acme_problem_parse) as a server
 * may send them, then the one-line message (acme_problem_to_err) with its
 * subproblems, and the table lookups on the parsed type. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/err.h>

#include "acme/acme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aclm_err err = { 0 };
	struct acme_problem p;

	if (acme_problem_parse((const char *)data, size, &p, &err) == ACLM_OK) {
		(void)acme_problem_to_err(&p, "fuzz", &err);
		if (strlen(err.msg) >= sizeof(err.msg))
			__builtin_trap();
		(void)acme_problem_is(&p, "badNonce");
		(void)acme_problem_name(p.type);
		(void)acme_problem_status(p.type);
		acme_problem_free(&p);
	}
	ERR_clear_error();
	return 0;
}
