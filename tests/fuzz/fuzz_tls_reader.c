/* libFuzzer target: scan_reader_feed, the scanner's incremental reader of a
 * server's first flight (ServerHello / HelloRetryRequest / alert /
 * Certificate), fed in chunks whose sizes derive from the input, with and
 * without want_certs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* xorshift32: chunk sizes from a seed taken from the input itself. */
static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void run(const uint8_t *data, size_t size, bool want_certs, uint32_t seed)
{
	struct scan_reader *rd = scan_reader_new(want_certs);
	const struct scan_reply *r = NULL;
	enum scan_reply_kind k = SCAN_REPLY_NEED_MORE, prev;
	size_t off = 0, sum = 0;

	if (!rd)
		abort();
	while (off < size) {
		size_t n = 1 + next_rand(&seed) % (size < 256 ? 8 : 2048);

		if (n > size - off)
			n = size - off;
		prev = k;
		k = scan_reader_feed(rd, data + off, n, &r);
		/* Once decided, the answer never changes. */
		if (prev != SCAN_REPLY_NEED_MORE && k != prev)
			abort();
		off += n;
	}
	k = scan_reader_feed(rd, data, 0, &r);
	if (r->kind != k || r->ncerts > SCAN_CERTS_MAX)
		abort();
	for (size_t i = 0; i < r->ncerts; i++) {
		if (r->cert_len[i] == 0 || r->cert_len[i] > 16384)
			abort();
		for (size_t j = 0; j < r->cert_len[i]; j++)
			sum += r->certs[i][j];
	}
	if (r->ncerts && !want_certs)
		abort();
	(void)sum;
	scan_reader_free(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seed = 0x9e3779b9u;

	for (size_t i = 0; i < size && i < 16; i++)
		seed = seed * 31 + data[i];
	if (seed == 0)
		seed = 1;
	run(data, size, true, seed);
	run(data, size, false, seed ^ 0x5bd1e995u);
	return 0;
}
