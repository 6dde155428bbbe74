/* acme/b64url: RFC 4648 §10 vectors in the URL-safe alphabet without
 * padding, round trips of every length, and rejection of what is not
 * canonical unpadded base64url. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acme/acme.h"

static const struct {
	const char *plain;
	const char *b64;
} vectors[] = {
	{ "", "" },	      { "f", "Zg" },	       { "fo", "Zm8" },		{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
};

static void test_b64url_rfc4648_vectors_without_padding(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char *enc = acme_b64url_encode((const unsigned char *)vectors[i].plain,
					       strlen(vectors[i].plain));
		unsigned char dec[16];
		long n;

		assert_non_null(enc);
		assert_string_equal(enc, vectors[i].b64);
		n = acme_b64url_decode(enc, strlen(enc), dec, sizeof(dec));
		assert_int_equal(n, (long)strlen(vectors[i].plain));
		assert_memory_equal(dec, vectors[i].plain, (size_t)n);
		free(enc);
	}
}

/* 0xFB 0xFF is "+/8=" in standard base64: '-' and '_' here, no '='. */
static void test_b64url_uses_url_safe_alphabet(void **state)
{
	static const unsigned char bin[] = { 0xFB, 0xFF };
	unsigned char dec[2];
	char *enc = acme_b64url_encode(bin, sizeof(bin));

	(void)state;
	assert_string_equal(enc, "-_8");
	assert_int_equal(acme_b64url_decode("-_8", 3, dec, sizeof(dec)), 2);
	assert_memory_equal(dec, bin, 2);
	free(enc);
}

static void test_b64url_round_trips_every_length(void **state)
{
	unsigned char bin[300], dec[300];

	(void)state;
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(bin); len++) {
		char *enc = acme_b64url_encode(bin, len);

		assert_non_null(enc);
		assert_null(strchr(enc, '='));
		assert_int_equal(acme_b64url_decode(enc, strlen(enc), dec, len), (long)len);
		assert_memory_equal(dec, bin, len);
		free(enc);
	}
}

static void test_b64url_decode_rejects_bad_input(void **state)
{
	static const char *const bad[] = {
		"Zg==",	 /* padding */
		"Zm9v=",	 /* padding */
		"Zm 9v",	 /* whitespace */
		"Zm9v\n", /* newline */
		"Zm+v",	 /* standard alphabet */
		"Zm/v",	 /* standard alphabet */
		"Zm9vY",	 /* length 1 mod 4 */
		"Z",	 /* length 1 mod 4 */
		"Zh",	 /* non-zero unused bits: not canonical */
		"Zm9",	 /* non-zero unused bits */
		"Zm\x80v", /* not ASCII */
	};
	unsigned char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(acme_b64url_decode(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
	/* an embedded NUL is a bad character too */
	assert_int_equal(acme_b64url_decode("Zm\0v", 4, out, sizeof(out)), -1);
}

static void test_b64url_decode_respects_outmax_and_inlen(void **state)
{
	unsigned char out[6];

	(void)state;
	assert_int_equal(acme_b64url_decode("Zm9vYmFy", 8, out, 5), -1);
	assert_int_equal(acme_b64url_decode("Zm9vYmFy", 8, out, 6), 6);
	/* only inlen characters are read: "Zm9v" of "Zm9vYmFy" */
	assert_int_equal(acme_b64url_decode("Zm9vYmFy", 4, out, 3), 3);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(acme_b64url_decode("", 0, out, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url_rfc4648_vectors_without_padding),
		cmocka_unit_test(test_b64url_uses_url_safe_alphabet),
		cmocka_unit_test(test_b64url_round_trips_every_length),
		cmocka_unit_test(test_b64url_decode_rejects_bad_input),
		cmocka_unit_test(test_b64url_decode_respects_outmax_and_inlen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
