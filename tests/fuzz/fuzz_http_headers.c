/* libFuzzer target: response header lines as a server (or anything on the
 * path) may send them, fed one by one to http__parse_header_line on one
 * response, as libcurl's header callback does; then the parsed fields are
 * checked against what the parser promises. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/http_int.h"

#define FUZZ_REQUEST_URL "https://acme.example/dir"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct http_response *resp)
{
	if (resp->content_type != NULL) {
		for (const char *p = resp->content_type; *p != '\0'; p++)
			if (isupper((unsigned char)*p) || *p == ';' || *p == ' ')
				__builtin_trap();
	}
	if (resp->replay_nonce != NULL) {
		if (resp->replay_nonce[0] == '\0' || strlen(resp->replay_nonce) > 256)
			__builtin_trap();
		for (const char *p = resp->replay_nonce; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
				__builtin_trap();
	}
	if (resp->retry_after < -1 || resp->retry_after > 24 * 3600)
		__builtin_trap();
	if (resp->nlinks > 0 && resp->links == NULL)
		__builtin_trap();
	for (size_t i = 0; i < resp->nlinks; i++)
		if (resp->links[i].rel == NULL || resp->links[i].url == NULL)
			__builtin_trap();
	(void)http_response_link(resp, "up");
	(void)http_response_link(resp, "alternate");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response resp;
	const char *p = (const char *)data, *end = p + size;

	memset(&resp, 0, sizeof(resp));
	aclm_buf_init(&resp.body, 1024);
	resp.retry_after = -1;
	/* Lines keep their line end, as libcurl passes them. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (http__parse_header_line(&resp, FUZZ_REQUEST_URL, p, len) == ACLM_ERR_NOMEM)
			break;
		p += len;
	}
	check(&resp);
	http_response_free(&resp);
	return 0;
}
