# certbot (a real ACME client) against aclm's own CA (`aclm ca serve`): account registration,
# update and deactivation; ECDSA and RSA certificates through standalone http-01, each chain
# verified with openssl and signed by the intermediate of its key's family; forced renewal; revocation
# signed by the account key and by the certificate key (RFC 8555 §7.6), each serial then in
# its intermediate's CRL with the reason sent; the CA's inventory lists every certificate.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/aclm_ca.sh"

command -v certbot >/dev/null || fail "certbot is not installed (scripts/deps)"
start_aclm_ca p256 rsa3072

CB=$T/certbot
REQUESTS_CA_BUNDLE=$CA_ROOTS
export REQUESTS_CA_BUNDLE
cb() { # certbot with its state under $T, non-interactive, against aclm's CA
	certbot "$@" --server "$CA_DIR" --config-dir "$CB/config" --work-dir "$CB/work" \
		--logs-dir "${CB_LOGS:-$CB/logs}" --non-interactive
}
# cb_ok WHAT ARGS...: certbot must succeed; on failure show its log tail and the CA's log.
cb_ok() {
	cb__what=$1
	shift
	if ! cb "$@" >"$OUT" 2>"$ERR"; then
		lib__show
		tail -n 40 "$CB/logs/letsencrypt.log" >&2 2>/dev/null || true
		echo "--- CA log:" >&2
		tail -n 40 "$CA_LOG" >&2
		fail "certbot $cb__what"
	fi
}
# cb_fails PROBLEM WHAT ARGS...: certbot must fail and its log must show the CA's problem document
# of type urn:ietf:params:acme:error:PROBLEM (certbot 2.1 on Python 3.11 hides it on stderr behind
# "AttributeError: can't set attribute", a josepy bug).
cb_fails() {
	cb__p=$1
	cb__what=$2
	shift 2
	CB_LOGS=$(mktemp -d "$T/cblog.XXXXXX")
	if CB_LOGS=$CB_LOGS cb "$@" >"$OUT" 2>"$ERR"; then
		fail "certbot $cb__what succeeded"
	fi
	# The problem's JSON, or certbot's "acme.messages.Error: urn:...:TYPE :: detail" line (with
	# python3-attr installed, Debian 12's certbot dies in its error handler before logging the JSON).
	grep -q "\"type\": \"urn:ietf:params:acme:error:$cb__p\"\|Error: urn:ietf:params:acme:error:$cb__p ::" \
		"$CB_LOGS/letsencrypt.log" ||
		{ lib__show; tail -n 30 "$CB_LOGS/letsencrypt.log" >&2; fail "certbot $cb__what: no $cb__p problem"; }
}
obtain() { # NAME ARGS...: certonly through standalone http-01 on the CA's http-01 port
	cb__n=$1
	shift
	cb_ok "certonly $cb__n" certonly --standalone --http-01-port "$CA_HTTP_PORT" \
		--http-01-address 127.0.0.1 --agree-tos --register-unsafely-without-email \
		--cert-name "$cb__n" -d "$cb__n" "$@"
}
# verify_chain NAME FAMILY: live/NAME verifies against the roots, signed by that intermediate.
verify_chain() {
	cb__d=$CB/config/live/$1
	[ -s "$cb__d/cert.pem" ] || fail "certbot wrote no certificate for $1"
	ca_verify "$cb__d/cert.pem" "$cb__d/chain.pem" "$2"
	ca_verify "$cb__d/fullchain.pem" "$cb__d/fullchain.pem" "$2"
	openssl x509 -in "$cb__d/cert.pem" -noout -ext subjectAltName | grep -q "DNS:$1" ||
		fail "$1 is not in the certificate's SAN"
}

note "register an account, update its contact"
cb_ok register register --agree-tos --register-unsafely-without-email
acct=$(find "$CB/config/accounts" -name regr.json | head -n 1)
[ -n "$acct" ] || fail "certbot stored no account"
json_check "$acct" "d['uri'].startswith('https://127.0.0.1:$CA_PORT/acme/acct/')" "account URL"
grep -q "account $(json_get "$acct" "d['uri'].rsplit('/', 1)[1]") created" "$CA_LOG" ||
	fail "the CA did not record the account certbot registered"
cb_ok update_account update_account -m admin@example.test
cb_ok show_account show_account
expect_contains "$(out)$(err)" "admin@example.test" "contact after update_account"

note "ECDSA certificate (certbot's default key type) through standalone http-01"
obtain ec.example.test
verify_chain ec.example.test P256
openssl x509 -in "$CB/config/live/ec.example.test/cert.pem" -noout -text >"$T/ec.txt"
expect_file_contains "$T/ec.txt" "id-ecPublicKey" "ECDSA key"

note "RSA certificate (--key-type rsa), signed by the RSA intermediate"
obtain rsa.example.test --key-type rsa --rsa-key-size 2048
verify_chain rsa.example.test RSA3072
openssl x509 -in "$CB/config/live/rsa.example.test/cert.pem" -noout -text >"$T/rsa.txt"
expect_file_contains "$T/rsa.txt" "rsaEncryption" "RSA key"

note "two names in one certificate"
obtain multi.example.test -d www.multi.example.test
verify_chain multi.example.test P256
openssl x509 -in "$CB/config/live/multi.example.test/cert.pem" -noout -ext subjectAltName >"$T/san"
expect_file_contains "$T/san" "DNS:www.multi.example.test" "second name"

note "forced renewal: certbot renew replaces the certificate"
ec1=$T/ec1.pem
cp "$CB/config/live/ec.example.test/cert.pem" "$ec1"
cb_ok "renew" renew --force-renewal --no-random-sleep-on-renew --cert-name ec.example.test
verify_chain ec.example.test P256
ec2=$T/ec2.pem
cp "$CB/config/live/ec.example.test/cert.pem" "$ec2"
expect_ne "$(ca_serial "$ec2")" "$(ca_serial "$ec1")" "serial after renewal"
cmp -s "$ec2" "$CB/config/archive/ec.example.test/cert2.pem" || fail "renewal is not the second version"

note "revoke with the account key (keyCompromise): in the P-256 CRL, the renewed-from one not"
cb_ok "revoke (account key)" revoke --cert-path "$ec2" --reason keycompromise --no-delete-after-revoke
ca_crl_has "$ec2" "$CB/config/live/ec.example.test/chain.pem" "Key Compromise"
ca_crl_lacks "$ec1"

note "revoke with the certificate's own key (RFC 8555 §7.6): in the RSA CRL"
rsa=$T/rsa.pem
cp "$CB/config/live/rsa.example.test/cert.pem" "$rsa"
cb_ok "revoke (certificate key)" revoke --cert-path "$rsa" \
	--key-path "$CB/config/live/rsa.example.test/privkey.pem" --reason superseded \
	--no-delete-after-revoke
ca_crl_has "$rsa" "$CB/config/live/rsa.example.test/chain.pem" "Superseded"

note "revoking it again is refused (alreadyRevoked, RFC 8555 §7.6)"
cb_fails alreadyRevoked "second revocation" revoke --cert-path "$rsa" --no-delete-after-revoke

note "the CA's inventory lists the certificates with their status and reason"
ca_cert_check "$ec1" "c['status'] == 'valid' and c['key_type'] == 'p256'" "first ECDSA certificate"
ca_cert_check "$ec2" "c['status'] == 'revoked' and c['reason'] == 1" "revoked ECDSA certificate"
ca_cert_check "$rsa" "c['status'] == 'revoked' and c['reason'] == 4 and c['key_type'] == 'rsa3072'" \
	"revoked RSA certificate"
ca_cert_check "$CB/config/live/multi.example.test/cert.pem" "c['status'] == 'valid'" "two-name certificate"

note "deactivate the account (RFC 8555 §7.3.6); its key can no longer order"
cp -r "$CB/config/accounts" "$T/accounts.saved"
cb_ok unregister unregister
rm -rf "$CB/config/accounts"
cp -r "$T/accounts.saved" "$CB/config/accounts" # certbot forgot it locally; the CA must refuse it
cb_fails unauthorized "order by a deactivated account" certonly --standalone \
	--http-01-port "$CA_HTTP_PORT" --http-01-address 127.0.0.1 -d late.example.test
