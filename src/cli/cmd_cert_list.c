/* aclm cert list */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/time.h"

static const char usage_list[] =
	"Usage: aclm cert list [OPTIONS]\n"
	"\n"
	"Lists the certificates of the tenant, by id; with --expiring, by expiry.\n"
	"\n"
	"Options:\n"
	"  --expiring DAYS        valid now and expiring within DAYS\n"
	"  --expired              already expired\n"
	"  --issuer TEXT          issuer DN contains TEXT (case-insensitive)\n"
	"  --key-type TYPE        rsa, ec, sm2 or ed25519\n"
	"  --search TEXT          common name, SANs, subject or fingerprint contain TEXT\n"
	"  --limit N              at most N rows\n"
	"  --format table|json|csv  (default table)\n"
	"\n"
	"Examples:\n"
	"  aclm cert list --expiring 30\n"
	"  aclm cert list --key-type sm2 --format json\n";

enum list_format { LIST_TABLE, LIST_JSON, LIST_CSV };

struct list_out {
	struct cli_ctx *ctx;
	enum list_format fmt;
	int64_t now;
	size_t rows;
};

/* The CN of a DN string "CN=x,O=y" (RFC 4514), or the whole DN. */
static void dn_cn(const char *dn, char *out, size_t outlen)
{
	const char *p = dn != NULL ? strstr(dn, "CN=") : NULL;
	size_t n = 0;

	if (p == NULL) {
		snprintf(out, outlen, "%s", dn != NULL ? dn : "");
		return;
	}
	for (p += 3; *p != '\0' && n + 1 < outlen; p++) {
		if (*p == '\\' && p[1] != '\0') {
			out[n++] = *++p;
			continue;
		}
		if (*p == ',' || *p == '+')
			break;
		out[n++] = *p;
	}
	out[n] = '\0';
}

static const char *display_name(const json_t *o)
{
	const char *cn = aclm_json_str(o, "common_name");
	json_t *sans = json_object_get(o, "sans");

	if (cn != NULL)
		return cn;
	if (json_array_size(json_object_get(sans, "dns")) > 0)
		return json_string_value(json_array_get(json_object_get(sans, "dns"), 0));
	if (json_array_size(json_object_get(sans, "ip")) > 0)
		return json_string_value(json_array_get(json_object_get(sans, "ip"), 0));
	return "-";
}

static void key_label(const json_t *o, char *out, size_t outlen)
{
	json_t *k = json_object_get(o, "key");
	const char *type = aclm_json_str(k, "type"), *curve = aclm_json_str(k, "curve");

	if (curve != NULL && strcmp(type, "sm2") != 0)
		snprintf(out, outlen, "%s", curve);
	else if (type != NULL && strcmp(type, "rsa") == 0)
		snprintf(out, outlen, "RSA-%lld", (long long)aclm_json_int(k, "bits", 0));
	else
		snprintf(out, outlen, "%s", type != NULL ? type : "?");
}

static void csv_field(const char *s, bool last)
{
	bool quote = s != NULL && strpbrk(s, ",\"\n\r") != NULL;

	if (quote) {
		putchar('"');
		for (const char *p = s; *p != '\0'; p++) {
			if (*p == '"')
				putchar('"');
			putchar(*p);
		}
		putchar('"');
	} else if (s != NULL) {
		fputs(s, stdout);
	}
	putchar(last ? '\n' : ',');
}

static void print_csv(const json_t *o)
{
	json_t *sans = json_object_get(o, "sans"), *v;
	char num[32], bits[16], *all = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&all, &len);

	json_array_foreach(json_object_get(sans, "dns"), i, v)
		fprintf(m, "%s%s", ftell(m) > 0 ? " " : "", json_string_value(v));
	json_array_foreach(json_object_get(sans, "ip"), i, v)
		fprintf(m, "%s%s", ftell(m) > 0 ? " " : "", json_string_value(v));
	fclose(m);
	snprintf(num, sizeof(num), "%lld", (long long)aclm_json_int(o, "days_left", 0));
	snprintf(bits, sizeof(bits), "%lld",
		 (long long)aclm_json_int(json_object_get(o, "key"), "bits", 0));
	csv_field(aclm_json_str(o, "id"), false);
	csv_field(aclm_json_str(o, "fingerprint_sha256"), false);
	csv_field(aclm_json_str(o, "common_name"), false);
	csv_field(all, false);
	csv_field(aclm_json_str(o, "issuer"), false);
	csv_field(aclm_json_str(o, "not_before"), false);
	csv_field(aclm_json_str(o, "not_after"), false);
	csv_field(num, false);
	csv_field(aclm_json_str(json_object_get(o, "key"), "type"), false);
	csv_field(bits, false);
	csv_field(aclm_json_str(o, "signature_algorithm"), false);
	csv_field(aclm_json_str(o, "source"), false);
	csv_field(aclm_json_str(o, "owner"), true);
	free(all);
}

static aclm_status print_row(const struct store_cert *c, void *arg)
{
	struct list_out *out = arg;
	json_t *o = inventory_cert_json(&out->ctx->inv, c, out->now);
	char key[32], issuer[48], expires[16];

	if (o == NULL)
		return ACLM_ERR_NOMEM;
	if (out->fmt == LIST_JSON) {
		fputs(out->rows == 0 ? "[\n" : ",\n", stdout);
		json_dumpf(o, stdout, JSON_COMPACT);
	} else if (out->fmt == LIST_CSV) {
		print_csv(o);
	} else {
		key_label(o, key, sizeof(key));
		dn_cn(aclm_json_str(o, "issuer"), issuer, sizeof(issuer));
		snprintf(expires, sizeof(expires), "%.10s", aclm_json_str(o, "not_after"));
		printf("%-8s %-10s %6lld  %-8s %-40s %s\n", aclm_json_str(o, "id"), expires,
		       (long long)aclm_json_int(o, "days_left", 0), key, display_name(o), issuer);
	}
	out->rows++;
	json_decref(o);
	return ACLM_OK;
}

static bool parse_count(const char *s, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

int cli_cert_list(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_EXPIRING = CLI_OPT_FIRST_COMMAND_OPT, OPT_EXPIRED, OPT_ISSUER, OPT_KEY_TYPE,
	       OPT_SEARCH, OPT_LIMIT, OPT_FORMAT };
	static const struct option opts[] = {
		{ "expiring", required_argument, NULL, OPT_EXPIRING },
		{ "expired", no_argument, NULL, OPT_EXPIRED },
		{ "issuer", required_argument, NULL, OPT_ISSUER },
		{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
		{ "search", required_argument, NULL, OPT_SEARCH },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_GLOBAL_LONGOPTS
	};
	struct store_cert_filter f = { 0 };
	struct list_out out = { .ctx = ctx };
	struct aclm_err err = { 0 };
	const char *format = "table";
	int64_t days = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_EXPIRING:
			if (!parse_count(optarg, 36500, &days))
				return cli_usage_error(usage_list, "--expiring %s: expected days (0-36500)",
						       optarg);
			f.expiring_within = days * 86400;
			f.by_expiry = true;
			if (days == 0)
				f.expiring_within = 1; /* "expiring today": within the next second */
			break;
		case OPT_EXPIRED: f.expired = true; break;
		case OPT_ISSUER: f.issuer = optarg; break;
		case OPT_SEARCH: f.search = optarg; break;
		case OPT_KEY_TYPE:
			if (!cli_format_ok(optarg, "rsa|ec|sm2|ed25519"))
				return cli_usage_error(usage_list,
						       "--key-type %s: expected rsa, ec, sm2 or ed25519",
						       optarg);
			f.key_type = optarg;
			break;
		case OPT_LIMIT:
			if (!parse_count(optarg, INT64_MAX, &f.limit) || f.limit == 0)
				return cli_usage_error(usage_list, "--limit %s: expected a positive number",
						       optarg);
			break;
		case OPT_FORMAT: format = optarg; break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage_list)) >= 0)
				return rc;
		}
	}
	if (!cli_format_ok(format, "table|json|csv"))
		return cli_usage_error(usage_list, "--format %s: expected table, json or csv", format);
	if (optind < argc)
		return cli_usage_error(usage_list, "cert list: unexpected argument '%s'", argv[optind]);
	out.fmt = strcmp(format, "json") == 0 ? LIST_JSON : strcmp(format, "csv") == 0 ? LIST_CSV
										   : LIST_TABLE;
	if (cli_open(ctx, &err) != ACLM_OK)
		return cli_fail(&err);
	f.tenant_id = ctx->inv.tenant_id;
	f.now = out.now = aclm_time_now();
	if (out.fmt == LIST_TABLE)
		printf("%-8s %-10s %6s  %-8s %-40s %s\n", "ID", "EXPIRES", "DAYS", "KEY", "NAME",
		       "ISSUER");
	else if (out.fmt == LIST_CSV)
		puts("id,fingerprint_sha256,common_name,sans,issuer,not_before,not_after,days_left,"
		     "key_type,key_bits,signature_algorithm,source,owner");
	if (store_cert_list(ctx->store, &f, print_row, &out, &err) != ACLM_OK) {
		if (out.fmt == LIST_JSON && out.rows > 0)
			fputs("\n]\n", stdout);
		return cli_fail(&err);
	}
	if (out.fmt == LIST_JSON)
		fputs(out.rows == 0 ? "[]\n" : "\n]\n", stdout);
	return CLI_EXIT_OK;
}
