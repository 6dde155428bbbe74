/* The batch file of `aclm issue --batch` (docs/CLI.md): one certificate per
 * line, names and name=/key-type=/challenge=/profile=/tlcp= options, '#' comments; parsed
 * from memory into client_batch_jobs (the CLI only reads the file). */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define BATCH_MAX_WORDS 256
#define BATCH_MAX_PROFILE 64       /* profile names are short words (classic, shortlived) */

struct batch_parse {
	const char *file;
	int line;
	const char *def_key_types, *def_challenge;
	struct client_batch_job *jobs;
	size_t njobs, cap;
};

/* What a line says besides its names. */
struct line_opts {
	const char *lineage, *key_types, *challenge, *profile;
	bool tlcp;
};

static aclm_status add_job(struct batch_parse *p, char **names, size_t n, const char *lineage,
			   enum crypto_key_type kt, const struct line_opts *lo, struct aclm_err *err)
{
	struct client_batch_job *j;

	if (p->njobs == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 64;
		struct client_batch_job *nj = realloc(p->jobs, ncap * sizeof(*nj));

		if (nj == NULL)
			return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		p->jobs = nj;
		p->cap = ncap;
	}
	j = &p->jobs[p->njobs];
	memset(j, 0, sizeof(*j));
	j->names = calloc(n, sizeof(*j->names));
	j->lineage = strdup(lineage);
	j->challenge = strdup(lo->challenge);
	j->profile = lo->profile != NULL ? strdup(lo->profile) : NULL;
	if (j->names == NULL || j->lineage == NULL || j->challenge == NULL ||
	    (lo->profile != NULL && j->profile == NULL))
		goto nomem;
	for (; j->nnames < n; j->nnames++)
		if ((j->names[j->nnames] = strdup(names[j->nnames])) == NULL)
			goto nomem;
	j->key_type = kt;
	j->tlcp = lo->tlcp && kt == CRYPTO_KEY_SM2;
	p->njobs++;
	return ACLM_OK;
nomem:
	client_batch_job_free(j);
	return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
}

/* A profile name goes into JSON and error messages: a short word of
 * letters, digits, '-', '_' and '.' (the directory decides the rest). */
static bool profile_name_ok(const char *v)
{
	size_t n = strlen(v);

	return n > 0 && n <= BATCH_MAX_PROFILE &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* name=, key-type=, challenge=, profile=, tlcp=. */
static aclm_status line_option(struct batch_parse *p, const char *word, struct line_opts *lo,
			       struct aclm_err *err)
{
	const char *v = strchr(word, '=') + 1;

	if (strncmp(word, "name=", 5) == 0) {
		if (!client_lineage_name_ok(v))
			return aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: name=%s: not a lineage name "
					    "(one path component, no '/')", p->file, p->line, v);
		lo->lineage = v;
	} else if (strncmp(word, "key-type=", 9) == 0) {
		lo->key_types = v;
	} else if (strncmp(word, "challenge=", 10) == 0) {
		lo->challenge = v;
	} else if (strncmp(word, "profile=", 8) == 0) {
		if (!profile_name_ok(v))
			return aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: profile=%.80s: not a profile "
					    "name (1 to %d letters, digits, '-', '_', '.')", p->file,
					    p->line, v, BATCH_MAX_PROFILE);
		lo->profile = v;
	} else if (strncmp(word, "tlcp=", 5) == 0) {
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			return aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: tlcp=%.20s: say yes or no",
					    p->file, p->line, v);
		lo->tlcp = strcmp(v, "yes") == 0;
	} else {
		return aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: unknown option \"%s\" (name=, key-type=, "
				    "challenge=, profile=, tlcp=)", p->file, p->line, word);
	}
	return ACLM_OK;
}

/* One job per key type: the first gets LINEAGE, the others LINEAGE-TYPE. */
static aclm_status add_jobs(struct batch_parse *p, char **names, size_t nn,
			    const struct line_opts *lo, struct aclm_err *err)
{
	char base[256], lin[300], *kts = NULL, *save = NULL;
	size_t nkt = 0;
	bool has_sm2 = false;
	aclm_status st = ACLM_OK;

	client_default_lineage(lo->lineage != NULL ? lo->lineage : names[0], base, sizeof(base));
	kts = strdup(lo->key_types);
	if (kts == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (char *t = strtok_r(kts, ",", &save); t != NULL && st == ACLM_OK;
	     t = strtok_r(NULL, ",", &save), nkt++) {
		int kt = crypto_key_type_parse(t);

		if (kt < 0) {
			st = aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: key-type %s: unknown", p->file,
					  p->line, t);
			break;
		}
		if (!crypto_key_type_for_certs((enum crypto_key_type)kt)) {
			st = aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: key-type %s: for account keys "
					  "only (--account-key-type), not certificates", p->file,
					  p->line, t);
			break;
		}
		has_sm2 |= kt == CRYPTO_KEY_SM2;
		snprintf(lin, sizeof(lin), nkt == 0 ? "%s" : "%s-%s", base,
			 crypto_key_type_name((enum crypto_key_type)kt));
		st = add_job(p, names, nn, lin, (enum crypto_key_type)kt, lo, err);
	}
	if (st == ACLM_OK && nkt == 0)
		st = aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: no key type", p->file, p->line);
	if (st == ACLM_OK && lo->tlcp && !has_sm2)
		st = aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: tlcp=yes needs key-type sm2 on the line "
				  "(key types: %s)", p->file, p->line, lo->key_types);
	free(kts);
	return st;
}

static aclm_status parse_line(struct batch_parse *p, char *line, struct aclm_err *err)
{
	char *words[BATCH_MAX_WORDS], *names[BATCH_MAX_WORDS], *save = NULL;
	struct line_opts lo = { .key_types = p->def_key_types, .challenge = p->def_challenge };
	size_t nw = 0, nn = 0;
	aclm_status st = ACLM_OK;

	for (char *w = strtok_r(line, " \t\r", &save); w != NULL; w = strtok_r(NULL, " \t\r", &save)) {
		if (w[0] == '#')
			break;
		if (nw == BATCH_MAX_WORDS)
			return aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: too many words", p->file, p->line);
		words[nw++] = w;
	}
	for (size_t i = 0; i < nw && st == ACLM_OK; i++) {
		bool ip;

		if (strchr(words[i], '=') != NULL) {
			st = line_option(p, words[i], &lo, err);
			continue;
		}
		st = client_normalise_name(words[i], &names[nn], &ip, err);
		if (st == ACLM_OK)
			nn++;
		else
			aclm_err_prefix(err, "%s:%d", p->file, p->line);
	}
	if (st == ACLM_OK && nw > 0 && nn == 0)
		st = aclm_err_set(err, ACLM_ERR_USAGE, "%s:%d: no name on the line", p->file, p->line);
	if (st == ACLM_OK && nn > 0)
		st = add_jobs(p, names, nn, &lo, err);
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	return st;
}

aclm_status client_batch_parse_text(const char *name, char *text, const char *key_types,
				    const char *challenge, struct client_batch_job **jobs,
				    size_t *njobs, struct aclm_err *err)
{
	struct batch_parse p = { .file = name, .def_key_types = key_types,
				 .def_challenge = challenge };
	aclm_status st = ACLM_OK;

	*jobs = NULL;
	*njobs = 0;
	/* strtok_r would merge empty lines and lose line numbers: split by hand. */
	for (char *l = text; l != NULL && st == ACLM_OK;) {
		char *nl = strchr(l, '\n');

		if (nl != NULL)
			*nl = '\0';
		p.line++;
		st = parse_line(&p, l, err);
		l = nl != NULL ? nl + 1 : NULL;
	}
	if (st == ACLM_OK && p.njobs == 0)
		st = aclm_err_set(err, ACLM_ERR_USAGE, "%s: no certificates listed", name);
	if (st != ACLM_OK) {
		for (size_t i = 0; i < p.njobs; i++)
			client_batch_job_free(&p.jobs[i]);
		free(p.jobs);
		return st;
	}
	*jobs = p.jobs;
	*njobs = p.njobs;
	return ACLM_OK;
}
