/* bench/api: CPU of one REST API list page in-process, step by step, on
 * a store bench/api/run kept (BENCH_KEEP): the page the API answers
 * GET /api/v1/certificates?expiring=30 with (100 rows in expiry order),
 * without TLS and HTTP, so that each step of the list path is measured
 * apart from the machine's noise.
 *
 *   bench_api_list HOME [PAGES]      (HOME holds aclm.db and master.key)
 *
 * Prints microseconds per page for: the store alone (stored_json rows,
 * nothing written); the page written from the stored text; the same
 * without the keystore lookup of rows without a key id; and the parsing
 * path (parsed rows, inventory_cert_json, json_dumps). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/time.h"
#include "crypto/crypto.h"
#include "inventory/inventory.h"
#include "keystore/keystore.h"
#include "store/store.h"

#define PAGE 100
#define DAY 86400

enum mode { STORE_ONLY, TEXT, TEXT_NO_KEYSTORE, PARSED };

struct run {
	struct inventory inv;
	enum mode mode;
	struct aclm_buf out;
	size_t rows;
};

static aclm_status on_row(const struct store_cert *c, void *arg)
{
	struct run *r = arg;
	struct aclm_err err = { 0 };
	json_t *o;
	char *s;

	r->rows++;
	switch (r->mode) {
	case STORE_ONLY:
		return ACLM_OK;
	case TEXT:
	case TEXT_NO_KEYSTORE:
		return inventory_cert_json_write(&r->inv, c, aclm_time_now(), &r->out, &err);
	case PARSED:
		o = inventory_cert_json(&r->inv, c, aclm_time_now());
		s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
		if (s != NULL)
			aclm_buf_puts(&r->out, s);
		free(s);
		json_decref(o);
		return s != NULL ? ACLM_OK : ACLM_ERR_NOMEM;
	}
	return ACLM_ERR_INVALID;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int measure(struct run *r, enum mode mode, struct keystore *ks, int pages,
		   const char *name)
{
	struct store_cert_filter f = { .tenant_id = r->inv.tenant_id, .expiring_within = 30 * DAY,
				       .by_expiry = true, .limit = PAGE + 1,
				       .stored_json = mode != PARSED };
	struct aclm_err err = { 0 };
	double t0;
	size_t bytes = 0;

	r->mode = mode;
	r->inv.ks = mode == TEXT_NO_KEYSTORE ? NULL : ks;
	r->rows = 0;
	t0 = now_us();
	for (int i = 0; i < pages; i++) {
		f.now = aclm_time_now();
		aclm_buf_reset(&r->out);
		if (store_cert_list(r->inv.store, &f, on_row, r, &err) != ACLM_OK) {
			fprintf(stderr, "bench_api_list: %s\n", err.msg);
			return 1;
		}
		bytes = r->out.len;
	}
	printf("%-34s %8.1f us per page (%zu rows, %zu bytes)\n", name, (now_us() - t0) / pages,
	       r->rows / (size_t)pages, bytes);
	return 0;
}

int main(int argc, char **argv)
{
	struct store_options opt = { 0 };
	struct store *store = NULL;
	struct keystore *ks = NULL;
	struct aclm_err err = { 0 };
	struct run r = { .inv = { .tenant = "default", .actor = "bench" } };
	char url[4096];
	int pages = argc > 2 ? atoi(argv[2]) : 2000, rc = 1;

	if (argc < 2 || pages <= 0) {
		fprintf(stderr, "usage: bench_api_list HOME [PAGES]\n");
		return 2;
	}
	snprintf(url, sizeof(url), "sqlite:%s/aclm.db", argv[1]);
	opt.home = argv[1];
	aclm_buf_init(&r.out, 64u << 20);
	if (crypto_init(&err) != ACLM_OK || store_open(url, &opt, &store, &err) != ACLM_OK ||
	    keystore_open(store, argv[1], &ks, &err) != ACLM_OK ||
	    store_tenant_find(store, "default", &r.inv.tenant_id, &err) != ACLM_OK) {
		fprintf(stderr, "bench_api_list: %s\n", err.msg);
		goto out;
	}
	r.inv.store = store;
	rc = measure(&r, STORE_ONLY, ks, pages, "store only (stored_json rows)") ||
	     measure(&r, TEXT, ks, pages, "text rows written") ||
	     measure(&r, TEXT_NO_KEYSTORE, ks, pages, "text rows, no keystore lookup") ||
	     measure(&r, PARSED, ks, pages / 4 + 1, "parsed rows + jansson (before)");
out:
	aclm_buf_free(&r.out);
	keystore_close(ks);
	store_close(store);
	return rc;
}
