/* ca/wfe_nonce: Replay-Nonce values (RFC 8555 §6.5), single use, bounded:
 * a counter and its truncated HMAC, with a bitmap of the recent window. */
#include "ca/wfe.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define NONCE_TAG 8

static aclm_status nonce_mac_new(struct wfe_nonces *n)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	aclm_status st = ACLM_ERR_CRYPTO;

	n->mac = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	if (n->mac != NULL && EVP_MAC_init(n->mac, n->key, sizeof(n->key), params) == 1)
		st = ACLM_OK;
	EVP_MAC_free(hmac);
	if (st != ACLM_OK) {
		EVP_MAC_CTX_free(n->mac);
		n->mac = NULL;
	}
	return st;
}

aclm_status wfe_nonces_init(struct wfe_nonces *n, struct aclm_err *err)
{
	memset(n, 0, sizeof(*n));
	if (RAND_bytes(n->key, sizeof(n->key)) != 1)
		return aclm_err_set(err, ACLM_ERR_CRYPTO, "nonces: no randomness");
	/* Start at a random point so that counters do not reveal restarts. */
	if (RAND_bytes((unsigned char *)&n->next, sizeof(n->next)) != 1)
		return aclm_err_set(err, ACLM_ERR_CRYPTO, "nonces: no randomness");
	n->next &= 0x00ffffffffffffffULL;
	if (nonce_mac_new(n) != ACLM_OK)
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "nonces: HMAC-SHA256");
	if (pthread_mutex_init(&n->lock, NULL) != 0) {
		EVP_MAC_CTX_free(n->mac);
		n->mac = NULL;
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "nonces: cannot create a lock");
	}
	return ACLM_OK;
}

void wfe_nonces_destroy(struct wfe_nonces *n)
{
	pthread_mutex_destroy(&n->lock);
	EVP_MAC_CTX_free(n->mac);
	n->mac = NULL;
	OPENSSL_cleanse(n->key, sizeof(n->key));
}

/* Every response and every POST needs a tag: copying a keyed context skips
 * the algorithm look-ups and key set-up of a one-shot HMAC(). */
static void nonce_tag(const struct wfe_nonces *n, const unsigned char ctr[8],
		      unsigned char tag[NONCE_TAG])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(n->mac);

	/* On a failure the tag is random: that nonce is then refused
	 * (badNonce, the client retries) instead of being guessable. */
	memset(mac, 0, sizeof(mac));
	if (c == NULL || EVP_MAC_update(c, ctr, 8) != 1 ||
	    EVP_MAC_final(c, mac, &maclen, sizeof(mac)) != 1 || maclen < NONCE_TAG) {
		RAND_bytes(mac, NONCE_TAG);
	}
	EVP_MAC_CTX_free(c);
	memcpy(tag, mac, NONCE_TAG);
}

static void ctr_bytes(uint64_t v, unsigned char out[8])
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)(v & 0xff);
}

void wfe_nonce_new(struct wfe_nonces *n, char out[WFE_NONCE_LEN + 1])
{
	unsigned char raw[8 + NONCE_TAG];
	uint64_t c;
	char *s;

	pthread_mutex_lock(&n->lock);
	c = n->next++;
	n->unused[(c % WFE_NONCE_WINDOW) / 8] |= (unsigned char)(1u << (c % 8));
	pthread_mutex_unlock(&n->lock);
	ctr_bytes(c, raw);
	nonce_tag(n, raw, raw + 8);
	s = acme_b64url_encode(raw, sizeof(raw));
	snprintf(out, WFE_NONCE_LEN + 1, "%s", s != NULL ? s : "");
	free(s);
}

bool wfe_nonce_redeem(struct wfe_nonces *n, const char *nonce)
{
	unsigned char raw[8 + NONCE_TAG + 2], tag[NONCE_TAG];
	uint64_t c = 0;
	bool ok = false;
	size_t bit;

	if (nonce == NULL || strlen(nonce) != WFE_NONCE_LEN ||
	    acme_b64url_decode(nonce, WFE_NONCE_LEN, raw, sizeof(raw)) != 8 + NONCE_TAG)
		return false;
	nonce_tag(n, raw, tag);
	if (CRYPTO_memcmp(tag, raw + 8, NONCE_TAG) != 0)
		return false;
	for (int i = 0; i < 8; i++)
		c = (c << 8) | raw[i];
	bit = (size_t)(c % WFE_NONCE_WINDOW);
	pthread_mutex_lock(&n->lock);
	if (c < n->next && n->next - c <= WFE_NONCE_WINDOW &&
	    (n->unused[bit / 8] & (1u << (bit % 8))) != 0) {
		n->unused[bit / 8] &= (unsigned char)~(1u << (bit % 8));
		ok = true;
	}
	pthread_mutex_unlock(&n->lock);
	return ok;
}
