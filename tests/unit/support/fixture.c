/* A temporary home for the tests of the subsystems above the store: its
 * directory, crypto set up, a SQLite store, a keystore whose master key is
 * the file it makes in the directory, and tenant "default". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "keystore/keystore.h"
#include "store/store.h"
#include "testsupport.h"

int ts_home_open(struct ts_home *h, const char *tag)
{
	struct store_options opt = { .busy_timeout_ms = 1000 };
	struct aclm_err err = { 0 };
	int rc = -1;

	memset(h, 0, sizeof(*h));
	if (ts_tmpdir(h->dir, sizeof(h->dir), tag) == NULL) {
		fprintf(stderr, "setup: cannot make %s\n", h->dir);
		h->dir[0] = '\0';
		goto out;
	}
	/* The key file in dir, not a key from the environment of the test run. */
	unsetenv(KEYSTORE_MASTER_ENV);
	opt.home = h->dir;
	if (crypto_init(&err) != ACLM_OK ||
	    store_open("sqlite:aclm.db", &opt, &h->store, &err) != ACLM_OK ||
	    keystore_open(h->store, h->dir, &h->ks, &err) != ACLM_OK ||
	    store_tenant_ensure(h->store, "default", &h->tenant, &err) != ACLM_OK) {
		fprintf(stderr, "setup: %s\n", err.msg);
		ts_home_close(h);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int ts_home_close(struct ts_home *h)
{
	int rc;

	keystore_close(h->ks);
	store_close(h->store);
	h->ks = NULL;
	h->store = NULL;
	rc = ts_rmtree(h->dir);
	h->dir[0] = '\0';
	return rc;
}
