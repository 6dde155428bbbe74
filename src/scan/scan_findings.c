/* The scanner's findings: what is wrong with what an endpoint serves, judged
 * from certificate facts (crypto_cert_facts objects) and the probes' results;
 * and RFC 6125 name matching. Pure functions: no I/O, time passed in.
 *
 * id                severity           fires when (docs/FINDINGS.md says why)
 * expired           critical           leaf notAfter is in the past
 * expiring          medium (high < 7d) leaf expires within min(expiring_days, lifetime/3)
 * not_yet_valid     high               leaf notBefore is in the future
 * hostname_mismatch high               host asked for is not among the leaf's SANs
 * self_signed       medium             the leaf is self-signed
 * untrusted_chain   high               chain not verified (and the leaf is not self-signed)
 * incomplete_chain  medium             an issuer was neither served nor trusted
 * chain_order       low                a certificate is not signed by the next one
 * weak_key          high               RSA < 2048 or EC < 256 bits, any certificate
 * weak_signature    high               SHA-1/MD5/MD4/MD2 signature on a non-self-signed certificate
 * long_validity     low                leaf lifetime above the CA/B Forum maximum of its issue date
 * deprecated_tls    medium             TLS 1.0 or 1.1 accepted
 * no_tls13          low                versions probed and TLS 1.3 refused
 * no_pqc            info               TLS 1.3 but none of the ML-KEM hybrid groups
 * wildcard          info               a dNSName SAN of the leaf is a wildcard
 */
#include "scan/scan.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/time.h"

#define DAY 86400
/* CA/Browser Forum Baseline Requirements §6.3.2 (ballot SC-081): the
 * maximum validity by issue date. */
#define BR_2026_03_15 1773532800 /* 2026-03-15T00:00:00Z */
#define BR_2027_03_15 1805068800
#define BR_2029_03_15 1868227200
#define NAMES_IN_MESSAGE 4

static const char *const severity_names[] = { "info", "low", "medium", "high", "critical" };

const char *scan_severity_name(enum scan_severity s)
{
	return (unsigned)s < sizeof(severity_names) / sizeof(severity_names[0]) ? severity_names[s]
										: "unknown";
}

int scan_severity_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof(severity_names) / sizeof(severity_names[0]); i++)
		if (strcasecmp(s, severity_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- name matching ---- */

/* Canonical text of an address literal, or false when s is none. */
static bool canonical_ip(const char *s, char out[INET6_ADDRSTRLEN])
{
	unsigned char a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return inet_ntop(AF_INET, a, out, INET6_ADDRSTRLEN) != NULL;
	if (inet_pton(AF_INET6, s, a) == 1)
		return inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN) != NULL;
	return false;
}

/* Case-insensitive equality of a[0..an) and b[0..bn), a final dot ignored
 * on either (an absolute name is the same name). */
static bool name_eq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an > 0 && a[an - 1] == '.')
		an--;
	if (bn > 0 && b[bn - 1] == '.')
		bn--;
	return an == bn && an > 0 && strncasecmp(a, b, an) == 0;
}

/* RFC 6125 §6.4.3: '*' only as the whole left-most label, matching exactly
 * one non-empty label; the rest must have at least two labels, so "*.com"
 * or "*.co" never matches anything. Partial wildcards ("w*.example.com")
 * are not honoured, as browsers do not. */
static bool dns_matches(const char *san, const char *name)
{
	size_t sn = strlen(san), nn = strlen(name);
	const char *rest, *dot;

	if (strncmp(san, "*.", 2) != 0)
		return strchr(san, '*') == NULL && name_eq(san, sn, name, nn);
	rest = san + 2;
	dot = strchr(rest, '.');
	if (dot == NULL || dot == rest || dot[1] == '\0' || dot[1] == '.')
		return false;
	dot = strchr(name, '.');
	if (dot == NULL || dot == name)
		return false;
	return name_eq(rest, strlen(rest), dot + 1, strlen(dot + 1));
}

/* No fallback to the subject CN (RFC 6125 §6.4.4 allows it only without
 * SANs; browsers dropped it): a name must be in subjectAltName. */
bool scan_name_matches(const json_t *facts, const char *name)
{
	const json_t *sans = json_object_get(facts, "sans"), *v;
	char want[INET6_ADDRSTRLEN], have[INET6_ADDRSTRLEN];
	bool match = false;
	size_t i;

	if (name == NULL || *name == '\0')
		goto out;
	if (canonical_ip(name, want)) {
		/* RFC 6125 §3.1.3.2 / RFC 5280 §4.2.1.6: iPAddress SANs only,
		 * compared as addresses ("::1" and "0:0::1" are the same). */
		json_array_foreach(json_object_get(sans, "ip"), i, v)
			if (json_is_string(v) && canonical_ip(json_string_value(v), have) &&
			    strcmp(want, have) == 0) {
				match = true;
				goto out;
			}
		goto out;
	}
	json_array_foreach(json_object_get(sans, "dns"), i, v)
		if (json_is_string(v) && dns_matches(json_string_value(v), name)) {
			match = true;
			goto out;
		}
out:
	return match;
}

/* ---- findings ---- */

static int add(json_t *out, const char *id, enum scan_severity sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Appends {id, severity, message}; 0, or -1 when out of memory. */
static int add(json_t *out, const char *id, enum scan_severity sev, const char *fmt, ...)
{
	char msg[512];
	json_t *f = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f = json_pack("{s:s, s:s, s:s}", "id", id, "severity", scan_severity_name(sev), "message", msg);
	return f != NULL && json_array_append_new(out, f) == 0 ? 0 : -1;
}

/* "the leaf" or "certificate 2 (CN=...)" for messages about chain[i]. */
static void which_cert(const json_t *c, size_t i, char *out, size_t n)
{
	const char *subject = aclm_json_str(c, "subject");

	if (i == 0)
		snprintf(out, n, "the leaf (%s)", subject != NULL ? subject : "no subject");
	else
		snprintf(out, n, "certificate %zu (%s)", i + 1, subject != NULL ? subject : "no subject");
}

static int validity_findings(const struct scan_observed *o, const json_t *leaf, int64_t now,
			     json_t *out)
{
	const char *nbs = aclm_json_str(leaf, "not_before"), *nas = aclm_json_str(leaf, "not_after");
	int64_t nb = 0, na = 0, threshold, window;
	int rc = 0;

	if (nbs == NULL || nas == NULL || aclm_time_parse(nbs, &nb) != ACLM_OK ||
	    aclm_time_parse(nas, &na) != ACLM_OK)
		goto out;
	/* RFC 5280 §4.1.2.5: both bounds are inclusive. */
	if (now > na) {
		rc |= add(out, "expired", SCAN_CRITICAL, "expired %s (%lld days ago)", nas,
			  (long long)((now - na) / DAY));
		goto out;
	}
	if (now < nb) {
		rc |= add(out, "not_yet_valid", SCAN_HIGH, "not valid before %s (in %lld days)", nbs,
			  (long long)((nb - now + DAY - 1) / DAY));
		goto out;
	}
	/* A short-lived certificate is renewed at about 2/3 of its life: a 6-day
	 * certificate with 4 days left is on schedule, not expiring. */
	threshold = (o->expiring_days > 0 ? o->expiring_days : 30) * DAY;
	window = (na - nb) / 3 < threshold ? (na - nb) / 3 : threshold;
	if (na - now < window)
		rc |= add(out, "expiring", na - now < 7 * DAY ? SCAN_HIGH : SCAN_MEDIUM,
			  "expires %s (in %lld days)", nas, (long long)((na - now) / DAY));
out:
	return rc;
}

/* The BR maximum validity, in days, for a certificate issued at nb. */
static int64_t br_max_days(int64_t nb)
{
	if (nb < BR_2026_03_15)
		return 398;
	if (nb < BR_2027_03_15)
		return 200;
	if (nb < BR_2029_03_15)
		return 100;
	return 47;
}

static int long_validity_finding(const json_t *leaf, json_t *out)
{
	const char *nbs = aclm_json_str(leaf, "not_before"), *nas = aclm_json_str(leaf, "not_after");
	int64_t nb, na, max;
	int rc = 0;

	/* Only what looks publicly trusted: a self-signed leaf answers to no CA/B rule. */
	if (aclm_json_bool(leaf, "self_signed") || nbs == NULL || nas == NULL ||
	    aclm_time_parse(nbs, &nb) != ACLM_OK || aclm_time_parse(nas, &na) != ACLM_OK)
		goto out;
	max = br_max_days(nb);
	if (na - nb > max * DAY)
		rc |= add(out, "long_validity", SCAN_LOW,
			  "valid for %lld days from %s, more than the %lld allowed for certificates "
			  "issued then", (long long)aclm_json_int(leaf, "lifetime_days", 0), nbs,
			  (long long)max);
out:
	return rc;
}

static int name_findings(const struct scan_observed *o, const json_t *leaf, json_t *out)
{
	const json_t *dns = json_object_get(json_object_get(leaf, "sans"), "dns");
	const json_t *ips = json_object_get(json_object_get(leaf, "sans"), "ip");
	char names[256] = "";
	const json_t *v;
	size_t i, shown = 0, len = 0;
	int rc = 0;

	if (o->host != NULL && o->host[0] != '\0' && !scan_name_matches(leaf, o->host)) {
		for (int k = 0; k < 2; k++)
			json_array_foreach(k == 0 ? dns : ips, i, v) {
				if (shown == NAMES_IN_MESSAGE || len >= sizeof(names))
					break;
				len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
							shown > 0 ? ", " : "", json_string_value(v));
				shown++;
			}
		if (shown < json_array_size(dns) + json_array_size(ips) && len < sizeof(names))
			snprintf(names + len, sizeof(names) - len, ", ...");
		rc |= add(out, "hostname_mismatch", SCAN_HIGH, "\"%s\" is not among the names (%s)",
			  o->host, shown > 0 ? names : "none");
	}
	json_array_foreach(dns, i, v)
		if (json_is_string(v) && strncmp(json_string_value(v), "*.", 2) == 0) {
			rc |= add(out, "wildcard", SCAN_INFO, "wildcard name %s", json_string_value(v));
			break;
		}
	return rc;
}

/* SHA-1, MD5 and older digests by OpenSSL long name ("sha1WithRSAEncryption",
 * "ecdsa-with-SHA1", "md5WithRSAEncryption", "shaWithRSAEncryption" = SHA-0). */
static bool weak_sigalg(const char *alg)
{
	static const char *const weak[] = { "sha1", "md5", "md4", "md2", "shawith" };
	char low[128];
	size_t i;

	for (i = 0; alg[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (char)(alg[i] >= 'A' && alg[i] <= 'Z' ? alg[i] - 'A' + 'a' : alg[i]);
	low[i] = '\0';
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		if (strstr(low, weak[i]) != NULL)
			return true;
	return false;
}

static int chain_findings(const struct scan_observed *o, json_t *out)
{
	const json_t *c;
	char who[300];
	size_t i;
	int rc = 0;

	json_array_foreach(o->chain, i, c) {
		const json_t *key = json_object_get(c, "key");
		const char *type = aclm_json_str(key, "type"), *alg = aclm_json_str(c, "signature_algorithm");
		int64_t bits = aclm_json_int(key, "bits", 0);

		which_cert(c, i, who, sizeof(who));
		if (type != NULL && ((strcmp(type, "rsa") == 0 && bits < 2048) ||
				     (strcmp(type, "ec") == 0 && bits < 256)))
			rc |= add(out, "weak_key", SCAN_HIGH, "%s %lld-bit key on %s",
				  strcmp(type, "rsa") == 0 ? "RSA" : "EC", (long long)bits, who);
		/* A root's self-signature is not checked by clients: only issued
		 * certificates carry a signature that matters. */
		if (alg != NULL && !aclm_json_bool(c, "self_signed") && weak_sigalg(alg))
			rc |= add(out, "weak_signature", SCAN_HIGH, "%s signature on %s", alg, who);
	}
	return rc;
}

aclm_status scan_findings(const struct scan_observed *o, int64_t now, json_t *out,
			  struct aclm_err *err)
{
	const json_t *leaf = json_array_get(o->chain, 0);
	bool self_signed = leaf != NULL && aclm_json_bool(leaf, "self_signed");
	int rc = 0;

	if (leaf != NULL) {
		rc |= validity_findings(o, leaf, now, out);
		rc |= name_findings(o, leaf, out);
		if (self_signed)
			rc |= add(out, "self_signed", SCAN_MEDIUM, "the leaf (%s) is self-signed",
				  aclm_json_str(leaf, "subject") ? aclm_json_str(leaf, "subject") : "");
		else if (!o->chain_trusted)
			rc |= add(out, "untrusted_chain", SCAN_HIGH,
				  "the chain of %s does not verify against the CA bundle",
				  aclm_json_str(leaf, "subject") ? aclm_json_str(leaf, "subject") : "");
		if (!o->chain_complete)
			rc |= add(out, "incomplete_chain", SCAN_MEDIUM,
				  "an issuer in the chain was neither served nor trusted (%zu served)",
				  json_array_size(o->chain));
		if (!o->chain_ordered)
			rc |= add(out, "chain_order", SCAN_LOW,
				  "the served certificates are not in issuing order");
		rc |= chain_findings(o, out);
		rc |= long_validity_finding(leaf, out);
	}
	if (o->versions_probed && (o->tls10 || o->tls11))
		rc |= add(out, "deprecated_tls", SCAN_MEDIUM, "accepts %s%s%s",
			  o->tls10 ? "TLS 1.0" : "", o->tls10 && o->tls11 ? " and " : "",
			  o->tls11 ? "TLS 1.1" : "");
	if (o->versions_probed && !o->tls13)
		rc |= add(out, "no_tls13", SCAN_LOW, "TLS 1.3 is not accepted");
	if (o->tls13 && json_is_array(o->pqc_groups) && json_array_size(o->pqc_groups) == 0)
		rc |= add(out, "no_pqc", SCAN_INFO,
			  "TLS 1.3 without any post-quantum (ML-KEM hybrid) key exchange group");
	return rc == 0 ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
}
