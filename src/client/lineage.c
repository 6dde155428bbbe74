/* After an order: download, inventory, certbot-style lineage files
 * (live/LINEAGE/{cert,chain,fullchain,privkey}.pem; no privkey.pem with
 * the user's own CSR; a TLCP pair adds enc-cert.pem and enc-privkey.pem),
 * the lineage row (certificate, RFC 9773 identifier). */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/crypto.h"

static aclm_status write_pems(X509 *const *certs, size_t from, size_t to, const char *dir,
			      const char *name, struct aclm_err *err)
{
	struct aclm_buf pem;
	char *path = aclm_fs_join(dir, name);
	aclm_status st = path != NULL ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");

	aclm_buf_init(&pem, 1 << 20);
	for (size_t i = from; i < to && st == ACLM_OK; i++)
		st = crypto_cert_to_pem(certs[i], &pem, err);
	if (st == ACLM_OK)
		st = aclm_fs_write_atomic(path, pem.data != NULL ? pem.data : (unsigned char *)"",
					  pem.len, 0644, err);
	aclm_buf_free(&pem);
	free(path);
	return st;
}

/* The key of the certificate certs[0], exported from the keystore to
 * dir/name (0600, atomic; the export is audited by the keystore). */
static aclm_status write_key(struct client_conn *c, X509 *cert, const char *dir, const char *name,
			     struct aclm_err *err)
{
	char key_id[KEYSTORE_ID_MAX], *keypath = NULL;
	aclm_status st = keystore_key_id(X509_get0_pubkey(cert), key_id, err);

	if (st == ACLM_OK && (keypath = aclm_fs_join(dir, name)) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	/* The server needs the key in a file. */
	if (st == ACLM_OK)
		st = keystore_export_pem(c->inv->ks, c->inv->tenant_id, key_id, keypath,
					 c->inv->actor, err);
	free(keypath);
	return st;
}

/* TLCP: the encryption certificate shares chain.pem with cert.pem. */
static aclm_status write_enc_files(struct client_conn *c, const struct crypto_bundle *b,
				   const char *dir, struct aclm_err *err)
{
	aclm_status st = write_pems(b->certs, 0, 1, dir, "enc-cert.pem", err);

	if (st == ACLM_OK)
		st = write_key(c, b->certs[0], dir, "enc-privkey.pem", err);
	return st;
}

/* A certificate issued without --tlcp: enc-*.pem of an earlier TLCP pair no
 * longer pair with cert.pem, and a server must not keep loading them. */
static void remove_enc_files(const char *dir)
{
	static const char *const names[] = { "enc-cert.pem", "enc-privkey.pem" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *path = aclm_fs_join(dir, names[i]);

		if (path != NULL && unlink(path) == 0)
			log_info("%s: removed (this certificate is not a TLCP pair)", path);
		free(path);
	}
}

static aclm_status write_lineage_files(struct client_conn *c, const struct client_request *req,
				       bool enc, const struct crypto_bundle *b,
				       struct client_result *res, struct aclm_err *err)
{
	char *keypath = NULL;
	aclm_status st;

	snprintf(res->lineage_dir, sizeof(res->lineage_dir), "%s/%s", req->live_dir, req->lineage);
	st = aclm_fs_mkdirs(res->lineage_dir, 0700, err);
	if (st == ACLM_OK && enc)
		return write_enc_files(c, b, res->lineage_dir, err);
	if (st == ACLM_OK)
		st = write_pems(b->certs, 0, 1, res->lineage_dir, "cert.pem", err);
	if (st == ACLM_OK)
		st = write_pems(b->certs, 1, b->ncerts, res->lineage_dir, "chain.pem", err);
	if (st == ACLM_OK)
		st = write_pems(b->certs, 0, b->ncerts, res->lineage_dir, "fullchain.pem", err);
	if (st == ACLM_OK && !req->tlcp)
		remove_enc_files(res->lineage_dir);
	if (st == ACLM_OK && req->csr_der != NULL) {
		/* issue --csr: the key stays with the user; a privkey.pem from an
		 * earlier issuance would no longer match cert.pem. */
		if ((keypath = aclm_fs_join(res->lineage_dir, "privkey.pem")) != NULL)
			unlink(keypath);
		free(keypath);
		return ACLM_OK;
	}
	if (st == ACLM_OK)
		st = write_key(c, b->certs[0], res->lineage_dir, "privkey.pem", err);
	return st;
}

/* Tags that describe the leaf only (the chain's rows are shared by every
 * lineage of the CA): acme.profile and acme.tlcp ("sign" or "enc"). */
static aclm_status tag_leaf(struct client_conn *c, int64_t id, const char *profile,
			    const char *tlcp, struct aclm_err *err)
{
	struct store_cert *row = NULL;
	aclm_status st;

	if (profile == NULL && tlcp == NULL)
		return ACLM_OK;
	st = store_cert_get(c->inv->store, c->inv->tenant_id, id, &row, err);
	if (st == ACLM_OK && row->tags == NULL && (row->tags = json_object()) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st == ACLM_OK) {
		if (profile != NULL)
			aclm_json_set_str(row->tags, "acme.profile", profile);
		if (tlcp != NULL)
			aclm_json_set_str(row->tags, "acme.tlcp", tlcp);
		st = store_cert_update(c->inv->store, row, err);
	}
	store_cert_free(row);
	return st;
}

static aclm_status import_chain(struct client_conn *c, const struct client_request *req,
				bool enc, const struct http_response *resp, struct client_result *res,
				struct aclm_err *err)
{
	struct inventory_file_result r = { 0 };
	struct inventory_import_opts o = { .source = "acme" };
	char name[512];
	aclm_status st;

	o.tags = json_pack("{s:s, s:s, s:s?}", "acme.lineage", req->lineage, "acme.server",
			   c->server, "acme.account", c->kid);
	snprintf(name, sizeof(name), "acme:%s", req->lineage);
	st = inventory_import_data(c->inv, resp->body.data, resp->body.len, name, &o, &r);
	if (st != ACLM_OK)
		*err = r.err;
	else if (json_array_size(r.certs) == 0)
		st = aclm_err_set(err, ACLM_ERR_PARSE, "the server's certificate chain is empty");
	if (st == ACLM_OK) {
		json_t *leaf = json_array_get(r.certs, 0);

		res->cert_id = strtoll(aclm_json_str(leaf, "id"), NULL, 10);
		snprintf(res->fingerprint, sizeof(res->fingerprint), "%s",
			 aclm_json_str(leaf, "fingerprint_sha256"));
		st = tag_leaf(c, res->cert_id, enc ? CLIENT__TLCP_ENC_PROFILE : req->profile,
			      enc ? "enc" : req->tlcp ? "sign" : NULL, err);
	}
	json_decref(r.certs);
	json_decref(o.tags);
	return st;
}

/* The new certificate on the lineage row: the lineage's own (cert_id,
 * ari_id; the ARI state of the one it replaced goes) or, enc, the TLCP
 * encryption certificate's options "tlcp_enc" {"cert_id", "ari_id"}. */
static aclm_status lineage_record(struct client_conn *c, const struct client_request *req,
				  bool enc, int64_t cert_id, const char *ari_id, struct aclm_err *err)
{
	struct store_lineage *l = NULL;
	int64_t id;
	aclm_status st = store_lineage_get(c->inv->store, c->inv->tenant_id, req->lineage, &l, err);

	if (st == ACLM_OK && l->options == NULL && (l->options = json_object()) == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	if (st != ACLM_OK) {
		store_lineage_free(l);
		return st;
	}
	if (enc) {
		json_object_set_new(l->options, "tlcp_enc", json_pack("{s:I, s:s*}", "cert_id",
								       (json_int_t)cert_id, "ari_id",
								       ari_id));
	} else {
		l->cert_id = cert_id;
		free(l->ari_id);
		l->ari_id = ari_id != NULL ? strdup(ari_id) : NULL;
		l->next_check = 0;
		json_object_del(l->options, "ari");
	}
	free(l->order_url);
	free(l->order_state);
	l->order_url = NULL;
	l->order_state = strdup("valid");
	l->account_id = c->account_id;
	l->updated_at = aclm_time_now();
	st = store_lineage_put(c->inv->store, l, &id, err);
	store_lineage_free(l);
	return st;
}

/* certbot's match: the CN of the issuer of the chain's last certificate. */
static bool chain_top_issued_by(const struct crypto_bundle *b, const char *cn)
{
	char top[256];
	X509_NAME *issuer = b->ncerts > 0 ? X509_get_issuer_name(b->certs[b->ncerts - 1]) : NULL;

	return issuer != NULL &&
	       X509_NAME_get_text_by_NID(issuer, NID_commonName, top, sizeof(top)) > 0 &&
	       strcmp(top, cn) == 0;
}

/* Fetches the chain at url (POST-as-GET) and parses it. */
static aclm_status fetch_chain(struct client_conn *c, const char *url, struct http_response *resp,
			       struct crypto_bundle **b, struct aclm_err *err)
{
	aclm_status st = client_post(c, url, NULL, "certificate", resp, err);

	if (st == ACLM_OK)
		st = crypto_bundle_parse(resp->body.data, resp->body.len, NULL, b, err);
	return st;
}

/* RFC 8555 §7.4.2: the server may offer alternate chains in Link
 * rel="alternate" headers; the first whose top issuer is req->preferred_chain
 * replaces the default (resp, b). An alternate that cannot be fetched is
 * skipped: the default chain is still good. */
static void prefer_chain(struct client_conn *c, const struct client_request *req,
			 struct http_response *resp, struct crypto_bundle **b)
{
	struct http_link *links = resp->links;
	size_t nlinks = resp->nlinks;
	struct http_response alt = { 0 };
	struct crypto_bundle *ab = NULL;
	size_t nalt = 0;
	bool found = false;

	if (req->preferred_chain == NULL || chain_top_issued_by(*b, req->preferred_chain))
		return;
	/* resp's links stay valid while resp is not freed: swap only at the end. */
	for (size_t i = 0; i < nlinks && !found; i++) {
		struct aclm_err ignored = { 0 };

		if (strcasecmp(links[i].rel, "alternate") != 0)
			continue;
		nalt++;
		if (fetch_chain(c, links[i].url, &alt, &ab, &ignored) != ACLM_OK)
			log_info("alternate chain %s: %s", links[i].url, ignored.msg);
		else if (chain_top_issued_by(ab, req->preferred_chain))
			/* Same certificate, another path: a different leaf is not an alternate. */
			found = X509_cmp(ab->certs[0], (*b)->certs[0]) == 0;
		if (!found) {
			crypto_bundle_free(ab);
			ab = NULL;
			http_response_free(&alt);
			alt = (struct http_response){ 0 };
		}
	}
	if (!found) {
		log_info("%s: no chain issued by \"%s\" among the default and %zu alternate(s); "
			 "keeping the default", req->lineage, req->preferred_chain, nalt);
		return;
	}
	log_info("%s: using the alternate chain issued by \"%s\"", req->lineage, req->preferred_chain);
	http_response_free(resp);
	*resp = alt;
	crypto_bundle_free(*b);
	*b = ab;
}

aclm_status client__download_and_store(struct client_conn *c, const struct client_request *req,
				       bool enc, const char *cert_url, struct client_result *res,
				       struct aclm_err *err)
{
	struct http_response resp = { 0 };
	struct crypto_bundle *b = NULL;
	struct client_result one = { 0 };
	char *ari_id = NULL;
	aclm_status st = fetch_chain(c, cert_url, &resp, &b, err);
	int64_t nb, na;
	char ts[ACLM_TIME_RFC3339_LEN];

	if (st == ACLM_OK)
		prefer_chain(c, req, &resp, &b);
	/* RFC 9773 §4.1: the identifier renew asks renewalInfo about and the
	 * next order names in "replaces". */
	if (st == ACLM_OK && c->dir.renewal_info != NULL && (ari_id = acme_ari_cert_id(b->certs[0])) == NULL)
		log_info("%s: the certificate has no AKI keyIdentifier: no ARI for it", req->lineage);
	if (st == ACLM_OK)
		st = import_chain(c, req, enc, &resp, &one, err);
	if (st == ACLM_OK)
		st = write_lineage_files(c, req, enc, b, &one, err);
	if (st == ACLM_OK)
		st = lineage_record(c, req, enc, one.cert_id, ari_id, err);
	if (st == ACLM_OK && crypto_cert_validity(b->certs[0], &nb, &na) == ACLM_OK)
		snprintf(one.not_after, sizeof(one.not_after), "%s", aclm_time_fmt(na, ts));
	memcpy(res->lineage_dir, one.lineage_dir, sizeof(res->lineage_dir));
	if (enc) {
		res->enc_cert_id = one.cert_id;
		memcpy(res->enc_fingerprint, one.fingerprint, sizeof(res->enc_fingerprint));
		memcpy(res->enc_not_after, one.not_after, sizeof(res->enc_not_after));
	} else {
		res->cert_id = one.cert_id;
		memcpy(res->fingerprint, one.fingerprint, sizeof(res->fingerprint));
		memcpy(res->not_after, one.not_after, sizeof(res->not_after));
	}
	free(ari_id);
	crypto_bundle_free(b);
	http_response_free(&resp);
	return st;
}
