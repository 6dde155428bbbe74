# uacme (a real ACME client, C + libcurl) against aclm's own CA (`aclm ca serve`): account,
# RSA and ECDSA certificates through http-01 with uacme's hook protocol (the key authorization
# written into a webroot served on the CA's http-01 port), forced reissue, a wrong key
# authorization refused, account key rollover (RFC 8555 §7.3.5: the old key no longer names the
# account), revocation signed by the account key and by the certificate key (§7.6) with the
# reasons in the CRL, account deactivation (§7.3.6); the CA's inventory lists the certificates.
# uacme has no CA-bundle option: it runs in a private mount namespace where the system bundle is
# replaced by one holding the CA's roots (TESTBED.md), so this test needs `unshare -m` (root).
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/aclm_ca.sh"

command -v uacme >/dev/null || fail "uacme is not installed (scripts/deps)"
SYS_BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -f "$SYS_BUNDLE" ] || fail "no $SYS_BUNDLE to stand in for"
if ! unshare -m sh -c "mount --bind /dev/null $SYS_BUNDLE" 2>"$ERR"; then
	echo "SKIP: $LIB_NAME: cannot bind-mount a CA bundle in a private mount namespace" \
		"(unshare -m needs root or CAP_SYS_ADMIN): $(head -c 300 "$ERR")" >&2
	exit 0
fi
start_aclm_ca p256 rsa3072

BUNDLE=$T/bundle.pem
cat "$SYS_BUNDLE" "$CA_ROOTS" >"$BUNDLE"
U=$T/uacme
# ua ARGS...: uacme against aclm's CA with the CA's roots trusted (output in $OUT, $ERR).
ua() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec uacme "$@"' sh "$BUNDLE" "$SYS_BUNDLE" \
		-v -a "$CA_DIR" "$@" >"$OUT" 2>"$ERR"
}
ua_ok() { # WHAT ARGS...
	ua__what=$1
	shift
	ua "$@" || {
		tail -n 30 "$ERR" >&2
		echo "--- CA log:" >&2
		tail -n 30 "$CA_LOG" >&2
		fail "uacme $ua__what"
	}
}

# The webroot served where the CA's VA fetches http-01 resources.
WWW=$T/www
mkdir -p "$WWW/.well-known/acme-challenge"
python3 -m http.server --bind 127.0.0.1 "$CA_HTTP_PORT" --directory "$WWW" >"$T/www.log" 2>&1 &
WWW_PID=$!
bg_track $WWW_PID
echo ready >"$WWW/ping"
wait_http "http://127.0.0.1:$CA_HTTP_PORT/ping"

# uacme's hook: METHOD TYPE IDENT TOKEN AUTH; accepts http-01 only (declines the others), for
# names under bad.example.test writes a wrong key authorization.
cat >"$T/hook.sh" <<HOOK
#!/bin/sh
echo "\$*" >>"$T/hook.log"
f=$WWW/.well-known/acme-challenge/\$4
case \$1:\$2:\$3 in
begin:http-01:*bad.example.test) printf '%s' "\$4.not-the-account-thumbprint" >"\$f" ;;
begin:http-01:*) printf '%s' "\$5" >"\$f" ;;
done:http-01:* | failed:http-01:*) rm -f "\$f" ;;
*) exit 1 ;;
esac
HOOK
chmod +x "$T/hook.sh"

note "new account"
ua_ok new -c "$U" -y new
expect_contains "$(err)" "account created at https://127.0.0.1:$CA_PORT/acme/acct/" "account URL"
acct=$(sed -n 's|.*account created at .*/acme/acct/||p' "$ERR" | head -n 1)
grep -q "account $acct created" "$CA_LOG" || fail "the CA did not record account $acct"

note "RSA certificate (uacme's default key) through http-01 via the hook"
ua_ok "issue RSA" -c "$U" -h "$T/hook.sh" issue rsa.example.test
crt=$U/rsa.example.test/cert.pem
rsa1=$T/rsa1.pem
cp "$crt" "$rsa1"
expect_eq "$(pem_count "$crt")" 2 "certificates in uacme's cert.pem (leaf + intermediate)"
ca_verify "$crt" "$crt" RSA3072
openssl x509 -in "$crt" -noout -text | grep -q rsaEncryption || fail "not an RSA certificate"
grep -q "^begin http-01 rsa.example.test " "$T/hook.log" || fail "the hook was not asked for http-01"
grep -q "^done http-01 rsa.example.test " "$T/hook.log" || fail "the hook heard no success"
[ -z "$(ls "$WWW/.well-known/acme-challenge")" ] || fail "the hook left challenge files"

note "ECDSA certificate (-t EC) for two names"
ua_ok "issue EC" -c "$U" -t EC -h "$T/hook.sh" issue ec.example.test www.ec.example.test
ec1=$T/ec1.pem
cp "$U/ec.example.test/cert.pem" "$ec1"
ca_verify "$ec1" "$ec1" P256
openssl x509 -in "$ec1" -noout -ext subjectAltName >"$T/san"
expect_file_contains "$T/san" "DNS:ec.example.test" "SAN"
expect_file_contains "$T/san" "DNS:www.ec.example.test" "SAN"

note "a current certificate is kept (exit 1); -f reissues it"
if ua -c "$U" -h "$T/hook.sh" issue ec.example.test www.ec.example.test; then rc=0; else rc=$?; fi
expect_eq "$rc" 1 "uacme exit status for a current certificate"
ua_ok "forced reissue" -c "$U" -f -h "$T/hook.sh" issue ec.example.test www.ec.example.test
ec2=$T/ec2.pem
cp "$U/ec.example.test/cert.pem" "$ec2"
ca_verify "$ec2" "$ec2" P256
expect_ne "$(ca_serial "$ec2")" "$(ca_serial "$ec1")" "serial after the forced reissue"

note "a wrong key authorization is refused (RFC 8555 §8.3)"
if ua -c "$U" -h "$T/hook.sh" issue bad.example.test; then fail "issued with a wrong key authorization"; fi
grep -q "^failed http-01 bad.example.test " "$T/hook.log" || fail "uacme did not report the failure to the hook"
# RFC 8555 §6.7: incorrectResponse (or unauthorized, as Boulder and Pebble answer)
grep -Eq "http-01 bad.example.test .*: (incorrectResponse|unauthorized)" "$CA_LOG" ||
	{ tail -n 5 "$CA_LOG" >&2; fail "the CA logged no refused validation of bad.example.test"; }
grep -Eq '"type": "urn:ietf:params:acme:error:(incorrectResponse|unauthorized)"' "$ERR" ||
	{ tail -n 30 "$ERR" >&2; fail "uacme saw no incorrectResponse problem in the challenge"; }

note "account key rollover (RFC 8555 §7.3.5)"
ua_ok newkey -c "$U" newkey
old=$(find "$U/private" -maxdepth 1 -name 'key-*.pem' | head -n 1)
[ -n "$old" ] || fail "uacme kept no old account key"
mkdir -p "$T/old/private"
cp "$old" "$T/old/private/key.pem"
if ua -v -c "$T/old" -h "$T/hook.sh" issue rsa.example.test; then fail "the old account key still works"; fi
expect_contains "$(err)" "urn:ietf:params:acme:error:accountDoesNotExist" "the old key after rollover"
ua_ok "issue with the new key" -c "$U" -f -h "$T/hook.sh" issue rsa.example.test
expect_contains "$(err)" "account location: https://127.0.0.1:$CA_PORT/acme/acct/$acct" \
	"the new key names the same account"
rsa2=$T/rsa2.pem
cp "$U/rsa.example.test/cert.pem" "$rsa2"
ca_verify "$rsa2" "$rsa2" RSA3072

note "revoke with the account key (superseded) and with the certificate key (keyCompromise)"
ua_ok "revoke (account key)" -c "$U" -r 4 revoke "$U/ec.example.test/cert.pem"
[ ! -e "$U/ec.example.test/cert.pem" ] || fail "uacme did not set the revoked certificate aside"
ca_crl_has "$ec2" "$ec2" Superseded
ca_crl_lacks "$ec1"
ua_ok "revoke (certificate key)" -r 1 revoke "$U/rsa.example.test/cert.pem" \
	"$U/private/rsa.example.test/key.pem"
ca_crl_has "$rsa2" "$rsa2" "Key Compromise"
if ua -c "$U" revoke "$rsa2"; then fail "a second revocation succeeded"; fi
expect_contains "$(err)" "urn:ietf:params:acme:error:alreadyRevoked" "second revocation"

note "the CA's inventory lists the certificates with their status"
ca_cert_check "$rsa1" "c['status'] == 'valid' and c['key_type'] == 'rsa3072'" "first RSA certificate"
ca_cert_check "$ec1" "c['status'] == 'valid' and c['key_type'] == 'p256'" "first ECDSA certificate"
ca_cert_check "$ec2" "c['status'] == 'revoked' and c['reason'] == 4" "revoked ECDSA certificate"
ca_cert_check "$rsa2" "c['status'] == 'revoked' and c['reason'] == 1 and c['key_type'] == 'rsa3072'" \
	"revoked RSA certificate"

note "account deactivation (RFC 8555 §7.3.6): the account can no longer order"
ua_ok deactivate -c "$U" deactivate
if ua -v -c "$U" -f -h "$T/hook.sh" issue late.example.test; then fail "a deactivated account ordered"; fi
# newAccount {onlyReturnExisting} with its key: unauthorized (RFC 8555 §7.3.6; Boulder, Pebble).
grep -q '"type": "urn:ietf:params:acme:error:unauthorized"' "$ERR" ||
	{ tail -n 30 "$ERR" >&2; fail "the deactivated account was not refused"; }
grep -q "creating new order" "$ERR" && fail "uacme could order with a deactivated account"

kill "$WWW_PID" 2>/dev/null || true
wait "$WWW_PID" 2>/dev/null || true
