/* aclm jobs list|run|retry, aclm alerts list: the scheduler's job table and
 * alerts from the command line (sched/ does the work). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "sched/sched.h"
#include "store/store_sched.h"

static const char usage_jobs[] =
	"Usage: aclm jobs list [--state queued|running|done|dead] [--limit N] [--format text|json]\n"
	"       aclm jobs run [--once] [--workers N] [--lease SECONDS]\n"
	"       aclm jobs retry ID\n"
	"\n"
	"The scheduler's durable job table: renewals of lineages when they are due\n"
	"(the CA's ARI window, or [renew] remaining_fraction of the lifetime left, plus a\n"
	"jitter stable per lineage), notifications of alerts to [alerts] channels, and\n"
	"[scan.NAME] scans every interval. A job is claimed with a lease; a worker that\n"
	"dies leaves it to be claimed again once the lease expires. A failed job is\n"
	"retried after 30 s, 1 min, 2 min ... (at most 6 h, +-20 %); after [sched]\n"
	"max_attempts it is dead and alerts job_dead.\n"
	"\n"
	"  list    the tenant's jobs, newest first\n"
	"  run     plans and runs jobs in the foreground until SIGTERM or SIGINT (what\n"
	"          `aclm serve` does in the background); --once: one planner pass, then\n"
	"          every job due now, and exit (cron, or no daemon at all)\n"
	"  retry   puts a dead job back in the queue, attempts reset\n"
	"\n"
	"Options:\n"
	"  --workers N       job threads (default [sched] workers, 2)\n"
	"  --lease SECONDS   lease of a claimed job (default [sched] lease_s, 300)\n"
	"\n"
	"Examples:\n"
	"  aclm jobs run --once\n"
	"  aclm jobs list --state dead\n";

static const char usage_alerts[] =
	"Usage: aclm alerts list [--limit N] [--format text|json]\n"
	"\n"
	"The tenant's alerts, newest first. Each fires once: per certificate and\n"
	"threshold for expiry (daily below 3 days), once when overdue (past its renewal\n"
	"point without a successor), per certificate for renew_failed and deploy_failed,\n"
	"per job for job_dead, per certificate for unknown_cert (found by a scan). A\n"
	"new alert is sent to every [alerts] channels entry by a notify job.\n";

enum { OPT_STATE = CLI_OPT_FIRST_COMMAND_OPT, OPT_LIMIT, OPT_FORMAT, OPT_ONCE, OPT_WORKERS,
       OPT_LEASE };

static const struct option jobs_opts[] = {
	{ "state", required_argument, NULL, OPT_STATE },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "lease", required_argument, NULL, OPT_LEASE },
	CLI_GLOBAL_LONGOPTS
};

struct jobs_args {
	const char *state, *format;
	long limit, workers, lease;
	bool once;
};

/* A positive number within [1, max], or -1. */
static long number(const char *s, long max)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	return end != s && *end == '\0' && v >= 1 && v <= max ? v : -1;
}

/* Parses the options; `allowed` names the ones this subcommand takes.
 * Returns -1 to go on, else an exit code. */
static int jobs_parse(struct cli_ctx *ctx, int argc, char **argv, const char *usage,
		      const char *sub, const char *allowed, struct jobs_args *a)
{
	int c, rc;

	a->format = "text";
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, jobs_opts, NULL)) != -1) {
		const char *name = "";

		for (size_t i = 0; jobs_opts[i].name != NULL; i++)
			if (jobs_opts[i].val == c)
				name = jobs_opts[i].name;
		if (c >= CLI_OPT_FIRST_COMMAND_OPT && strstr(allowed, name) == NULL)
			return cli_usage_error(usage, "%s: --%s does not apply", sub, name);
		switch (c) {
		case OPT_STATE: a->state = optarg; break;
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_ONCE: a->once = true; break;
		case OPT_LIMIT:
			if ((a->limit = number(optarg, 1000000)) < 0)
				return cli_usage_error(usage, "--limit %s: a number from 1", optarg);
			break;
		case OPT_WORKERS:
			if ((a->workers = number(optarg, 32)) < 0)
				return cli_usage_error(usage, "--workers %s: 1 to 32", optarg);
			break;
		case OPT_LEASE:
			if ((a->lease = number(optarg, 86400)) < 2)
				return cli_usage_error(usage, "--lease %s: 2 to 86400 seconds", optarg);
			break;
		default:
			if ((rc = cli_common_opt(ctx, c, usage)) >= 0)
				return rc;
		}
	}
	if (!cli_format_ok(a->format, "text|json"))
		return cli_usage_error(usage, "--format %s: expected text or json", a->format);
	if (a->state != NULL && !cli_format_ok(a->state, "queued|running|done|dead"))
		return cli_usage_error(usage, "--state %s: queued, running, done or dead", a->state);
	return -1;
}

static json_t *job_json(const struct store_job *j)
{
	char run_at[ACLM_TIME_RFC3339_LEN], updated[ACLM_TIME_RFC3339_LEN];

	return json_pack("{s:I, s:s, s:s?, s:s, s:s, s:i, s:i, s:s?, s:s?, s:O?, s:O?, s:s}", "id",
			 (json_int_t)j->id, "kind", j->kind, "key", j->key, "state", j->state,
			 "run_at", aclm_time_fmt(j->run_at, run_at), "attempts", j->attempts,
			 "max_attempts", j->max_attempts, "lease_owner", j->lease_owner,
			 "last_error", j->last_error, "payload", j->payload, "result", j->result,
			 "updated_at", aclm_time_fmt(j->updated_at, updated));
}

struct list_out {
	bool json;
	json_t *arr;
};

static aclm_status print_job(const struct store_job *j, void *arg)
{
	struct list_out *o = arg;
	char run_at[ACLM_TIME_RFC3339_LEN];

	if (o->json)
		return json_array_append_new(o->arr, job_json(j)) == 0 ? ACLM_OK : ACLM_ERR_NOMEM;
	printf("%-6lld %-7s %-8s %3d/%-3d %-20s %-32s %s\n", (long long)j->id, j->kind, j->state,
	       j->attempts, j->max_attempts, aclm_time_fmt(j->run_at, run_at),
	       j->key != NULL ? j->key : "-", j->last_error != NULL ? j->last_error : "");
	return ACLM_OK;
}

static int jobs_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct jobs_args a = { 0 };
	struct list_out o = { 0 };
	struct aclm_err err = { 0 };
	int rc = jobs_parse(ctx, argc, argv, usage_jobs, "jobs list", "state limit format", &a);

	if (rc >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(usage_jobs, "jobs list: unexpected argument '%s'", argv[optind]);
	if (cli_open(ctx, &err) != ACLM_OK)
		return cli_fail(&err);
	o.json = strcmp(a.format, "json") == 0;
	o.arr = json_array();
	if (!o.json)
		printf("%-6s %-7s %-8s %-7s %-20s %-32s %s\n", "ID", "KIND", "STATE", "TRIES",
		       "RUN AT", "KEY", "LAST ERROR");
	if (store_job_list(ctx->store, ctx->inv.tenant_id, a.state, a.limit, print_job, &o, &err) !=
	    ACLM_OK)
		rc = cli_fail(&err);
	else if (o.json)
		rc = aclm_json_print(stdout, o.arr, true) == ACLM_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	else
		rc = CLI_EXIT_OK;
	json_decref(o.arr);
	return rc;
}

/* Foreground: the scheduler's threads until SIGTERM or SIGINT. The
 * signals are blocked before the threads start, so that only sigwait here
 * receives them. */
static aclm_status run_foreground(struct sched *s, struct aclm_err *err)
{
	sigset_t set;
	int sig = 0;
	aclm_status st;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	st = sched_start(s, err);
	if (st != ACLM_OK)
		return st;
	sigwait(&set, &sig);
	log_info("jobs run: signal %d, stopping after the running jobs", sig);
	sched_stop(s);
	return ACLM_OK;
}

static int jobs_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct jobs_args a = { 0 };
	struct aclm_err err = { 0 };
	struct sched *s = NULL;
	struct sched_opts o = { 0 };
	int rc = jobs_parse(ctx, argc, argv, usage_jobs, "jobs run", "once workers lease", &a);
	int ran = 0;

	if (rc >= 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(usage_jobs, "jobs run: unexpected argument '%s'", argv[optind]);
	if (cli_open(ctx, &err) != ACLM_OK || sched_config_check(ctx->cfg, &err) != ACLM_OK)
		return cli_fail(&err);
	o.home = ctx->home;
	o.db = aclm_config_get(ctx->cfg, "store", "db");
	o.cfg = ctx->cfg;
	o.workers = (int)a.workers;
	o.lease_s = a.lease;
	if (sched_new(&o, &s, &err) != ACLM_OK)
		return cli_fail(&err);
	if (a.once && sched_run_once(s, &ran, &err) == ACLM_OK) {
		printf("%d job%s run\n", ran, ran == 1 ? "" : "s");
		rc = CLI_EXIT_OK;
	} else if (!a.once && run_foreground(s, &err) == ACLM_OK) {
		rc = CLI_EXIT_OK;
	} else {
		rc = cli_fail(&err);
	}
	sched_free(s);
	return rc;
}

static int jobs_retry(struct cli_ctx *ctx, int argc, char **argv)
{
	struct jobs_args a = { 0 };
	struct aclm_err err = { 0 };
	int rc = jobs_parse(ctx, argc, argv, usage_jobs, "jobs retry", "", &a);
	long id;

	if (rc >= 0)
		return rc;
	if (optind + 1 != argc || (id = number(argv[optind], 0x7fffffffL)) < 0)
		return cli_usage_error(usage_jobs, "jobs retry: give one job id");
	if (cli_open(ctx, &err) != ACLM_OK ||
	    store_job_retry(ctx->store, ctx->inv.tenant_id, id, aclm_time_now(), &err) != ACLM_OK)
		return cli_fail(&err);
	{
		json_t *detail = json_pack("{s:I}", "job", (json_int_t)id);

		inventory_audit(&ctx->inv, "job.retry", argv[optind], detail, NULL);
		json_decref(detail);
	}
	printf("job %ld queued again\n", id);
	return CLI_EXIT_OK;
}

int cli_cmd_jobs(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(usage_jobs, "jobs: give list, run or retry");
	if (strcmp(argv[1], "list") == 0)
		return jobs_list(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return jobs_run(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "retry") == 0)
		return jobs_retry(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(usage_jobs);
	return cli_usage_error(usage_jobs, "jobs: unknown subcommand '%s'", argv[1]);
}

static aclm_status print_alert(const struct store_alert *al, void *arg)
{
	struct list_out *o = arg;
	char at[ACLM_TIME_RFC3339_LEN];

	aclm_time_fmt(al->created_at, at);
	if (o->json)
		return json_array_append_new(
			       o->arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:O?, s:s}", "id",
						 (json_int_t)al->id, "kind", al->kind, "object",
						 al->object, "dedupe", al->dedupe, "severity",
						 al->severity, "message", al->message, "detail",
						 al->detail, "created_at", at)) == 0
			       ? ACLM_OK
			       : ACLM_ERR_NOMEM;
	printf("%-6lld %-20s %-8s %-13s %s\n", (long long)al->id, at, al->severity, al->kind,
	       al->message);
	return ACLM_OK;
}

int cli_cmd_alerts(struct cli_ctx *ctx, int argc, char **argv)
{
	struct jobs_args a = { 0 };
	struct list_out o = { 0 };
	struct aclm_err err = { 0 };
	int rc;

	if (argc < 2 || strcmp(argv[1], "list") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
			return cli_help(usage_alerts);
		return cli_usage_error(usage_alerts, "alerts: the subcommand is list");
	}
	rc = jobs_parse(ctx, argc - 1, argv + 1, usage_alerts, "alerts list", "limit format", &a);
	if (rc >= 0)
		return rc;
	if (optind < argc - 1)
		return cli_usage_error(usage_alerts, "alerts list: unexpected argument '%s'",
				       argv[optind + 1]);
	if (cli_open(ctx, &err) != ACLM_OK)
		return cli_fail(&err);
	o.json = strcmp(a.format, "json") == 0;
	o.arr = json_array();
	if (!o.json)
		printf("%-6s %-20s %-8s %-13s %s\n", "ID", "RAISED", "SEVERITY", "KIND", "MESSAGE");
	if (store_alert_list(ctx->store, ctx->inv.tenant_id, a.limit, print_alert, &o, &err) !=
	    ACLM_OK)
		rc = cli_fail(&err);
	else if (o.json)
		rc = aclm_json_print(stdout, o.arr, true) == ACLM_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	else
		rc = CLI_EXIT_OK;
	json_decref(o.arr);
	return rc;
}
