/* client/ internals shared by its files. */
#ifndef ACLM_CLIENT_INT_H
#define ACLM_CLIENT_INT_H

#include "client/client.h"

#define CLIENT_NONCE_RETRIES 5  /* badNonce retries per request (RFC 8555 §6.5) */
#define CLIENT_MAX_BODY (4u << 20) /* certificate chains and orders stay far below */
#define CLIENT_MAX_PROFILES 32   /* profile names listed in an error */

struct client_conn {
	struct inventory *inv;
	struct client_opts opts;
	char *server;
	struct http_client *http;
	struct acme_directory dir;
	char *nonce;               /* next Replay-Nonce to use, or NULL */

	/* the account */
	int64_t account_id;
	char key_id[KEYSTORE_ID_MAX];
	int key_type;              /* enum crypto_key_type of key_id, -1 when none */
	json_t *jwk;
	char *kid;                 /* account URL */
	const char *alg;
	struct acme_signer signer;
};

/* draft-aaron-acme-profiles name of TLCP encryption certificates (aclm's CA
 * gives them keyEncipherment, dataEncipherment and keyAgreement). */
#define CLIENT__TLCP_ENC_PROFILE "sm2-enc"

/* http_request on the connection's handle; a failure names the proxy from
 * the environment (https_proxy, ...) that libcurl went through, if any. */
aclm_status client__request(struct client_conn *c, const char *method, const char *url,
			    const char *content_type, const void *body, size_t len,
			    struct http_response *resp, struct aclm_err *err);

/* Binds the account key key_id to the signer (jwk, alg). */
aclm_status client__use_key(struct client_conn *c, const char *key_id, struct aclm_err *err);

/* Downloads the certificate chain at cert_url (RFC 8555 §7.4.2), imports it
 * into the inventory, writes the lineage files and records the certificate
 * on the lineage row (with its RFC 9773 identifier when the server offers
 * renewalInfo). enc: the TLCP encryption certificate of the lineage
 * (enc-cert.pem, enc-privkey.pem; options "tlcp_enc" of the row), filling
 * res's enc_* fields; else the lineage's certificate. */
aclm_status client__download_and_store(struct client_conn *c, const struct client_request *req,
				       bool enc, const char *cert_url, struct client_result *res,
				       struct aclm_err *err);

/* The newOrder payload (RFC 8555 §7.4): identifiers for names, plus
 * "profile" (draft-aaron-acme-profiles) and "replaces" (RFC 9773 §5) when
 * not NULL. */
json_t *client__order_payload(const char *const *names, size_t nnames, const char *profile,
			      const char *replaces);

/* True when resp is a problem document (RFC 7807) of the ACME type name
 * (e.g. "alreadyReplaced"). */
bool client__answer_is_problem(const struct http_response *resp, const char *name);

/* Runs the deploy hook argv (req->deploy_hook split into words) for the
 * certificate in res: RENEWED_LINEAGE, RENEWED_DOMAINS and ACLM_CERT_ID in
 * its environment, 300 s at most. Exit status not 0 -> ACLM_ERR_IO "deploy
 * hook `CMD` exited N: FIRST STDERR LINE (certificate ID is issued and
 * stored in DIR)". */
aclm_status client__deploy_hook(const struct client_request *req, char *const argv[],
				const struct client_result *res, struct aclm_err *err);

/* Sleeps for Retry-After (bounded) or the backoff step. */
void client__wait(const struct http_response *resp, int attempt);

#endif
