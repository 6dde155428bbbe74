/* scan --save: one endpoint's served chain into the inventory (source
 * "scan"), its endpoint and observation rows, and the inventory findings
 * (unknown, drift, stale, inconsistent) judged against what the store knew. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/crypto.h"
#include "inventory/inventory.h"
#include "scan/scan.h"
#include "store/store_scan.h"

#define DER_MAX 65536              /* one served certificate (base64 decoded) */

struct save {
	struct inventory *inv;
	int64_t run_id, since, now;
	json_t *ep;                /* the endpoint object being completed */
	STACK_OF(X509) *chain;
	char leaf_fp[65];
	int64_t leaf_id, endpoint_id;
	const json_t *leaf_facts;
	bool absent, ghost, drift, stale, inconsistent;
	struct store_scan_observation prev, other;
	int64_t newer_id;
	char newer_fp[65];
};

/* The served certificates: "chain_der" (base64 DER, leaf first), kept by
 * the engine when scan_run_opts.keep_der is set. */
static aclm_status load_chain(struct save *sv, struct aclm_err *err)
{
	const json_t *ders = json_object_get(sv->ep, "chain_der");
	unsigned char *der = malloc(DER_MAX);
	aclm_status st = ACLM_OK;
	size_t i;
	json_t *v;

	sv->chain = sk_X509_new_null();
	if (der == NULL || sv->chain == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(ders, i, v) {
		const char *b64 = json_string_value(v);
		long n = b64 != NULL ? aclm_base64_decode(b64, der, DER_MAX) : -1;
		X509 *x = NULL;

		if (i >= SCAN_CERTS_MAX)
			break;
		if (n <= 0) {
			st = aclm_err_set(err, ACLM_ERR_PARSE, "certificate %zu: bad base64 or over %d bytes",
					  i, DER_MAX);
			goto out;
		}
		if ((st = crypto_cert_from_der(der, (size_t)n, &x, err)) != ACLM_OK)
			goto out;
		if (sk_X509_push(sv->chain, x) <= 0) {
			X509_free(x);
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (sk_X509_num(sv->chain) > 0)
		st = crypto_cert_fingerprint(sk_X509_value(sv->chain, 0), sv->leaf_fp);
out:
	free(der);
	ERR_clear_error();
	return st;
}

/* A ghost: the inventory did not hold the leaf, or holds it only because
 * earlier scans put it there (no import, ACME order or CA issued it). */
static aclm_status judge_ghost(struct save *sv, struct aclm_err *err)
{
	struct store *s = sv->inv->store;
	struct store_cert *c = NULL;
	int64_t id = 0;
	aclm_status st = store_cert_find_fingerprint(s, sv->inv->tenant_id, sv->leaf_fp, &id, err);
	size_t i;
	json_t *v;

	if (st == ACLM_ERR_NOTFOUND) {
		sv->absent = sv->ghost = true;
		*err = (struct aclm_err){ 0 };
		return ACLM_OK;
	}
	if (st != ACLM_OK || (st = store_cert_get(s, sv->inv->tenant_id, id, &c, err)) != ACLM_OK)
		return st;
	sv->ghost = true;
	json_array_foreach(c->sources, i, v)
		if (json_string_value(v) != NULL && strcmp(json_string_value(v), "scan") != 0)
			sv->ghost = false;
	store_cert_free(c);
	return ACLM_OK;
}

static aclm_status add_chain(struct save *sv, struct aclm_err *err)
{
	struct inventory_import_opts io = { .source = "scan" };
	aclm_status st = ACLM_OK;

	for (int i = 0; i < sk_X509_num(sv->chain) && st == ACLM_OK; i++) {
		int64_t id = 0;

		st = inventory_add_cert(sv->inv, sk_X509_value(sv->chain, i), &io, &id, err);
		if (i == 0)
			sv->leaf_id = id;
	}
	return st;
}

static aclm_status record(struct save *sv, struct aclm_err *err)
{
	struct store *s = sv->inv->store;
	struct store_scan_endpoint e = { .tenant_id = sv->inv->tenant_id, .last_seen = sv->now };
	struct store_scan_observation o = { .tenant_id = sv->inv->tenant_id };
	const char *ip = aclm_json_str(sv->ep, "ip"), *sni = aclm_json_str(sv->ep, "sni");
	bool found = false;
	int64_t oid = 0;
	aclm_status st;

	snprintf(e.host, sizeof(e.host), "%s", aclm_json_str(sv->ep, "host"));
	snprintf(e.ip, sizeof(e.ip), "%s", ip != NULL ? ip : "");
	snprintf(e.sni, sizeof(e.sni), "%s", sni != NULL ? sni : "");
	e.port = (int)aclm_json_int(sv->ep, "port", 0);
	if ((st = store_scan_endpoint_upsert(s, &e, &sv->endpoint_id, err)) != ACLM_OK)
		return st;
	/* drift: what this address of the endpoint served last time. */
	st = store_scan_observation_last(s, e.tenant_id, sv->endpoint_id, e.ip, &sv->prev, &found, err);
	if (st != ACLM_OK)
		return st;
	sv->drift = found && sv->prev.fingerprint[0] != '\0' && strcmp(sv->prev.fingerprint, sv->leaf_fp) != 0;
	o.endpoint_id = sv->endpoint_id;
	o.cert_id = sv->leaf_id;
	o.scan_run_id = sv->run_id;
	o.observed_at = sv->now;
	snprintf(o.ip, sizeof(o.ip), "%s", e.ip);
	if ((st = store_scan_observation_add(s, &o, &oid, err)) != ACLM_OK)
		return st;
	/* inconsistent: this scan saw another leaf on the same host and port. */
	st = store_scan_observation_conflict(s, e.tenant_id, e.host, e.port, sv->endpoint_id, e.ip,
					     sv->leaf_id, sv->run_id, sv->since, &sv->other,
					     &sv->inconsistent, err);
	return st;
}

/* The DNS names of facts, lowercased and sorted, joined by '\n' (the CN
 * when it has none). */
static void name_set(const json_t *facts, char *out, size_t n)
{
	const json_t *dns = json_object_get(json_object_get(facts, "sans"), "dns");
	const char *names[64];
	size_t k = 0, len = 0, i;
	json_t *v;

	json_array_foreach(dns, i, v)
		if (k < 64 && json_string_value(v) != NULL)
			names[k++] = json_string_value(v);
	if (k == 0 && aclm_json_str(facts, "common_name") != NULL)
		names[k++] = aclm_json_str(facts, "common_name");
	for (i = 1; i < k; i++) /* insertion sort: a certificate has few names */
		for (size_t j = i; j > 0 && strcasecmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	out[0] = '\0';
	for (i = 0; i < k && len < n; i++) {
		int w = snprintf(out + len, n - len, "%s%s", i > 0 ? "\n" : "", names[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)(out[i] >= 'A' && out[i] <= 'Z' ? out[i] + 32 : out[i]);
}

static aclm_status stale_candidate(const struct store_cert *c, void *arg)
{
	struct save *sv = arg;
	char mine[4096], theirs[4096];

	/* RFC 5280 §4.1.2.5: a renewal already valid, for exactly these names. */
	if (sv->stale || c->not_before > sv->now || strcmp(c->fingerprint, sv->leaf_fp) == 0)
		return ACLM_OK;
	name_set(sv->leaf_facts, mine, sizeof(mine));
	name_set(c->facts, theirs, sizeof(theirs));
	if (mine[0] != '\0' && strcmp(mine, theirs) == 0) {
		sv->stale = true;
		sv->newer_id = c->id;
		snprintf(sv->newer_fp, sizeof(sv->newer_fp), "%s", c->fingerprint);
	}
	return ACLM_OK;
}

/* Candidates by common name (a renewal keeps it); a leaf without one is
 * looked up by its first DNS name, which costs a pass over the tenant's
 * later-expiring certificates. */
static aclm_status judge_stale(struct save *sv, struct aclm_err *err)
{
	const json_t *dns = json_object_get(json_object_get(sv->leaf_facts, "sans"), "dns");
	const char *cn = aclm_json_str(sv->leaf_facts, "common_name");
	const char *name = json_string_value(json_array_get(dns, 0));
	int64_t nb = 0, na = 0;

	if (cn != NULL && cn[0] == '\0')
		cn = NULL;
	if ((cn == NULL && name == NULL) ||
	    crypto_cert_validity(sk_X509_value(sv->chain, 0), &nb, &na) != ACLM_OK)
		return ACLM_OK;
	return store_scan_cert_newer(sv->inv->store, sv->inv->tenant_id, cn, name, na, stale_candidate,
				     sv, err);
}

static void add_finding(json_t *findings, const char *id, enum scan_severity sev, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));
static void add_finding(json_t *findings, const char *id, enum scan_severity sev, const char *fmt,
			...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(findings, json_pack("{s:s, s:s, s:s}", "id", id, "severity",
						  scan_severity_name(sev), "message", msg));
}

/* The endpoint's inventory object and findings. */
static void report(struct save *sv)
{
	json_t *findings = json_object_get(sv->ep, "findings");
	json_t *inv = json_object();
	const char *status = sv->drift ? "drift" : sv->stale ? "stale" : sv->ghost ? "unknown" : "known";

	if (!json_is_array(findings)) {
		findings = json_array();
		json_object_set_new(sv->ep, "findings", findings);
	}
	aclm_json_set_str(inv, "status", status);
	aclm_json_set_int(inv, "cert_id", sv->leaf_id);
	aclm_json_set_int(inv, "endpoint_id", sv->endpoint_id);
	if (sv->ghost)
		add_finding(findings, "inventory.unknown", SCAN_MEDIUM,
			    "certificate %.16s is not in the inventory (found only by scanning)",
			    sv->leaf_fp);
	if (sv->drift) {
		aclm_json_set_str(inv, "previous_fingerprint", sv->prev.fingerprint);
		add_finding(findings, "inventory.drift", SCAN_MEDIUM,
			    "served certificate changed: %.16s before, %.16s now", sv->prev.fingerprint,
			    sv->leaf_fp);
	}
	if (sv->stale) {
		aclm_json_set_int(inv, "newer_cert_id", sv->newer_id);
		add_finding(findings, "inventory.stale", SCAN_HIGH,
			    "the inventory holds a newer certificate for the same names (id %lld, %.16s) "
			    "that is not served", (long long)sv->newer_id, sv->newer_fp);
	}
	if (sv->inconsistent)
		add_finding(findings, "inventory.inconsistent", SCAN_MEDIUM,
			    "%s:%lld serves %.16s here but %.16s at %s (SNI '%s') in the same scan",
			    aclm_json_str(sv->ep, "host"), (long long)aclm_json_int(sv->ep, "port", 0),
			    sv->leaf_fp, sv->other.fingerprint, sv->other.ip, sv->other.sni);
	json_object_set_new(sv->ep, "inventory", inv);
}

aclm_status scan_save_endpoint(struct inventory *inv, int64_t scan_run_id, int64_t scan_started,
			       json_t *endpoint, struct aclm_err *err)
{
	struct save sv = { .inv = inv, .run_id = scan_run_id, .since = scan_started,
			   .now = aclm_time_now(), .ep = endpoint };
	bool in_tx = false;
	aclm_status st = ACLM_OK;

	sv.leaf_facts = json_array_get(json_object_get(endpoint, "chain"), 0);
	if (aclm_json_str(endpoint, "host") == NULL || aclm_json_int(endpoint, "port", 0) < 1 ||
	    aclm_json_int(endpoint, "port", 0) > 65535) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "scan save: not an endpoint object (host, port)");
		goto out;
	}
	if (aclm_json_bool(endpoint, "reachable") && sv.leaf_facts != NULL &&
	    json_array_size(json_object_get(endpoint, "chain_der")) == 0) {
		st = aclm_err_set(err, ACLM_ERR_INVALID,
				  "scan save: no chain_der in the endpoint (scan_run_opts.keep_der unset)");
		goto out;
	}
	if (!aclm_json_bool(endpoint, "reachable") || sv.leaf_facts == NULL) {
		json_object_set_new(endpoint, "inventory", json_null()); /* nothing served: nothing to save */
		goto out;
	}
	if ((st = load_chain(&sv, err)) != ACLM_OK)
		goto out;
	if ((st = store_begin(inv->store, err)) != ACLM_OK)
		goto out;
	in_tx = true;
	if ((st = judge_ghost(&sv, err)) != ACLM_OK || (st = add_chain(&sv, err)) != ACLM_OK ||
	    (st = record(&sv, err)) != ACLM_OK || (st = judge_stale(&sv, err)) != ACLM_OK)
		goto out;
	if (sv.absent) { /* a certificate the inventory learns of by scanning */
		json_t *d = json_pack("{s:s, s:s, s:I}", "fingerprint", sv.leaf_fp, "host",
				      aclm_json_str(endpoint, "host"), "port",
				      (json_int_t)aclm_json_int(endpoint, "port", 0));

		st = inventory_audit(inv, "scan.discover", sv.leaf_fp, d, err);
		json_decref(d);
		if (st != ACLM_OK)
			goto out;
	}
	if ((st = store_commit(inv->store, err)) != ACLM_OK)
		goto out;
	in_tx = false;
	report(&sv);
out:
	if (in_tx)
		store_rollback(inv->store);
	if (st != ACLM_OK && aclm_json_str(endpoint, "host") != NULL)
		aclm_err_prefix(err, "save %s:%lld", aclm_json_str(endpoint, "host"),
				(long long)aclm_json_int(endpoint, "port", 0));
	json_object_del(endpoint, "chain_der");
	if (sv.chain != NULL)
		sk_X509_pop_free(sv.chain, X509_free);
	return st;
}
