/* The ssh target type: libssh session (host key checked against
 * known_hosts, optional jump host), files uploaded over SFTP to temp names
 * and moved into place, remote reload command, rollback from the previous
 * remote files kept in memory. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "deploy/deploy_int.h"

#define SSH_PREV_MAX (1024 * 1024)  /* a previous remote file kept for rollback */
#define SSH_OUT_MAX 4096            /* reload command output kept for the error */
#define SSH_TIMEOUT_DEFAULT_S 30
#define SSH_TIMEOUT_MAX_S 3600
#define SSH_TMP_SUFFIX ".aclm-tmp"
#define SSH_PATH_MAX 1024
#define SSH_NAME_MAX 256

enum ssh_file { F_CERT, F_CHAIN, F_FULLCHAIN, F_KEY, F_COMBINED, F_COUNT };

static const char *const ssh_path_opts[F_COUNT] = {
	"cert_path", "chain_path", "fullchain_path", "key_path", "combined_path",
};

static const char *const ssh_known_opts[] = {
	"host", "port", "user", "identity", "known_hosts", "jump", "cert_path", "chain_path",
	"fullchain_path", "key_path", "combined_path", "mode", "reload_cmd",
	"trust_unknown_host", "timeout",
};

struct ssh_endpoint {
	char user[SSH_NAME_MAX];   /* "" = libssh's default (the local user) */
	char host[SSH_NAME_MAX];
	int port;
};

struct ssh_opts {
	struct ssh_endpoint dest;
	struct ssh_endpoint jump;
	bool has_jump;
	const char *identity;      /* NULL: agent and ~/.ssh keys */
	const char *known_hosts;
	const char *paths[F_COUNT];
	const char *reload_cmd;
	int mode;                  /* -1: 0644, and 0600 for key and combined */
	bool trust_unknown;
	long timeout_s;
};

/* The jump host: a second session whose direct-tcpip channel is pumped to
 * one end of a socketpair; the target session runs over the other end. */
struct ssh_jump {
	ssh_session s;
	ssh_channel ch;
	int fd[2];
	struct stat fd0;           /* identifies fd[0] (see jump_close) */
	pthread_t thread;
	bool running;
	atomic_int stop;
};

struct ssh_remote {
	const char *path;
	char tmp[SSH_PATH_MAX + sizeof(SSH_TMP_SUFFIX)];
	struct aclm_buf data;      /* new content (secret when it holds the key) */
	mode_t mode;
	struct aclm_buf prev;      /* previous content, when prev_exists */
	mode_t prev_mode;
	bool prev_exists;
	bool tmp_written;
};

struct ssh_state {
	struct ssh_opts o;
	char label[SSH_NAME_MAX + 16]; /* "host:port" for messages */
	ssh_session s;
	sftp_session sftp;
	struct ssh_jump *jump;
	struct ssh_remote f[F_COUNT];
	bool placed;               /* activate moved files into place */
};

/* ---- options ---- */

static aclm_status opt_str(const json_t *options, const char *key, bool required,
			   const char **out, struct aclm_err *err)
{
	return deploy__opt_str("ssh", options, key, required, out, err);
}

static aclm_status opt_int(const json_t *options, const char *key, int64_t def, int64_t min,
			   int64_t max, int64_t *out, struct aclm_err *err)
{
	return deploy__opt_int("ssh", options, key, def, min, max, out, err);
}

static aclm_status opt_bool(const json_t *options, const char *key, bool *out,
			    struct aclm_err *err)
{
	return deploy__opt_bool("ssh", options, key, out, err);
}


static aclm_status opt_readable(const char *key, const char *path, struct aclm_err *err)
{
	if (access(path, R_OK) != 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: option %s: %.300s: %s",
				    key, path, strerror(errno));
	return ACLM_OK;
}

/* "[user@]host[:port]"; an IPv6 literal goes in brackets. */
static aclm_status endpoint_parse(const char *key, const char *spec, struct ssh_endpoint *e,
				  struct aclm_err *err)
{
	const char *at = strchr(spec, '@'), *h = at ? at + 1 : spec, *colon = NULL, *end;
	char *num_end = NULL;
	size_t hlen;

	memset(e, 0, sizeof(*e));
	e->port = 22;
	if (at != NULL) {
		if (at == spec || (size_t)(at - spec) >= sizeof(e->user))
			goto bad;
		memcpy(e->user, spec, (size_t)(at - spec));
	}
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			goto bad;
		h++;
		hlen = (size_t)(end - h);
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(h, ':');
		hlen = colon ? (size_t)(colon - h) : strlen(h);
	}
	if (hlen == 0 || hlen >= sizeof(e->host) || memchr(h, '@', hlen) != NULL)
		goto bad;
	memcpy(e->host, h, hlen);
	if (colon != NULL) {
		long p = strtol(colon + 1, &num_end, 10);

		if (colon[1] == '\0' || *num_end != '\0' || p < 1 || p > 65535)
			goto bad;
		e->port = (int)p;
	}
	return ACLM_OK;
bad:
	return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: option %s: `%.200s` is not "
			    "[user@]host[:port]", key, spec);
}

/* A remote path: absolute, no control characters, short enough for the
 * temp suffix. */
static aclm_status remote_path_ok(const char *key, const char *p, struct aclm_err *err)
{
	if (p[0] != '/' || strlen(p) >= SSH_PATH_MAX)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: option %s must be an "
				    "absolute remote path (under %d bytes)", key, SSH_PATH_MAX);
	for (const char *c = p; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: option %s "
					    "contains a control character", key);
	return ACLM_OK;
}

static aclm_status opt_mode(const json_t *options, int *mode, struct aclm_err *err)
{
	const char *s = NULL;
	char *end = NULL;
	long m;
	aclm_status st = opt_str(options, "mode", false, &s, err);

	*mode = -1;
	if (st != ACLM_OK || s == NULL)
		return st;
	errno = 0;
	m = strtol(s, &end, 8);
	if (errno != 0 || *end != '\0' || strlen(s) < 3 || strlen(s) > 5 || m < 0 || m > 07777)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: option mode must be an "
				    "octal string such as \"0640\" (at most 07777)");
	*mode = (int)m;
	return ACLM_OK;
}

/* The remote paths: at least one, each absolute and distinct. */
static aclm_status opts_paths(const json_t *options, struct ssh_opts *o, struct aclm_err *err)
{
	size_t npaths = 0;
	aclm_status st;

	for (int i = 0; i < F_COUNT; i++) {
		if ((st = opt_str(options, ssh_path_opts[i], false, &o->paths[i], err)) != ACLM_OK)
			return st;
		if (o->paths[i] == NULL)
			continue;
		if ((st = remote_path_ok(ssh_path_opts[i], o->paths[i], err)) != ACLM_OK)
			return st;
		for (int j = 0; j < i; j++)
			if (o->paths[j] != NULL && strcmp(o->paths[i], o->paths[j]) == 0)
				return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: options %s "
						    "and %s name the same file", ssh_path_opts[j],
						    ssh_path_opts[i]);
		npaths++;
	}
	if (npaths == 0)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: no file to write: give at "
				    "least one of cert_path, chain_path, fullchain_path, key_path, "
				    "combined_path");
	return ACLM_OK;
}

static aclm_status opts_parse(const json_t *options, struct ssh_opts *o, struct aclm_err *err)
{
	const char *host = NULL, *user = NULL, *jump = NULL, *key;
	json_t *v;
	int64_t port, timeout;
	aclm_status st = ACLM_OK;

	memset(o, 0, sizeof(*o));
	if (!json_is_object(options))
		return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: options must be an object");
	json_object_foreach((json_t *)options, key, v) {
		bool known = false;

		for (size_t i = 0; i < sizeof(ssh_known_opts) / sizeof(ssh_known_opts[0]); i++)
			known |= strcmp(key, ssh_known_opts[i]) == 0;
		if (!known)
			return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: unknown option "
					    "%.100s", key);
	}
	if ((st = opt_str(options, "host", true, &host, err)) != ACLM_OK ||
	    (st = opt_str(options, "user", false, &user, err)) != ACLM_OK ||
	    (st = opt_str(options, "identity", false, &o->identity, err)) != ACLM_OK ||
	    (st = opt_str(options, "known_hosts", true, &o->known_hosts, err)) != ACLM_OK ||
	    (st = opt_str(options, "jump", false, &jump, err)) != ACLM_OK ||
	    (st = opt_str(options, "reload_cmd", false, &o->reload_cmd, err)) != ACLM_OK ||
	    (st = opt_mode(options, &o->mode, err)) != ACLM_OK)
		return st;
	if (strlen(host) >= sizeof(o->dest.host) || strpbrk(host, "@/ \t\r\n") != NULL)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: option host `%.200s` is "
				    "not a host name or address", host);
	snprintf(o->dest.host, sizeof(o->dest.host), "%s", host);
	if (user != NULL && (strlen(user) >= sizeof(o->dest.user) || strpbrk(user, "@: \t\r\n")))
		return aclm_err_set(err, ACLM_ERR_CONFIG, "ssh target: option user `%.100s` is "
				    "not a user name", user);
	snprintf(o->dest.user, sizeof(o->dest.user), "%s", user ? user : "");
	if ((st = opt_int(options, "port", 22, 1, 65535, &port, err)) != ACLM_OK ||
	    (st = opt_int(options, "timeout", SSH_TIMEOUT_DEFAULT_S, 1, SSH_TIMEOUT_MAX_S,
			  &timeout, err)) != ACLM_OK ||
	    (st = opt_bool(options, "trust_unknown_host", &o->trust_unknown, err)) != ACLM_OK)
		return st;
	o->dest.port = (int)port;
	o->timeout_s = (long)timeout;
	if (jump != NULL) {
		if ((st = endpoint_parse("jump", jump, &o->jump, err)) != ACLM_OK)
			return st;
		o->has_jump = true;
	}
	if ((st = opts_paths(options, o, err)) != ACLM_OK)
		return st;
	if ((st = opt_readable("known_hosts", o->known_hosts, err)) != ACLM_OK)
		return st;
	if (o->identity != NULL && (st = opt_readable("identity", o->identity, err)) != ACLM_OK)
		return st;
	return ACLM_OK;
}

static aclm_status ssh_check(const json_t *options, struct aclm_err *err)
{
	struct ssh_opts o;

	return opts_parse(options, &o, err);
}

/* ---- session ---- */

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* RFC 4251 §4.1: the host key is what authenticates the server; known_hosts
 * pins it. An unknown host is accepted (and added to known_hosts, like
 * OpenSSH's accept-new) only with trust_unknown_host; a changed key never. */
static aclm_status host_key_check(ssh_session s, const struct ssh_opts *o,
				  const struct ssh_endpoint *e, json_t *detail,
				  struct aclm_err *err)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	const char *why = NULL;
	aclm_status st = ACLM_OK;

	if (ssh_get_server_publickey(s, &key) != SSH_OK ||
	    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0 ||
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) == NULL) {
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "ssh %s:%d: no host key: %s", e->host,
				  e->port, ssh_get_error(s));
		goto out;
	}
	switch (ssh_session_is_known_server(s)) {
	case SSH_KNOWN_HOSTS_OK:
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
		why = "CHANGED: the key differs from the one in";
		break;
	case SSH_KNOWN_HOSTS_OTHER:
		why = "CHANGED: a key of another type is pinned in";
		break;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		if (!o->trust_unknown) {
			why = "unknown: not in";
			break;
		}
		if (ssh_session_update_known_hosts(s) != SSH_OK) {
			st = aclm_err_set(err, ACLM_ERR_IO, "ssh %s:%d: cannot add host key %s to "
					  "%.200s: %s", e->host, e->port, fp, o->known_hosts,
					  ssh_get_error(s));
			goto out;
		}
		log_warn("ssh %s:%d: unknown host key %s trusted (trust_unknown_host) and added "
			 "to %s", e->host, e->port, fp, o->known_hosts);
		aclm_json_set_str(detail, "host_key_added", fp);
		break;
	default:
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "ssh %s:%d: cannot check host key %s "
				  "against %.200s: %s", e->host, e->port, fp, o->known_hosts,
				  ssh_get_error(s));
		goto out;
	}
	if (why != NULL) {
		st = aclm_err_set(err, ACLM_ERR_VERIFY, "ssh %s:%d: host key %s refused (%s "
				  "%.200s)", e->host, e->port, fp, why, o->known_hosts);
		goto out;
	}
	if (e == &o->dest)
		aclm_json_set_str(detail, "host_key", fp);
out:
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return st;
}

static aclm_status user_auth(ssh_session s, const struct ssh_opts *o,
			     const struct ssh_endpoint *e, struct aclm_err *err)
{
	ssh_key key = NULL;
	int rc;
	aclm_status st = ACLM_OK;

	if (o->identity != NULL) {
		if (ssh_pki_import_privkey_file(o->identity, NULL, NULL, NULL, &key) != SSH_OK) {
			st = aclm_err_set(err, ACLM_ERR_CONFIG, "ssh %s:%d: cannot read identity "
					  "%.300s (a key without passphrase)", e->host, e->port,
					  o->identity);
			goto out;
		}
		rc = ssh_userauth_publickey(s, NULL, key);
	} else {
		rc = ssh_userauth_publickey_auto(s, NULL, NULL);
	}
	if (rc != SSH_AUTH_SUCCESS)
		st = aclm_err_set(err, ACLM_ERR_PASSWORD, "ssh %s:%d: authentication as %s "
				  "refused: %s", e->host, e->port, e->user[0] ? e->user : "(local "
				  "user)", rc == SSH_AUTH_ERROR ? ssh_get_error(s) : "key not accepted");
out:
	ssh_key_free(key);
	return st;
}

/* Connects, checks the host key and authenticates; fd >= 0 is an already
 * connected transport (the jump channel; see jump_close for who closes it). */
static aclm_status session_open(const struct ssh_opts *o, const struct ssh_endpoint *e, int fd,
				json_t *detail, ssh_session *out, struct aclm_err *err)
{
	ssh_session s = ssh_new();
	long timeout = o->timeout_s;
	unsigned int port = (unsigned int)e->port;
	int no = 0;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (s == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "ssh: out of memory");
	/* Only the target's options count: no ~/.ssh/config, no system
	 * known_hosts beside the pinned file. */
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, e->host) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &port) != SSH_OK ||
	    (e->user[0] && ssh_options_set(s, SSH_OPTIONS_USER, e->user) != SSH_OK) ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, o->known_hosts) != SSH_OK ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != SSH_OK ||
	    (fd >= 0 && ssh_options_set(s, SSH_OPTIONS_FD, &fd) != SSH_OK)) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "ssh %s:%d: %s", e->host, e->port,
				  ssh_get_error(s));
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		st = aclm_err_set(err, ACLM_ERR_IO, "ssh %s:%d%s: cannot connect: %s", e->host,
				  e->port, fd >= 0 ? " (through the jump host)" : "",
				  ssh_get_error(s));
		goto out;
	}
	if ((st = host_key_check(s, o, e, detail, err)) != ACLM_OK ||
	    (st = user_auth(s, o, e, err)) != ACLM_OK)
		goto out;
	*out = s;
	s = NULL;
out:
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	return st;
}

/* Copies between the socketpair end and the direct-tcpip channel until the
 * target session closes its end or the channel ends. */
static void *jump_pump(void *arg)
{
	struct ssh_jump *j = arg;
	char buf[16384];

	while (!atomic_load(&j->stop)) {
		/* wakes on either side; the channel's own buffer is drained below */
		struct pollfd p[2] = { { .fd = j->fd[1], .events = POLLIN },
				       { .fd = ssh_get_fd(j->s), .events = POLLIN } };
		int moved = 0;

		if (poll(p, 2, 100) > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(j->fd[1], buf, sizeof(buf));

			if (r <= 0 || ssh_channel_write(j->ch, buf, (uint32_t)r) != r)
				break;
			moved = 1;
		}
		for (;;) {
			int r = ssh_channel_read_nonblocking(j->ch, buf, sizeof(buf), 0);
			ssize_t w = 0;

			if (r < 0)
				goto out;
			if (r == 0)
				break;
			while (w < r) {
				ssize_t k = write(j->fd[1], buf + w, (size_t)(r - w));

				if (k <= 0)
					goto out;
				w += k;
			}
			moved = 1;
		}
		if (!moved && (ssh_channel_is_eof(j->ch) || ssh_channel_is_closed(j->ch)))
			break;
	}
out:
	shutdown(j->fd[1], SHUT_RDWR);
	return NULL;
}

/* Called after the target session over fd[0] is freed. */
static void jump_close(struct ssh_jump *j)
{
	struct stat sb;

	if (j == NULL)
		return;
	atomic_store(&j->stop, 1);
	if (j->running)
		pthread_join(j->thread, NULL);
	if (j->ch != NULL) {
		ssh_channel_close(j->ch);
		ssh_channel_free(j->ch);
	}
	if (j->s != NULL) {
		ssh_disconnect(j->s);
		ssh_free(j->s);
	}
	/* libssh closes a transport fd it was given when the connection fails
	 * but not after a clean disconnect: fd[0] is closed here only while it
	 * is still the same socket (its number may have been reused since). */
	if (j->fd[0] >= 0 && fstat(j->fd[0], &sb) == 0 && sb.st_dev == j->fd0.st_dev &&
	    sb.st_ino == j->fd0.st_ino)
		close(j->fd[0]);
	if (j->fd[1] >= 0)
		close(j->fd[1]);
	free(j);
}

/* RFC 4254 §7.2: a direct-tcpip channel from the jump host to the target. */
static aclm_status jump_open(const struct ssh_opts *o, json_t *detail, struct ssh_jump **out,
			     struct aclm_err *err)
{
	struct ssh_jump *j = calloc(1, sizeof(*j));
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (j == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "ssh: out of memory");
	j->fd[0] = j->fd[1] = -1;
	if ((st = session_open(o, &o->jump, -1, detail, &j->s, err)) != ACLM_OK)
		goto out;
	j->ch = ssh_channel_new(j->s);
	if (j->ch == NULL || ssh_channel_open_forward(j->ch, o->dest.host, o->dest.port,
						       "127.0.0.1", 0) != SSH_OK) {
		st = aclm_err_set(err, ACLM_ERR_IO, "ssh jump %s:%d: cannot open a channel to "
				  "%s:%d: %s", o->jump.host, o->jump.port, o->dest.host,
				  o->dest.port, ssh_get_error(j->s));
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, j->fd) != 0 ||
	    fstat(j->fd[0], &j->fd0) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "ssh jump: socketpair: %s", strerror(errno));
		goto out;
	}
	if (pthread_create(&j->thread, NULL, jump_pump, j) != 0) {
		st = aclm_err_set(err, ACLM_ERR_IO, "ssh jump: cannot start the relay thread");
		goto out;
	}
	j->running = true;
	*out = j;
	j = NULL;
out:
	jump_close(j);
	return st;
}

static void state_disconnect(struct ssh_state *t)
{
	if (t->sftp != NULL)
		sftp_free(t->sftp);
	t->sftp = NULL;
	if (t->s != NULL) {
		ssh_disconnect(t->s);
		ssh_free(t->s);
	}
	t->s = NULL;
	jump_close(t->jump);
	t->jump = NULL;
}

/* Opens the session (again, when rollback finds it broken) and SFTP. */
static aclm_status state_connect(struct ssh_state *t, json_t *detail, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	if (t->s != NULL && t->sftp != NULL && ssh_is_connected(t->s))
		return ACLM_OK;
	state_disconnect(t);
	if (t->o.has_jump && (st = jump_open(&t->o, detail, &t->jump, err)) != ACLM_OK)
		goto out;
	st = session_open(&t->o, &t->o.dest, t->jump ? t->jump->fd[0] : -1, detail, &t->s, err);
	if (st != ACLM_OK)
		goto out;
	t->sftp = sftp_new(t->s);
	if (t->sftp == NULL || sftp_init(t->sftp) != SSH_OK) {
		st = aclm_err_set(err, ACLM_ERR_IO, "ssh %s: cannot start SFTP: %s", t->label,
				  ssh_get_error(t->s));
		goto out;
	}
out:
	if (st != ACLM_OK)
		state_disconnect(t);
	return st;
}

/* ---- remote files ---- */

static aclm_status sftp_fail(struct ssh_state *t, const char *what, const char *path,
			     struct aclm_err *err)
{
	return aclm_err_set(err, ACLM_ERR_IO, "ssh %s: %s %.300s: %s (sftp status %d)", t->label,
			    what, path, ssh_get_error(t->s), sftp_get_error(t->sftp));
}

/* The current remote file, kept for rollback (capped). */
static aclm_status remote_fetch_prev(struct ssh_state *t, struct ssh_remote *r,
				     struct aclm_err *err)
{
	sftp_attributes a = sftp_stat(t->sftp, r->path);
	sftp_file f = NULL;
	char buf[16384];
	aclm_status st = ACLM_OK;

	if (a == NULL) {
		if (sftp_get_error(t->sftp) == SSH_FX_NO_SUCH_FILE)
			return ACLM_OK;
		return sftp_fail(t, "cannot stat", r->path, err);
	}
	if (a->type != SSH_FILEXFER_TYPE_REGULAR || a->size > SSH_PREV_MAX) {
		st = aclm_err_set(err, a->type != SSH_FILEXFER_TYPE_REGULAR ? ACLM_ERR_INVALID :
				  ACLM_ERR_TOOBIG, "ssh %s: %.300s is %s; not replacing it",
				  t->label, r->path, a->type != SSH_FILEXFER_TYPE_REGULAR ?
				  "not a regular file" : "over 1 MiB");
		goto out;
	}
	r->prev_mode = (mode_t)(a->permissions & 07777);
	f = sftp_open(t->sftp, r->path, O_RDONLY, 0);
	if (f == NULL) {
		st = sftp_fail(t, "cannot read", r->path, err);
		goto out;
	}
	for (;;) {
		ssize_t n = sftp_read(f, buf, sizeof(buf));

		if (n < 0) {
			st = sftp_fail(t, "cannot read", r->path, err);
			goto out;
		}
		if (n == 0)
			break;
		if (aclm_buf_append(&r->prev, buf, (size_t)n) != ACLM_OK) {
			st = aclm_err_set(err, ACLM_ERR_TOOBIG, "ssh %s: %.300s grew over 1 MiB "
					  "while read", t->label, r->path);
			goto out;
		}
	}
	r->prev_exists = true;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (f != NULL)
		sftp_close(f);
	sftp_attributes_free(a);
	return st;
}

/* Writes data to path with mode: created 0600 so that a key is never
 * readable by others, even for a moment, then chmod to mode. */
static aclm_status remote_write(struct ssh_state *t, const char *path, const void *data,
				size_t len, mode_t mode, struct aclm_err *err)
{
	sftp_file f = sftp_open(t->sftp, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t off = 0;
	aclm_status st = ACLM_OK;

	if (f == NULL)
		return sftp_fail(t, "cannot create", path, err);
	while (off < len) {
		size_t chunk = len - off > 32768 ? 32768 : len - off;
		ssize_t n = sftp_write(f, (const char *)data + off, chunk);

		if (n <= 0) {
			st = sftp_fail(t, "cannot write", path, err);
			goto out;
		}
		off += (size_t)n;
	}
	if (sftp_extension_supported(t->sftp, "fsync@openssh.com", "1") && sftp_fsync(f) != 0) {
		st = sftp_fail(t, "cannot fsync", path, err);
		goto out;
	}
out:
	if (sftp_close(f) != SSH_NO_ERROR && st == ACLM_OK)
		st = sftp_fail(t, "cannot close", path, err);
	if (st == ACLM_OK && sftp_chmod(t->sftp, path, mode) != 0)
		st = sftp_fail(t, "cannot chmod", path, err);
	return st;
}

/* Appends 'arg' quoted for a POSIX shell. */
static aclm_status shell_quote(struct aclm_buf *b, const char *arg)
{
	aclm_status st = aclm_buf_puts(b, "'");

	for (const char *c = arg; st == ACLM_OK && *c != '\0'; c++)
		st = *c == '\'' ? aclm_buf_puts(b, "'\\''") : aclm_buf_append(b, c, 1);
	if (st == ACLM_OK)
		st = aclm_buf_puts(b, "'");
	return st;
}

static void out_keep(struct aclm_buf *out, const char *data, size_t len)
{
	if (out->len < SSH_OUT_MAX)
		(void)aclm_buf_append(out, data, len > SSH_OUT_MAX - out->len ?
				      SSH_OUT_MAX - out->len : len);
}

/* Runs cmd through the remote account's shell within the timeout; a
 * non-zero exit is a failure quoting the first 200 bytes of its output. */
static aclm_status remote_run(struct ssh_state *t, const char *what, const char *cmd,
			      struct aclm_err *err)
{
	ssh_channel ch = ssh_channel_new(t->s);
	struct aclm_buf out;
	struct timespec t0;
	char buf[4096];
	int code = -1;
	aclm_status st = ACLM_OK;

	aclm_buf_init(&out, SSH_OUT_MAX);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		st = aclm_err_set(err, ACLM_ERR_IO, "ssh %s: cannot run the %s: %s", t->label,
				  what, ssh_get_error(t->s));
		goto out;
	}
	while (!ssh_channel_is_eof(ch)) {
		int n = ssh_channel_read_timeout(ch, buf, sizeof(buf) / 2, 0, 100);
		int e = n == SSH_ERROR ? 0 : ssh_channel_read_nonblocking(ch, buf + sizeof(buf) / 2,
									  sizeof(buf) / 2, 1);

		/* SSH_EOF: that stream has ended, the other may still hold data */
		n = n == SSH_EOF ? 0 : n;
		e = e == SSH_EOF ? 0 : e;
		if (n < 0 || e < 0) {
			st = aclm_err_set(err, ACLM_ERR_IO, "ssh %s: %s: %s", t->label, what,
					  ssh_get_error(t->s));
			goto out;
		}
		/* keeps the first SSH_OUT_MAX bytes; the rest is drained */
		out_keep(&out, buf, (size_t)n);
		out_keep(&out, buf + sizeof(buf) / 2, (size_t)e);
		if (elapsed_ms(&t0) > t->o.timeout_s * 1000) {
			st = aclm_err_set(err, ACLM_ERR_IO, "ssh %s: the %s `%.150s` timed out "
					  "after %ld s", t->label, what, cmd, t->o.timeout_s);
			goto out;
		}
	}
	ssh_channel_send_eof(ch);
	code = ssh_channel_get_exit_status(ch);
	if (code != 0) {
		for (size_t i = 0; i < out.len; i++)
			if (out.data[i] < 0x20 || out.data[i] >= 0x7f)
				out.data[i] = ' ';
		st = aclm_err_set(err, ACLM_ERR_IO, "ssh %s: the %s `%.150s` %s %d: %.200s",
				  t->label, what, cmd, code < 0 ? "gave no exit status" :
				  "exited", code, out.data ? (char *)out.data : "");
	}
out:
	if (ch != NULL) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	aclm_buf_free(&out);
	return st;
}

/* POSIX rename(2) through `mv -f` replaces each file atomically (SFTP v3's
 * rename, all OpenSSH speaks, refuses an existing target). */
static aclm_status remote_place(struct ssh_state *t, struct aclm_err *err)
{
	struct aclm_buf cmd;
	bool first = true;
	aclm_status st = ACLM_OK;

	aclm_buf_init(&cmd, 16 * SSH_PATH_MAX);
	for (int i = 0; st == ACLM_OK && i < F_COUNT; i++) {
		if (!t->f[i].tmp_written)
			continue;
		st = aclm_buf_puts(&cmd, first ? "mv -f -- " : " && mv -f -- ");
		if (st == ACLM_OK)
			st = shell_quote(&cmd, t->f[i].tmp);
		if (st == ACLM_OK)
			st = aclm_buf_puts(&cmd, " ");
		if (st == ACLM_OK)
			st = shell_quote(&cmd, t->f[i].path);
		first = false;
	}
	if (st != ACLM_OK) {
		st = aclm_err_set(err, st, "ssh %s: paths too long", t->label);
		goto out;
	}
	if (!first && (st = remote_run(t, "move into place", (char *)cmd.data, err)) == ACLM_OK)
		for (int i = 0; i < F_COUNT; i++)
			t->f[i].tmp_written = false;
out:
	aclm_buf_free(&cmd);
	return st;
}

/* ---- the steps ---- */

static aclm_status file_content(struct ssh_remote *r, int which, const struct ssh_opts *o,
				const struct deploy_material *m, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	bool keyed = which == F_KEY || which == F_COMBINED;

	if (keyed && m->key_pem == NULL)
		return aclm_err_set(err, ACLM_ERR_INVALID, "ssh target: %s needs the private key "
				    "and the deploy has none", ssh_path_opts[which]);
	aclm_buf_init(&r->data, 4 * SSH_PREV_MAX);
	switch (which) {
	case F_CERT:
		st = aclm_buf_puts(&r->data, m->cert_pem);
		break;
	case F_CHAIN:
		st = aclm_buf_puts(&r->data, m->chain_pem ? m->chain_pem : "");
		break;
	case F_FULLCHAIN:
		st = aclm_buf_puts(&r->data, m->fullchain_pem);
		break;
	case F_KEY:
		st = aclm_buf_puts(&r->data, m->key_pem);
		break;
	default:
		/* HAProxy's combined PEM: leaf, intermediates, key */
		st = aclm_buf_puts(&r->data, m->fullchain_pem);
		if (st == ACLM_OK)
			st = aclm_buf_puts(&r->data, m->key_pem);
		break;
	}
	if (st != ACLM_OK)
		return aclm_err_set(err, st, "ssh target: %s content too large",
				    ssh_path_opts[which]);
	r->mode = o->mode >= 0 ? (mode_t)o->mode : keyed ? 0600 : 0644;
	return ACLM_OK;
}

static aclm_status ssh_stage(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct ssh_state *t = calloc(1, sizeof(*t));
	json_t *files = json_array();
	aclm_status st = ACLM_OK;

	if (t == NULL || files == NULL) {
		free(t);
		json_decref(files);
		return aclm_err_set(err, ACLM_ERR_NOMEM, "ssh: out of memory");
	}
	c->state = t;
	for (int i = 0; i < F_COUNT; i++) {
		aclm_buf_init(&t->f[i].data, 0);
		aclm_buf_init(&t->f[i].prev, SSH_PREV_MAX);
	}
	if ((st = opts_parse(c->target->options, &t->o, err)) != ACLM_OK)
		goto out;
	snprintf(t->label, sizeof(t->label), "%s:%d", t->o.dest.host, t->o.dest.port);
	if (c->detail != NULL) {
		aclm_json_set_str(c->detail, "host", t->label);
		aclm_json_set_new(c->detail, "files", json_incref(files));
	}
	for (int i = 0; i < F_COUNT; i++)
		if (t->o.paths[i] != NULL &&
		    (st = file_content(&t->f[i], i, &t->o, c->m, err)) != ACLM_OK)
			goto out;
	if ((st = state_connect(t, c->detail, err)) != ACLM_OK)
		goto out;
	for (int i = 0; i < F_COUNT; i++) {
		struct ssh_remote *r = &t->f[i];
		json_t *fj;

		if (t->o.paths[i] == NULL)
			continue;
		r->path = t->o.paths[i];
		snprintf(r->tmp, sizeof(r->tmp), "%s%s", r->path, SSH_TMP_SUFFIX);
		if ((st = remote_fetch_prev(t, r, err)) != ACLM_OK)
			goto out;
		fj = json_pack("{s:s, s:s, s:b}", "file", ssh_path_opts[i], "path", r->path,
			       "had_previous", r->prev_exists);
		if (fj != NULL) {
			char mode[8];

			snprintf(mode, sizeof(mode), "%04o", (unsigned)r->mode);
			aclm_json_set_str(fj, "mode", mode);
			json_array_append_new(files, fj);
		}
		if (c->dry_run)
			continue;
		r->tmp_written = true; /* release removes even a half-written one */
		st = remote_write(t, r->tmp, r->data.data, r->data.len, r->mode, err);
		if (st != ACLM_OK)
			goto out;
	}
out:
	json_decref(files);
	return st;
}

static aclm_status ssh_activate(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct ssh_state *t = c->state;
	aclm_status st = ACLM_OK;

	if (t == NULL)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "ssh: activate before stage");
	if (c->dry_run)
		return ACLM_OK;
	if ((st = state_connect(t, c->detail, err)) != ACLM_OK)
		return st;
	t->placed = true; /* from here on a rollback has something to undo */
	if ((st = remote_place(t, err)) != ACLM_OK)
		return st;
	if (t->o.reload_cmd != NULL) {
		st = remote_run(t, "reload command", t->o.reload_cmd, err);
		if (c->detail != NULL)
			aclm_json_set_bool(c->detail, "reloaded", st == ACLM_OK);
	}
	return st;
}

/* Puts every previous file back (and removes the ones that did not exist
 * before), then reloads. */
static aclm_status ssh_rollback(struct deploy_step_ctx *c, struct aclm_err *err)
{
	struct ssh_state *t = c->state;
	aclm_status st = ACLM_OK;

	if (t == NULL || c->dry_run || !t->placed)
		return ACLM_OK;
	if ((st = state_connect(t, c->detail, err)) != ACLM_OK)
		return st;
	for (int i = 0; i < F_COUNT; i++) {
		struct ssh_remote *r = &t->f[i];

		if (r->path == NULL)
			continue;
		if (!r->prev_exists) {
			if (sftp_unlink(t->sftp, r->path) != 0 &&
			    sftp_get_error(t->sftp) != SSH_FX_NO_SUCH_FILE) {
				st = sftp_fail(t, "cannot remove", r->path, err);
				goto out;
			}
			continue;
		}
		r->tmp_written = true;
		st = remote_write(t, r->tmp, r->prev.data, r->prev.len, r->prev_mode, err);
		if (st != ACLM_OK)
			goto out;
	}
	if ((st = remote_place(t, err)) != ACLM_OK)
		goto out;
	if (t->o.reload_cmd != NULL)
		st = remote_run(t, "reload command (rollback)", t->o.reload_cmd, err);
out:
	if (c->detail != NULL)
		aclm_json_set_bool(c->detail, "rolled_back", st == ACLM_OK);
	return st;
}

static void ssh_release(struct deploy_step_ctx *c)
{
	struct ssh_state *t = c->state;

	if (t == NULL)
		return;
	/* temp files left by a failed stage or an unplaced upload */
	for (int i = 0; i < F_COUNT; i++)
		if (t->f[i].tmp_written && t->sftp != NULL && ssh_is_connected(t->s))
			(void)sftp_unlink(t->sftp, t->f[i].tmp);
	state_disconnect(t);
	for (int i = 0; i < F_COUNT; i++) {
		aclm_buf_free_secret(&t->f[i].data);
		aclm_buf_free_secret(&t->f[i].prev);
	}
	free(t);
	c->state = NULL;
}

/* The key leaves the keystore only for a key or combined path. */
static bool ssh_wants_key(const json_t *options)
{
	return json_object_get(options, "key_path") != NULL ||
	       json_object_get(options, "combined_path") != NULL;
}

const struct deploy_type_ops deploy_ssh_ops = {
	.name = "ssh",
	.needs_key = true,
	.check = ssh_check,
	.stage = ssh_stage,
	.activate = ssh_activate,
	.rollback = ssh_rollback,
	.release = ssh_release,
	.wants_key = ssh_wants_key,
};
