/* deploy/: pushing a certificate to where it is served, and proving it.
 * One ops table per target type (file, nginx, apache, haproxy, ssh,
 * webhook), one file each; the engine runs every deploy as stage ->
 * activate -> verify (a TLS probe must see the deployed leaf, by
 * fingerprint) -> on failure roll back to the previous certificate and
 * verify again. Targets deploy concurrently; one failure never blocks the
 * others; each result goes to the store and the audit log. */
#ifndef ACLM_DEPLOY_H
#define ACLM_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/status.h"
#include "inventory/inventory.h"

/* What is deployed: PEM text owned by the engine for the whole deploy. The
 * key is NULL unless the target type needs it (needs_key) and is wiped
 * after the deploy. */
struct deploy_material {
	int64_t cert_id;
	const char *lineage;       /* or NULL */
	char fingerprint[65];      /* SHA-256 of the leaf DER, lowercase hex */
	const char *cert_pem;      /* the leaf */
	const char *chain_pem;     /* intermediates, may be "" */
	const char *fullchain_pem; /* leaf + intermediates */
	const char *key_pem;       /* PKCS#8 PEM, or NULL */
	const unsigned char *leaf_der;
	size_t leaf_der_len;
};

/* A target as stored: options is the type's object (paths, commands,
 * socket, host, url, ...), verify an array of "HOST:PORT[/SNI]". */
struct deploy_target {
	int64_t id;
	int64_t tenant_id;
	const char *name;
	const char *type;
	const json_t *options;
	const json_t *verify;
};

/* The state a type keeps between its steps of one deploy (e.g. the
 * previous files to restore). Allocated by stage, freed by release. */
struct deploy_step_ctx {
	const struct deploy_target *target;
	const struct deploy_material *m;
	/* Added: the certificate the target held before (the last one deployed
	 * to it), without key, for types that can only roll back by sending
	 * it again (webhook); NULL when unknown. */
	const struct deploy_material *previous;
	bool dry_run;
	void *state;
	json_t *detail;            /* object: what the type did, recorded with the result */
};

struct deploy_type_ops {
	const char *name;
	bool needs_key;
	/* Checks options at `target add` (unknown or missing option, bad path,
	 * unreadable secret file): ACLM_ERR_CONFIG naming the option. */
	aclm_status (*check)(const json_t *options, struct aclm_err *err);
	/* Puts the new material in place without making it live when the type
	 * can (temp files, upload), keeping what rollback needs. */
	aclm_status (*stage)(struct deploy_step_ctx *c, struct aclm_err *err);
	/* Makes it live (rename into place, config test, reload, runtime API). */
	aclm_status (*activate)(struct deploy_step_ctx *c, struct aclm_err *err);
	/* Puts the previous material back and makes it live again. */
	aclm_status (*rollback)(struct deploy_step_ctx *c, struct aclm_err *err);
	void (*release)(struct deploy_step_ctx *c);
	/* Added: whether these options need the private key (NULL: needs_key
	 * decides). A file target without key, combined or p12 path gets no key. */
	bool (*wants_key)(const json_t *options);
};

/* The registered types (deploy.c holds the one list). NULL when unknown. */
const struct deploy_type_ops *deploy_type_find(const char *name);
/* "file|nginx|apache|haproxy|ssh|webhook" */
extern const char deploy_type_names[];

/* Connects to "HOST:PORT[/SNI]" and fetches the served leaf's SHA-256
 * fingerprint (lowercase hex) within timeout_ms. */
aclm_status deploy_probe(const char *spec, long timeout_ms, char fingerprint[65],
			 struct aclm_err *err);

/* Added: checks the syntax of a verify endpoint "HOST:PORT[/SNI]"
 * (ACLM_ERR_CONFIG), for `target add`. */
aclm_status deploy_verify_check(const char *spec, struct aclm_err *err);

/* ---- the engine ---- */

/* Default time a verify endpoint gets to serve the deployed leaf (a reload
 * is asynchronous: the probe is repeated until this passes). */
#define DEPLOY_VERIFY_TIMEOUT_MS 10000L
/* Deploys in parallel at most. */
#define DEPLOY_WORKERS_MAX 64

struct deploy_opts {
	bool dry_run;              /* check targets and material, change nothing */
	long verify_timeout_ms;    /* 0: DEPLOY_VERIFY_TIMEOUT_MS */
	int workers;               /* 0: min(targets, DEPLOY_WORKERS_MAX) */
};

/* Deploys the certificate named by ref (an inventory id, a fingerprint
 * prefix, or a lineage name: its current certificate) to the named targets,
 * concurrently. *results (caller frees) is an array with one object per
 * target, in the order given: {"target", "type", "state"
 * ("deployed"|"rolled_back"|"failed"|"dry_run"), "fingerprint",
 * "served_fingerprint" (or null), "error" (or null), "previous_fingerprint"
 * (the certificate last deployed there, when known), "detail", "ms"}.
 * One target's failure does not stop the others: the return is ACLM_OK
 * when every target was deployed (or checked, dry_run), ACLM_ERR_VERIFY
 * when any failed (err says how many and the first; each result says why),
 * and a failure to load the certificate fails the whole call with no
 * results (*results NULL). The key is loaded only when a target writes it;
 * a key missing from the keystore fails those targets only.
 * Each result is recorded in the store (deployments) and the audit log. */
aclm_status deploy_run(struct inventory *inv, const char *ref, const char *const *targets,
		       size_t ntargets, const struct deploy_opts *opts, json_t **results,
		       struct aclm_err *err);

/* After a renewal: deploys the lineage's current certificate to the targets
 * bound to it (aclm bind). No bindings: ACLM_OK with an empty array. */
aclm_status deploy_lineage(struct inventory *inv, const char *lineage, json_t **results,
			   struct aclm_err *err);

#endif
