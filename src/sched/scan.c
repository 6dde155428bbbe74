/* The "scan" job: runs the scan engine on a [scan.NAME]'s targets and
 * ports (payload {"scan": NAME}) or on a stored scan definition made by the
 * API (payload {"scan_id": ID}), saves each endpoint into the inventory
 * (scan --save) under one scan_runs row, and raises "unknown_cert" for a
 * certificate the inventory did not hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "scan/scan.h"
#include "sched/sched_int.h"

#define SCAN_WORDS_MAX 256

struct scan_job {
	struct sched__ctx *c;
	const char *name;
	int64_t started, run_id;
	int64_t endpoints, reachable, findings, unknown, save_failed;
};

static void on_endpoint(const json_t *found, void *arg)
{
	struct scan_job *sj = arg;
	json_t *ep = json_deep_copy(found);
	struct aclm_err e = { 0 };
	const json_t *inv;

	sj->endpoints++;
	if (aclm_json_bool(found, "reachable"))
		sj->reachable++;
	if (ep == NULL ||
	    scan_save_endpoint(&sj->c->inv, sj->run_id, sj->started, ep, &e) != ACLM_OK) {
		log_warn("scan %s: save: %s", sj->name, e.msg);
		sj->save_failed++;
		json_decref(ep);
		return;
	}
	sj->findings += (int64_t)json_array_size(json_object_get(ep, "findings"));
	inv = json_object_get(ep, "inventory");
	if (strcmp(aclm_json_str(inv, "status") ?: "", "unknown") == 0) {
		char object[40], dedupe[8] = "new";
		json_t *detail = json_pack("{s:s, s:s?, s:I, s:I}", "scan", sj->name, "host",
					   aclm_json_str(ep, "host"), "port",
					   (json_int_t)aclm_json_int(ep, "port", 0), "cert_id",
					   (json_int_t)aclm_json_int(inv, "cert_id", 0));

		sj->unknown++;
		snprintf(object, sizeof(object), "cert:%lld", (long long)aclm_json_int(inv, "cert_id", 0));
		if (sched__alert(sj->c, "unknown_cert", object, dedupe, "medium", detail, &e,
				 "scan %s found a certificate the inventory did not hold at %s:%lld",
				 sj->name, aclm_json_str(ep, "host") ?: "?",
				 (long long)aclm_json_int(ep, "port", 0)) != ACLM_OK)
			log_warn("scan %s: %s", sj->name, e.msg);
		json_decref(detail);
	}
	json_decref(ep);
}

/* What to scan, from a [scan.NAME] section or a stored definition. */
struct scan_spec {
	const char *name;
	struct store_scandef *def;  /* the stored one, or NULL */
	char *targets;              /* the section's text, split into words */
	const char *words[SCAN_WORDS_MAX];
	size_t n;
	const char *ports, *sni, *checks;
	int64_t interval;
	char section[160];
};

/* Splits "a, b,c" into words (in buf). */
static size_t split(char *buf, const char **words, size_t max)
{
	size_t n = 0;

	for (char *tok = strtok(buf, ", "); tok != NULL && n < max; tok = strtok(NULL, ", "))
		words[n++] = tok;
	return n;
}

static aclm_status spec_from_config(struct sched__ctx *c, const char *name, struct scan_spec *sp,
				    struct aclm_err *err)
{
	const char *v;

	sp->name = name;
	snprintf(sp->section, sizeof(sp->section), "scan.%s", name);
	v = aclm_config_get(c->cfg, sp->section, "targets");
	if (v == NULL || (sp->targets = strdup(v)) == NULL)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "[%s]: no targets (section removed?)",
				    sp->section);
	sp->n = split(sp->targets, sp->words, SCAN_WORDS_MAX);
	sp->ports = aclm_config_get(c->cfg, sp->section, "ports");
	sp->sni = aclm_config_get(c->cfg, sp->section, "sni");
	sp->checks = aclm_config_get(c->cfg, sp->section, "checks");
	v = aclm_config_get(c->cfg, sp->section, "interval");
	if (v != NULL && aclm_duration_parse(v, &sp->interval) != ACLM_OK)
		sp->interval = 0;
	return ACLM_OK;
}

/* A definition of the job's tenant (the API validated it when storing). */
static aclm_status spec_from_store(struct sched__ctx *c, int64_t id, struct scan_spec *sp,
				   struct aclm_err *err)
{
	aclm_status st = store_scandef_get(c->store, c->inv.tenant_id, id, NULL, &sp->def, err);
	size_t i;
	json_t *v;

	if (st != ACLM_OK)
		return st;
	sp->name = sp->def->name;
	json_array_foreach(sp->def->targets, i, v)
		if (json_string_value(v) != NULL && sp->n < SCAN_WORDS_MAX)
			sp->words[sp->n++] = json_string_value(v);
	sp->ports = aclm_json_str(sp->def->options, "ports");
	sp->sni = aclm_json_str(sp->def->options, "sni");
	sp->checks = aclm_json_str(sp->def->options, "checks");
	sp->interval = sp->def->interval_s;
	return ACLM_OK;
}

/* The [scan.NAME] section as a scans row (origin "config"), unless the
 * definition is stored already, and a new scan_runs row for this job. */
static aclm_status run_begin(struct scan_job *sj, const struct scan_spec *sp, struct aclm_err *err)
{
	struct store_scandef d = { .tenant_id = sj->c->inv.tenant_id, .name = (char *)sj->name,
				   .interval_s = sp->interval, .origin = "config" };
	int64_t scan_id = sp->def != NULL ? sp->def->id : 0;
	aclm_status st = ACLM_OK;

	if (sp->def == NULL) {
		d.targets = json_array();
		d.options = json_pack("{s:s?, s:s?, s:s?}", "ports", sp->ports, "sni", sp->sni,
				      "checks", sp->checks);
		for (size_t i = 0; d.targets != NULL && i < sp->n; i++)
			json_array_append_new(d.targets, json_string(sp->words[i]));
		st = d.targets != NULL && d.options != NULL
			     ? store_scandef_put(sj->c->store, &d, sj->started, &scan_id, err)
			     : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	}
	if (st == ACLM_OK)
		st = store_scanrun_start(sj->c->store, sj->c->inv.tenant_id, scan_id, sj->started,
					 &sj->run_id, err);
	json_decref(d.targets);
	json_decref(d.options);
	return st;
}

/* Records how the run ended (a failure to record is only logged: the
 * job's own state says what happened). */
static void run_end(struct scan_job *sj, aclm_status st, const struct aclm_err *err)
{
	struct store_scanrun r = {
		.id = sj->run_id, .tenant_id = sj->c->inv.tenant_id,
		.state = st == ACLM_OK ? "done" : "failed", .finished_at = aclm_time_now(),
		.endpoints = sj->endpoints, .reachable = sj->reachable, .findings = sj->findings,
		.error = st == ACLM_OK ? NULL : (char *)err->msg,
	};
	struct aclm_err e = { 0 };

	if (sj->run_id == 0)
		return;
	r.summary = json_pack("{s:I, s:I}", "unknown", (json_int_t)sj->unknown, "save_failed",
			      (json_int_t)sj->save_failed);
	if (store_scanrun_finish(sj->c->store, &r, &e) != ACLM_OK)
		log_warn("scan %s: %s", sj->name, e.msg);
	json_decref(r.summary);
}

aclm_status sched__scan_run(struct sched__ctx *c, const struct store_job *j, json_t **result,
			    struct aclm_err *err)
{
	const char *name = aclm_json_str(j->payload, "scan");
	int64_t scan_id = aclm_json_int(j->payload, "scan_id", 0);
	struct scan_spec sp = { 0 };
	struct scan_job sj = { .c = c, .started = aclm_time_now() };
	struct scan_run_opts o;
	struct scan_ports ports;
	struct scan_targets *t = NULL;
	const char *snis[1];
	size_t nsni = 0;
	aclm_status st;

	*result = NULL;
	if (name == NULL && scan_id <= 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "scan job without a scan name or id");
	st = scan_id > 0 ? spec_from_store(c, scan_id, &sp, err)
			 : spec_from_config(c, name, &sp, err);
	if (st != ACLM_OK)
		goto out;
	sj.name = sp.name;
	scan_run_opts_init(&o);
	o.keep_der = true;
	if (sp.sni != NULL && sp.sni[0] != '\0')
		snis[nsni++] = sp.sni;
	st = scan_ports_parse(sp.ports != NULL && sp.ports[0] != '\0' ? sp.ports : "443", &ports,
			      err);
	if (st == ACLM_OK && sp.checks != NULL && sp.checks[0] != '\0')
		st = scan_checks_parse(sp.checks, &o.checks, err);
	if (st == ACLM_OK)
		st = scan_targets_new(sp.words, sp.n, &ports, nsni > 0 ? snis : NULL, nsni, &t, err);
	if (st == ACLM_OK)
		st = run_begin(&sj, &sp, err);
	if (st == ACLM_OK) {
		st = scan_run(&o, t, on_endpoint, &sj, err);
		run_end(&sj, st, err);
	}
	if (st == ACLM_OK)
		*result = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "scan", sp.name, "run",
				    (json_int_t)sj.run_id, "endpoints", (json_int_t)sj.endpoints,
				    "reachable", (json_int_t)sj.reachable, "findings",
				    (json_int_t)sj.findings, "unknown", (json_int_t)sj.unknown,
				    "save_failed", (json_int_t)sj.save_failed);
out:
	scan_targets_free(t);
	free(sp.targets);
	store_scandef_free(sp.def);
	return st;
}
