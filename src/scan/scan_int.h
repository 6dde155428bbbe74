/* scan/ internals shared inside the engine (scan_engine.c): the run, its
 * endpoints and their connections (probes). Not for use outside scan/. */
#ifndef ACLM_SCAN_INT_H
#define ACLM_SCAN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "scan/scan.h"

#define SCAN__PQC_GROUPS 8
#define SCAN__VERSIONS 4           /* TLS 1.0, 1.1, 1.2, 1.3 */
#define SCAN__PROBES_MAX (1 + SCAN__VERSIONS + SCAN__PQC_GROUPS + 2)
#define SCAN__ADDRS_MAX 16         /* addresses of one name that are scanned */
#define SCAN__CHAIN_MAX 16         /* served certificates kept */
#define SCAN__IP_BUCKETS 1024
#define SCAN__ERR_MAX 256

/* The post-quantum groups of issue 5, in the order they are reported. */
extern const uint16_t scan__pqc_groups[SCAN__PQC_GROUPS];

enum scan__probe_kind {
	SCAN__PROBE_CERT, SCAN__PROBE_VERSION, SCAN__PROBE_PQC,
	SCAN__PROBE_SM2_TLS13,     /* RFC 8998: TLS 1.3 with the SM suites and curveSM2 */
	SCAN__PROBE_TLCP           /* GB/T 38636: TLCP 1.1 hello, two certificates back */
};

struct scan__probe_spec {
	enum scan__probe_kind kind;
	uint8_t idx;               /* VERSION: 0..3 (1.0..1.3); PQC: index in scan__pqc_groups */
};

/* Connections in flight to one address (the per-IP cap); freed when no
 * endpoint refers to it any more. */
struct scan__ipcount {
	int family;
	unsigned char ip[16];
	unsigned conns, refs;
	struct scan__ipcount *next;
};

struct scan__run;

/* One endpoint (address, port, SNI) being scanned. */
struct scan__endpoint {
	struct scan__run *run;
	struct scan_target t;
	bool has_addr;
	struct sockaddr_storage sa;
	socklen_t salen;
	char ip[64];
	struct scan__ipcount *ipc;
	struct scan__probe_spec pending[SCAN__PROBES_MAX];
	size_t npending;
	unsigned inflight;
	bool reachable, dead;      /* a probe connected / the first connect failed */
	char error[SCAN__ERR_MAX];
	unsigned ver_probed, ver_ok;   /* bit i: TLS 1.i */
	bool pqc_ran;
	unsigned pqc_ok;               /* bit i: scan__pqc_groups[i] */
	bool cert_ok;
	bool rfc8998, tlcp;            /* SM2 probes: accepted */
	json_t *tlcp_sign, *tlcp_enc;  /* TLCP certificates (crypto_cert_facts) or NULL */
	json_t *chain;
	json_t *chain_der;             /* base64 DER, leaf first (keep_der) */
	char version[8], cipher[96], group[64];
	bool ocsp_stapled, chain_trusted, chain_complete, chain_ordered;
	enum scan_starttls_proto proto;    /* the preamble before TLS, or NONE */
	bool starttls_failed;              /* a preamble failed: no TLS seen through it */
	bool starttls_missing;             /* ... because the server does not offer it */
	struct scan__endpoint *prev, *next;
	/* On the run's pump list: new, or with probes left to start. */
	bool pumped;
	struct scan__endpoint *pump_prev, *pump_next;
};

enum scan__conn_state { SCAN__CONNECTING, SCAN__PRE_SENDING, SCAN__PRE_READING, SCAN__HANDSHAKE,
		       SCAN__SENDING, SCAN__READING };

/* One TCP connection carrying one probe. */
struct scan__conn {
	struct scan__endpoint *ep;
	struct scan__probe_spec spec;
	enum scan__conn_state state;
	int fd, tries, early_errno;
	struct event *rd, *wr, *timer;
	SSL *ssl;
	unsigned char *out;        /* raw ClientHello */
	size_t outlen, outoff;
	struct scan_reader *reader;
	struct scan_starttls *stls;  /* the STARTTLS preamble in progress, or NULL */
	size_t stls_off;             /* bytes of its output sent */
	struct scan__conn *prev, *next;
};

struct scan__resolve {
	struct scan__run *run;
	struct scan_target t;
	struct scan__resolve *prev, *next;
};

/* Served chains seen before, by SHA-256 of their DER: one server farm
 * serves one chain on many endpoints, and its facts and judgement cost more
 * than the handshake's own crypto (bench/scan). Direct-mapped, bounded. */
#define SCAN__CHAIN_CACHE 64
struct scan__chain_slot {
	bool used;
	unsigned char key[32];
	json_t *chain;             /* facts array (days_left included): shared, read-only */
	json_t *chain_der;         /* base64 DER strings (keep_der) or NULL */
	bool complete, ordered, trusted;
};

struct scan__run {
	const struct scan_run_opts *o;
	struct scan_targets *targets;
	bool targets_done, closing, pumping, repump;
	scan_result_cb cb;
	void *cb_arg;
	struct event_base *base;
	struct evdns_base *dns;
	SSL_CTX *ssl_ctx;
	X509_STORE *trust;
	struct scan__endpoint *eps, *eps_tail;
	size_t neps;
	/* The endpoints pump() visits (all of eps would cost a walk over every
	 * endpoint in flight per finished connection). */
	struct scan__endpoint *pump_head, *pump_tail;
	struct scan__conn *conns;
	unsigned inflight;
	struct scan__resolve *resolving;
	size_t nresolving;
	struct scan__ipcount *ipbuckets[SCAN__IP_BUCKETS];
	aclm_status st;            /* a failure of the scan itself */
	struct aclm_err *err;
	/* --rate: a token bucket of new connections, refilled from the
	 * monotonic clock; rate_timer pumps again when the next token is due. */
	double tokens;
	int64_t tokens_at_ns;
	struct event *rate_timer;
	EVP_MD *sha256;            /* fetched once (OpenSSL 3 fetches by name per call) */
	struct scan__chain_slot chains[SCAN__CHAIN_CACHE];
};

/* scan_trust.c: the trust store of a run from a bundle file (PEM
 * certificates indexed by subject, each parsed when a chain needs it) or,
 * for anything else, crypto_trust_load. Free with X509_STORE_free. */
aclm_status scan__trust_load(const char *path, X509_STORE **out, struct aclm_err *err);

#endif
