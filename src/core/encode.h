/* Hex and base64 encodings, and constant-time comparison of secrets. */
#ifndef ACLM_CORE_ENCODE_H
#define ACLM_CORE_ENCODE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* Lowercase hex without separators into out (2*len+1 bytes). */
void aclm_hex_encode(const unsigned char *in, size_t len, char *out);
/* Case-insensitive; separators ':' are skipped. Returns bytes written or -1. */
long aclm_hex_decode(const char *in, unsigned char *out, size_t outmax);

/* Standard base64 with padding; returns malloc'd string or NULL. */
char *aclm_base64_encode(const unsigned char *in, size_t len);
/* Decodes standard base64 (whitespace ignored) into out; returns bytes or -1. */
long aclm_base64_decode(const char *in, unsigned char *out, size_t outmax);

/* Constant-time equality for secrets (MACs, tokens). */
bool aclm_secret_equal(const void *a, const void *b, size_t len);

#endif
