/* deploy/target_webhook.c against a small HTTP(S) receiver run by the test on
 * 127.0.0.1: option checks, the JSON body's shape, the signature checked
 * with an HMAC computed here, non-2xx answers, rollback posts, and the key
 * sent only when asked for and only over https. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "deploy/deploy_int.h"
#include "testsupport.h"

#define SECRET "s3cr3t-for-the-test"
#define MAX_REQ 4

/* ---- the receiver ---- */

struct request {
	char head[8192];
	char *body;
};

struct receiver {
	int lfd, port;
	pthread_t thread;
	volatile int stop;
	SSL_CTX *tls;              /* NULL: plain HTTP */
	int status;                /* what it answers */
	const char *answer;
	struct request req[MAX_REQ];
	atomic_int nreq;
};

static ssize_t conn_read(SSL *ssl, int fd, char *buf, size_t n)
{
	return ssl != NULL ? SSL_read(ssl, buf, (int)n) : read(fd, buf, n);
}

static void conn_write(SSL *ssl, int fd, const char *buf, size_t n)
{
	if (ssl != NULL)
		(void)SSL_write(ssl, buf, (int)n);
	else if (write(fd, buf, n) < 0)
		fprintf(stderr, "receiver: write: %s\n", strerror(errno));
}

/* One request per connection: head up to the blank line, Content-Length
 * bytes of body, then the configured answer and close. */
static void serve_one(struct receiver *r, int fd)
{
	struct request *q = r->nreq < MAX_REQ ? &r->req[r->nreq] : NULL;
	char buf[65536], out[4096];
	size_t have = 0, want = 0;
	char *end = NULL, *cl;
	SSL *ssl = NULL;

	if (r->tls != NULL) {
		ssl = SSL_new(r->tls);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			goto out;
	}
	while (have < sizeof(buf) - 1) {
		ssize_t n = conn_read(ssl, fd, buf + have, sizeof(buf) - 1 - have);

		if (n <= 0)
			goto out;
		have += (size_t)n;
		buf[have] = '\0';
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			*end = '\0';
			cl = strcasestr(buf, "\r\nContent-Length:");
			want = (size_t)(end - buf) + 4 + (cl ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (end != NULL && have >= want)
			break;
	}
	if (end == NULL || q == NULL)
		goto out;
	snprintf(q->head, sizeof(q->head), "%.8000s", buf);
	q->body = strndup(end + 4, have - (size_t)(end + 4 - buf));
	r->nreq++;
	snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n"
		 "\r\n%s", r->status, strlen(r->answer), r->answer);
	conn_write(ssl, fd, out, strlen(out));
out:
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
}

static void *receiver_run(void *arg)
{
	struct receiver *r = arg;

	while (!r->stop) {
		struct pollfd p = { .fd = r->lfd, .events = POLLIN };

		if (poll(&p, 1, 50) == 1) {
			int fd = accept(r->lfd, NULL, NULL);

			if (fd >= 0)
				serve_one(r, fd);
		}
	}
	return NULL;
}

static struct receiver *receiver_start(SSL_CTX *tls, int status, const char *answer)
{
	struct receiver *r = calloc(1, sizeof(*r));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	assert_non_null(r);
	r->tls = tls;
	r->status = status;
	r->answer = answer;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->lfd >= 0);
	assert_int_equal(bind(r->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(r->lfd, 8), 0);
	assert_int_equal(getsockname(r->lfd, (struct sockaddr *)&a, &len), 0);
	r->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&r->thread, NULL, receiver_run, r), 0);
	return r;
}

static void receiver_stop(struct receiver *r)
{
	r->stop = 1;
	pthread_join(r->thread, NULL);
	close(r->lfd);
	for (int i = 0; i < r->nreq; i++)
		free(r->req[i].body);
	free(r);
}

/* The value of header name in a request head ("" when absent). */
static void header(const struct request *q, const char *name, char *out, size_t size)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\r\n%s:", name);
	p = strcasestr(q->head, pat);
	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	snprintf(out, size, "%.*s", (int)strcspn(p, "\r\n"), p);
}

/* ---- a certificate for the material (and the TLS receiver) ---- */

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

struct cert {
	char *pem, *key_pem;
	unsigned char *der;
	int der_len;
	char fingerprint[65];
	X509 *x;
	EVP_PKEY *k;
};

/* Self-signed P-256 for 127.0.0.1 and the names given, valid until
 * 2031-01-02T03:04:05Z. */
static void cert_make(struct cert *c, long serial, const char *sans)
{
	BIO *b = BIO_new(BIO_s_mem());
	X509_NAME *n;
	unsigned char md[32];
	unsigned int mdlen;
	char *p;
	long len;

	memset(c, 0, sizeof(*c));
	c->k = EVP_EC_gen("P-256");
	c->x = X509_new();
	n = X509_get_subject_name(c->x);
	X509_set_version(c->x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->x), serial);
	X509_gmtime_adj(X509_getm_notBefore(c->x), -3600);
	ASN1_TIME_set_string(X509_getm_notAfter(c->x), "20310102030405Z");
	X509_set_pubkey(c->x, c->k);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"hook test", -1,
				   -1, 0);
	X509_set_issuer_name(c->x, n);
	add_ext(c->x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(c->x, NID_subject_alt_name, sans);
	assert_true(X509_sign(c->x, c->k, EVP_sha256()) > 0);
	PEM_write_bio_X509(b, c->x);
	len = BIO_get_mem_data(b, &p);
	c->pem = strndup(p, (size_t)len);
	(void)BIO_reset(b);
	PEM_write_bio_PrivateKey(b, c->k, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(b, &p);
	c->key_pem = strndup(p, (size_t)len);
	BIO_free(b);
	c->der = NULL;
	c->der_len = i2d_X509(c->x, &c->der);
	assert_true(c->der_len > 0);
	X509_digest(c->x, EVP_sha256(), md, &mdlen);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(c->fingerprint + 2 * i, 3, "%02x", md[i]);
}

static void cert_free(struct cert *c)
{
	free(c->pem);
	free(c->key_pem);
	OPENSSL_free(c->der);
	X509_free(c->x);
	EVP_PKEY_free(c->k);
}

static void material_of(const struct cert *c, int64_t id, struct deploy_material *m)
{
	memset(m, 0, sizeof(*m));
	m->cert_id = id;
	m->lineage = "www";
	snprintf(m->fingerprint, sizeof(m->fingerprint), "%s", c->fingerprint);
	m->cert_pem = c->pem;
	m->chain_pem = "";
	m->fullchain_pem = c->pem;
	m->key_pem = c->key_pem;
	m->leaf_der = c->der;
	m->leaf_der_len = (size_t)c->der_len;
}

/* ---- fixture ---- */

struct fx {
	char dir[64];
	char secret_file[128];
	struct cert leaf, old;
	struct deploy_material m, prev;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(ts_tmpdir(f->dir, sizeof(f->dir), "webhook"));
	ts_write_file(f->dir, "secret", SECRET "\n");
	snprintf(f->secret_file, sizeof(f->secret_file), "%s/secret", f->dir);
	cert_make(&f->leaf, 2, "IP:127.0.0.1,DNS:www.example.test,DNS:example.test");
	cert_make(&f->old, 1, "DNS:old.example.test");
	material_of(&f->leaf, 42, &f->m);
	material_of(&f->old, 41, &f->prev);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	cert_free(&f->leaf);
	cert_free(&f->old);
	ts_rmtree(f->dir);
	free(f);
	return 0;
}

static json_t *hook_options(const struct fx *f, const char *scheme, int port)
{
	char url[128];

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d/hooks/aclm?token=abc", scheme, port);
	return json_pack("{s:s, s:s, s:i}", "url", url, "secret_file", f->secret_file, "timeout",
			 5);
}

struct step_run {
	struct deploy_target target;
	struct deploy_step_ctx c;
	struct aclm_err err;
};

static void step_init(struct step_run *r, const json_t *options, const struct fx *f)
{
	memset(r, 0, sizeof(*r));
	r->target.name = "receiver";
	r->target.type = "webhook";
	r->target.options = options;
	r->c.target = &r->target;
	r->c.m = &f->m;
	r->c.detail = json_object();
	assert_int_equal(deploy_webhook_ops.check(options, &r->err), ACLM_OK);
}

static void step_done(struct step_run *r)
{
	deploy_webhook_ops.release(&r->c);
	assert_null(r->c.state);
	json_decref(r->c.detail);
}

#define EXPECT_STEP(r, call, want) do { \
		aclm_status st_ = (call); \
		if (st_ != (want)) \
			fail_msg("%s: status %d, want %d: %s", #call, st_, (want), (r).err.msg); \
	} while (0)

/* The signature a receiver computes: "sha256=" hex HMAC-SHA256(secret,
 * timestamp "." body), with OpenSSL's one-shot HMAC. */
static void expected_signature(const char *ts, const char *body, char out[80])
{
	unsigned char mac[32];
	unsigned int len = 0;
	size_t n = strlen(ts) + 1 + strlen(body);
	char *msg = malloc(n + 1);

	assert_non_null(msg);
	snprintf(msg, n + 1, "%s.%s", ts, body);
	assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)msg, n,
			     mac, &len));
	assert_int_equal(len, 32);
	strcpy(out, "sha256=");
	for (unsigned int i = 0; i < len; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
	free(msg);
}

static void assert_signed(const struct request *q)
{
	char ts[64], sig[128], want[80];
	long long t;

	header(q, "X-Aclm-Timestamp", ts, sizeof(ts));
	header(q, "X-Aclm-Signature", sig, sizeof(sig));
	t = atoll(ts);
	assert_true(llabs(t - (long long)time(NULL)) < 60);
	expected_signature(ts, q->body, want);
	assert_string_equal(sig, want);
}

static void check_fails(const char *json, const char *in_msg)
{
	struct aclm_err err = { 0 };
	json_t *o = json_loads(json, 0, NULL);

	assert_non_null(o);
	assert_int_equal(deploy_webhook_ops.check(o, &err), ACLM_ERR_CONFIG);
	if (strstr(err.msg, in_msg) == NULL)
		fail_msg("%s: message `%s` lacks `%s`", json, err.msg, in_msg);
	json_decref(o);
}

/* ---- tests ---- */

static void hook_check_rejects_each_bad_option(void **state)
{
	struct fx *f = *state;
	char j[512];

	snprintf(j, sizeof(j), "{\"secret_file\":\"%s\"}", f->secret_file);
	check_fails(j, "option url is required");
	check_fails("{\"url\":\"https://h/\"}", "option secret_file is required");
	snprintf(j, sizeof(j), "{\"url\":\"ftp://h/\",\"secret_file\":\"%s\"}", f->secret_file);
	check_fails(j, "option url");
	snprintf(j, sizeof(j), "{\"url\":\"http://h/\",\"secret_file\":\"%s\","
		 "\"include_key\":true}", f->secret_file);
	check_fails(j, "include_key needs an https:// url");
	check_fails("{\"url\":\"https://h/\",\"secret_file\":\"/nonexistent/s\"}",
		    "option secret_file");
	ts_write_file(f->dir, "empty", "\n");
	snprintf(j, sizeof(j), "{\"url\":\"https://h/\",\"secret_file\":\"%s/empty\"}", f->dir);
	check_fails(j, "is empty");
	snprintf(j, sizeof(j), "{\"url\":\"https://h/\",\"secret_file\":\"%s\",\"token\":\"x\"}",
		 f->secret_file);
	check_fails(j, "unknown option token");
	snprintf(j, sizeof(j), "{\"url\":\"https://h/\",\"secret_file\":\"%s\",\"secret\":\"%s\"}",
		 f->secret_file, f->secret_file);
	check_fails(j, "not both");
	snprintf(j, sizeof(j), "{\"url\":\"https://h/\",\"secret_file\":\"%s\",\"timeout\":0}",
		 f->secret_file);
	check_fails(j, "option timeout");
	snprintf(j, sizeof(j), "{\"url\":\"https://h/\",\"secret_file\":\"%s\","
		 "\"ca_file\":\"/nonexistent/ca\"}", f->secret_file);
	check_fails(j, "option ca_file");
	snprintf(j, sizeof(j), "{\"url\":\"https://h/\",\"secret_file\":\"%s\","
		 "\"include_key\":\"yes\"}", f->secret_file);
	check_fails(j, "option include_key");
}

static void hook_check_accepts_cli_spellings(void **state)
{
	struct fx *f = *state;
	struct aclm_err err = { 0 };
	json_t *o;

	/* `target add --secret FILE --option include_key=true --option timeout=9` */
	o = json_pack("{s:s, s:s, s:s, s:s}", "url", "https://hooks.example/x", "secret",
		      f->secret_file, "include_key", "true", "timeout", "9");
	assert_int_equal(deploy_webhook_ops.check(o, &err), ACLM_OK);
	json_decref(o);
	assert_string_equal(deploy_webhook_ops.name, "webhook");
}

static void hook_wants_key_only_with_include_key_over_https(void **state)
{
	struct fx *f = *state;
	json_t *o = json_pack("{s:s, s:s}", "url", "https://hooks.example/x", "secret_file",
			      f->secret_file);

	assert_non_null(deploy_webhook_ops.wants_key);
	assert_false(deploy_webhook_ops.wants_key(o));
	json_object_set_new(o, "include_key", json_true());
	assert_true(deploy_webhook_ops.wants_key(o));
	json_object_set_new(o, "url", json_string("http://hooks.example/x"));
	assert_false(deploy_webhook_ops.wants_key(o));
	json_decref(o);
}

static void hook_deploy_posts_signed_documented_body(void **state)
{
	struct fx *f = *state;
	struct receiver *rc = receiver_start(NULL, 200, "ok");
	json_t *o = hook_options(f, "http", rc->port), *body, *cert;
	struct step_run r;
	char ct[64], ev[64];

	step_init(&r, o, f);
	EXPECT_STEP(r, deploy_webhook_ops.stage(&r.c, &r.err), ACLM_OK);
	assert_int_equal(rc->nreq, 0); /* staging sends nothing */
	EXPECT_STEP(r, deploy_webhook_ops.activate(&r.c, &r.err), ACLM_OK);
	assert_int_equal(rc->nreq, 1);
	assert_non_null(strstr(rc->req[0].head, "POST /hooks/aclm?token=abc HTTP/1.1"));
	header(&rc->req[0], "Content-Type", ct, sizeof(ct));
	assert_string_equal(ct, "application/json");
	header(&rc->req[0], "X-Aclm-Event", ev, sizeof(ev));
	assert_string_equal(ev, "deploy");
	assert_signed(&rc->req[0]);

	body = json_loads(rc->req[0].body, 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "event")), "deploy");
	assert_string_equal(json_string_value(json_object_get(body, "target")), "receiver");
	cert = json_object_get(body, "certificate");
	assert_int_equal(json_integer_value(json_object_get(cert, "id")), 42);
	assert_string_equal(json_string_value(json_object_get(cert, "fingerprint_sha256")),
			    f->leaf.fingerprint);
	assert_string_equal(json_string_value(json_object_get(cert, "not_after")),
			    "2031-01-02T03:04:05Z");
	assert_int_equal(json_array_size(json_object_get(cert, "names")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(cert, "names"), 0)),
			    "www.example.test");
	assert_string_equal(json_string_value(json_array_get(json_object_get(cert, "names"), 2)),
			    "127.0.0.1");
	assert_string_equal(json_string_value(json_object_get(body, "cert_pem")), f->leaf.pem);
	assert_string_equal(json_string_value(json_object_get(body, "chain_pem")), "");
	assert_string_equal(json_string_value(json_object_get(body, "fullchain_pem")), f->leaf.pem);
	/* no include_key, and http: the key stays home */
	assert_null(json_object_get(body, "key_pem"));
	assert_null(strstr(rc->req[0].body, "PRIVATE KEY"));
	/* the query (it may carry a token) is not in the recorded detail */
	assert_null(strstr(json_string_value(json_object_get(r.c.detail, "url")), "token"));
	assert_int_equal(json_integer_value(json_object_get(r.c.detail, "status")), 200);
	json_decref(body);
	step_done(&r);
	json_decref(o);
	receiver_stop(rc);
}

static void hook_non_2xx_is_failure_quoting_200_bytes(void **state)
{
	struct fx *f = *state;
	char answer[400];
	struct receiver *rc;
	json_t *o;
	struct step_run r;

	memset(answer, 'x', 300);
	strcpy(answer + 300, "TAIL");
	rc = receiver_start(NULL, 500, answer);
	o = hook_options(f, "http", rc->port);
	step_init(&r, o, f);
	r.c.previous = &f->prev;
	EXPECT_STEP(r, deploy_webhook_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_webhook_ops.activate(&r.c, &r.err), ACLM_ERR_IO);
	assert_non_null(strstr(r.err.msg, "HTTP 500"));
	assert_non_null(strstr(r.err.msg, "xxxxxxxxxx"));
	assert_null(strstr(r.err.msg, "TAIL"));
	assert_null(strstr(r.err.msg, "token=abc"));
	/* refused: nothing went live, so nothing is posted back (even with a
	 * previous certificate at hand) */
	EXPECT_STEP(r, deploy_webhook_ops.rollback(&r.c, &r.err), ACLM_OK);
	assert_int_equal(rc->nreq, 1);
	step_done(&r);
	json_decref(o);
	receiver_stop(rc);
}

static void hook_rollback_posts_previous_certificate(void **state)
{
	struct fx *f = *state;
	struct receiver *rc = receiver_start(NULL, 204, "");
	json_t *o = hook_options(f, "http", rc->port), *body;
	struct step_run r;

	step_init(&r, o, f);
	r.c.previous = &f->prev;
	EXPECT_STEP(r, deploy_webhook_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_webhook_ops.activate(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_webhook_ops.rollback(&r.c, &r.err), ACLM_OK);
	assert_int_equal(rc->nreq, 2);
	assert_signed(&rc->req[1]);
	body = json_loads(rc->req[1].body, 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "event")), "rollback");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(body, "certificate"),
							    "id")), 41);
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "certificate"),
							      "fingerprint_sha256")),
			    f->old.fingerprint);
	assert_string_equal(json_string_value(json_object_get(body, "cert_pem")), f->old.pem);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(body, "failed"), "id")),
			 42);
	json_decref(body);
	step_done(&r);

	/* accepted, then rolled back without a previous certificate: said */
	step_init(&r, o, f);
	EXPECT_STEP(r, deploy_webhook_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_webhook_ops.activate(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_webhook_ops.rollback(&r.c, &r.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(rc->nreq, 3);
	step_done(&r);
	json_decref(o);
	receiver_stop(rc);
}

static void hook_key_sent_only_with_include_key_over_https(void **state)
{
	struct fx *f = *state;
	SSL_CTX *tls = SSL_CTX_new(TLS_server_method());
	struct receiver *rc;
	json_t *o, *body;
	struct step_run r;
	char ca[128];

	/* the leaf (SAN 127.0.0.1) serves, and is its own trust anchor */
	assert_int_equal(SSL_CTX_use_certificate(tls, f->leaf.x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(tls, f->leaf.k), 1);
	ts_write_file(f->dir, "ca.pem", f->leaf.pem);
	snprintf(ca, sizeof(ca), "%s/ca.pem", f->dir);
	rc = receiver_start(tls, 200, "{}");
	o = hook_options(f, "https", rc->port);
	json_object_set_new(o, "ca_file", json_string(ca));

	/* https without include_key: no key */
	step_init(&r, o, f);
	EXPECT_STEP(r, deploy_webhook_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_webhook_ops.activate(&r.c, &r.err), ACLM_OK);
	step_done(&r);
	assert_int_equal(rc->nreq, 1);
	assert_null(strstr(rc->req[0].body, "PRIVATE KEY"));

	/* include_key over https: the key is in the body */
	json_object_set_new(o, "include_key", json_true());
	step_init(&r, o, f);
	EXPECT_STEP(r, deploy_webhook_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_webhook_ops.activate(&r.c, &r.err), ACLM_OK);
	step_done(&r);
	assert_int_equal(rc->nreq, 2);
	assert_signed(&rc->req[1]);
	body = json_loads(rc->req[1].body, 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "key_pem")), f->leaf.key_pem);
	json_decref(body);

	/* without the CA file the receiver is not trusted: a transport error */
	json_object_del(o, "ca_file");
	step_init(&r, o, f);
	EXPECT_STEP(r, deploy_webhook_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_webhook_ops.activate(&r.c, &r.err), ACLM_ERR_IO);
	step_done(&r);
	assert_int_equal(rc->nreq, 2);
	json_decref(o);
	receiver_stop(rc);
	SSL_CTX_free(tls);
}

static void hook_unreachable_receiver_reported(void **state)
{
	struct fx *f = *state;
	json_t *o = hook_options(f, "http", ts_free_port(SOCK_STREAM));
	struct step_run r;

	step_init(&r, o, f);
	EXPECT_STEP(r, deploy_webhook_ops.stage(&r.c, &r.err), ACLM_OK);
	EXPECT_STEP(r, deploy_webhook_ops.activate(&r.c, &r.err), ACLM_ERR_IO);
	assert_non_null(strstr(r.err.msg, "webhook http://127.0.0.1:"));
	assert_null(strstr(r.err.msg, "token"));
	step_done(&r);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hook_check_rejects_each_bad_option),
		cmocka_unit_test(hook_check_accepts_cli_spellings),
		cmocka_unit_test(hook_wants_key_only_with_include_key_over_https),
		cmocka_unit_test(hook_deploy_posts_signed_documented_body),
		cmocka_unit_test(hook_non_2xx_is_failure_quoting_200_bytes),
		cmocka_unit_test(hook_rollback_posts_previous_certificate),
		cmocka_unit_test(hook_key_sent_only_with_include_key_over_https),
		cmocka_unit_test(hook_unreachable_receiver_reported),
	};

	return cmocka_run_group_tests_name("webhook", tests, fx_setup, fx_teardown);
}
