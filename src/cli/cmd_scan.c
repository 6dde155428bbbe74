/* aclm scan: parse the targets and options, run the scan engine, print each
 * endpoint as it finishes (table, json, jsonl) and judge --fail-on. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/util.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/time.h"
#include "scan/scan.h"

static const char usage_scan[] =
	"Usage: aclm scan TARGET... [OPTIONS]\n"
	"\n"
	"Connects to TLS endpoints and reports what they serve: the certificate chain\n"
	"(judged against --ca-bundle), the negotiated version, cipher and group, the\n"
	"protocol versions accepted (TLS 1.0 to 1.3, probed with hand-built\n"
	"ClientHellos), the post-quantum groups supported (ML-KEM hybrids), SM2\n"
	"support (RFC 8998 TLS 1.3 SM suites, TLCP with its two certificates), and\n"
	"findings with stable ids (expired, self_signed, hostname_mismatch, weak_key,\n"
	"incomplete_chain, no_tls13, no_pqc, ...; docs/CLI.md lists them).\n"
	"\n"
	"TARGET: a hostname, IPv4 or IPv6 address, CIDR range (v4, v6), host:port,\n"
	"[v6]:port, or @FILE (one target per line, '#' comments). Hostnames are\n"
	"resolved (A and AAAA) and sent as SNI; ranges are expanded while scanning.\n"
	"\n"
	"Options:\n"
	"  --ports LIST         ports for targets without one (default 443),\n"
	"                       e.g. 443,8443 or 8000-8100\n"
	"  --sni NAME           SNI for address targets (repeat: each address is\n"
	"                       scanned once per name); also the name checked\n"
	"                       against the certificate\n"
	"  --checks LIST        cert, versions, pqc, sm2 or all (default all)\n"
	"  --concurrency N      connections in flight (default 200)\n"
	"  --per-ip N           connections in flight per address (default 8)\n"
	"  --timeout MS         per step: connect, handshake, reply (default 5000);\n"
	"                       a failed connect is retried once\n"
	"  --ca-bundle FILE     trust anchors (default the system bundle\n"
	"                       /etc/ssl/certs/ca-certificates.crt)\n"
	"  --dns-server H:P     resolve names with this server (default: the system's)\n"
	"  --expiring-days N    'expiring' threshold (default 30)\n"
	"  --starttls PROTO     plaintext upgrade before TLS: auto (default: by port,\n"
	"                       25/587 smtp, 143 imap, 110 pop3, 21 ftp, 389 ldap,\n"
	"                       5432 postgres, 5222 xmpp), smtp, imap, pop3, ftp,\n"
	"                       ldap, postgres, xmpp or none; a server without it:\n"
	"                       error 'smtp: STARTTLS not offered' and a finding\n"
	"  --format FMT         table (default), json (one array), jsonl (one object\n"
	"                       per line as endpoints finish) or csv (RFC 4180: a\n"
	"                       header, one line per endpoint)\n"
	"  --progress WHEN      auto (default: when stderr is a terminal), always or\n"
	"                       never: one line on stderr with done/total, rate,\n"
	"                       ETA and findings so far\n"
	"  --fail-on SEV        exit 1 when a finding of SEV or worse exists:\n"
	"                       critical, high, medium or low\n"
	"  --save               record what was seen in the store: served chains into\n"
	"                       the inventory (source scan), endpoints and their\n"
	"                       observations; adds \"inventory\": {\"status\"} (known,\n"
	"                       unknown, drift, stale) and the findings\n"
	"                       inventory.unknown, .drift, .stale, .inconsistent\n"
	"  --rate N             at most N new connections per second (default: no\n"
	"                       limit besides --concurrency); each probe is one\n"
	"                       connection (all checks: up to 15 per endpoint)\n"
	"\n"
	"Examples:\n"
	"  aclm scan example.com\n"
	"  aclm scan mail.example.com --ports 25,587,465,993,143\n"
	"  aclm scan 10.0.0.0/24 --ports 443,8443 --sni www.example.com --format jsonl\n"
	"  aclm scan @hosts.txt --checks cert --fail-on high --format json >scan.json\n"
	"  aclm scan '[2001:db8::1]:8443' 127.0.0.1:4433 --ca-bundle my-root.pem\n"
	"  aclm scan 10.0.0.0/24 --save --format jsonl   # then: aclm cert list\n"
	"\n"
	"Exit status: 0 done (unreachable endpoints are results, not failures),\n"
	"1 --fail-on matched, an endpoint could not be saved (--save) or the scan\n"
	"could not run, 2 usage error.\n";

enum { OPT_PORTS = CLI_OPT_FIRST_COMMAND_OPT, OPT_SNI, OPT_CHECKS, OPT_CONCURRENCY, OPT_PER_IP,
       OPT_TIMEOUT, OPT_CA_BUNDLE, OPT_DNS_SERVER, OPT_EXPIRING, OPT_FORMAT, OPT_FAIL_ON,
       OPT_PROGRESS, OPT_SAVE, OPT_STARTTLS, OPT_RATE };

enum out_format { OUT_TABLE, OUT_JSON, OUT_JSONL, OUT_CSV };

#define PROGRESS_EVERY_NS 250000000LL /* at most 4 updates a second */

struct scan_out {
	enum out_format format;
	size_t count;
	int worst;                 /* highest severity seen, -1 none */
	bool progress;
	uint64_t total;            /* endpoints expected (names count once per port) */
	uint64_t findings;
	int64_t start_ns, last_ns; /* CLOCK_MONOTONIC */
	struct inventory *inv;     /* --save: where endpoints go, else NULL */
	int64_t started;           /* epoch s: this scan's observations are newer */
	size_t save_failed;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The progress line, rewritten in place with \r. */
static void progress_line(struct scan_out *out, bool final)
{
	int64_t now = mono_ns();
	double secs = (double)(now - out->start_ns) / 1e9, rate;
	char eta[32] = "-";

	if (!final && now - out->last_ns < PROGRESS_EVERY_NS)
		return;
	out->last_ns = now;
	rate = secs > 0 ? (double)out->count / secs : 0;
	if (rate > 0 && out->total > out->count) {
		uint64_t left = (uint64_t)((double)(out->total - out->count) / rate);

		snprintf(eta, sizeof(eta), "%llu:%02llu", (unsigned long long)(left / 60),
			 (unsigned long long)(left % 60));
	} else if (out->total <= out->count) {
		snprintf(eta, sizeof(eta), "0:00");
	}
	fprintf(stderr, "\rscan: %zu/%llu done, %.1f/s, ETA %s, %llu findings%s", out->count,
		(unsigned long long)out->total, rate, eta, (unsigned long long)out->findings,
		final ? "\n" : "");
	fflush(stderr);
}

/* RFC 4180 §2: a field with a comma, quote or line break is quoted, quotes
 * doubled. */
static void csv_field(const char *s, bool last)
{
	if (s == NULL)
		s = "";
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
	} else {
		putchar('"');
		for (; *s != '\0'; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	}
	fputs(last ? "\r\n" : ",", stdout);
}

/* The strings of a JSON array (of strings, or of objects' key) joined by sep. */
static void join_strings(const json_t *arr, const char *key, const char *sep, char *out, size_t n)
{
	size_t i, len = 0;
	json_t *v;

	out[0] = '\0';
	json_array_foreach(arr, i, v) {
		const char *s = key != NULL ? aclm_json_str(v, key) : json_string_value(v);
		int w = snprintf(out + len, n - len, "%s%s", i > 0 ? sep : "", s != NULL ? s : "");

		if (w < 0 || (size_t)w >= n - len)
			break;
		len += (size_t)w;
	}
}

static void print_csv(const json_t *ep)
{
	const json_t *leaf = json_array_get(json_object_get(ep, "chain"), 0);
	const json_t *pqc = json_object_get(ep, "pqc");
	char port[16], days[24] = "", vers[64], groups[512], ids[1024];

	snprintf(port, sizeof(port), "%lld", (long long)aclm_json_int(ep, "port", 0));
	if (leaf != NULL)
		snprintf(days, sizeof(days), "%lld", (long long)aclm_json_int(leaf, "days_left", 0));
	join_strings(json_object_get(ep, "tls_versions"), NULL, ";", vers, sizeof(vers));
	join_strings(json_object_get(pqc, "groups"), NULL, ";", groups, sizeof(groups));
	join_strings(json_object_get(ep, "findings"), "id", ";", ids, sizeof(ids));
	csv_field(aclm_json_str(ep, "host"), false);
	csv_field(aclm_json_str(ep, "ip"), false);
	csv_field(port, false);
	csv_field(aclm_json_str(ep, "sni"), false);
	csv_field(aclm_json_bool(ep, "reachable") ? "true" : "false", false);
	csv_field(vers, false);
	csv_field(aclm_json_str(ep, "cipher"), false);
	csv_field(aclm_json_str(ep, "group"), false);
	csv_field(leaf != NULL ? aclm_json_str(leaf, "common_name") : NULL, false);
	csv_field(leaf != NULL ? aclm_json_str(leaf, "not_after") : NULL, false);
	csv_field(days, false);
	csv_field(groups, false);
	csv_field(ids, true);
}

/* An unsigned option value in [lo, hi]; false when not. */
static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int worst_of(const json_t *findings, const char **id)
{
	int worst = -1;
	size_t i;
	json_t *f;

	json_array_foreach(findings, i, f) {
		int sev = scan_severity_parse(aclm_json_str(f, "severity"));

		if (sev > worst) {
			worst = sev;
			*id = aclm_json_str(f, "id");
		}
	}
	return worst;
}

static void print_row(const json_t *ep)
{
	const json_t *leaf = json_array_get(json_object_get(ep, "chain"), 0);
	const json_t *vers = json_object_get(ep, "tls_versions");
	const char *host = aclm_json_str(ep, "host"), *ip = aclm_json_str(ep, "ip");
	const char *cipher = aclm_json_str(ep, "cipher"), *group = aclm_json_str(ep, "group");
	const char *wid = NULL;
	char where[SCAN_HOST_MAX + 80], vs[32] = "", cg[160], days[24] = "-", worst[80] = "ok";
	int w = worst_of(json_object_get(ep, "findings"), &wid);
	size_t i;
	json_t *v;

	if (ip != NULL && strcmp(host, ip) != 0)
		snprintf(where, sizeof(where), "%s[%s]:%lld", host, ip, (long long)aclm_json_int(ep, "port", 0));
	else if (ip != NULL && strchr(ip, ':') != NULL)
		snprintf(where, sizeof(where), "[%s]:%lld", ip, (long long)aclm_json_int(ep, "port", 0));
	else
		snprintf(where, sizeof(where), "%s:%lld", host, (long long)aclm_json_int(ep, "port", 0));
	if (!aclm_json_bool(ep, "reachable")) {
		printf("%-36s unreachable: %s\n", where, aclm_json_str(ep, "error") != NULL ?
			       aclm_json_str(ep, "error") : "");
		return;
	}
	json_array_foreach(vers, i, v)
		snprintf(vs + strlen(vs), sizeof(vs) - strlen(vs), "%s%s", i > 0 ? "," : "",
			 json_string_value(v));
	snprintf(cg, sizeof(cg), "%s/%s", cipher != NULL ? cipher : "-", group != NULL ? group : "-");
	if (leaf != NULL)
		snprintf(days, sizeof(days), "%lld", (long long)aclm_json_int(leaf, "days_left", 0));
	if (w >= 0)
		snprintf(worst, sizeof(worst), "%s:%s", scan_severity_name((enum scan_severity)w),
			 wid != NULL ? wid : "?");
	printf("%-36s %-15s %-44s %-28s %6s  %s\n", where, vs[0] != '\0' ? vs : "-", cg,
	       leaf != NULL && aclm_json_str(leaf, "common_name") != NULL ?
		       aclm_json_str(leaf, "common_name") : "-",
	       days, aclm_json_str(ep, "error") != NULL && leaf == NULL ? aclm_json_str(ep, "error")
									 : worst);
}

/* --save: the endpoint into the store; the copy printed carries the
 * inventory status and findings. A failure is said once per endpoint and
 * makes the exit status 1, the scan goes on. */
static json_t *save_endpoint(struct scan_out *out, const json_t *ep)
{
	json_t *copy = json_deep_copy(ep);
	struct aclm_err e = { 0 };

	if (copy == NULL)
		return NULL;
	if (scan_save_endpoint(out->inv, 0, out->started, copy, &e) != ACLM_OK) {
		fprintf(stderr, "aclm: scan --save: %s\n", e.msg);
		out->save_failed++;
	}
	return copy;
}

static void on_endpoint(const json_t *found, void *arg)
{
	struct scan_out *out = arg;
	json_t *saved = out->inv != NULL ? save_endpoint(out, found) : NULL;
	const json_t *ep = saved != NULL ? saved : found;
	const char *id = NULL;
	int w = worst_of(json_object_get(ep, "findings"), &id);
	char *s;

	if (w > out->worst)
		out->worst = w;
	out->findings += json_array_size(json_object_get(ep, "findings"));
	switch (out->format) {
	case OUT_TABLE:
		print_row(ep);
		break;
	case OUT_JSONL:
		aclm_json_print(stdout, ep, false);
		break;
	case OUT_JSON:
		/* Streamed: "[" first, objects as they finish, "]" at the end. */
		s = json_dumps(ep, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s != NULL)
			printf("%s%s", out->count == 0 ? "[\n" : ",\n", s);
		free(s);
		break;
	case OUT_CSV:
		print_csv(ep);
		break;
	}
	out->count++;
	fflush(stdout);
	if (out->progress)
		progress_line(out, false);
	json_decref(saved);
}

struct scan_args {
	struct scan_run_opts o;
	const char *ports, *format, *fail_on, *progress;
	const char **snis;
	size_t nsnis;
	bool save;
};

static int parse_args(struct cli_ctx *ctx, int argc, char **argv, struct scan_args *a)
{
	static const struct option opts[] = {
		{ "ports", required_argument, NULL, OPT_PORTS },
		{ "sni", required_argument, NULL, OPT_SNI },
		{ "checks", required_argument, NULL, OPT_CHECKS },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "per-ip", required_argument, NULL, OPT_PER_IP },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "ca-bundle", required_argument, NULL, OPT_CA_BUNDLE },
		{ "dns-server", required_argument, NULL, OPT_DNS_SERVER },
		{ "expiring-days", required_argument, NULL, OPT_EXPIRING },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "starttls", required_argument, NULL, OPT_STARTTLS },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "save", no_argument, NULL, OPT_SAVE },
		CLI_GLOBAL_LONGOPTS
	};
	struct aclm_err err = { 0 };
	unsigned long v;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_PORTS: a->ports = optarg; break;
		case OPT_SNI: a->snis[a->nsnis++] = optarg; break;
		case OPT_CA_BUNDLE: a->o.ca_bundle = optarg; break;
		case OPT_DNS_SERVER: a->o.dns_server = optarg; break;
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_FAIL_ON: a->fail_on = optarg; break;
		case OPT_PROGRESS: a->progress = optarg; break;
		case OPT_SAVE: a->save = true; break;
		case OPT_STARTTLS:
			if (scan_starttls_parse(optarg, &a->o.starttls, &err) != ACLM_OK)
				return cli_usage_error(usage_scan, "%s", err.msg);
			break;
		case OPT_CHECKS:
			if (scan_checks_parse(optarg, &a->o.checks, &err) != ACLM_OK)
				return cli_usage_error(usage_scan, "%s", err.msg);
			break;
		case OPT_CONCURRENCY:
			if (!parse_uint(optarg, 1, 65536, &v))
				return cli_usage_error(usage_scan, "--concurrency %s: expected 1 to 65536", optarg);
			a->o.concurrency = (unsigned)v;
			break;
		case OPT_PER_IP:
			if (!parse_uint(optarg, 1, 65536, &v))
				return cli_usage_error(usage_scan, "--per-ip %s: expected 1 to 65536", optarg);
			a->o.per_ip = (unsigned)v;
			break;
		case OPT_TIMEOUT:
			if (!parse_uint(optarg, 1, 600000, &v))
				return cli_usage_error(usage_scan, "--timeout %s: expected milliseconds, 1 to 600000",
						       optarg);
			a->o.timeout_ms = (unsigned)v;
			break;
		case OPT_EXPIRING:
			if (!parse_uint(optarg, 0, 36500, &v))
				return cli_usage_error(usage_scan, "--expiring-days %s: expected 0 to 36500", optarg);
			a->o.expiring_days = (int64_t)v;
			break;
		case OPT_RATE:
			if (!parse_uint(optarg, 1, 1000000, &v))
				return cli_usage_error(usage_scan, "--rate %s: expected connections per second, "
						       "1 to 1000000", optarg);
			a->o.rate = (unsigned)v;
			break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_scan)) >= 0)
				return rc;
		}
	}
	if (!cli_format_ok(a->format, "table|json|jsonl|csv"))
		return cli_usage_error(usage_scan, "--format %s: expected table, json, jsonl or csv",
				       a->format);
	if (strcmp(a->progress, "auto") != 0 && strcmp(a->progress, "always") != 0 &&
	    strcmp(a->progress, "never") != 0)
		return cli_usage_error(usage_scan, "--progress %s: expected auto, always or never",
				       a->progress);
	if (a->fail_on != NULL && (scan_severity_parse(a->fail_on) < (int)SCAN_LOW))
		return cli_usage_error(usage_scan, "--fail-on %s: expected critical, high, medium or low",
				       a->fail_on);
	if (a->o.dns_server != NULL) {
		struct sockaddr_storage ss;
		int len = (int)sizeof(ss);

		if (evutil_parse_sockaddr_port(a->o.dns_server, (struct sockaddr *)&ss, &len) != 0)
			return cli_usage_error(usage_scan, "--dns-server %s: expected IP:PORT or [IPv6]:PORT",
					       a->o.dns_server);
	}
	if (optind >= argc)
		return cli_usage_error(usage_scan, "scan: give at least one TARGET");
	return -1;
}

int cli_cmd_scan(struct cli_ctx *ctx, int argc, char **argv)
{
	struct scan_args a = { .ports = "443", .format = "table", .progress = "auto" };
	struct scan_out out = { .worst = -1 };
	struct scan_ports ports;
	struct scan_targets *targets = NULL;
	struct aclm_err err = { 0 };
	aclm_status st;
	int rc;

	scan_run_opts_init(&a.o);
	a.snis = calloc((size_t)argc, sizeof(*a.snis));
	if (a.snis == NULL)
		return CLI_EXIT_FAIL;
	rc = parse_args(ctx, argc, argv, &a);
	if (rc >= 0)
		goto out;
	if ((a.save ? cli_open(ctx, &err) : cli_config_load(ctx, &err)) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	if (a.save) {
		a.o.keep_der = true;
		out.inv = &ctx->inv;
		out.started = aclm_time_now();
	}
	if (scan_ports_parse(a.ports, &ports, &err) != ACLM_OK) {
		rc = cli_usage_error(usage_scan, "--ports: %s", err.msg);
		goto out;
	}
	st = scan_targets_new((const char *const *)(argv + optind), (size_t)(argc - optind), &ports,
			      a.snis, a.nsnis, &targets, &err);
	if (st == ACLM_ERR_INVALID || st == ACLM_ERR_PARSE || st == ACLM_ERR_USAGE) {
		rc = cli_usage_error(usage_scan, "%s", err.msg);
		goto out;
	}
	if (st != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	out.format = strcmp(a.format, "json") == 0 ? OUT_JSON
		     : strcmp(a.format, "jsonl") == 0 ? OUT_JSONL
		     : strcmp(a.format, "csv") == 0 ? OUT_CSV : OUT_TABLE;
	out.progress = strcmp(a.progress, "always") == 0 ||
		       (strcmp(a.progress, "auto") == 0 && isatty(STDERR_FILENO));
	out.total = scan_targets_total(targets);
	out.start_ns = out.last_ns = mono_ns();
	if (out.format == OUT_TABLE)
		printf("%-36s %-15s %-44s %-28s %6s  %s\n", "ENDPOINT", "VERSIONS", "CIPHER/GROUP",
		       "LEAF CN", "DAYS", "WORST FINDING");
	else if (out.format == OUT_CSV)
		printf("host,ip,port,sni,reachable,tls_versions,cipher,group,leaf_cn,leaf_not_after,"
		       "days_left,pqc_groups,findings\r\n");
	st = scan_run(&a.o, targets, on_endpoint, &out, &err);
	if (out.progress)
		progress_line(&out, true);
	if (out.format == OUT_JSON)
		printf(out.count == 0 ? "[]\n" : "\n]\n");
	fflush(stdout);
	if (st != ACLM_OK)
		rc = cli_fail(&err);
	else if (out.save_failed > 0)
		rc = CLI_EXIT_FAIL; /* each failure was said as it happened */
	else if (a.fail_on != NULL && out.worst >= scan_severity_parse(a.fail_on))
		rc = CLI_EXIT_FAIL;
	else
		rc = CLI_EXIT_OK;
out:
	if (targets != NULL)
		scan_targets_free(targets);
	free(a.snis);
	return rc;
}
