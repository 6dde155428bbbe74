/* libFuzzer target: the STARTTLS reply parsers (scan_starttls_feed) of
 * every protocol, fed the server's bytes in chunks whose sizes derive from
 * the input; the first byte picks the protocol. Checks that a decided
 * machine stays decided and that its output and error stay bounded. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum scan_starttls_proto proto;
	struct scan_starttls *t;
	enum scan_starttls_result r;
	uint32_t seed;
	size_t off = 2;

	if (size < 2)
		return 0;
	proto = (enum scan_starttls_proto)(1 + data[0] % SCAN_STARTTLS_XMPP);
	seed = data[1] | 1u;
	t = scan_starttls_new(proto);
	if (t == NULL)
		abort();
	r = scan_starttls_start(t, "fuzz.test");
	while (off < size && r != SCAN_STARTTLS_FAIL && r != SCAN_STARTTLS_DONE) {
		size_t n, len = 0;

		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		n = 1 + seed % 64;
		if (n > size - off)
			n = size - off;
		r = scan_starttls_feed(t, data + off, n);
		off += n;
		if (r == SCAN_STARTTLS_SEND && (scan_starttls_output(t, &len) == NULL || len == 0 || len > 512))
			abort();
	}
	if (r == SCAN_STARTTLS_FAIL) {
		if (strlen(scan_starttls_error(t)) == 0 || scan_starttls_feed(t, data, 1) != SCAN_STARTTLS_FAIL)
			abort();
	} else if (r == SCAN_STARTTLS_DONE && off < size) {
		/* bytes after the final reply are never accepted as plaintext */
		if (scan_starttls_feed(t, data + off, size - off) != SCAN_STARTTLS_FAIL)
			abort();
	}
	scan_starttls_free(t);
	return 0;
}
