/* The table of solvers and the one place that picks a solver for a
 * challenge; token and key authorization checks shared by the solvers; the
 * word splitter for hook commands. */
#include "solvers/solver.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "solvers/solver_int.h"

#define SOLVER_ALWAYS SIZE_MAX

/* In order of preference: the first entry that answers the type and whose
 * configuration field is set wins. Adding a solver = one line here. */
static const struct solver_choice {
	const struct solver_ops *ops;
	size_t needs;              /* offsetof a struct solver_config string, or SOLVER_ALWAYS */
} solver_table[] = {
	{ &solver_webroot_ops, offsetof(struct solver_config, webroot) },
	{ &solver_http_listen_ops, SOLVER_ALWAYS }, /* the default for http-01 */
	{ &solver_dns_hook_ops, offsetof(struct solver_config, dns_hook) },
	{ &solver_tls_alpn_ops, offsetof(struct solver_config, tlsalpn_listen) },
};

static const struct {
	const char *name;
	unsigned bit;
} solver_types[] = {
	{ "http-01", SOLVER_HTTP01 },
	{ "dns-01", SOLVER_DNS01 },
	{ "tls-alpn-01", SOLVER_TLSALPN01 },
};

static unsigned solver_type_bit(const char *type)
{
	for (size_t i = 0; i < sizeof(solver_types) / sizeof(solver_types[0]); i++) {
		if (strcmp(type, solver_types[i].name) == 0)
			return solver_types[i].bit;
	}
	return 0;
}

static bool solver_configured(const struct solver_config *cfg, size_t needs)
{
	const char *v;

	if (needs == SOLVER_ALWAYS)
		return true;
	if (cfg == NULL)
		return false;
	memcpy(&v, (const char *)cfg + needs, sizeof(v));
	return v != NULL && *v != '\0';
}

const struct solver_ops *solver_for(const char *type, const struct solver_config *cfg)
{
	unsigned bit = type != NULL ? solver_type_bit(type) : 0;

	for (size_t i = 0; bit != 0 && i < sizeof(solver_table) / sizeof(solver_table[0]); i++) {
		if ((solver_table[i].ops->types & bit) && solver_configured(cfg, solver_table[i].needs))
			return solver_table[i].ops;
	}
	return NULL;
}

static bool solver_b64url(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	}
	return true;
}

bool solver__token_valid(const char *token)
{
	return token != NULL && strlen(token) <= SOLVER__TOKEN_MAX &&
	       solver_b64url(token, strlen(token));
}

aclm_status solver__check_keyauth(const char *solver, const struct solver_challenge *ch,
				  struct aclm_err *err)
{
	const char *ka = ch->key_authorization;
	size_t tlen;

	if (!solver__token_valid(ch->token))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "%s: challenge token \"%.64s\" is not base64url (RFC 8555 §8.3)",
				    solver, ch->token != NULL ? ch->token : "");
	tlen = strlen(ch->token);
	if (ka == NULL || strlen(ka) > SOLVER__KEYAUTH_MAX || strncmp(ka, ch->token, tlen) != 0 ||
	    ka[tlen] != '.' || !solver_b64url(ka + tlen + 1, strlen(ka + tlen + 1)))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "%s: token %s: key authorization is not TOKEN.THUMBPRINT "
				    "(RFC 8555 §8.1)", solver, ch->token);
	return ACLM_OK;
}

/* ---- hook commands split into words (no shell, no expansion) ---- */

struct split {
	const char *cmd;
	size_t i;                  /* position in cmd */
	char *out;                 /* the words, each NUL-terminated */
	size_t olen;
	size_t words;
	bool inword;               /* a word has started (even an empty "") */
};

static bool split_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static void split_put(struct split *sp, char c)
{
	sp->out[sp->olen++] = c;
	sp->inword = true;
}

/* Inside "...", a backslash escapes only these (POSIX 2.2.3). */
static bool split_dq_escapable(char c)
{
	return c == '\\' || c == '"' || c == '$' || c == '`' || c == '\n';
}

/* From just after an opening quote q to just after its closing quote;
 * false when the quote does not close. */
static bool split_quoted(struct split *sp, char q)
{
	const char *c = sp->cmd;

	sp->inword = true;
	for (; c[sp->i] != '\0'; sp->i++) {
		if (c[sp->i] == q) {
			sp->i++;
			return true;
		}
		if (q == '"' && c[sp->i] == '\\' && split_dq_escapable(c[sp->i + 1])) {
			sp->i++;
			if (c[sp->i] != '\n') /* backslash-newline joins lines */
				split_put(sp, c[sp->i]);
			continue;
		}
		split_put(sp, c[sp->i]);
	}
	return false;
}

static void split_end_word(struct split *sp)
{
	if (!sp->inword)
		return;
	sp->out[sp->olen++] = '\0';
	sp->words++;
	sp->inword = false;
}

/* Fills sp->out; each word takes at most its own length plus a NUL, and
 * words are separated by at least one blank, so strlen(cmd) + 1 suffices. */
static aclm_status split_words(struct split *sp, struct aclm_err *err)
{
	const char *c = sp->cmd;
	size_t open;

	while (c[sp->i] != '\0') {
		if (split_blank(c[sp->i])) {
			split_end_word(sp);
			sp->i++;
		} else if (c[sp->i] == '\'' || c[sp->i] == '"') {
			open = sp->i++;
			if (!split_quoted(sp, c[open]))
				return aclm_err_set(err, ACLM_ERR_CONFIG, "command \"%.100s\": "
						    "unterminated %s quote opened at column %zu",
						    c, c[open] == '"' ? "double" : "single", open + 1);
		} else if (c[sp->i] == '\\') {
			if (c[sp->i + 1] == '\0')
				return aclm_err_set(err, ACLM_ERR_CONFIG, "command \"%.100s\": "
						    "trailing backslash at column %zu", c, sp->i + 1);
			if (c[sp->i + 1] != '\n')
				split_put(sp, c[sp->i + 1]);
			sp->i += 2;
		} else {
			split_put(sp, c[sp->i++]);
		}
	}
	split_end_word(sp);
	return ACLM_OK;
}

aclm_status solver__split_argv(const char *cmd, char ***argv, struct aclm_err *err)
{
	struct split sp = { .cmd = cmd };
	char **v = NULL, *w;
	aclm_status st;

	*argv = NULL;
	if (cmd == NULL || strlen(cmd) > SOLVER__CMD_MAX) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "command: missing or longer than %d bytes",
				  SOLVER__CMD_MAX);
		goto out;
	}
	sp.out = malloc(strlen(cmd) + 1);
	if (sp.out == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "command: out of memory");
		goto out;
	}
	st = split_words(&sp, err);
	if (st == ACLM_OK && sp.words == 0)
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "command \"%.100s\": no program named", cmd);
	if (st != ACLM_OK)
		goto out;
	v = calloc(sp.words + 1, sizeof(*v));
	if (v == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "command: out of memory");
		goto out;
	}
	w = sp.out; /* v[0] owns the block: solver__argv_free frees it */
	for (size_t k = 0; k < sp.words; k++, w += strlen(w) + 1)
		v[k] = w;
	sp.out = NULL;
	*argv = v;
out:
	free(sp.out);
	return st;
}

void solver__argv_free(char **argv)
{
	if (argv == NULL)
		return;
	free(argv[0]);
	free(argv);
}
