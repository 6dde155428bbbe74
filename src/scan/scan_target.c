/* The scanner's targets: --ports lists and TARGET words (names, addresses,
 * CIDR ranges, host:port, [v6]:port, @FILE) streamed one endpoint at a
 * time, so a /16 or a million-line file is never held in memory. */
#include "scan/scan.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "core/dnsname.h"

#define FILE_MAX_BYTES (64u * 1024 * 1024)
#define LINE_MAX_BYTES 1024
#define NAME_MAX_LEN 253

/* One TARGET word, parsed: a name, or a range of addresses first..last
 * (a single address has first == last). port 0: the default list. */
struct spec {
	bool is_name;
	char name[SCAN_HOST_MAX];
	int family;
	unsigned char first[16], last[16];
	unsigned prefix_bits;      /* host bits of the range (0: one address) */
	uint16_t port;
};

struct scan_targets {
	char **args;
	size_t nargs;
	struct scan_ports ports;
	char **snis;
	size_t nsnis;
	uint64_t total;

	/* Iteration: the word (or file line) in progress and where in it. */
	size_t arg;                /* next word to start */
	FILE *file;                /* the @FILE being streamed, or NULL */
	const char *path;
	unsigned long line;
	uint64_t file_bytes;
	bool have_spec;
	struct spec spec;
	unsigned char cur[16];     /* current address of the range */
	size_t prange;             /* index into the port list (own port: 0 only) */
	uint32_t port;             /* current port */
	size_t sni;                /* current --sni index */
};

/* ---- ports ---- */

/* A decimal port 1-65535 from s[0..n). */
static bool port_number(const char *s, size_t n, uint16_t *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

aclm_status scan_ports_parse(const char *s, struct scan_ports *out, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	const char *p = s;

	out->n = 0;
	if (s == NULL || *s == '\0') {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "empty port list");
		goto out;
	}
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		const char *dash = memchr(p, '-', n);
		uint16_t lo, hi;
		bool ok;

		if (dash != NULL)
			ok = port_number(p, (size_t)(dash - p), &lo) &&
			     port_number(dash + 1, n - (size_t)(dash - p) - 1, &hi) && lo <= hi;
		else
			ok = port_number(p, n, &lo) && (hi = lo, true);
		if (!ok) {
			st = aclm_err_set(err, ACLM_ERR_INVALID,
					  "port list \"%s\": \"%.*s\" is not a port (1-65535) nor a "
					  "range LOW-HIGH with LOW <= HIGH", s, (int)(n > 64 ? 64 : n), p);
			goto out;
		}
		if (out->n == SCAN_PORTS_MAX) {
			st = aclm_err_set(err, ACLM_ERR_TOOBIG, "port list \"%.64s...\": more than %d parts",
					  s, SCAN_PORTS_MAX);
			goto out;
		}
		out->lo[out->n] = lo;
		out->hi[out->n] = hi;
		out->n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
out:
	if (st != ACLM_OK)
		out->n = 0;
	return st;
}

uint64_t scan_ports_count(const struct scan_ports *p)
{
	uint64_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += (uint64_t)p->hi[i] - p->lo[i] + 1;
	return n;
}

/* ---- one TARGET word ---- */

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* A host name into out, lowercased, without its final dot; non-ASCII names
 * go through IDNA2008 with UTS#46 non-transitional mapping (as
 * client/names.c does), so the SNI is the A-label form. */
static aclm_status parse_name(const char *in, size_t n, char out[SCAN_HOST_MAX],
			      struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	char tmp[LINE_MAX_BYTES + 1];
	char *ascii = NULL;
	const char *s = tmp, *l, *last = NULL;
	bool ascii_only = true, all_digits = true;
	size_t len;

	if (n > LINE_MAX_BYTES) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "name too long");
		goto out;
	}
	memcpy(tmp, in, n);
	tmp[n] = '\0';
	for (size_t i = 0; i < n; i++)
		ascii_only &= (unsigned char)tmp[i] < 0x80;
	if (!ascii_only) {
		int rc = idn2_to_ascii_8z(tmp, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);

		if (rc != IDN2_OK) {
			st = aclm_err_set(err, ACLM_ERR_INVALID, "not a valid internationalised name: %s",
					  idn2_strerror(rc));
			goto out;
		}
		s = ascii;
	}
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN)
		goto bad;
	for (l = s;;) {
		const char *dot = memchr(l, '.', len - (size_t)(l - s));
		size_t ln = dot != NULL ? (size_t)(dot - l) : len - (size_t)(l - s);

		if (!aclm_dns_label_ok(l, ln))
			goto bad;
		last = l;
		if (dot == NULL)
			break;
		l = dot + 1;
	}
	/* RFC 3696 §2: a top-level label is never all-numeric, so "300.1.1.1"
	 * is a bad address, not a name. */
	for (l = last; l < s + len; l++)
		all_digits &= isdigit((unsigned char)*l) != 0;
	if (all_digits)
		goto bad;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len] = '\0';
	goto out;
bad:
	st = aclm_err_set(err, ACLM_ERR_INVALID,
			  "not a host name (labels of 1-63 letters, digits or hyphens, at most 253 "
			  "characters), an IP address or a CIDR range");
out:
	idn2_free(ascii);
	return st;
}

/* An address literal s[0..n) of family (0: either). */
static bool parse_ip(const char *s, size_t n, int family, int *fam_out, unsigned char ip[16])
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(ip, 0, 16);
	if ((family == 0 || family == AF_INET) && inet_pton(AF_INET, tmp, ip) == 1) {
		*fam_out = AF_INET;
		return true;
	}
	if ((family == 0 || family == AF_INET6) && inet_pton(AF_INET6, tmp, ip) == 1) {
		*fam_out = AF_INET6;
		return true;
	}
	return false;
}

/* first/last of ADDR/BITS: the network and broadcast addresses are kept
 * (a /31 or /32 has no other addresses; nmap scans them too). Host bits
 * set in ADDR are ignored, as nmap does. */
static aclm_status parse_cidr(const char *s, size_t n, const char *slash, struct spec *sp,
			      struct aclm_err *err)
{
	size_t alen = (size_t)(slash - s), blen = n - alen - 1;
	unsigned long bits = 0;
	unsigned width;

	if (!parse_ip(s, alen, 0, &sp->family, sp->first))
		return aclm_err_set(err, ACLM_ERR_INVALID, "\"%.*s\" is not an IP address", (int)alen, s);
	width = sp->family == AF_INET ? 32 : 128;
	if (blen == 0 || blen > 3)
		goto bad_bits;
	for (size_t i = 0; i < blen; i++) {
		if (!isdigit((unsigned char)slash[1 + i]))
			goto bad_bits;
		bits = bits * 10 + (unsigned long)(slash[1 + i] - '0');
	}
	if (bits > width)
		goto bad_bits;
	sp->prefix_bits = width - (unsigned)bits;
	memcpy(sp->last, sp->first, 16);
	for (unsigned i = (unsigned)bits; i < width; i++) {
		sp->first[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
		sp->last[i / 8] |= (unsigned char)(0x80u >> (i % 8));
	}
	return ACLM_OK;
bad_bits:
	return aclm_err_set(err, ACLM_ERR_INVALID, "prefix length \"%.*s\" is not 0-%u", (int)blen,
			    slash + 1, width);
}

/* One TARGET word w[0..n) into sp (no @FILE here); err says why, without
 * the word (the caller names it). */
static aclm_status parse_word(const char *w, size_t n, struct spec *sp, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	const char *colon = memchr(w, ':', n), *slash = memchr(w, '/', n);
	const char *host = w;
	size_t hlen = n;

	memset(sp, 0, sizeof(*sp));
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)w[i]) || w[i] == '\0')
			return aclm_err_set(err, ACLM_ERR_INVALID, "contains white space or NUL");
	if (n > 0 && w[0] == '[') {
		/* [v6]:port or [v6] */
		const char *close = memchr(w, ']', n);

		if (close == NULL)
			return aclm_err_set(err, ACLM_ERR_INVALID, "'[' without ']'");
		host = w + 1;
		hlen = (size_t)(close - host);
		if (!parse_ip(host, hlen, AF_INET6, &sp->family, sp->first))
			return aclm_err_set(err, ACLM_ERR_INVALID, "\"%.*s\" is not an IPv6 address",
					    (int)hlen, host);
		if (close + 1 < w + n &&
		    (close[1] != ':' || !port_number(close + 2, n - (size_t)(close + 2 - w), &sp->port)))
			return aclm_err_set(err, ACLM_ERR_INVALID,
					    "expected \":PORT\" (1-65535) after ']'");
		memcpy(sp->last, sp->first, 16);
		return ACLM_OK;
	}
	if (slash != NULL)
		return parse_cidr(w, n, slash, sp, err);
	if (parse_ip(w, n, 0, &sp->family, sp->first)) {
		/* IPv4, or IPv6 without brackets (its colons are not a port). */
		memcpy(sp->last, sp->first, 16);
		return ACLM_OK;
	}
	if (colon != NULL) {
		if (memchr(colon + 1, ':', n - (size_t)(colon + 1 - w)) != NULL)
			return aclm_err_set(err, ACLM_ERR_INVALID,
					    "not an IPv6 address (write [ADDRESS]:PORT for a port)");
		hlen = (size_t)(colon - w);
		if (!port_number(colon + 1, n - hlen - 1, &sp->port))
			return aclm_err_set(err, ACLM_ERR_INVALID, "port \"%.*s\" is not 1-65535",
					    (int)(n - hlen - 1 > 16 ? 16 : n - hlen - 1), colon + 1);
		if (parse_ip(w, hlen, AF_INET, &sp->family, sp->first)) {
			memcpy(sp->last, sp->first, 16);
			return ACLM_OK;
		}
	}
	st = parse_name(host, hlen, sp->name, err);
	sp->is_name = st == ACLM_OK;
	return st;
}

/* Endpoints of one word: names once per port; addresses once per port and
 * --sni name. Saturates (a /64 has 2^64 addresses). */
static uint64_t spec_total(const struct scan_targets *t, const struct spec *sp)
{
	uint64_t ports = sp->port != 0 ? 1 : scan_ports_count(&t->ports);
	uint64_t addrs = sp->prefix_bits >= 64 ? UINT64_MAX : (uint64_t)1 << sp->prefix_bits;

	if (sp->is_name)
		return ports;
	return sat_mul(sat_mul(addrs, ports), t->nsnis > 0 ? t->nsnis : 1);
}

/* ---- @FILE ---- */

/* One line of t->file into line (without its newline): ACLM_OK,
 * ACLM_ERR_NOTFOUND at the end of the file, or an error (line too long,
 * file too big, NUL byte, read error). */
static aclm_status file_line(struct scan_targets *t, char line[LINE_MAX_BYTES + 1], struct aclm_err *err)
{
	size_t n = 0;
	int c = EOF;

	while ((c = getc(t->file)) != EOF && c != '\n') {
		if (++t->file_bytes > FILE_MAX_BYTES) {
			return aclm_err_set(err, ACLM_ERR_TOOBIG, "%s: larger than %u MiB", t->path,
					    FILE_MAX_BYTES >> 20);
		}
		if (n == LINE_MAX_BYTES) {
			return aclm_err_set(err, ACLM_ERR_TOOBIG, "%s:%lu: line longer than %d bytes",
					    t->path, t->line + 1, LINE_MAX_BYTES);
		}
		if (c == '\0') {
			return aclm_err_set(err, ACLM_ERR_INVALID, "%s:%lu: NUL byte", t->path,
					    t->line + 1);
		}
		line[n++] = (char)c;
	}
	line[n] = '\0';
	if (c == EOF && ferror(t->file))
		return aclm_err_set(err, ACLM_ERR_IO, "%s:%lu: read error: %s", t->path, t->line + 1,
				    strerror(errno));
	if (c == EOF && n == 0)
		return ACLM_ERR_NOTFOUND;
	t->line++;
	t->file_bytes += c == '\n';
	return ACLM_OK;
}

/* The next TARGET line of t->file into sp: ACLM_OK, ACLM_ERR_NOTFOUND at
 * the end of the file, or an error naming FILE:LINE. Comments run from '#'
 * to the end of the line ('#' is in no TARGET). */
static aclm_status file_next(struct scan_targets *t, struct spec *sp, struct aclm_err *err)
{
	aclm_status st;
	char line[LINE_MAX_BYTES + 1];

	while ((st = file_line(t, line, err)) == ACLM_OK) {
		char *p = line, *hash;
		size_t n;

		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		while (isspace((unsigned char)*p))
			p++;
		n = strlen(p);
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			p[--n] = '\0';
		if (n == 0)
			continue;
		if (*p == '@') {
			st = aclm_err_set(err, ACLM_ERR_INVALID, "%s:%lu: \"%s\": @FILE inside a file",
					  t->path, t->line, p);
			goto out;
		}
		if ((st = parse_word(p, n, sp, err)) != ACLM_OK)
			aclm_err_prefix(err, "%s:%lu: \"%s\"", t->path, t->line, p);
		goto out;
	}
out:
	return st;
}

static aclm_status file_open(struct scan_targets *t, const char *path, struct aclm_err *err)
{
	t->path = path;
	t->line = 0;
	t->file_bytes = 0;
	t->file = fopen(path, "r");
	if (t->file == NULL)
		return aclm_err_set(err, ACLM_ERR_IO, "%s: %s", path, strerror(errno));
	return ACLM_OK;
}

static void file_close(struct scan_targets *t)
{
	if (t->file != NULL)
		fclose(t->file);
	t->file = NULL;
}

/* The validating pass: every word and every line parsed once, totals
 * summed, nothing kept. */
static aclm_status validate(struct scan_targets *t, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	struct spec sp;

	for (size_t i = 0; i < t->nargs && st == ACLM_OK; i++) {
		const char *w = t->args[i];

		if (w[0] == '@') {
			if ((st = file_open(t, w + 1, err)) != ACLM_OK)
				break;
			while ((st = file_next(t, &sp, err)) == ACLM_OK)
				t->total = sat_add(t->total, spec_total(t, &sp));
			file_close(t);
			if (st == ACLM_ERR_NOTFOUND)
				st = ACLM_OK;
		} else if ((st = parse_word(w, strlen(w), &sp, err)) != ACLM_OK) {
			aclm_err_prefix(err, "target \"%s\"", w);
		} else {
			t->total = sat_add(t->total, spec_total(t, &sp));
		}
	}
	return st;
}

aclm_status scan_targets_new(const char *const *args, size_t nargs, const struct scan_ports *ports,
			     const char *const *snis, size_t nsnis, struct scan_targets **out,
			     struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	struct scan_targets *t = calloc(1, sizeof(*t));
	char name[SCAN_HOST_MAX];

	*out = NULL;
	if (t == NULL || (nargs > 0 && (t->args = calloc(nargs, sizeof(char *))) == NULL) ||
	    (nsnis > 0 && (t->snis = calloc(nsnis, sizeof(char *))) == NULL)) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (t->nargs = 0; t->nargs < nargs; t->nargs++)
		if ((t->args[t->nargs] = strdup(args[t->nargs])) == NULL) {
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
			goto out;
		}
	for (t->nsnis = 0; t->nsnis < nsnis; t->nsnis++) {
		if ((st = parse_name(snis[t->nsnis], strlen(snis[t->nsnis]), name, err)) != ACLM_OK) {
			aclm_err_prefix(err, "--sni \"%s\"", snis[t->nsnis]);
			goto out;
		}
		if ((t->snis[t->nsnis] = strdup(name)) == NULL) {
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	/* No list given: the default, 443. */
	if (ports != NULL && ports->n > 0)
		t->ports = *ports;
	else {
		t->ports.lo[0] = t->ports.hi[0] = 443;
		t->ports.n = 1;
	}
	if ((st = validate(t, err)) != ACLM_OK)
		goto out;
	*out = t;
	t = NULL;
out:
	scan_targets_free(t);
	return st;
}

/* ---- iteration ---- */

/* The next word's spec (from the arguments or the open file). */
static aclm_status next_spec(struct scan_targets *t, struct aclm_err *err)
{
	aclm_status st;

	for (;;) {
		if (t->file != NULL) {
			st = file_next(t, &t->spec, err);
			if (st != ACLM_ERR_NOTFOUND)
				break;
			file_close(t);
			continue;
		}
		if (t->arg == t->nargs) {
			st = ACLM_ERR_NOTFOUND;
			break;
		}
		if (t->args[t->arg][0] == '@') {
			if ((st = file_open(t, t->args[t->arg++] + 1, err)) != ACLM_OK)
				break;
			continue;
		}
		st = parse_word(t->args[t->arg], strlen(t->args[t->arg]), &t->spec, err);
		if (st != ACLM_OK)
			aclm_err_prefix(err, "target \"%s\"", t->args[t->arg]);
		t->arg++;
		break;
	}
	if (st == ACLM_OK) {
		t->have_spec = true;
		memcpy(t->cur, t->spec.first, 16);
		t->prange = 0;
		t->port = t->spec.port != 0 ? t->spec.port : t->ports.lo[0];
		t->sni = 0;
	}
	return st;
}

/* Big-endian increment of an address (4 or 16 bytes, the first bytes of
 * a): a range is walked without ever counting its size. */
static void addr_inc(unsigned char a[16], int family)
{
	for (int i = family == AF_INET ? 3 : 15; i >= 0 && ++a[i] == 0; i--)
		;
}

/* Moves to the next (address, port, SNI); false when the spec is done. */
static bool advance(struct scan_targets *t)
{
	const struct spec *sp = &t->spec;

	if (!sp->is_name && ++t->sni < t->nsnis)
		return true;
	t->sni = 0;
	if (sp->port == 0) {
		if (t->port < t->ports.hi[t->prange]) {
			t->port++;
			return true;
		}
		if (++t->prange < t->ports.n) {
			t->port = t->ports.lo[t->prange];
			return true;
		}
	}
	t->prange = 0;
	t->port = sp->port != 0 ? sp->port : t->ports.lo[0];
	if (sp->is_name || memcmp(t->cur, sp->last, 16) == 0)
		return false;
	addr_inc(t->cur, sp->family);
	return true;
}

aclm_status scan_targets_next(struct scan_targets *t, struct scan_target *out,
			      struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	const struct spec *sp = &t->spec;

	if (!t->have_spec && (st = next_spec(t, err)) != ACLM_OK)
		goto out;
	memset(out, 0, sizeof(*out));
	out->port = (uint16_t)t->port;
	if (sp->is_name) {
		snprintf(out->host, sizeof(out->host), "%s", sp->name);
		snprintf(out->sni, sizeof(out->sni), "%s", sp->name);
	} else {
		out->is_ip = true;
		out->family = sp->family;
		memcpy(out->ip, t->cur, 16);
		inet_ntop(sp->family, t->cur, out->host, sizeof(out->host));
		if (t->nsnis > 0)
			snprintf(out->sni, sizeof(out->sni), "%s", t->snis[t->sni]);
	}
	if (!advance(t))
		t->have_spec = false;
out:
	return st;
}

uint64_t scan_targets_total(const struct scan_targets *t)
{
	return t->total;
}

void scan_targets_free(struct scan_targets *t)
{
	if (t == NULL)
		return;
	file_close(t);
	for (size_t i = 0; i < t->nargs; i++)
		free(t->args[i]);
	for (size_t i = 0; i < t->nsnis; i++)
		free(t->snis[i]);
	free(t->args);
	free(t->snis);
	free(t);
}
