/* libFuzzer target: the BIND key-file parser (solver__tsig_parse) on
 * arbitrary bytes, NUL bytes and missing final newlines included; what it
 * accepts must be a NUL-terminated name, a known algorithm and a secret. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "solvers/solver_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct solver__tsig_key key;
	struct aclm_err err = { 0 };
	/* An exact-size copy, not NUL-terminated: reads past len show up in ASan. */
	char *text = malloc(size > 0 ? size : 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	if (solver__tsig_parse("fuzz.key", text, size, &key, &err) == ACLM_OK) {
		if (memchr(key.name, '\0', sizeof(key.name)) == NULL || key.name[0] == '\0' ||
		    strncmp(key.algorithm, "hmac-sha", 8) != 0 || key.secret[0] == '\0')
			abort();
	} else if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
		abort();
	}
	free(text);
	return 0;
}
