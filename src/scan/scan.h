/* scan/: the TLS scanner (`aclm scan`, issue 5): targets streamed from
 * the command line, an event-loop engine with many connections in flight,
 * probes that see what is served (OpenSSL at security level 0 for the full
 * handshake; hand-built ClientHellos for versions, post-quantum groups and
 * SM2/TLCP), and findings judged in aclm's own code. */
#ifndef ACLM_SCAN_H
#define ACLM_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/status.h"

/* ---- targets (scan_target.c) ----
 * TARGET: hostname, IPv4, IPv6, CIDR (v4, v6), host:port, [v6]:port, or
 * @FILE (one per line, '#' comments). Expanded lazily: a /16 is never held
 * in memory. Hostnames are resolved by the engine (not here) and are also
 * the SNI. */
#define SCAN_HOST_MAX 254
#define SCAN_PORTS_MAX 1024        /* ranges in one --ports list */

struct scan_ports {
	uint16_t lo[SCAN_PORTS_MAX], hi[SCAN_PORTS_MAX];
	size_t n;
};
/* "443", "443,8443", "8000-8100,9443"; bad -> ACLM_ERR_INVALID naming the part. */
aclm_status scan_ports_parse(const char *s, struct scan_ports *out, struct aclm_err *err);
/* The number of ports in the list. */
uint64_t scan_ports_count(const struct scan_ports *p);

/* One endpoint to scan: a literal address or a name to resolve. */
struct scan_target {
	char host[SCAN_HOST_MAX];  /* as given: name or address text */
	bool is_ip;                /* host is an address literal (ip holds it) */
	int family;                /* AF_INET / AF_INET6 when is_ip */
	unsigned char ip[16];
	uint16_t port;
	char sni[SCAN_HOST_MAX];   /* "" for address targets without --sni */
};

struct scan_targets;               /* the streaming iterator */
/* args: the TARGET words (and @FILE words); ports: the default ports for
 * targets without their own; snis: --sni names (each address target is
 * scanned once per SNI; NULL/0: none). Errors name the TARGET word or
 * FILE:LINE. Everything is checked before the first target is returned. */
aclm_status scan_targets_new(const char *const *args, size_t nargs, const struct scan_ports *ports,
			     const char *const *snis, size_t nsnis, struct scan_targets **out,
			     struct aclm_err *err);
/* The next endpoint: ACLM_OK, or ACLM_ERR_NOTFOUND at the end. */
aclm_status scan_targets_next(struct scan_targets *t, struct scan_target *out,
			      struct aclm_err *err);
/* How many endpoints in total (for progress; names count once per port). */
uint64_t scan_targets_total(const struct scan_targets *t);
void scan_targets_free(struct scan_targets *t);

/* ---- TLS on the wire (scan_wire.c): hand-built ClientHellos and an
 * incremental reader of the server's first flight. No OpenSSL here. ---- */

#define SCAN_TLS10 0x0301
#define SCAN_TLS11 0x0302
#define SCAN_TLS12 0x0303
#define SCAN_TLS13 0x0304
#define SCAN_TLCP11 0x0101         /* GB/T 38636 */

struct scan_hello_opts {
	uint16_t record_version;   /* record layer version (0x0301 usual; 0x0101 TLCP) */
	uint16_t legacy_version;   /* ClientHello.legacy_version */
	const uint16_t *versions;  /* supported_versions list (TLS 1.3 probes) or NULL */
	size_t nversions;
	const uint16_t *suites;
	size_t nsuites;
	const uint16_t *groups;    /* supported_groups or NULL */
	size_t ngroups;
	bool key_share_empty;      /* TLS 1.3: key_share with no entries (forces HRR) */
	const uint16_t *sigalgs;   /* signature_algorithms or NULL */
	size_t nsigalgs;
	const char *sni;           /* server_name or NULL */
};
/* The whole record(s) to send; *out is malloc'd. */
aclm_status scan_hello_build(const struct scan_hello_opts *o, unsigned char **out, size_t *len,
			     struct aclm_err *err);

enum scan_reply_kind {
	SCAN_REPLY_NEED_MORE = 0,  /* feed more bytes */
	SCAN_REPLY_SERVER_HELLO,   /* a ServerHello (version, suite, group known) */
	SCAN_REPLY_HRR,            /* a HelloRetryRequest: selected_group set */
	SCAN_REPLY_ALERT,          /* an alert: level, description */
	SCAN_REPLY_GARBAGE         /* not TLS (or not what was asked): stop */
};

#define SCAN_CERTS_MAX 10
struct scan_reply {
	enum scan_reply_kind kind;
	uint16_t record_version;
	uint16_t version;          /* negotiated (supported_versions if present) */
	uint16_t suite;
	uint16_t group;            /* key_share / HRR selected_group, or 0 */
	int alert_level, alert_desc;
	/* TLS <= 1.2 and TLCP: the cleartext Certificate message, DER each
	 * (TLCP: signing certificate first, then the encryption certificate);
	 * filled when want_certs and the message arrived. */
	unsigned char *certs[SCAN_CERTS_MAX];
	size_t cert_len[SCAN_CERTS_MAX];
	size_t ncerts;
};

/* An incremental reader: records are reassembled, handshake messages
 * across records; every length read is capped. */
struct scan_reader;
struct scan_reader *scan_reader_new(bool want_certs);
/* Consumes data; returns the kind reached so far (NEED_MORE until the
 * ServerHello/HRR/alert — and with want_certs until the Certificate message
 * or ServerHelloDone — has arrived). *r stays owned by the reader. */
enum scan_reply_kind scan_reader_feed(struct scan_reader *rd, const unsigned char *data, size_t len,
				      const struct scan_reply **r);
void scan_reader_free(struct scan_reader *rd);

/* IANA names: "TLS_AES_128_GCM_SHA256", "x25519", "X25519MLKEM768", ... or
 * NULL when unknown. */
const char *scan_suite_name(uint16_t suite);
const char *scan_group_name(uint16_t group);

/* ---- STARTTLS preambles (scan_starttls.c): state machines, no I/O ---- */
enum scan_starttls_proto {
	SCAN_STARTTLS_NONE = 0, SCAN_STARTTLS_SMTP, SCAN_STARTTLS_IMAP, SCAN_STARTTLS_POP3,
	SCAN_STARTTLS_FTP, SCAN_STARTTLS_LDAP, SCAN_STARTTLS_POSTGRES, SCAN_STARTTLS_XMPP
};
#define SCAN_STARTTLS_AUTO (-1)    /* by well-known port (scan_starttls_for_port) */
/* "auto", "none", "smtp", ... -> SCAN_STARTTLS_AUTO or a protocol. */
aclm_status scan_starttls_parse(const char *s, int *out, struct aclm_err *err);
/* mode (a protocol or SCAN_STARTTLS_AUTO) for a port: auto picks 25/587
 * smtp, 143 imap, 110 pop3, 21 ftp, 389 ldap, 5432 postgres, 5222 xmpp,
 * anything else (465, 993, 995, 636: implicit TLS) none. */
enum scan_starttls_proto scan_starttls_for_port(int mode, uint16_t port);
const char *scan_starttls_name(enum scan_starttls_proto p);

enum scan_starttls_result {
	SCAN_STARTTLS_NEED_MORE,   /* wait for more bytes from the server */
	SCAN_STARTTLS_SEND,        /* send scan_starttls_output(), then wait */
	SCAN_STARTTLS_DONE,        /* the next bytes are the TLS handshake */
	SCAN_STARTTLS_FAIL         /* scan_starttls_error() says why */
};
struct scan_starttls;
struct scan_starttls *scan_starttls_new(enum scan_starttls_proto proto);
void scan_starttls_free(struct scan_starttls *t);
/* The first step: SEND when the client speaks first (LDAP, PostgreSQL,
 * XMPP, whose stream header is addressed to domain), else NEED_MORE. */
enum scan_starttls_result scan_starttls_start(struct scan_starttls *t, const char *domain);
/* Bytes received; every line and frame is capped, and bytes after the
 * final reply are an error (they would be taken for TLS). */
enum scan_starttls_result scan_starttls_feed(struct scan_starttls *t, const unsigned char *data,
					     size_t len);
/* What to send after a SEND result (valid until the next call). */
const unsigned char *scan_starttls_output(const struct scan_starttls *t, size_t *len);
/* "smtp: STARTTLS not offered", "imap: greeting: ..." after FAIL. */
const char *scan_starttls_error(const struct scan_starttls *t);
/* After FAIL: the server answered but does not offer the upgrade. */
bool scan_starttls_not_offered(const struct scan_starttls *t);

/* ---- findings (scan_findings.c) ---- */
enum scan_severity { SCAN_INFO = 0, SCAN_LOW, SCAN_MEDIUM, SCAN_HIGH, SCAN_CRITICAL };
const char *scan_severity_name(enum scan_severity s);
int scan_severity_parse(const char *s); /* -1 when unknown */

/* What the probes saw of one endpoint, for the findings. */
struct scan_observed {
	const char *host;          /* the name asked for (SNI or target name), or NULL */
	json_t *chain;             /* array of crypto_cert_facts objects, leaf first */
	bool chain_trusted;        /* verified against the CA bundle */
	bool chain_complete;       /* the issuer of every certificate was served or trusted */
	bool chain_ordered;        /* each certificate signed by the next */
	bool tls10, tls11, tls12, tls13; /* accepted versions (probed) */
	bool versions_probed;
	json_t *pqc_groups;        /* array of names supported, or NULL when not probed */
	int64_t expiring_days;     /* threshold, default 30 */
};
/* Appends {id, severity, message} objects to out (stable ids: expired,
 * expiring, not_yet_valid, hostname_mismatch, self_signed, untrusted_chain,
 * incomplete_chain, chain_order, weak_key, weak_signature, long_validity,
 * deprecated_tls, no_tls13, no_pqc, wildcard). now: epoch seconds. */
aclm_status scan_findings(const struct scan_observed *o, int64_t now, json_t *out,
			  struct aclm_err *err);
/* RFC 6125 §6.4: does name match the certificate (SAN dNSName, wildcard in
 * the left-most label only; IP addresses against iPAddress SANs)? */
bool scan_name_matches(const json_t *facts, const char *name);

/* ---- engine (scan_engine.c): one libevent loop, non-blocking sockets,
 * bounded connections in flight, asynchronous DNS (evdns, A and AAAA),
 * a timeout per step and one retry of a failed connect. ---- */
#define SCAN_CHECK_CERT 0x1u       /* full handshake: chain, cipher, group, OCSP */
#define SCAN_CHECK_VERSIONS 0x2u   /* raw ClientHellos for TLS 1.0 .. 1.3 */
#define SCAN_CHECK_PQC 0x4u        /* one raw TLS 1.3 probe per PQ group */
#define SCAN_CHECK_SM2 0x8u        /* RFC 8998 (TLS 1.3 SM suites) and TLCP probes */
#define SCAN_CHECKS_ALL (SCAN_CHECK_CERT | SCAN_CHECK_VERSIONS | SCAN_CHECK_PQC | SCAN_CHECK_SM2)

struct scan_run_opts {
	unsigned checks;           /* SCAN_CHECK_* */
	unsigned concurrency;      /* connections in flight (default 200) */
	unsigned per_ip;           /* connections in flight per address (default 8) */
	unsigned timeout_ms;       /* per step: connect, handshake, reply (default 5000) */
	const char *ca_bundle;     /* PEM bundle or directory; NULL: the system bundle */
	const char *dns_server;    /* "HOST:PORT" (tests) or NULL: the system resolvers */
	int64_t expiring_days;     /* findings threshold (default 30) */
	bool keep_der;             /* endpoint JSON gets "chain_der" (for scan_save_endpoint) */
	int starttls;              /* SCAN_STARTTLS_AUTO (default) or a protocol */
	unsigned rate;             /* new connections per second (token bucket); 0: no limit */
};
/* The defaults above. */
void scan_run_opts_init(struct scan_run_opts *o);
/* "cert,versions,pqc,sm2" or "all" -> SCAN_CHECK_* mask; bad ->
 * ACLM_ERR_INVALID naming the word. */
aclm_status scan_checks_parse(const char *s, unsigned *out, struct aclm_err *err);

/* Called once per endpoint as it finishes (in completion order) with its
 * JSON object: host, ip, port, sni, reachable, error, starttls, tls_versions,
 * cipher, group, ocsp_stapled, chain, pqc {groups, tested}, sm2 {rfc8998,
 * tlcp, tlcp_sign_cert, tlcp_enc_cert}, findings, and with keep_der
 * chain_der (base64 DER, leaf first: for scan_save_endpoint, which removes
 * it). endpoint is borrowed (incref to keep it, json_deep_copy to change it). */
typedef void (*scan_result_cb)(const json_t *endpoint, void *arg);
/* Scans every endpoint of t. Failures of endpoints are results (reachable
 * false, error); an error return means the scan itself could not run (CA
 * bundle, resolver, event loop). */
aclm_status scan_run(const struct scan_run_opts *o, struct scan_targets *t, scan_result_cb cb,
		     void *arg, struct aclm_err *err);

/* ---- --save (scan_save.c) ---- */
struct inventory;
/* Saves one endpoint object of scan_run() (made with keep_der) in inv's
 * store and tenant, in one transaction: the served chain into the
 * inventory (source "scan"), the endpoint row (first_seen/last_seen) and an
 * observation (leaf, address, scan_run_id when > 0). Then completes the
 * object: "inventory": {status: known|unknown|drift|stale, cert_id,
 * endpoint_id, previous_fingerprint?, newer_cert_id?} (null when nothing
 * was served), findings inventory.unknown, inventory.drift,
 * inventory.stale, inventory.inconsistent appended, "chain_der" removed.
 * "inconsistent" compares with the same scan: the observations of
 * scan_run_id when > 0, else those made at or after scan_started (epoch s).
 * The caller owns endpoint (a copy of the borrowed callback object). */
aclm_status scan_save_endpoint(struct inventory *inv, int64_t scan_run_id, int64_t scan_started,
			       json_t *endpoint, struct aclm_err *err);

#endif
