# lego (a real ACME client, Go) against aclm's own CA (`aclm ca serve`): ECDSA and RSA
# certificates through http-01, tls-alpn-01, and dns-01 with a wildcard through lego's exec
# provider writing to the CA's DNS server; each chain verified with openssl and signed by the
# intermediate of its key's family; renewal; revocation with the reason in the CRL, an
# unsupported reason refused (badRevocationReason) and a second revocation (alreadyRevoked);
# the CA's inventory lists every certificate with its status; External Account Binding with
# lego's HMAC (a wrong MAC, a name outside the key's patterns and a second use refused).
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/aclm_ca.sh"

command -v lego >/dev/null || fail "lego is not installed (scripts/deps)"
start_aclm_ca p256 rsa3072

LEGO_CA_CERTIFICATES=$CA_ROOTS
export LEGO_CA_CERTIFICATES
LC=$T/lego/certificates
lego_() { # ARGS...: lego against aclm's CA, state under $T (stdout+stderr in $OUT)
	lego --server "$CA_DIR" --accept-tos --email x@example.test --path "$T/lego" "$@" >"$OUT" 2>&1
}
lego_ok() { # WHAT ARGS...: lego must succeed
	lg__what=$1
	shift
	lego_ "$@" || {
		tail -n 30 "$OUT" >&2
		echo "--- CA log:" >&2
		tail -n 30 "$CA_LOG" >&2
		fail "lego $lg__what"
	}
}
# lego_fails PROBLEM WHAT ARGS...: lego must fail with the CA's problem type PROBLEM.
lego_fails() {
	lg__p=$1
	lg__what=$2
	shift 2
	if lego_ "$@"; then fail "lego $lg__what succeeded"; fi
	grep -q "urn:ietf:params:acme:error:$lg__p" "$OUT" ||
		{ tail -n 20 "$OUT" >&2; fail "lego $lg__what: no $lg__p problem"; }
}
http01() { # ARGS...: lego with its http-01 server where the CA's VA connects
	lego_ok "http-01 $*" --http --http.port "127.0.0.1:$CA_HTTP_PORT" "$@"
}
# check NAME FAMILY: lego's files for NAME verify against the roots through its issuer file,
# signed by that intermediate; NAME is in the SAN.
check() {
	lg__f=$LC/$(printf %s "$1" | sed 's/^\*/_/')
	[ -s "$lg__f.crt" ] || fail "lego wrote no certificate for $1"
	expect_eq "$(pem_count "$lg__f.crt")" 2 "certificates in $lg__f.crt (leaf + intermediate)"
	ca_verify "$lg__f.crt" "$lg__f.issuer.crt" "$2"
	ca_verify "$lg__f.crt" "$lg__f.crt" "$2"
	openssl x509 -in "$lg__f.crt" -noout -ext subjectAltName >"$T/san"
	expect_file_contains "$T/san" "DNS:$1" "SAN of $1"
}

note "account registration"
lego_ok "run http-01 (ECDSA)" --http --http.port "127.0.0.1:$CA_HTTP_PORT" -d ec.example.test run
acct=$(find "$T/lego/accounts" -name account.json | head -n 1)
json_check "$acct" "d['registration']['body']['status'] == 'valid'" "account status"
json_check "$acct" "d['registration']['body']['contact'] == ['mailto:x@example.test']" "account contact"
json_check "$acct" "d['registration']['uri'].startswith('https://127.0.0.1:$CA_PORT/acme/acct/')" \
	"account URL"

note "http-01: ECDSA (lego's default ec256) and RSA (--key-type rsa2048)"
check ec.example.test P256
openssl x509 -in "$LC/ec.example.test.crt" -noout -text | grep -q "id-ecPublicKey" || fail "not ECDSA"
http01 --key-type rsa2048 -d rsa.example.test -d www.rsa.example.test run
check rsa.example.test RSA3072
openssl x509 -in "$LC/rsa.example.test.crt" -noout -ext subjectAltName | grep -q "DNS:www.rsa.example.test" ||
	fail "second name missing"
openssl x509 -in "$LC/rsa.example.test.crt" -noout -text | grep -q "rsaEncryption" || fail "not RSA"

note "tls-alpn-01 (RFC 8737) through lego's own responder"
lego_ok "run tls-alpn-01" --tls --tls.port "127.0.0.1:$CA_TLS_PORT" -d alpn.example.test run
check alpn.example.test P256
grep -q "alpn.example.test .*: valid" "$CA_LOG" || fail "the CA logged no valid challenge for alpn"
grep -q "tls-alpn-01 alpn.example.test" "$CA_LOG" || fail "alpn.example.test not validated by tls-alpn-01"

note "renew --days 999 replaces the certificate"
ec1=$T/ec1.pem
cp "$LC/ec.example.test.crt" "$ec1"
http01 -d ec.example.test renew --days 999 --no-random-sleep
check ec.example.test P256
ec2=$T/ec2.pem
cp "$LC/ec.example.test.crt" "$ec2"
expect_ne "$(ca_serial "$ec2")" "$(ca_serial "$ec1")" "serial after renewal"

note "revoke: an unsupported reason is refused, keyCompromise lands in the CRL"
lego_fails badRevocationReason "revoke --reason 6 (certificateHold)" -d ec.example.test revoke --keep --reason 6
ca_crl_lacks "$ec2"
lego_ok "revoke" -d ec.example.test revoke --keep --reason 1
ca_crl_has "$ec2" "$LC/ec.example.test.issuer.crt" "Key Compromise"
ca_crl_lacks "$ec1"
lego_fails alreadyRevoked "second revoke" -d ec.example.test revoke --keep --reason 1
lego_ok "revoke RSA" -d rsa.example.test revoke --keep
# RFC 5280 §5.3.1: no reason code extension rather than unspecified (0)
ca_crl_has "$LC/rsa.example.test.crt" "$LC/rsa.example.test.issuer.crt" -

note "dns-01 with a wildcard through lego's exec provider, TXT records at the CA's DNS server"
cat >"$T/exec.sh" <<HOOK
#!/bin/sh
echo "\$*" >>"$T/exec.log"
case \$1 in
present) curl -sf -d "{\"host\":\"\$2\",\"value\":\"\$3\"}" $CA_CHALLTESTSRV/set-txt ;;
cleanup) curl -sf -d "{\"host\":\"\$2\"}" $CA_CHALLTESTSRV/clear-txt ;;
*) exit 1 ;;
esac
HOOK
chmod +x "$T/exec.sh"
EXEC_PATH=$T/exec.sh EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=30 EXEC_SEQUENCE_INTERVAL=1 \
	lego_ok "run dns-01" --dns exec --dns.resolvers "$CA_DNS" --dns.disable-cp \
	-d '*.w.example.test' -d w.example.test run
check '*.w.example.test' P256
expect_file_contains "$T/san" "DNS:w.example.test" "apex next to the wildcard"
# Two authorizations (the wildcard's and the apex's) each with its own TXT value at one name.
expect_eq "$(grep -c '^present _acme-challenge.w.example.test. ' "$T/exec.log")" 2 "TXT records presented"
expect_eq "$(grep -c '^cleanup _acme-challenge.w.example.test. ' "$T/exec.log")" 2 "TXT records cleaned up"
expect_eq "$(grep -c 'dns-01 .*w.example.test.*: valid' "$CA_LOG")" 2 "dns-01 validations in the CA's log"

note "the CA's inventory lists the certificates with their status"
ca_cert_check "$ec1" "c['status'] == 'valid' and c['key_type'] == 'p256'" "first ECDSA certificate"
ca_cert_check "$ec2" "c['status'] == 'revoked' and c['reason'] == 1" "revoked ECDSA certificate"
ca_cert_check "$LC/rsa.example.test.crt" "c['status'] == 'revoked' and c['key_type'] == 'rsa3072'" \
	"revoked RSA certificate"
ca_cert_check "$LC/alpn.example.test.crt" "c['status'] == 'valid'" "tls-alpn-01 certificate"
ca_cert_check "$LC/_.w.example.test.crt" "c['status'] == 'valid'" "wildcard certificate"

note "External Account Binding (RFC 8555 §7.3.4): lego's HMAC, the key's name patterns, one use"
stop_aclm_ca TERM
CA_SERVE_ARGS=--eab-required
restart_aclm_ca
aclm_ca ca eab create --allow '*.eab.example.test' --hmac-out "$T/eab.key" --format json >"$T/eab.json" ||
	fail "aclm ca eab create"
kid=$(json_get "$T/eab.json" "d['kid']")
hmac=$(cat "$T/eab.key")
lego_eab() { # EMAIL HMAC ARGS...: a new lego account bound with the EAB key
	lg__e=$1
	lg__h=$2
	shift 2
	lego --server "$CA_DIR" --accept-tos --email "$lg__e" --path "$T/lego-eab" --eab --kid "$kid" \
		--hmac "$lg__h" --http --http.port "127.0.0.1:$CA_HTTP_PORT" "$@" >"$OUT" 2>&1
}
if lego_eab bad@example.test AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA -d a.eab.example.test run; then
	fail "an account with a wrong EAB MAC was created"
fi
expect_file_contains "$OUT" "urn:ietf:params:acme:error:unauthorized" "wrong EAB MAC"
lego_eab e@example.test "$hmac" -d a.eab.example.test run ||
	{ tail -n 20 "$OUT" >&2; tail -n 20 "$CA_LOG" >&2; fail "lego with EAB"; }
ca_verify "$T/lego-eab/certificates/a.eab.example.test.crt" \
	"$T/lego-eab/certificates/a.eab.example.test.issuer.crt" P256
if lego_eab e@example.test "$hmac" -d other.example.test run; then
	fail "the EAB-bound account got a name outside its pattern"
fi
expect_file_contains "$OUT" "urn:ietf:params:acme:error:rejectedIdentifier" "name outside the EAB pattern"
if lego_eab f@example.test "$hmac" -d b.eab.example.test run; then fail "an EAB key bound two accounts"; fi
expect_file_contains "$OUT" "urn:ietf:params:acme:error:unauthorized" "second use of the EAB key"
