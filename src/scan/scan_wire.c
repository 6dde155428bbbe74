/* TLS on the wire for the scanner: hand-built ClientHellos (TLS 1.0-1.3,
 * TLCP) and an incremental, capped reader of the server's first flight. */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "scan/scan.h"

#define REC_HDR 5
#define REC_MAX (16384 + 256)      /* RFC 8446 §5.2: TLSCiphertext.length cap */
#define HS_HDR 4
#define HS_MAX (64 * 1024)         /* our cap on one handshake message */
#define CERT_MAX (16 * 1024)       /* our cap on one DER certificate */

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22 };
enum { HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11, HS_SERVER_KEY_EXCHANGE = 12,
       HS_CERTIFICATE_REQUEST = 13, HS_SERVER_HELLO_DONE = 14 };
enum { EXT_SERVER_NAME = 0x0000, EXT_SUPPORTED_GROUPS = 0x000a, EXT_EC_POINT_FORMATS = 0x000b,
       EXT_SIGNATURE_ALGORITHMS = 0x000d, EXT_SUPPORTED_VERSIONS = 0x002b,
       EXT_PSK_KEX_MODES = 0x002d, EXT_KEY_SHARE = 0x0033, EXT_RENEGOTIATION_INFO = 0xff01 };

/* RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random. */
static const unsigned char hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* ---- the ClientHello ---- */

/* An output buffer of fixed capacity; overflow sticks and fails the build. */
struct wbuf {
	unsigned char *p;
	size_t len, cap;
	bool overflow;
};

static void put_bytes(struct wbuf *b, const void *d, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void put_u8(struct wbuf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put_bytes(b, &c, 1);
}

static void put_u16(struct wbuf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put_bytes(b, c, 2);
}

/* Reserves a length field of width bytes; returns its offset for patch_len. */
static size_t open_len(struct wbuf *b, size_t width)
{
	static const unsigned char zero[3];
	size_t at = b->len;

	put_bytes(b, zero, width);
	return at;
}

/* Writes the number of bytes since the length field at `at` into it. */
static void close_len(struct wbuf *b, size_t at, size_t width)
{
	size_t n;

	if (b->overflow)
		return;
	n = b->len - at - width;
	for (size_t i = 0; i < width; i++)
		b->p[at + i] = (unsigned char)(n >> (8 * (width - 1 - i)));
}

static void put_u16_list(struct wbuf *b, const uint16_t *v, size_t n, size_t len_width)
{
	size_t at = open_len(b, len_width);

	for (size_t i = 0; i < n; i++)
		put_u16(b, v[i]);
	close_len(b, at, len_width);
}

/* RFC 8446 §4.2.3 schemes for ECDSA, EdDSA, RSA-PSS and PKCS#1 (SHA-1 last,
 * for old servers); sm2sig_sm3 (RFC 8998) is added for SM probes. */
static const uint16_t default_sigalgs[] = {
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806,
	0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201,
};

static bool has_u16(const uint16_t *v, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* RFC 8998: a hello offering an SM suite or curveSM2 also offers sm2sig_sm3. */
static bool wants_sm2sig(const struct scan_hello_opts *o)
{
	return has_u16(o->suites, o->nsuites, 0x00c6) || has_u16(o->suites, o->nsuites, 0x00c7) ||
	       has_u16(o->groups, o->ngroups, 0x0029);
}

static void put_sigalgs(struct wbuf *b, const struct scan_hello_opts *o)
{
	size_t ext, list;

	put_u16(b, EXT_SIGNATURE_ALGORITHMS);
	ext = open_len(b, 2);
	list = open_len(b, 2);
	if (o->sigalgs) {
		for (size_t i = 0; i < o->nsigalgs; i++)
			put_u16(b, o->sigalgs[i]);
	} else {
		if (wants_sm2sig(o))
			put_u16(b, 0x0708);
		for (size_t i = 0; i < sizeof(default_sigalgs) / sizeof(default_sigalgs[0]); i++)
			put_u16(b, default_sigalgs[i]);
	}
	close_len(b, list, 2);
	close_len(b, ext, 2);
}

/* RFC 6066 §3: one host_name entry. */
static void put_sni(struct wbuf *b, const char *sni)
{
	size_t n = strlen(sni), ext, list;

	put_u16(b, EXT_SERVER_NAME);
	ext = open_len(b, 2);
	list = open_len(b, 2);
	put_u8(b, 0);
	put_u16(b, (unsigned)n);
	put_bytes(b, sni, n);
	close_len(b, list, 2);
	close_len(b, ext, 2);
}

/* The extensions: TLS 1.3 ones when 1.3 is offered (supported_versions),
 * the TLS <= 1.2 ones when an older version is. TLCP (GB/T 38636) stacks
 * send no extensions; only server_name, which virtual hosts need. */
static void put_extensions(struct wbuf *b, const struct scan_hello_opts *o, bool tlcp)
{
	bool v13 = has_u16(o->versions, o->nversions, SCAN_TLS13);
	bool legacy = !o->versions;
	size_t all = open_len(b, 2), ext;

	for (size_t i = 0; o->versions && i < o->nversions; i++)
		legacy = legacy || o->versions[i] < SCAN_TLS13;
	if (o->sni && *o->sni)
		put_sni(b, o->sni);
	if (tlcp)
		goto out;
	if (o->groups && o->ngroups) {
		put_u16(b, EXT_SUPPORTED_GROUPS);
		ext = open_len(b, 2);
		put_u16_list(b, o->groups, o->ngroups, 2);
		close_len(b, ext, 2);
	}
	if (legacy) {
		/* RFC 8422 §5.1.2: uncompressed points only. */
		put_u16(b, EXT_EC_POINT_FORMATS);
		put_u16(b, 2);
		put_u8(b, 1);
		put_u8(b, 0);
	}
	put_sigalgs(b, o);
	if (o->versions) {
		put_u16(b, EXT_SUPPORTED_VERSIONS);
		ext = open_len(b, 2);
		put_u8(b, (unsigned)(o->nversions * 2));
		for (size_t i = 0; i < o->nversions; i++)
			put_u16(b, o->versions[i]);
		close_len(b, ext, 2);
	}
	if (v13 && o->key_share_empty) {
		/* RFC 8446 §4.2.8: an empty client_shares asks for a
		 * HelloRetryRequest naming the group the server picks. */
		put_u16(b, EXT_KEY_SHARE);
		put_u16(b, 2);
		put_u16(b, 0);
	}
	if (v13) {
		/* RFC 8446 §4.2.9: psk_dhe_ke. */
		put_u16(b, EXT_PSK_KEX_MODES);
		put_u16(b, 2);
		put_u8(b, 1);
		put_u8(b, 1);
	}
	if (legacy) {
		/* RFC 5746 §3.4: an empty renegotiated_connection. */
		put_u16(b, EXT_RENEGOTIATION_INFO);
		put_u16(b, 1);
		put_u8(b, 0);
	}
out:
	close_len(b, all, 2);
}

static aclm_status check_opts(const struct scan_hello_opts *o, struct aclm_err *err)
{
	if (!o->suites || !o->nsuites)
		return aclm_err_set(err, ACLM_ERR_INVALID, "ClientHello without cipher suites");
	if (o->versions && (!o->nversions || o->nversions > 127))
		return aclm_err_set(err, ACLM_ERR_INVALID, "supported_versions: %zu entries",
				    o->nversions);
	if (o->sni && strlen(o->sni) > SCAN_HOST_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "server_name longer than %d bytes",
				    SCAN_HOST_MAX);
	return ACLM_OK;
}

aclm_status scan_hello_build(const struct scan_hello_opts *o, unsigned char **out, size_t *len,
			     struct aclm_err *err)
{
	struct wbuf b = { 0 };
	unsigned char rnd[64];
	bool tlcp = o->record_version == SCAN_TLCP11 || o->legacy_version == SCAN_TLCP11;
	size_t rec, hs, sid = tlcp ? 0 : 32;
	aclm_status st = check_opts(o, err);

	*out = NULL;
	*len = 0;
	if (st != ACLM_OK)
		goto out;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, "no random bytes for the ClientHello");
		goto out;
	}
	b.cap = REC_HDR + 16384;
	b.p = malloc(b.cap);
	if (!b.p) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "ClientHello");
		goto out;
	}
	put_u8(&b, CT_HANDSHAKE);
	put_u16(&b, o->record_version);
	rec = open_len(&b, 2);
	put_u8(&b, 1); /* client_hello */
	hs = open_len(&b, 3);
	put_u16(&b, o->legacy_version);
	put_bytes(&b, rnd, 32);
	/* RFC 8446 §D.4: a non-empty legacy_session_id for middlebox compatibility. */
	put_u8(&b, (unsigned)sid);
	put_bytes(&b, rnd + 32, sid);
	put_u16_list(&b, o->suites, o->nsuites, 2);
	put_u8(&b, 1);
	put_u8(&b, 0); /* compression: null only */
	put_extensions(&b, o, tlcp);
	close_len(&b, hs, 3);
	close_len(&b, rec, 2);
	if (b.overflow) {
		st = aclm_err_set(err, ACLM_ERR_TOOBIG, "ClientHello exceeds one record");
		goto out;
	}
	*out = b.p;
	*len = b.len;
	b.p = NULL;
out:
	free(b.p);
	return st;
}

/* ---- the reader ---- */

struct scan_reader {
	bool want_certs;
	bool seen_hello;           /* ServerHello parsed; waiting for Certificate */
	enum scan_reply_kind final; /* NEED_MORE until decided */
	struct scan_reply reply;
	unsigned char rec[REC_HDR + REC_MAX];
	size_t rec_have;
	unsigned char hs_hdr[HS_HDR];
	size_t hs_hdr_have;
	unsigned char *hs_body;    /* the message being reassembled */
	size_t hs_len, hs_have;
};

/* A bounds-checked cursor over a message. */
struct rbuf {
	const unsigned char *p;
	size_t len, off;
	bool bad;
};

static bool get_n(struct rbuf *r, size_t n, const unsigned char **out)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return false;
	}
	*out = r->p + r->off;
	r->off += n;
	return true;
}

static unsigned get_u(struct rbuf *r, size_t n)
{
	const unsigned char *p;
	unsigned v = 0;

	if (!get_n(r, n, &p))
		return 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

struct scan_reader *scan_reader_new(bool want_certs)
{
	struct scan_reader *rd = calloc(1, sizeof(*rd));

	if (rd)
		rd->want_certs = want_certs;
	return rd;
}

void scan_reader_free(struct scan_reader *rd)
{
	if (!rd)
		return;
	for (size_t i = 0; i < rd->reply.ncerts; i++)
		free(rd->reply.certs[i]);
	free(rd->hs_body);
	free(rd);
}

/* RFC 8446 §4.2.1 / §4.2.8 / §4.1.4: the extensions a ServerHello or
 * HelloRetryRequest carries that the scanner needs. */
static bool parse_sh_extension(struct scan_reply *rp, unsigned type, struct rbuf *e, bool hrr)
{
	if (type == EXT_SUPPORTED_VERSIONS) {
		rp->version = (uint16_t)get_u(e, 2);
	} else if (type == EXT_KEY_SHARE) {
		/* HRR: selected_group; ServerHello: KeyShareEntry. */
		rp->group = (uint16_t)get_u(e, 2);
		if (!hrr) {
			const unsigned char *k;
			size_t n = get_u(e, 2);

			if (n == 0 || !get_n(e, n, &k))
				return false;
		}
	} else {
		e->off = e->len;
	}
	return !e->bad && e->off == e->len;
}

/* RFC 8446 §4.1.3, RFC 5246 §7.4.1.3: ServerHello or HelloRetryRequest. */
static enum scan_reply_kind parse_server_hello(struct scan_reader *rd, struct rbuf *m)
{
	struct scan_reply *rp = &rd->reply;
	const unsigned char *random, *sid;
	bool hrr;
	size_t sid_len;

	rp->version = (uint16_t)get_u(m, 2);
	if (!get_n(m, 32, &random))
		return SCAN_REPLY_GARBAGE;
	hrr = memcmp(random, hrr_random, 32) == 0;
	sid_len = get_u(m, 1);
	if (sid_len > 32 || !get_n(m, sid_len, &sid))
		return SCAN_REPLY_GARBAGE;
	rp->suite = (uint16_t)get_u(m, 2);
	(void)get_u(m, 1); /* compression method */
	if (m->bad)
		return SCAN_REPLY_GARBAGE;
	if (m->off < m->len) {
		size_t all = get_u(m, 2);

		if (m->bad || all != m->len - m->off)
			return SCAN_REPLY_GARBAGE;
		while (m->off < m->len) {
			unsigned type = get_u(m, 2);
			size_t n = get_u(m, 2);
			struct rbuf e = { 0 };

			if (!get_n(m, n, &e.p))
				return SCAN_REPLY_GARBAGE;
			e.len = n;
			if (!parse_sh_extension(rp, type, &e, hrr))
				return SCAN_REPLY_GARBAGE;
		}
	}
	if (hrr)
		return rp->version == SCAN_TLS13 ? SCAN_REPLY_HRR : SCAN_REPLY_GARBAGE;
	rd->seen_hello = true;
	if (rp->version == SCAN_TLS13 || !rd->want_certs)
		return SCAN_REPLY_SERVER_HELLO;
	return SCAN_REPLY_NEED_MORE;
}

/* RFC 5246 §7.4.2 (and GB/T 38636, the same layout): certificate_list of
 * DER certificates; the first SCAN_CERTS_MAX are kept. */
static enum scan_reply_kind parse_certificate(struct scan_reader *rd, struct rbuf *m)
{
	struct scan_reply *rp = &rd->reply;
	size_t all = get_u(m, 3);

	if (m->bad || all != m->len - m->off)
		return SCAN_REPLY_GARBAGE;
	while (m->off < m->len) {
		size_t n = get_u(m, 3);
		const unsigned char *der;

		if (n == 0 || n > CERT_MAX || !get_n(m, n, &der))
			return SCAN_REPLY_GARBAGE;
		if (rp->ncerts == SCAN_CERTS_MAX)
			continue;
		rp->certs[rp->ncerts] = malloc(n);
		if (!rp->certs[rp->ncerts])
			return SCAN_REPLY_GARBAGE;
		memcpy(rp->certs[rp->ncerts], der, n);
		rp->cert_len[rp->ncerts++] = n;
	}
	return SCAN_REPLY_SERVER_HELLO;
}

/* One complete handshake message. */
static enum scan_reply_kind on_message(struct scan_reader *rd, unsigned type,
				       const unsigned char *body, size_t len)
{
	struct rbuf m = { .p = body, .len = len };

	if (!rd->seen_hello)
		return type == HS_SERVER_HELLO ? parse_server_hello(rd, &m) : SCAN_REPLY_GARBAGE;
	switch (type) {
	case HS_CERTIFICATE:
		return parse_certificate(rd, &m);
	case HS_SERVER_HELLO_DONE:
		return SCAN_REPLY_SERVER_HELLO; /* anonymous suites: no Certificate */
	case HS_SERVER_KEY_EXCHANGE:
	case HS_CERTIFICATE_REQUEST:
		return SCAN_REPLY_NEED_MORE;
	default:
		return SCAN_REPLY_GARBAGE;
	}
}

/* Handshake bytes of one record: headers and bodies may span records. */
static enum scan_reply_kind on_handshake(struct scan_reader *rd, const unsigned char *p, size_t n)
{
	enum scan_reply_kind k = SCAN_REPLY_NEED_MORE;

	while (n > 0 && k == SCAN_REPLY_NEED_MORE) {
		size_t take;

		if (rd->hs_hdr_have < HS_HDR) {
			take = HS_HDR - rd->hs_hdr_have < n ? HS_HDR - rd->hs_hdr_have : n;
			memcpy(rd->hs_hdr + rd->hs_hdr_have, p, take);
			rd->hs_hdr_have += take;
			p += take;
			n -= take;
			if (rd->hs_hdr_have < HS_HDR)
				break;
			rd->hs_len = (size_t)rd->hs_hdr[1] << 16 | (size_t)rd->hs_hdr[2] << 8 | rd->hs_hdr[3];
			if (rd->hs_len > HS_MAX)
				return SCAN_REPLY_GARBAGE;
			rd->hs_body = malloc(rd->hs_len ? rd->hs_len : 1);
			if (!rd->hs_body)
				return SCAN_REPLY_GARBAGE;
			rd->hs_have = 0;
		}
		take = rd->hs_len - rd->hs_have < n ? rd->hs_len - rd->hs_have : n;
		memcpy(rd->hs_body + rd->hs_have, p, take);
		rd->hs_have += take;
		p += take;
		n -= take;
		if (rd->hs_have < rd->hs_len)
			break;
		k = on_message(rd, rd->hs_hdr[0], rd->hs_body, rd->hs_len);
		free(rd->hs_body);
		rd->hs_body = NULL;
		rd->hs_hdr_have = 0;
	}
	return k;
}

/* RFC 8446 §6: alerts are two bytes, never fragmented nor coalesced. A
 * warning unrecognized_name (RFC 6066 §3) before the ServerHello is skipped. */
static enum scan_reply_kind on_alert(struct scan_reader *rd, const unsigned char *p, size_t n)
{
	if (n != 2 || (p[0] != 1 && p[0] != 2))
		return SCAN_REPLY_GARBAGE;
	if (p[0] == 1 && p[1] == 112)
		return SCAN_REPLY_NEED_MORE;
	rd->reply.alert_level = p[0];
	rd->reply.alert_desc = p[1];
	return SCAN_REPLY_ALERT;
}

/* RFC 8446 §5.1 / RFC 5246 §6.2.1: TLS records 0x0300-0x0304, TLCP 0x0101. */
static bool record_version_ok(unsigned v)
{
	return (v >= 0x0300 && v <= 0x0304) || v == SCAN_TLCP11;
}

static enum scan_reply_kind on_record(struct scan_reader *rd)
{
	const unsigned char *h = rd->rec;
	size_t n = (size_t)h[3] << 8 | h[4];

	if (rd->reply.record_version == 0)
		rd->reply.record_version = (uint16_t)(h[1] << 8 | h[2]);
	if (h[0] == CT_ALERT)
		return on_alert(rd, h + REC_HDR, n);
	if (h[0] == CT_HANDSHAKE && n > 0)
		return on_handshake(rd, h + REC_HDR, n);
	return SCAN_REPLY_GARBAGE;
}

enum scan_reply_kind scan_reader_feed(struct scan_reader *rd, const unsigned char *data, size_t len,
				      const struct scan_reply **r)
{
	*r = &rd->reply;
	while (len > 0 && rd->final == SCAN_REPLY_NEED_MORE) {
		size_t want = REC_HDR, take;

		if (rd->rec_have >= REC_HDR)
			want += (size_t)rd->rec[3] << 8 | rd->rec[4];
		take = want - rd->rec_have < len ? want - rd->rec_have : len;
		memcpy(rd->rec + rd->rec_have, data, take);
		rd->rec_have += take;
		data += take;
		len -= take;
		if (rd->rec_have == REC_HDR) {
			size_t n = (size_t)rd->rec[3] << 8 | rd->rec[4];

			if (!record_version_ok((unsigned)rd->rec[1] << 8 | rd->rec[2]) || n > REC_MAX)
				rd->final = SCAN_REPLY_GARBAGE;
			else if (n > 0)
				continue;
		}
		if (rd->rec_have < want || rd->final != SCAN_REPLY_NEED_MORE)
			continue;
		rd->final = on_record(rd);
		rd->rec_have = 0;
	}
	rd->reply.kind = rd->final;
	return rd->final;
}

/* ---- IANA names ---- */

struct name16 {
	uint16_t id;
	const char *name;
};

/* IANA TLS Cipher Suites registry (the common ones), RFC 8998 and the
 * GB/T 38636 TLCP suites (not in the IANA registry). */
static const struct name16 suites[] = {
	{ 0x0000, "TLS_NULL_WITH_NULL_NULL" },
	{ 0x0001, "TLS_RSA_WITH_NULL_MD5" },
	{ 0x0002, "TLS_RSA_WITH_NULL_SHA" },
	{ 0x0004, "TLS_RSA_WITH_RC4_128_MD5" },
	{ 0x0005, "TLS_RSA_WITH_RC4_128_SHA" },
	{ 0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA" },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0x003B, "TLS_RSA_WITH_NULL_SHA256" },
	{ 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA" },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" },
	{ 0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA" },
	{ 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0x00C6, "TLS_SM4_GCM_SM3" },
	{ 0x00C7, "TLS_SM4_CCM_SM3" },
	{ 0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" },
	{ 0x1301, "TLS_AES_128_GCM_SHA256" },
	{ 0x1302, "TLS_AES_256_GCM_SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
	{ 0x1304, "TLS_AES_128_CCM_SHA256" },
	{ 0x1305, "TLS_AES_128_CCM_8_SHA256" },
	{ 0x5600, "TLS_FALLBACK_SCSV" },
	{ 0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA" },
	{ 0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
	{ 0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
	{ 0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA" },
	{ 0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA" },
	{ 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
	{ 0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
	{ 0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
	{ 0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
	{ 0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
	{ 0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
	{ 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
	{ 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
	{ 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
	{ 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ 0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM" },
	{ 0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM" },
	{ 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
	{ 0xE011, "ECDHE_SM4_CBC_SM3" },
	{ 0xE013, "ECC_SM4_CBC_SM3" },
	{ 0xE051, "ECDHE_SM4_GCM_SM3" },
	{ 0xE053, "ECC_SM4_GCM_SM3" },
};

/* IANA TLS Supported Groups registry, the post-quantum hybrids
 * (draft-ietf-tls-ecdhe-mlkem, draft-ietf-tls-mlkem) and Kyber's draft code. */
static const struct name16 groups[] = {
	{ 0x0015, "secp224r1" },
	{ 0x0016, "secp256k1" },
	{ 0x0017, "secp256r1" },
	{ 0x0018, "secp384r1" },
	{ 0x0019, "secp521r1" },
	{ 0x001A, "brainpoolP256r1" },
	{ 0x001B, "brainpoolP384r1" },
	{ 0x001C, "brainpoolP512r1" },
	{ 0x001D, "x25519" },
	{ 0x001E, "x448" },
	{ 0x001F, "brainpoolP256r1tls13" },
	{ 0x0020, "brainpoolP384r1tls13" },
	{ 0x0021, "brainpoolP512r1tls13" },
	{ 0x0029, "curveSM2" },
	{ 0x0100, "ffdhe2048" },
	{ 0x0101, "ffdhe3072" },
	{ 0x0102, "ffdhe4096" },
	{ 0x0103, "ffdhe6144" },
	{ 0x0104, "ffdhe8192" },
	{ 0x0200, "MLKEM512" },
	{ 0x0201, "MLKEM768" },
	{ 0x0202, "MLKEM1024" },
	{ 0x11EB, "SecP256r1MLKEM768" },
	{ 0x11EC, "X25519MLKEM768" },
	{ 0x11ED, "SecP384r1MLKEM1024" },
	{ 0x11EE, "curveSM2MLKEM768" },
	{ 0x6399, "X25519Kyber768Draft00" },
	{ 0x639A, "SecP256r1Kyber768Draft00" },
};

static const char *name_of(const struct name16 *t, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].id == id)
			return t[i].name;
	return NULL;
}

const char *scan_suite_name(uint16_t suite)
{
	return name_of(suites, sizeof(suites) / sizeof(suites[0]), suite);
}

const char *scan_group_name(uint16_t group)
{
	return name_of(groups, sizeof(groups) / sizeof(groups[0]), group);
}
