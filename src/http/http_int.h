/* http/ internals shared across files: the response-header parser, split
 * out of the libcurl header callback so that it can be fuzzed on its own. */
#ifndef ACLM_HTTP_INT_H
#define ACLM_HTTP_INT_H

#include <stddef.h>

#include "core/status.h"
#include "http/http.h"

/* One response header line as the server sent it (CRLF included or not,
 * not NUL-terminated): a status line ("HTTP/...") drops the headers of an
 * earlier response (1xx, proxy); Content-Type, Location, Link (URLs resolved
 * against request_url), Replay-Nonce and Retry-After fill resp; other fields,
 * the empty line and malformed values are ignored. ACLM_ERR_TOOBIG for a
 * line over 8 KiB, ACLM_ERR_NOMEM; resp stays valid for http_response_free
 * either way. resp must have been initialised (retry_after = -1). */
aclm_status http__parse_header_line(struct http_response *resp, const char *request_url,
				    const char *line, size_t len);

#endif
