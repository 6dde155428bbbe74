/* deploy/: the files a target writes (cert, chain, fullchain, key, combined
 * PEM, PKCS#12): staged to temp names beside them with owner, group and
 * mode, renamed into place, and put back from what they held before. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "core/fs.h"
#include "core/json.h"
#include "crypto/cert.h"
#include "deploy/deploy_int.h"

/* A previous file larger than this is not one of ours: refuse to replace it. */
#define FILE_PREV_MAX (1u << 20)
#define FILES_MAX 7

enum file_kind { F_CERT, F_CHAIN, F_FULLCHAIN, F_KEY, F_COMBINED, F_P12, F_KINDS };
static const char *const kind_option[F_KINDS] = { "cert_path", "chain_path", "fullchain_path",
						  "key_path", "combined_path", "p12_path" };

struct file_ent {
	char *path, *tmp;
	bool secret;               /* holds the key: wiped, 0600 by default */
	bool had_prev, activated;
	unsigned char *prev;
	size_t prev_len;
	struct stat prev_st;
};

struct deploy__files {
	struct file_ent e[FILES_MAX];
	size_t n;
};

bool deploy__files_option(const char *key)
{
	static const char *const extra[] = { "owner", "group", "mode", "p12_password_file" };

	for (size_t i = 0; i < F_KINDS; i++)
		if (strcmp(key, kind_option[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (strcmp(key, extra[i]) == 0)
			return true;
	return false;
}

bool deploy__files_want_key(const json_t *options)
{
	return aclm_json_str(options, "key_path") != NULL ||
	       aclm_json_str(options, "combined_path") != NULL ||
	       aclm_json_str(options, "p12_path") != NULL;
}

static aclm_status parse_mode(const char *s, mode_t *out, struct aclm_err *err)
{
	char *end = NULL;
	long v = strtol(s, &end, 8);

	if (s[0] == '\0' || *end != '\0' || v < 0 || v > 07777)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "mode \"%s\": expected octal, e.g. 0640", s);
	*out = (mode_t)v;
	return ACLM_OK;
}

static aclm_status lookup_owner(const json_t *options, uid_t *uid, gid_t *gid, struct aclm_err *err)
{
	const char *owner = aclm_json_str(options, "owner"), *group = aclm_json_str(options, "group");
	char *end = NULL;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (owner != NULL) {
		struct passwd pwbuf, *pw = NULL;
		char buf[4096];
		unsigned long v = strtoul(owner, &end, 10);

		/* _r: stage runs in the engine's worker threads. */
		if (getpwnam_r(owner, &pwbuf, buf, sizeof(buf), &pw) != 0)
			pw = NULL;
		if (pw != NULL)
			*uid = pw->pw_uid;
		else if (owner[0] != '\0' && *end == '\0')
			*uid = (uid_t)v;
		else
			return aclm_err_set(err, ACLM_ERR_CONFIG, "owner \"%s\": no such user", owner);
	}
	if (group != NULL) {
		struct group grbuf, *gr = NULL;
		char buf[4096];
		unsigned long v = strtoul(group, &end, 10);

		if (getgrnam_r(group, &grbuf, buf, sizeof(buf), &gr) != 0)
			gr = NULL;
		if (gr != NULL)
			*gid = gr->gr_gid;
		else if (group[0] != '\0' && *end == '\0')
			*gid = (gid_t)v;
		else
			return aclm_err_set(err, ACLM_ERR_CONFIG, "group \"%s\": no such group", group);
	}
	return ACLM_OK;
}

aclm_status deploy__files_check(const json_t *options, bool allow_none, struct aclm_err *err)
{
	size_t paths = 0;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	const char *m = aclm_json_str(options, "mode"), *pw = aclm_json_str(options, "p12_password_file");
	aclm_status st = lookup_owner(options, &uid, &gid, err);

	if (st == ACLM_OK && m != NULL)
		st = parse_mode(m, &mode, err);
	for (size_t i = 0; st == ACLM_OK && i < F_KINDS; i++) {
		const char *p = aclm_json_str(options, kind_option[i]);
		char *copy;

		if (p == NULL)
			continue;
		paths++;
		if (p[0] != '/') {
			st = aclm_err_set(err, ACLM_ERR_CONFIG, "%s \"%s\": give an absolute path",
					  kind_option[i], p);
			break;
		}
		copy = strdup(p);
		if (copy == NULL)
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		else if (!aclm_fs_is_dir(dirname(copy)))
			st = aclm_err_set(err, ACLM_ERR_CONFIG, "%s \"%s\": no directory %s",
					  kind_option[i], p, copy);
		free(copy);
	}
	if (st == ACLM_OK && pw != NULL && access(pw, R_OK) != 0)
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "p12_password_file \"%s\": %s", pw,
				  strerror(errno));
	if (st == ACLM_OK && paths == 0 && !allow_none)
		st = aclm_err_set(err, ACLM_ERR_CONFIG,
				  "no file to write: give --cert-path, --fullchain-path, --key-path, "
				  "--combined-path or --p12-path");
	return st;
}

char *deploy__combined_pem(const struct deploy_material *m)
{
	size_t a = strlen(m->fullchain_pem), b = m->key_pem != NULL ? strlen(m->key_pem) : 0;
	char *out = malloc(a + b + 2);

	if (out == NULL)
		return NULL;
	memcpy(out, m->fullchain_pem, a);
	if (a > 0 && m->fullchain_pem[a - 1] != '\n')
		out[a++] = '\n';
	if (b > 0)
		memcpy(out + a, m->key_pem, b);
	out[a + b] = '\0';
	return out;
}

/* Reads what path holds now (capped), for restore. */
static aclm_status read_prev(struct file_ent *e, struct aclm_err *err)
{
	int fd = open(e->path, O_RDONLY | O_CLOEXEC);
	aclm_status st = ACLM_OK;
	ssize_t r;
	size_t got = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return ACLM_OK;
		return aclm_err_set(err, ACLM_ERR_IO, "%s: %s", e->path, strerror(errno));
	}
	if (fstat(fd, &e->prev_st) != 0 || !S_ISREG(e->prev_st.st_mode)) {
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: not a regular file", e->path);
		goto out;
	}
	if ((size_t)e->prev_st.st_size > FILE_PREV_MAX) {
		st = aclm_err_set(err, ACLM_ERR_TOOBIG, "%s: larger than %u bytes: not replacing it",
				  e->path, FILE_PREV_MAX);
		goto out;
	}
	e->prev = malloc((size_t)e->prev_st.st_size + 1);
	if (e->prev == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (got < (size_t)e->prev_st.st_size &&
	       (r = read(fd, e->prev + got, (size_t)e->prev_st.st_size - got)) > 0)
		got += (size_t)r;
	e->prev[got] = '\0';
	e->prev_len = got;
	e->had_prev = true;
out:
	close(fd);
	return st;
}

/* Writes data to a new temp file beside path with mode and owner, fsynced;
 * *tmp names it. */
static aclm_status write_temp(const char *path, const void *data, size_t len, mode_t mode,
			      uid_t uid, gid_t gid, char **tmp, struct aclm_err *err)
{
	size_t n = strlen(path) + 16, done = 0;
	char *name = malloc(n);
	aclm_status st = ACLM_OK;
	int fd = -1;

	*tmp = NULL;
	if (name == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	snprintf(name, n, "%s.aclm-XXXXXX", path);
	fd = mkostemp(name, O_CLOEXEC);
	if (fd < 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "cannot write %s: %s", path, strerror(errno));
		free(name);
		return st;
	}
	while (done < len) {
		ssize_t w = write(fd, (const char *)data + done, len - done);

		if (w <= 0) {
			st = aclm_err_set(err, ACLM_ERR_IO, "cannot write %s: %s", name, strerror(errno));
			goto out;
		}
		done += (size_t)w;
	}
	if (fchmod(fd, mode) != 0 || ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) != 0))
		st = aclm_err_set(err, ACLM_ERR_IO, "%s: cannot set owner or mode: %s", path,
				  strerror(errno));
	else if (fsync(fd) != 0)
		st = aclm_err_set(err, ACLM_ERR_IO, "cannot write %s: %s", name, strerror(errno));
out:
	close(fd);
	if (st != ACLM_OK) {
		unlink(name);
		free(name);
	} else {
		*tmp = name;
	}
	return st;
}

static void sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd = copy != NULL ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* The PKCS#12 of m (key and chain), password from p12_password_file or "". */
static aclm_status make_p12(const json_t *options, const struct deploy_material *m,
			    unsigned char **out, size_t *len, struct aclm_err *err)
{
	BIO *b = NULL;
	X509 *leaf = NULL, *x = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	EVP_PKEY *key = NULL;
	char pw[256] = "";
	const char *pwfile = aclm_json_str(options, "p12_password_file");
	aclm_status st = ACLM_OK;

	if (chain == NULL || m->key_pem == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INTERNAL, "p12_path: no key or chain");
		goto out;
	}
	if (pwfile != NULL) {
		FILE *f = fopen(pwfile, "re");

		if (f == NULL || fgets(pw, sizeof(pw), f) == NULL) {
			st = aclm_err_set(err, ACLM_ERR_IO, "p12_password_file %s: cannot read it", pwfile);
			if (f != NULL)
				fclose(f);
			goto out;
		}
		fclose(f);
		pw[strcspn(pw, "\r\n")] = '\0';
	}
	b = BIO_new_mem_buf(m->cert_pem, -1);
	leaf = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	b = BIO_new_mem_buf(m->chain_pem, -1);
	while (b != NULL && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(chain, x))
			X509_free(x);
	BIO_free(b);
	b = BIO_new_mem_buf(m->key_pem, -1);
	key = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	if (leaf == NULL || key == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "p12_path: cannot read the certificate or key");
		goto out;
	}
	st = crypto_pkcs12_create(leaf, chain, key, pw, out, len, err);
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	BIO_free(b);
	X509_free(leaf);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return st;
}

/* What kind k holds; *data malloc'd (or OPENSSL_malloc'd for p12: freed by
 * the caller with OPENSSL_clear_free). */
static aclm_status content(enum file_kind k, const json_t *options, const struct deploy_material *m,
			   unsigned char **data, size_t *len, struct aclm_err *err)
{
	const char *text = NULL;
	char *combined = NULL;

	switch (k) {
	case F_CERT: text = m->cert_pem; break;
	case F_CHAIN: text = m->chain_pem; break;
	case F_FULLCHAIN: text = m->fullchain_pem; break;
	case F_KEY: text = m->key_pem; break;
	case F_COMBINED:
		if (m->key_pem == NULL)
			return aclm_err_set(err, ACLM_ERR_INTERNAL, "combined_path: no key loaded");
		combined = deploy__combined_pem(m);
		text = combined;
		break;
	case F_P12: return make_p12(options, m, data, len, err);
	default: break;
	}
	if (text == NULL)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "%s: no key loaded", kind_option[k]);
	*len = strlen(text);
	*data = OPENSSL_malloc(*len + 1);
	if (*data != NULL)
		memcpy(*data, text, *len + 1);
	if (combined != NULL)
		OPENSSL_clear_free(combined, *len + 1);
	return *data != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
}

static aclm_status stage_one(struct deploy__files *f, enum file_kind k, const char *path,
			     const json_t *options, const struct deploy_material *m, mode_t mode,
			     bool mode_given, uid_t uid, gid_t gid, struct aclm_err *err)
{
	struct file_ent *e = &f->e[f->n];
	unsigned char *data = NULL;
	size_t len = 0;
	aclm_status st;

	memset(e, 0, sizeof(*e));
	e->secret = k == F_KEY || k == F_COMBINED || k == F_P12;
	e->path = strdup(path);
	if (e->path == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	f->n++;
	st = read_prev(e, err);
	/* Unless told otherwise, a replaced file keeps its owner and group and,
	 * when it holds no key, its mode (the server was set up to read it);
	 * files with the key are 0600 unless --mode says else. */
	if (!mode_given)
		mode = e->secret ? 0600 : e->had_prev ? e->prev_st.st_mode & 07777 : 0644;
	if (e->had_prev && uid == (uid_t)-1)
		uid = e->prev_st.st_uid;
	if (e->had_prev && gid == (gid_t)-1)
		gid = e->prev_st.st_gid;
	if (st == ACLM_OK)
		st = content(k, options, m, &data, &len, err);
	if (st == ACLM_OK)
		st = write_temp(path, data, len, mode, uid, gid, &e->tmp, err);
	OPENSSL_clear_free(data, len + 1);
	return st;
}

aclm_status deploy__files_stage(const json_t *options, const struct deploy_material *m,
				const char *combined_override, struct deploy__files **out,
				struct aclm_err *err)
{
	struct deploy__files *f = calloc(1, sizeof(*f));
	const char *ms = aclm_json_str(options, "mode");
	mode_t mode = 0;
	uid_t uid;
	gid_t gid;
	aclm_status st = f == NULL ? aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory")
				   : lookup_owner(options, &uid, &gid, err);

	if (st == ACLM_OK && ms != NULL)
		st = parse_mode(ms, &mode, err);
	for (int k = 0; st == ACLM_OK && k < F_KINDS; k++) {
		const char *p = aclm_json_str(options, kind_option[k]);

		if (k == F_COMBINED && combined_override != NULL && p == NULL)
			p = combined_override;
		if (p != NULL)
			st = stage_one(f, (enum file_kind)k, p, options, m, mode, ms != NULL, uid, gid,
				       err);
	}
	if (st != ACLM_OK) {
		deploy__files_free(f);
		f = NULL;
	}
	*out = f;
	return st;
}

aclm_status deploy__files_activate(struct deploy__files *f, struct aclm_err *err)
{
	for (size_t i = 0; i < f->n; i++) {
		struct file_ent *e = &f->e[i];

		if (rename(e->tmp, e->path) != 0)
			return aclm_err_set(err, ACLM_ERR_IO, "cannot rename %s to %s: %s", e->tmp,
					    e->path, strerror(errno));
		free(e->tmp);
		e->tmp = NULL;
		e->activated = true;
		sync_dir_of(e->path);
	}
	return ACLM_OK;
}

aclm_status deploy__files_restore(struct deploy__files *f, struct aclm_err *err)
{
	aclm_status st = ACLM_OK, one;

	for (size_t i = 0; f != NULL && i < f->n; i++) {
		struct file_ent *e = &f->e[i];
		char *tmp = NULL;

		if (!e->activated)
			continue;
		if (!e->had_prev) {
			one = unlink(e->path) == 0 || errno == ENOENT
				      ? ACLM_OK
				      : aclm_err_set(err, ACLM_ERR_IO, "cannot remove %s: %s", e->path,
						     strerror(errno));
		} else {
			one = write_temp(e->path, e->prev, e->prev_len, e->prev_st.st_mode & 07777,
					 e->prev_st.st_uid, e->prev_st.st_gid, &tmp, err);
			if (one == ACLM_OK && rename(tmp, e->path) != 0) {
				one = aclm_err_set(err, ACLM_ERR_IO, "cannot restore %s: %s", e->path,
						   strerror(errno));
				unlink(tmp);
			}
			free(tmp);
		}
		if (one == ACLM_OK) {
			e->activated = false;
			sync_dir_of(e->path);
		} else if (st == ACLM_OK) {
			st = one;
		}
	}
	return st;
}

const char *deploy__files_previous(const struct deploy__files *f, const char *path, size_t *len)
{
	for (size_t i = 0; f != NULL && i < f->n; i++)
		if (strcmp(f->e[i].path, path) == 0 && f->e[i].had_prev) {
			*len = f->e[i].prev_len;
			return (const char *)f->e[i].prev;
		}
	return NULL;
}

void deploy__files_detail(const struct deploy__files *f, json_t *detail)
{
	json_t *a = json_array();

	for (size_t i = 0; f != NULL && a != NULL && i < f->n; i++)
		json_array_append_new(a, json_string(f->e[i].path));
	aclm_json_set_new(detail, "files", a);
}

void deploy__files_free(struct deploy__files *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++) {
		struct file_ent *e = &f->e[i];

		if (e->tmp != NULL)
			unlink(e->tmp);
		free(e->tmp);
		free(e->path);
		if (e->prev != NULL)
			OPENSSL_cleanse(e->prev, e->prev_len);
		free(e->prev);
	}
	free(f);
}
