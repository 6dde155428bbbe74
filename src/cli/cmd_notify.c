/* aclm notify test, notify list: the alert channels from the command line
 * (notify/ sends; the configuration and the store hold the channels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cli/cli.h"
#include "core/encode.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "notify/notify.h"
#include "store/store_notify.h"

static const char usage_notify[] =
	"Usage: aclm notify test NAME [--format text|json]\n"
	"       aclm notify list [--format text|json]\n"
	"\n"
	"  test  sends a \"test\" message through channel NAME: the section [notify.NAME]\n"
	"        of the configuration (HOME/aclm.conf or --config FILE), or else the\n"
	"        tenant's stored channel NAME (added through the API). Exit 0 when the\n"
	"        channel accepted it; 1 with the channel's answer otherwise, e.g.\n"
	"        \"notify.ops: smtp://mail.example:587: Login denied (SMTP 535)\".\n"
	"  list  the channels with their type, where they come from (config or api)\n"
	"        and whether their parameters check out (nothing is sent).\n"
	"\n"
	"A channel in aclm.conf (types: email, webhook, slack, dingtalk, feishu, wecom,\n"
	"teams; secrets only as file paths):\n"
	"  [notify.ops]\n"
	"  type = webhook\n"
	"  url = https://hooks.example.org/aclm\n"
	"  secret_file = /etc/aclm/webhook.secret\n"
	"\n"
	"Example:\n"
	"  aclm notify test ops --config /etc/aclm/aclm.conf\n";

enum { OPT_FORMAT = CLI_OPT_FIRST_COMMAND_OPT };

static const struct option notify_opts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	CLI_GLOBAL_LONGOPTS
};

/* Parses the options after the subcommand; *name gets the one positional
 * argument when want_name. Returns -1 to go on, else an exit code. */
static int notify_parse(struct cli_ctx *ctx, int argc, char **argv, const char *sub,
			bool want_name, const char **format, const char **name)
{
	int c, rc;

	*format = "text";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, notify_opts, NULL)) != -1) {
		if (c == OPT_FORMAT) {
			*format = optarg;
			continue;
		}
		if ((rc = cli_common_opt(ctx, c, usage_notify)) >= 0)
			return rc;
	}
	if (!cli_format_ok(*format, "text|json"))
		return cli_usage_error(usage_notify, "--format %s: expected text or json", *format);
	if (want_name && optind < argc)
		*name = argv[optind++];
	if (optind < argc)
		return cli_usage_error(usage_notify, "notify %s: unexpected argument '%s'", sub,
				       argv[optind]);
	if (want_name && *name == NULL)
		return cli_usage_error(usage_notify, "notify %s: give a channel name", sub);
	return -1;
}

/* The channel NAME: from the configuration, else the tenant's store. */
struct found {
	struct notify_channel ch;
	json_t *params;
	struct store_notify_channel row;
	const char *origin;
};

static aclm_status notify_find(struct cli_ctx *ctx, const char *name, struct found *f,
			       struct aclm_err *err)
{
	aclm_status st = cli_config_load(ctx, err);
	json_error_t jerr;

	memset(f, 0, sizeof(*f));
	if (st == ACLM_OK)
		st = notify_config_channel(ctx->cfg, name, &f->ch, &f->params, err);
	if (st == ACLM_OK) {
		f->origin = "config";
		return ACLM_OK;
	}
	if (st != ACLM_ERR_NOTFOUND)
		return st;
	st = cli_open(ctx, err);
	if (st == ACLM_OK)
		st = store_notify_channel_get(ctx->store, ctx->inv.tenant_id, name, &f->row, err);
	if (st == ACLM_ERR_NOTFOUND)
		return aclm_err_set(err, ACLM_ERR_NOTFOUND,
				    "no channel %s: neither [notify.%s] in the configuration nor a "
				    "stored channel of tenant %s", name, name, ctx->tenant);
	if (st != ACLM_OK)
		return st;
	f->params = json_loads(f->row.params, 0, &jerr);
	if (f->params == NULL)
		return aclm_err_set(err, ACLM_ERR_PARSE, "stored channel %s: params: %s", name,
				    jerr.text);
	f->ch.name = f->row.name;
	f->ch.type = f->row.type;
	f->ch.params = f->params;
	f->origin = "api";
	return ACLM_OK;
}

static void found_free(struct found *f)
{
	json_decref(f->params);
	store_notify_channel_clear(&f->row);
}

static int test_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *format = NULL, *name = NULL;
	struct aclm_err err = { 0 };
	struct found f = { 0 };
	struct notify_message m = { 0 };
	struct notify_opts o = { 0 };
	unsigned char rnd[6];
	char id[64], host[128] = "", subject[256], text[512], rhex[13];
	aclm_status st;
	int rc = notify_parse(ctx, argc, argv, "test", true, &format, &name);

	if (rc >= 0)
		return rc;
	st = notify_find(ctx, name, &f, &err);
	if (st != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	aclm_hex_encode(rnd, sizeof(rnd), rhex);
	gethostname(host, sizeof(host) - 1);
	m.at = aclm_time_now();
	snprintf(id, sizeof(id), "test-%lld-%s", (long long)m.at, rhex);
	snprintf(subject, sizeof(subject), "aclm test message (notify.%s)", name);
	snprintf(text, sizeof(text),
		 "This is a test message from aclm on %s, sent by `aclm notify test %s`.\n"
		 "If you can read it, alerts reach this channel.", host[0] != '\0' ? host : "?",
		 name);
	m.event = "test";
	m.severity = "info";
	m.tenant = ctx->tenant;
	m.subject = subject;
	m.text = text;
	m.id = id;
	st = notify_send(&f.ch, &m, &o, &err);
	if (strcmp(format, "json") == 0) {
		json_t *j = json_pack("{s:s, s:s?, s:s, s:b, s:s}", "channel", name, "type", f.ch.type,
				      "origin", f.origin, "sent", st == ACLM_OK, "id", id);

		if (st != ACLM_OK) {
			aclm_json_set_str(j, "status", aclm_status_name(st));
			aclm_json_set_str(j, "error", err.msg);
		}
		aclm_json_print(stdout, j, true);
		json_decref(j);
	} else if (st == ACLM_OK) {
		printf("notify.%s: test message sent (%s, id %s)\n", name, f.ch.type, id);
	}
	rc = st == ACLM_OK ? CLI_EXIT_OK : cli_fail(&err);
out:
	found_free(&f);
	return rc;
}

/* One row of the list: name, type, origin, and the check's verdict. */
static json_t *list_row(const struct notify_channel *ch, const char *origin)
{
	struct aclm_err err = { 0 };
	aclm_status st = notify_check(ch, &err);

	return json_pack("{s:s, s:s?, s:s, s:b, s:s?}", "name", ch->name, "type", ch->type,
			 "origin", origin, "ok", st == ACLM_OK, "problem",
			 st == ACLM_OK ? NULL : err.msg);
}

static aclm_status list_stored(const struct store_notify_channel *c, void *arg)
{
	json_t *rows = arg, *params = json_loads(c->params, 0, NULL);
	struct notify_channel ch = { .name = c->name, .type = c->type, .params = params };

	json_array_append_new(rows, list_row(&ch, "api"));
	json_decref(params);
	return ACLM_OK;
}

static int list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *format = NULL, *inst;
	struct aclm_err err = { 0 };
	json_t *rows = json_array(), *row;
	size_t i;
	int rc = notify_parse(ctx, argc, argv, "list", false, &format, NULL);

	if (rc >= 0)
		goto out;
	if (cli_open(ctx, &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	for (i = 0; (inst = aclm_config_instance(ctx->cfg, "notify", i)) != NULL; i++) {
		struct notify_channel ch;
		json_t *params = NULL;

		if (notify_config_channel(ctx->cfg, inst, &ch, &params, &err) == ACLM_OK)
			json_array_append_new(rows, list_row(&ch, "config"));
		json_decref(params);
	}
	if (store_notify_channel_list(ctx->store, ctx->inv.tenant_id, "api", list_stored, rows,
				      &err) != ACLM_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	if (strcmp(format, "json") == 0) {
		aclm_json_print(stdout, rows, true);
	} else if (json_array_size(rows) == 0) {
		aclm_log_note("no channels: add a [notify.NAME] section to the configuration");
	} else {
		printf("%-20s %-9s %-7s %s\n", "NAME", "TYPE", "ORIGIN", "CHECK");
		json_array_foreach(rows, i, row)
			printf("%-20s %-9s %-7s %s\n", aclm_json_str(row, "name"),
			       aclm_json_str(row, "type") != NULL ? aclm_json_str(row, "type") : "-",
			       aclm_json_str(row, "origin"),
			       aclm_json_bool(row, "ok") ? "ok" : aclm_json_str(row, "problem"));
	}
	rc = CLI_EXIT_OK;
out:
	json_decref(rows);
	return rc;
}

int cli_cmd_notify(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cli_help(usage_notify);
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return test_cmd(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return list_cmd(ctx, argc - 1, argv + 1);
	return cli_usage_error(usage_notify, "notify: give a subcommand (test, list)");
}
