/* Benchmark input for bench/inventory: COUNT distinct, realistic P-256 leaf
 * certificates issued by one generated CA, written as PEM bundles.
 *
 *   bench_gen_certs OUTDIR COUNT [PER_FILE] [SEED] [FIRST]
 *
 * OUTDIR/ca.pem is the CA (not counted); OUTDIR/certs-NNNNNN.pem hold
 * PER_FILE certificates each (default 1000). Certificate i (0-based) is for
 * host-(FIRST+i).bench.example (FIRST defaults to 0), so two runs with
 * different FIRST produce disjoint names; the serial is 16 bytes from a
 * generator seeded by SEED (default 1) and i, so runs with different seeds
 * never share a fingerprint. notAfter values are spread evenly over the next
 * 400 days but assigned in a scrambled order, so that the files (and the
 * import) do not arrive sorted by expiry. Leaf keys are a pool of 16 P-256
 * keys reused round-robin: the benchmark measures the inventory, and key
 * generation would dominate the run otherwise.
 *
 * Signing is the cost (~30 us per ECDSA P-256 signature), so the files are
 * split between worker processes, one per CPU (BENCH_GEN_JOBS overrides). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define NKEYS 16
#define VALIDITY_DAYS 400
#define MAX_JOBS 16

struct gen {
	EVP_PKEY *ca_key;
	X509 *ca;
	EVP_PKEY *keys[NKEYS];
	X509_EXTENSION *ski[NKEYS];
	unsigned char *pub[NKEYS]; /* uncompressed EC points */
	size_t publen[NKEYS];
	EVP_MD_CTX *sign; /* initialised once, copied per certificate */
	X509_EXTENSION *fixed[8]; /* the extensions every leaf shares */
	int nfixed;
	uint64_t seed;
	uint64_t first;
	uint64_t count;
	uint64_t stride; /* coprime to count: i -> expiry slot (i * stride) % count */
	time_t now;
};

static void die(const char *what)
{
	fprintf(stderr, "bench_gen_certs: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static EVP_PKEY *p256_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		die("P-256 key generation failed");
	return k;
}

static X509_EXTENSION *conf_ext(X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	if (e == NULL)
		die("building an extension failed");
	return e;
}

static void add_ext(X509 *x, X509_EXTENSION *e)
{
	if (!X509_add_ext(x, e, -1))
		die("adding an extension failed");
}

static void set_serial(X509 *x, uint64_t seed, uint64_t i)
{
	uint64_t st = seed * 0x100000001b3ULL ^ (i + 1) * 0x9e3779b97f4a7c15ULL;
	unsigned char raw[16];
	uint64_t a = splitmix64(&st), b = splitmix64(&st);
	BIGNUM *bn;
	ASN1_INTEGER *ai;

	memcpy(raw, &a, 8);
	memcpy(raw + 8, &b, 8);
	/* Positive and exactly 16 bytes, as CAs issue them (RFC 5280 §4.1.2.2). */
	raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	ai = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	if (ai == NULL || !X509_set_serialNumber(x, ai))
		die("setting the serial failed");
	ASN1_INTEGER_free(ai);
	BN_free(bn);
}

static void make_ca(struct gen *g)
{
	X509 *ca = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;

	g->ca_key = p256_key();
	if (ca == NULL || name == NULL)
		die("out of memory");
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"aclm bench", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"aclm bench CA", -1, -1,
				   0);
	X509_set_version(ca, X509_VERSION_3);
	set_serial(ca, g->seed, UINT64_MAX - 1);
	X509_set_subject_name(ca, name);
	X509_set_issuer_name(ca, name);
	X509_time_adj_ex(X509_getm_notBefore(ca), -1, 0, &g->now);
	X509_time_adj_ex(X509_getm_notAfter(ca), 3650, 0, &g->now);
	X509_set_pubkey(ca, g->ca_key);
	X509V3_set_ctx(&ctx, ca, ca, NULL, NULL, 0);
	add_ext(ca, conf_ext(&ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
	add_ext(ca, conf_ext(&ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"));
	add_ext(ca, conf_ext(&ctx, NID_subject_key_identifier, "hash"));
	if (!X509_sign(ca, g->ca_key, EVP_sha256()))
		die("signing the CA failed");
	X509_NAME_free(name);
	g->ca = ca;
}

/* The CA/Browser Forum domain-validated policy, as public CAs assert it.
 * Built by hand: the string form of this extension needs a config database. */
static X509_EXTENSION *dv_policy(void)
{
	CERTIFICATEPOLICIES *cp = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	X509_EXTENSION *e;

	if (cp == NULL || pi == NULL)
		die("out of memory");
	pi->policyid = OBJ_txt2obj("2.23.140.1.2.1", 1);
	if (pi->policyid == NULL || !sk_POLICYINFO_push(cp, pi))
		die("building the policy failed");
	e = X509V3_EXT_i2d(NID_certificate_policies, 0, cp);
	if (e == NULL)
		die("building the policy failed");
	CERTIFICATEPOLICIES_free(cp);
	return e;
}

/* Extensions that do not depend on the certificate: built once. */
static void make_fixed(struct gen *g)
{
	X509V3_CTX ctx;
	X509 *tmp = X509_new();

	if (tmp == NULL)
		die("out of memory");
	X509V3_set_ctx(&ctx, g->ca, tmp, NULL, NULL, 0);
	g->fixed[g->nfixed++] = conf_ext(&ctx, NID_basic_constraints, "critical,CA:FALSE");
	g->fixed[g->nfixed++] = conf_ext(&ctx, NID_key_usage, "critical,digitalSignature");
	g->fixed[g->nfixed++] = conf_ext(&ctx, NID_ext_key_usage, "serverAuth,clientAuth");
	g->fixed[g->nfixed++] = conf_ext(&ctx, NID_authority_key_identifier, "keyid:always");
	g->fixed[g->nfixed++] = conf_ext(&ctx, NID_info_access,
					 "OCSP;URI:http://ocsp.bench.example,"
					 "caIssuers;URI:http://ca.bench.example/ca.der");
	g->fixed[g->nfixed++] = dv_policy();
	for (int k = 0; k < NKEYS; k++) {
		g->keys[k] = p256_key();
		if (!X509_set_pubkey(tmp, g->keys[k]))
			die("setting a public key failed");
		g->ski[k] = conf_ext(&ctx, NID_subject_key_identifier, "hash");
		g->publen[k] = EVP_PKEY_get1_encoded_public_key(g->keys[k], &g->pub[k]);
		if (g->publen[k] == 0)
			die("encoding a public key failed");
	}
	/* X509_sign() fetches the digest and the signature algorithm from the
	 * provider on every call; a copied context skips that. */
	g->sign = EVP_MD_CTX_new();
	if (g->sign == NULL || EVP_DigestSignInit(g->sign, NULL, EVP_sha256(), NULL, g->ca_key) != 1)
		die("initialising the signer failed");
	X509_free(tmp);
}

/* The SubjectPublicKeyInfo from the raw point: X509_set_pubkey() would go
 * through the provider's encoder for every certificate. */
static void set_pubkey(X509 *x, const unsigned char *pub, size_t len)
{
	X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
	unsigned char *copy = OPENSSL_memdup(pub, len);

	if (copy == NULL ||
	    !X509_PUBKEY_set0_param(pk, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
				    OBJ_nid2obj(NID_X9_62_prime256v1), copy, (int)len))
		die("setting a public key failed");
}

static X509 *make_leaf(const struct gen *g, uint64_t i)
{
	char host[96];
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	uint64_t slot = (i * g->stride) % g->count;
	/* Slot s expires at now + (s + 1) * 400 days / count: evenly spread,
	 * the last exactly 400 days out. */
	long secs = (long)(((slot + 1) * (uint64_t)VALIDITY_DAYS * 86400) / g->count);
	int k = (int)(i % NKEYS);
	time_t now = g->now; /* X509_time_adj_ex takes a non-const pointer */
	EVP_MD_CTX *sign;

	if (x == NULL || name == NULL || gens == NULL || gn == NULL || ia5 == NULL)
		die("out of memory");
	snprintf(host, sizeof(host), "host-%" PRIu64 ".bench.example", g->first + i);
	X509_set_version(x, X509_VERSION_3);
	set_serial(x, g->seed, i);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, X509_get_subject_name(g->ca));
	X509_time_adj_ex(X509_getm_notBefore(x), -1, 0, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, secs, &now);
	set_pubkey(x, g->pub[k], g->publen[k]);
	for (int e = 0; e < g->nfixed; e++)
		add_ext(x, g->fixed[e]);
	add_ext(x, g->ski[k]);
	ASN1_STRING_set(ia5, host, -1);
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	sk_GENERAL_NAME_push(gens, gn);
	if (!X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT))
		die("adding the SAN failed");
	sign = EVP_MD_CTX_new();
	if (sign == NULL || !EVP_MD_CTX_copy_ex(sign, g->sign) || !X509_sign_ctx(x, sign))
		die("signing a leaf failed");
	EVP_MD_CTX_free(sign);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	return x;
}

static void write_file(const struct gen *g, const char *outdir, uint64_t file, uint64_t from,
		       uint64_t to)
{
	char path[4096];
	BIO *out;

	snprintf(path, sizeof(path), "%s/certs-%06" PRIu64 ".pem", outdir, file);
	out = BIO_new_file(path, "w");
	if (out == NULL)
		die(path);
	for (uint64_t i = from; i < to; i++) {
		X509 *x = make_leaf(g, i);

		if (!PEM_write_bio_X509(out, x))
			die("writing PEM failed");
		X509_free(x);
	}
	if (BIO_flush(out) != 1)
		die(path);
	BIO_free(out);
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
		fprintf(stderr, "bench_gen_certs: %s: not a number: %s\n", what, s);
		exit(2);
	}
	return (uint64_t)v;
}

int main(int argc, char **argv)
{
	struct gen g = { 0 };
	uint64_t per_file = 1000, nfiles;
	long jobs;
	const char *outdir, *env;
	char path[4096];
	pid_t pids[MAX_JOBS];
	int failed = 0;
	BIO *out;

	if (argc < 3 || argc > 6) {
		fprintf(stderr, "usage: bench_gen_certs OUTDIR COUNT [PER_FILE] [SEED] [FIRST]\n");
		return 2;
	}
	outdir = argv[1];
	g.count = parse_u64(argv[2], "COUNT");
	if (argc > 3)
		per_file = parse_u64(argv[3], "PER_FILE");
	g.seed = argc > 4 ? parse_u64(argv[4], "SEED") : 1;
	g.first = argc > 5 ? parse_u64(argv[5], "FIRST") : 0;
	if (g.count == 0 || per_file == 0) {
		fprintf(stderr, "bench_gen_certs: COUNT and PER_FILE must be positive\n");
		return 2;
	}
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	g.now = time(NULL);
	/* A stride near count * 0.618 that shares no factor with count: a
	 * permutation of the expiry slots with no visible order. */
	g.stride = (uint64_t)((double)g.count * 0.6180339887) | 1;
	while (g.stride > 1 && gcd(g.stride, g.count) != 1)
		g.stride++;
	if (g.stride == 0)
		g.stride = 1;

	make_ca(&g);
	make_fixed(&g);
	snprintf(path, sizeof(path), "%s/ca.pem", outdir);
	out = BIO_new_file(path, "w");
	if (out == NULL || !PEM_write_bio_X509(out, g.ca))
		die(path);
	BIO_free(out);

	nfiles = (g.count + per_file - 1) / per_file;
	env = getenv("BENCH_GEN_JOBS");
	jobs = env != NULL ? atol(env) : sysconf(_SC_NPROCESSORS_ONLN);
	if (jobs < 1)
		jobs = 1;
	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	if ((uint64_t)jobs > nfiles)
		jobs = (long)nfiles;
	fflush(NULL);
	/* Worker w writes files w, w + jobs, w + 2 * jobs, ... */
	for (long w = 0; w < jobs; w++) {
		pids[w] = fork();
		if (pids[w] < 0)
			die("fork failed");
		if (pids[w] == 0) {
			for (uint64_t f = (uint64_t)w; f < nfiles; f += (uint64_t)jobs) {
				uint64_t from = f * per_file;
				uint64_t to = from + per_file < g.count ? from + per_file : g.count;

				write_file(&g, outdir, f, from, to);
			}
			_exit(0);
		}
	}
	for (long w = 0; w < jobs; w++) {
		int status;

		if (waitpid(pids[w], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}

	EVP_MD_CTX_free(g.sign);
	X509_free(g.ca);
	EVP_PKEY_free(g.ca_key);
	for (int k = 0; k < NKEYS; k++) {
		EVP_PKEY_free(g.keys[k]);
		OPENSSL_free(g.pub[k]);
		X509_EXTENSION_free(g.ski[k]);
	}
	for (int e = 0; e < g.nfixed; e++)
		X509_EXTENSION_free(g.fixed[e]);
	return failed;
}
