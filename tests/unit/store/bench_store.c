/* Hand-run timing of the store (not a CTest test: the name does not start
 * with test_). Inserts N certificates with realistic facts (~1 KB JSON) and
 * DER (~1.2 KB) in transactions of 1000, as `cert import` batches, linking
 * each into its chain, then times `cert list --expiring 30 --limit 1000`.
 *
 *   gcc -O2 -DNDEBUG -I src $(find src/core src/store -name '*.c') \
 *       tests/unit/store/bench_store.c \
 *       $(pkg-config --cflags --libs openssl jansson sqlite3 inih) -o /tmp/bench_store
 *   /tmp/bench_store /tmp/bench-dir 200000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "store/store.h"

#define BATCH 1000
#define DAY 86400

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes this process asked the kernel to write, and CPU seconds: steadier
 * than wall time on a shared machine. */
static void io_cpu(double *mb, double *cpu)
{
	char line[128];
	FILE *f = fopen("/proc/self/io", "r");
	struct timespec ts;

	*mb = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "wchar:", 6) == 0)
			*mb = strtod(line + 6, NULL) / 1e6;
	}
	if (f != NULL)
		fclose(f);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	*cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static json_t *facts_for(unsigned i, uint64_t *seed)
{
	static const char *const curves[] = { "P-256", "P-384" };
	char cn[64], subject[128], issuer[96], serial[40], aki[48];
	unsigned ca = (unsigned)(rnd(seed) % 20);
	bool rsa = rnd(seed) % 3 == 0;
	json_t *dns = json_array();

	/* names in random order, as a scan or a bundle delivers them */
	snprintf(cn, sizeof(cn), "h%08llx.dept%u.example.com",
		 (unsigned long long)(rnd(seed) & 0xffffffffu), i % 97);
	snprintf(subject, sizeof(subject), "CN=%s,O=Example Corp,L=Somewhere,C=US", cn);
	snprintf(issuer, sizeof(issuer), "CN=Example Issuing CA %u,O=Example Trust,C=US", ca);
	snprintf(serial, sizeof(serial), "%016llx%08x", (unsigned long long)rnd(seed), i);
	snprintf(aki, sizeof(aki), "%040u", ca);
	for (unsigned k = 0; k < 3; k++) {
		char san[80];

		snprintf(san, sizeof(san), "alt%u-%u.example.com", k, i);
		json_array_append_new(dns, json_string(san));
	}
	json_array_append_new(dns, json_string(cn));
	return json_pack("{s:s,s:s,s:s,s:s,s:{s:o,s:[],s:[],s:[]},s:s,s:s,s:s,s:I,"
			 "s:{s:s,s:i,s:s},s:s,s:b,s:b,s:[ss],s:[s],s:b,s:i,s:[s],s:[s],"
			 "s:s,s:s,s:s}",
			 "fingerprint_sha256", "", "serial", serial, "subject", subject,
			 "common_name", cn, "sans", "dns", dns, "ip", "email", "uri", "issuer",
			 issuer, "not_before", "2026-01-01T00:00:00Z", "not_after",
			 "2027-01-01T00:00:00Z", "lifetime_days", (json_int_t)365, "key", "type",
			 rsa ? "rsa" : "ec", "bits", rsa ? 2048 : 256, "curve",
			 rsa ? "" : curves[i % 2], "signature_algorithm",
			 rsa ? "sha256WithRSAEncryption" : "ecdsa-with-SHA256", "is_ca", 0,
			 "self_signed", 0, "key_usage", "digitalSignature", "keyEncipherment",
			 "ext_key_usage", "serverAuth", "must_staple", 0, "sct_count", 2,
			 "ocsp_urls", "http://ocsp.example.com", "crl_urls",
			 "http://crl.example.com/ca.crl", "aki", aki, "ski", serial, "spki_sha256",
			 serial);
}

static aclm_status insert_all(struct store *s, int64_t tenant, unsigned n, int64_t now,
			      struct aclm_err *err)
{
	unsigned char der[1200];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	double seg = now_s(), seg_mb, seg_cpu;
	aclm_status st = ACLM_OK;

	io_cpu(&seg_mb, &seg_cpu);

	for (size_t k = 0; k < sizeof(der); k++)
		der[k] = (unsigned char)rnd(&seed);
	for (unsigned i = 0; st == ACLM_OK && i < n; i++) {
		struct store_cert c = { .tenant_id = tenant, .der = der, .der_len = sizeof(der),
					.source = "import" };
		int64_t id = 0;
		bool created = false;

		if (i % BATCH == 0 && (st = store_begin(s, err)) != ACLM_OK)
			break;
		snprintf(c.fingerprint, sizeof(c.fingerprint), "%016llx%016llx%016llx%016llx",
			 (unsigned long long)rnd(&seed), (unsigned long long)rnd(&seed),
			 (unsigned long long)rnd(&seed), (unsigned long long)i);
		memcpy(der, &i, sizeof(i)); /* distinct DER, as real ones are */
		c.facts = facts_for(i, &seed);
		/* not_after spread over [-1 year, +2 years]: ~2.7% expire within 30 days */
		c.not_after = now - 365 * DAY + (int64_t)(rnd(&seed) % (1095ull * DAY));
		c.not_before = c.not_after - 365 * DAY;
		st = store_cert_insert(s, &c, &id, &created, err);
		if (st == ACLM_OK)
			st = store_cert_link_issuers(s, tenant, id, err);
		json_decref(c.facts);
		if (st == ACLM_OK && (i % BATCH == BATCH - 1 || i == n - 1))
			st = store_commit(s, err);
		if (st == ACLM_OK && (i + 1) % 50000 == 0) {
			double t = now_s(), mb, cpu;

			io_cpu(&mb, &cpu);
			printf("  rows %u..%u: %.0f rows/s, %.1f KB written/row, %.0f us CPU/row\n",
			       i + 1 - 50000, i + 1, 50000 / (t - seg), (mb - seg_mb) * 1e3 / 50000,
			       (cpu - seg_cpu) * 1e6 / 50000);
			fflush(stdout);
			seg = t;
			seg_mb = mb;
			seg_cpu = cpu;
		}
	}
	return st;
}

static aclm_status count_row(const struct store_cert *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
	return ACLM_OK;
}

int main(int argc, char **argv)
{
	struct store_options opt = { .home = argc > 1 ? argv[1] : "/tmp/aclm-bench" };
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 200000;
	struct aclm_err err = { 0 };
	struct store *s = NULL;
	int64_t tenant = 0, now = (int64_t)time(NULL);
	double t0, t1, best = 1e9;
	int rows = 0;

	if (store_open("sqlite:bench.db", &opt, &s, &err) != ACLM_OK ||
	    store_tenant_ensure(s, "default", &tenant, &err) != ACLM_OK)
		goto fail;
	t0 = now_s();
	if (insert_all(s, tenant, n, now, &err) != ACLM_OK)
		goto fail;
	t1 = now_s();
	printf("insert+link %u rows: %.2f s = %.0f rows/s\n", n, t1 - t0, n / (t1 - t0));
	for (int run = 0; run < 10; run++) {
		struct store_cert_filter f = { .tenant_id = tenant, .now = now,
					       .expiring_within = 30 * DAY, .by_expiry = true,
					       .limit = 1000 };

		rows = 0;
		t0 = now_s();
		if (store_cert_list(s, &f, count_row, &rows, &err) != ACLM_OK)
			goto fail;
		t1 = now_s();
		if (run == 0)
			printf("expiring 30d limit 1000, first run: %.1f ms (%d rows)\n",
			       (t1 - t0) * 1e3, rows);
		best = t1 - t0 < best ? t1 - t0 : best;
	}
	printf("expiring 30d limit 1000, best of 10: %.1f ms (%d rows)\n", best * 1e3, rows);
	store_close(s);
	return 0;
fail:
	fprintf(stderr, "bench: %s\n", err.msg);
	store_close(s);
	return 1;
}
