/* Internals of ca/ shared by its files: the validation authority (VA), the
 * issuance pieces (CSR checks, leaf and CRL signing) and the ACME server's
 * request layer. Not part of the ca/ interface (ca.h).
 *
 * Failures that become ACME problems set *problem to the short type name
 * ("badCSR", "incorrectResponse", ...; see acme_problem_http_status) and
 * put the detail in err; *problem left NULL means serverInternal. */
#ifndef ACLM_CA_INT_H
#define ACLM_CA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/status.h"
#include "ca/ca.h"
#include "crypto/key.h"

/* ---- validation authority (ca_va.c, ca_caa.c) ---- */

struct ca_va_config {
	int http01_port;           /* 80 unless a test points it elsewhere */
	int tlsalpn01_port;        /* 443 */
	const char *dns_server;    /* "HOST:PORT" for A/AAAA/TXT/CAA; NULL: the system's */
	long timeout_ms;           /* per validation attempt (connect + read), e.g. 10000 */
	const json_t *caa_identities; /* issuer domain names this CA answers to (RFC 8659) */
	bool caa_check;            /* false only when no identity is configured */
};

struct ca_va_request {
	const char *challenge;     /* "http-01", "dns-01", "tls-alpn-01" */
	const char *ident_type;    /* "dns" | "ip" */
	const char *ident_value;   /* without "*." */
	bool wildcard;
	const char *token;
	const char *key_authorization; /* token "." account thumbprint */
	const char *account_uri;   /* for CAA accounturi (RFC 8657) */
};

/* One validation, blocking (run on the VA's threads, never on the API's):
 * - http-01 (RFC 8555 §8.3): GET http://NAME:http01_port/.well-known/acme-
 *   challenge/TOKEN, NAME resolved through dns_server (A then AAAA) or the
 *   IP itself; up to 10 redirects, each only to http:// on http01_port or
 *   https:// on tlsalpn01_port (the 80/443 rule, with the test ports), the
 *   target's certificate not checked; body capped at 8 KiB; trailing
 *   whitespace ignored; must equal the key authorization.
 * - dns-01 (§8.4): TXT of _acme-challenge.NAME through dns_server; one
 *   record must equal base64url(SHA-256(key authorization)).
 * - tls-alpn-01 (RFC 8737): TLS to NAME:tlsalpn01_port with SNI NAME (IP
 *   identifiers: the reverse name of RFC 8738 §6), ALPN "acme-tls/1" only,
 *   TLS 1.2+; the certificate must hold exactly the identifier as its one
 *   SAN and a critical id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31) extension
 *   whose OCTET STRING is SHA-256(key authorization).
 * Then CAA (ca_caa_check) for DNS identifiers. Failures: "connection",
 * "dns", "tls", "incorrectResponse", "unauthorized", "caa",
 * "rejectedIdentifier" (e.g. a loopback target when the VA is not a test). */
aclm_status ca_va_validate(const struct ca_va_config *c, const struct ca_va_request *r,
			   const char **problem, struct aclm_err *err);

/* RFC 8659 CAA: climbs from the name to its parents until a CAA set is found
 * (none: allowed); "issue" (or "issuewild" for wildcards, falling back to
 * "issue") must name one of caa_identities; RFC 8657 accounturi and
 * validationmethods parameters honoured; unknown critical tags refuse. A
 * refusal -> "caa"; a DNS failure (SERVFAIL, timeout) -> "dns". */
aclm_status ca_caa_check(const struct ca_va_config *c, const char *name, bool wildcard,
			 const char *method, const char *account_uri, const char **problem,
			 struct aclm_err *err);

/* Parses one CAA RR's RDATA (RFC 8659 §4.1: flags, tag length, tag, value);
 * exposed for the fuzz target and unit tests. */
struct ca_caa_rr {
	int flags;
	char tag[16];
	char value[256];
};
aclm_status ca_caa_parse_rdata(const unsigned char *rdata, size_t len, struct ca_caa_rr *out,
			       struct aclm_err *err);

/* ---- issuance (ca_issue.c, ca_csr.c, ca_crl.c) ---- */

#define CA_CSR_DER_MAX 65536       /* a CSR with 100 names and an RSA-8192 key: < 16 KiB */
#define CA_CSR_NAMES_MAX 100       /* SANs in a CSR, identifiers in an order */
#define CA_CSR_EXTS_MAX 32         /* extensions requested in a CSR */

/* One intermediate that signs leaves, loaded once at `ca serve` start. */
struct ca_issuer {
	enum crypto_key_type key_type;
	X509 *intermediate;
	X509 *root;
	EVP_PKEY *key;             /* the intermediate's key (keystore_pkey) */
	char crl_url[384];         /* CRL distribution point for its leaves, or "" */
	X509 *cross[CA_CROSS_MAX]; /* cross-signed copies (alternate chains), oldest first */
	size_t ncross;
};

/* Picks the issuer of the CSR key's family among n: SM2 key -> the SM2
 * issuer; EC P-256/P-384 -> the EC issuer of the same curve, else any EC
 * issuer; RSA -> an RSA issuer. None -> "badCSR" naming the family. */
const struct ca_issuer *ca_issuer_for(const struct ca_issuer *issuers, size_t n,
				      const EVP_PKEY *csr_key, const char **problem,
				      struct aclm_err *err);

/* Checks a finalize CSR (DER, untrusted) against the order (RFC 8555 §7.4):
 * parses, verifies the self-signature (SM2 with the standard ID; MD5/SHA-1
 * refused), key allowed (rsaEncryption 2048..8192 bits, EC P-256/P-384,
 * SM2), not the account key, SAN dNSName/iPAddress set equal to
 * identifiers (DNS case-insensitive, IPs as address bytes, "*." kept on
 * wildcards; duplicates fine, nothing missing, nothing extra, no other SAN
 * types, at most CA_CSR_NAMES_MAX), every CN among them (an IP in text
 * form). The CSR's public key is returned in *pub (EVP_PKEY_free).
 * Every refusal is "badCSR", key problems included: RFC 8555 §6.7 defines
 * badPublicKey for the JWS key, and §7.4 names badCSR for the CSR. */
aclm_status ca_csr_check(const unsigned char *der, size_t len, const json_t *identifiers,
			 const EVP_PKEY *account_key, EVP_PKEY **pub, const char **problem,
			 struct aclm_err *err);

struct ca_leaf_req {
	const json_t *identifiers; /* [{"type","value"}]: SANs in this order */
	EVP_PKEY *pub;
	int64_t not_before, not_after;
	bool encryption;           /* SM2 encryption certificate (TLCP): keyEncipherment,
				      dataEncipherment, keyAgreement; else digitalSignature
				      (+ keyEncipherment for RSA); EKU serverAuth+clientAuth
				      on both; encryption with a non-SM2 key: ACLM_ERR_INVALID */
};
/* Builds and signs a leaf: 128-bit random serial (16 octets, positive),
 * subject CN = first identifier (when it fits 64 chars), SANs, KU (critical),
 * EKU, basicConstraints CA:FALSE (critical), AKI/SKI, the issuer's CRL
 * distribution point when set; signed through crypto_cert_sign (SM2 keeps
 * its ID). */
/* ca_serving_cert (ca.h) from issuers already loaded; *via is the
 * intermediate that signed (borrowed from issuers). */
aclm_status ca__serving_cert(const struct ca_issuer *issuers, size_t n, const char *ca_name,
			     const char *listen, int days, X509 **cert, EVP_PKEY **key,
			     const struct ca_issuer **via, struct aclm_err *err);
aclm_status ca_leaf_sign(const struct ca_issuer *iss, const struct ca_leaf_req *r, X509 **out,
			 struct aclm_err *err);

struct ca_crl_entry {
	const char *serial_hex;
	int64_t revoked_at;
	int reason;                /* RFC 5280 §5.3.1 CRLReason; 0 unspecified: no extension */
};
/* A CRL v2 of the issuer (thisUpdate now, nextUpdate now + next_update_s,
 * CRL number, AKI) signed through X509_CRL_sign_ctx (SM2 keeps its ID). */
aclm_status ca_crl_build(const struct ca_issuer *iss, const struct ca_crl_entry *entries,
			 size_t n, int64_t crl_number, int64_t next_update_s, X509_CRL **out,
			 struct aclm_err *err);

/* ---- certificate-building helpers (ca_x509.c) ---- */

/* CA_SERIAL_BYTES random octets into x's serial (the top bit clear so the
 * INTEGER stays positive, the next set so it keeps all its octets). */
aclm_status ca__random_serial(X509 *x, struct aclm_err *err);
/* The serial as lowercase hex, as crypto_cert_facts prints it and the
 * store keys issued certificates (at most 20 octets, RFC 5280 §4.1.2.2). */
void ca__serial_hex(const X509 *x, char out[41]);
/* One extension in OpenSSL's configuration syntax ("critical,CA:FALSE"),
 * built in ctx (issuer and subject set for AKI/SKI) and added to x. Only
 * for constant values: a comma in a value would start another field. */
aclm_status ca__add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
			struct aclm_err *err);

/* ---- the CA's intermediates, loaded (ca_issuers.c) ---- */

/* Inventory certificate id of the tenant, parsed. */
aclm_status ca__load_cert(struct inventory *inv, int64_t id, X509 **out, struct aclm_err *err);
struct inventory;
struct store;
/* The intermediates of CA ca_name (certificates, roots and keys from the
 * keystore); crl_base "https://HOST:PORT/acme/" makes each issuer's CRL
 * URL crl_base + "crl/TYPE.crl" (NULL: no CRL distribution point). */
aclm_status ca_issuers_load(struct inventory *inv, const char *ca_name, const char *crl_base,
			    struct ca_issuer **out, size_t *n, struct aclm_err *err);
void ca_issuers_free(struct ca_issuer *iss, size_t n);
/* By key type name ("p256", "sm2", ...); NULL when the CA has none. */
const struct ca_issuer *ca_issuer_by_type(const struct ca_issuer *iss, size_t n,
					  const char *key_type);
/* The issuer's current CRL: every revoked certificate it signed, from the
 * store; thisUpdate now, nextUpdate in 24 hours, CRL number = now. */
aclm_status ca_crl_current(struct store *store, int64_t tenant, const char *ca_name,
			   const struct ca_issuer *iss, X509_CRL **out, struct aclm_err *err);

#endif
