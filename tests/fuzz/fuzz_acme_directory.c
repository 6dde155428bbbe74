/* libFuzzer target: ACME directory documents (acme_directory_parse), the
 * first byte choosing allow_http (a local Pebble) or https only; what it
 * accepts must hold the three required URLs. */
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include "acme/acme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acme_directory d;
	struct aclm_err err = { 0 };
	bool allow_http;

	if (size == 0)
		return 0;
	allow_http = (data[0] & 1) != 0;
	if (acme_directory_parse((const char *)data + 1, size - 1, allow_http, &d, &err) == ACLM_OK) {
		if (d.new_nonce == NULL || d.new_account == NULL || d.new_order == NULL)
			__builtin_trap();
		if (!allow_http && strncasecmp(d.new_order, "https://", 8) != 0)
			__builtin_trap();
		acme_directory_free(&d);
	}
	return 0;
}
