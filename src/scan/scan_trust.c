/* The scanner's trust store: a PEM bundle indexed by subject name at start,
 * each anchor parsed only when a chain asks for that name. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "core/buf.h"
#include "core/encode.h"
#include "core/log.h"
#include "crypto/chain.h"
#include "crypto/key.h"
#include "scan/scan_int.h"

/* Why lazily: OpenSSL 3.0 decodes every certificate's key through its
 * provider decoders (~150 us each), so reading the ~140 roots of the system
 * bundle costs ~15 ms, 5-7 % of a 500-endpoint scan (bench/scan), while a
 * scan judges a handful of distinct chains. Only names are parsed here. */

#define TRUST_FILE_MAX (64u << 20) /* as crypto/chain.c */
#define ANCHORS_MAX 100000u
#define PEM_BEGIN "-----BEGIN "
#define PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_CERT_END "-----END CERTIFICATE-----"

struct anchor {
	X509_NAME *subject;
	unsigned char *der;
	size_t len;
	bool tried;                /* parsed and added to the store, or failed */
};

struct anchors {
	struct anchor *v;
	size_t n;
};

static void anchors_free(struct anchors *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		X509_NAME_free(a->v[i].subject);
		free(a->v[i].der);
	}
	free(a->v);
	free(a);
}

/* Steps over one DER element of the expected tag (RFC 5280 §4.1:
 * Certificate and TBSCertificate are SEQUENCEs); *p moves past it, or
 * into it when `enter`. */
static bool der_step(const unsigned char **p, const unsigned char *end, int want_tag, int want_class,
		     bool enter, const unsigned char **start)
{
	const unsigned char *q = *p;
	long len = 0;
	int tag = 0, cls = 0;

	if (q >= end || (ASN1_get_object(&q, &len, &tag, &cls, end - q) & 0x80) != 0 ||
	    tag != want_tag || cls != want_class || len < 0 || len > end - q)
		return false;
	if (start != NULL)
		*start = *p;
	*p = enter ? q : q + len;
	return true;
}

/* The subject of a certificate's DER (RFC 5280 §4.1.2.6), without parsing
 * the rest: version [0] (optional), serial, signature, issuer, validity. */
static X509_NAME *der_subject(const unsigned char *der, size_t len)
{
	const unsigned char *p = der, *end = der + len, *name = NULL;

	if (!der_step(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true, NULL) ||
	    !der_step(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true, NULL))
		return NULL;
	(void)der_step(&p, end, 0, V_ASN1_CONTEXT_SPECIFIC, false, NULL);
	if (!der_step(&p, end, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, false, NULL) ||
	    !der_step(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, false, NULL) ||
	    !der_step(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, false, NULL) ||
	    !der_step(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, false, NULL) ||
	    !der_step(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, false, &name))
		return NULL;
	return d2i_X509_NAME(NULL, &name, p - name);
}

static bool anchors_add(struct anchors *a, unsigned char *der, size_t len)
{
	X509_NAME *subject = der_subject(der, len);
	struct anchor *v;

	if (subject == NULL || a->n >= ANCHORS_MAX ||
	    (v = realloc(a->v, (a->n + 1) * sizeof(*v))) == NULL) {
		X509_NAME_free(subject);
		free(der);
		return false;
	}
	a->v = v;
	a->v[a->n++] = (struct anchor){ .subject = subject, .der = der, .len = len };
	return true;
}

/* Indexes text made only of CERTIFICATE blocks (and text between them, which
 * PEM readers skip). NULL for anything else: another block type (trusted
 * certificates, CRLs), DER, a damaged block; crypto_trust_load reads those
 * and names what is wrong. */
static struct anchors *anchors_index(char *text)
{
	struct anchors *a = calloc(1, sizeof(*a));
	char *p = text;
	bool ok = a != NULL;

	while (ok && (p = strstr(p, PEM_BEGIN)) != NULL) {
		char *body, *stop;
		unsigned char *der;
		long n;

		if (strncmp(p, PEM_CERT_BEGIN, strlen(PEM_CERT_BEGIN)) != 0) {
			ok = false;
			break;
		}
		body = p + strlen(PEM_CERT_BEGIN);
		stop = strstr(body, PEM_CERT_END);
		/* An encapsulated header (RFC 1421 "Proc-Type:") is no plain certificate. */
		if (stop == NULL || memchr(body, ':', (size_t)(stop - body)) != NULL ||
		    (der = malloc((size_t)(stop - body))) == NULL) {
			ok = false;
			break;
		}
		*stop = '\0';
		n = aclm_base64_decode(body, der, (size_t)(stop - body));
		*stop = '-';
		if (n <= 0) {
			free(der);
			ok = false;
			break;
		}
		ok = anchors_add(a, der, (size_t)n);
		p = stop + strlen(PEM_CERT_END);
	}
	if (ok && a->n == 0)
		ok = false; /* DER, or no certificate: the eager reader says which */
	if (!ok) {
		anchors_free(a);
		a = NULL;
	}
	return a;
}

/* As crypto/chain.c: OpenSSL 3.0 applies no SM2 ID by default, and an
 * SM2-signed anchor's self-signature is checked with the GB/T 32918 default
 * ID; other certificates must carry none. */
static bool sm2_default_id(X509 *x)
{
	ASN1_OCTET_STRING *id;

	if (X509_get_signature_nid(x) != NID_SM2_with_SM3 || X509_get0_distinguishing_id(x) != NULL)
		return true;
	id = ASN1_OCTET_STRING_new();
	if (id == NULL ||
	    !ASN1_OCTET_STRING_set(id, (const unsigned char *)CRYPTO_SM2_ID, (int)strlen(CRYPTO_SM2_ID))) {
		ASN1_OCTET_STRING_free(id);
		return false;
	}
	X509_set0_distinguishing_id(x, id);
	return true;
}

/* X509_LOOKUP get_by_subject: adds every anchor of that name to the store
 * (X509_STORE_CTX_get1_issuer and get1_certs then search the store) and
 * returns one of them. As with OpenSSL's own lookups, *ret borrows the
 * store's reference: the caller takes its own. */
static int lookup_by_subject(X509_LOOKUP *lu, X509_LOOKUP_TYPE type, const X509_NAME *name,
			     X509_OBJECT *ret)
{
	struct anchors *a = X509_LOOKUP_get_method_data(lu);
	X509_STORE *store = X509_LOOKUP_get_store(lu);
	X509 *found = NULL;

	if (type != X509_LU_X509 || a == NULL || store == NULL)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		struct anchor *an = &a->v[i];
		const unsigned char *p = an->der;
		X509 *x;

		if (an->tried || X509_NAME_cmp(an->subject, name) != 0)
			continue;
		an->tried = true;
		x = d2i_X509(NULL, &p, (long)an->len);
		if (x == NULL || !sm2_default_id(x) || X509_STORE_add_cert(store, x) != 1) {
			log_debug("scan trust: cannot use anchor %zu of the bundle", i);
			X509_free(x);
			continue;
		}
		X509_free(found);
		found = x; /* the store holds its own reference */
	}
	ERR_clear_error();
	if (found == NULL)
		return 0; /* not in the bundle, or added by an earlier call */
	if (X509_OBJECT_set1_X509(ret, found) != 1) {
		X509_free(found);
		return 0;
	}
	X509_free(found); /* ours */
	X509_free(found); /* the up-ref of set1: *ret borrows the store's */
	return 1;
}

static void lookup_free_data(X509_LOOKUP *lu)
{
	anchors_free(X509_LOOKUP_get_method_data(lu));
	X509_LOOKUP_set_method_data(lu, NULL);
}

/* One method for the process, made once (scans may run in several threads
 * of `aclm serve`); a store's lookup refers to it until freed. */
static X509_LOOKUP_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static void method_make(void)
{
	X509_LOOKUP_METHOD *m = X509_LOOKUP_meth_new("aclm scan: bundle indexed by subject");

	if (m != NULL && (X509_LOOKUP_meth_set_get_by_subject(m, lookup_by_subject) != 1 ||
			  X509_LOOKUP_meth_set_free(m, lookup_free_data) != 1)) {
		X509_LOOKUP_meth_free(m);
		m = NULL;
	}
	method = m;
}

static X509_LOOKUP_METHOD *lookup_method(void)
{
	return pthread_once(&method_once, method_make) == 0 ? method : NULL;
}

aclm_status scan__trust_load(const char *path, X509_STORE **out, struct aclm_err *err)
{
	struct aclm_buf buf;
	struct aclm_err ferr = { 0 };
	struct anchors *a = NULL;
	X509_STORE *store = NULL;
	X509_LOOKUP_METHOD *m;
	X509_LOOKUP *lu;
	struct stat sb;
	aclm_status st = ACLM_OK;

	*out = NULL;
	aclm_buf_init(&buf, TRUST_FILE_MAX);
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || aclm_buf_read_file(&buf, path, &ferr) != ACLM_OK ||
	    buf.data == NULL || strlen((char *)buf.data) != buf.len || /* text, no NUL inside */
	    (a = anchors_index((char *)buf.data)) == NULL || (m = lookup_method()) == NULL ||
	    (store = X509_STORE_new()) == NULL || (lu = X509_STORE_add_lookup(store, m)) == NULL) {
		/* Directories, other contents, errors: read it all, as before. */
		anchors_free(a);
		X509_STORE_free(store);
		ERR_clear_error();
		st = crypto_trust_load(path, out, err);
		goto out;
	}
	X509_LOOKUP_set_method_data(lu, a);
	*out = store;
out:
	aclm_buf_free(&buf);
	return st;
}
