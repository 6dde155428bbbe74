# aclm's own ACME CA (`aclm ca serve`) with aclm's own client: ECDSA, RSA and SM2 certificates
# through http-01 (DNS name + IP), tls-alpn-01 and dns-01 (wildcard), each signed by the
# intermediate of its key's family and verified with openssl; revocation shows in the CRL;
# a CA killed right after committing a certificate serves it after the restart; the issued
# certificates are in the CA's inventory (source ca).
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/aclm_ca.sh"

start_aclm_ca p256 rsa3072 sm2
# Each issuance syncs the WAL; reserved at start, it is overwritten, never extended
# (store_reserve_log): a checkpoint's worth of 4 KiB pages and frame headers at least.
wal_size=$(stat -c %s "$CA_HOME/aclm.db-wal")
[ "$wal_size" -ge $((32 + 16384 * 4120)) ] || fail "the CA's WAL is $wal_size bytes, not reserved"
issue() {
	aclm issue --server "$CA_DIR" --ca-bundle "$CA_ROOTS" --agree-tos "$@"
}
root_of() { # KEY_TYPE -> file with that root
	aclm_ca cert list --search "TestCA Root $1" --format json >"$T/r.json"
	id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$T/r.json")
	aclm_ca cert export "$id" --out "$T/root-$1.pem" >/dev/null
	echo "$T/root-$1.pem"
}

note "the directory names every resource, the profiles and CAA identities"
curl -sf --cacert "$CA_ROOTS" "$CA_DIR" >"$T/dir.json" || fail "no directory"
for k in newNonce newAccount newOrder revokeCert keyChange renewalInfo; do
	json_check "$T/dir.json" "'$k' in d" "directory has $k"
done
json_check "$T/dir.json" "sorted(d['meta']['profiles']) == ['classic','shortlived','sm2-enc','tlsserver']" "profiles"
json_check "$T/dir.json" "d['meta']['caaIdentities'] == ['testca.aclm']" "caaIdentities"

note "ECDSA, RSA and SM2 in one run through http-01, a DNS name and an IP address"
expect_exit 0 issue -d a.example.test --ip 127.0.0.1 --key-type p256,rsa2048,sm2 \
	--http-listen "127.0.0.1:$CA_HTTP_PORT"
d=$ACLM_HOME/live/a.example.test
openssl verify -CAfile "$(root_of P256)" -untrusted "$d/chain.pem" "$d/cert.pem" >/dev/null 2>&1 ||
	fail "the ECDSA certificate does not verify"
openssl x509 -in "$d/chain.pem" -noout -subject | grep -q "Intermediate P256" ||
	fail "ECDSA leaf not signed by the P-256 intermediate"
openssl x509 -in "$d/cert.pem" -noout -ext subjectAltName >"$T/san"
expect_file_contains "$T/san" "DNS:a.example.test" "SAN"
expect_file_contains "$T/san" "IP Address:127.0.0.1" "SAN"
openssl x509 -in "$d/cert.pem" -noout -text >"$T/leaf.txt"
expect_file_contains "$T/leaf.txt" "TLS Web Server Authentication" "EKU"
expect_file_contains "$T/leaf.txt" "acme/crl/p256.crl" "CRL distribution point"
r=$ACLM_HOME/live/a.example.test-rsa2048
openssl verify -CAfile "$(root_of RSA3072)" -untrusted "$r/chain.pem" "$r/cert.pem" >/dev/null 2>&1 ||
	fail "the RSA certificate does not verify"
s=$ACLM_HOME/live/a.example.test-sm2
openssl x509 -in "$s/cert.pem" -noout -text >"$T/sm2.txt"
expect_file_contains "$T/sm2.txt" "SM2-with-SM3" "SM2 signature"
# openssl 3.0 cannot verify whole SM2 chains from the CLI (TESTBED.md): link by link.
openssl verify -partial_chain -vfyopt distid:1234567812345678 -CAfile "$s/chain.pem" "$s/cert.pem" \
	>/dev/null 2>&1 || fail "the SM2 leaf does not verify against the SM2 intermediate"
openssl verify -partial_chain -vfyopt distid:1234567812345678 -CAfile "$(root_of SM2)" "$s/chain.pem" \
	>/dev/null 2>&1 || fail "the SM2 intermediate does not verify against the SM2 root"

note "tls-alpn-01"
expect_exit 0 issue -d alpn.example.test --challenge tls-alpn-01 \
	--tls-alpn-listen "127.0.0.1:$CA_TLS_PORT"
[ -s "$ACLM_HOME/live/alpn.example.test/cert.pem" ] || fail "no tls-alpn-01 certificate"

note "dns-01 with a wildcard, through a hook writing to the CA's DNS server"
cat >"$T/hook.sh" <<HOOK
#!/bin/sh
case \$1 in
present) curl -sf -d "{\"host\":\"\$2\",\"value\":\"\$3\"}" $CA_CHALLTESTSRV/set-txt ;;
cleanup) curl -sf -d "{\"host\":\"\$2\"}" $CA_CHALLTESTSRV/clear-txt ;;
esac
HOOK
chmod +x "$T/hook.sh"
expect_exit 0 issue -d '*.w.example.test' -d w.example.test --challenge dns-01 \
	--dns-hook "$T/hook.sh" --dns-resolver "$CA_DNS"
openssl x509 -in "$ACLM_HOME/live/w.example.test/cert.pem" -noout -ext subjectAltName >"$T/san"
expect_file_contains "$T/san" "DNS:*.w.example.test" "wildcard SAN"


note "a failed validation names the CA's reason"
expect_exit 1 issue -d nobody.example.test --http-listen "127.0.0.1:$(free_port)"
expect_contains "$(err)" "nobody.example.test"
# Nothing answers on the port the VA connects to: the CA's problem type reaches the user.
expect_contains "$(err)" "connection"

note "renew and revoke; the revoked serial is in the CA's CRL"
ok renew --force alpn.example.test
serial=$(openssl x509 -in "$ACLM_HOME/live/alpn.example.test/cert.pem" -noout -serial | cut -d= -f2)
ok revoke "$ACLM_HOME/live/alpn.example.test/cert.pem" --reason superseded --server "$CA_DIR" --ca-bundle "$CA_ROOTS"
curl -sf --cacert "$CA_ROOTS" -o "$T/p256.crl" "https://127.0.0.1:$CA_PORT/acme/crl/p256.crl" ||
	fail "no CRL"
openssl crl -inform DER -in "$T/p256.crl" -noout -text >"$T/crl.txt"
expect_file_contains "$T/crl.txt" "$serial" "revoked serial in the CRL"
expect_file_contains "$T/crl.txt" "Superseded" "revocation reason"
openssl crl -inform DER -in "$T/p256.crl" -CAfile "$ACLM_HOME/live/a.example.test/chain.pem" -noout \
	2>&1 | grep -q "verify OK" || fail "the CRL signature does not verify"

note "killed right after committing a certificate: the restarted CA serves it"
stop_aclm_ca
export ACLM_TEST_CRASH_AT=ca-after-issue
restart_aclm_ca
unset ACLM_TEST_CRASH_AT
expect_exit 1 issue -d crash.example.test --http-listen "127.0.0.1:$CA_HTTP_PORT"
wait "$CA_PID" 2>/dev/null || true
grep -q "test crash point ca-after-issue" "$CA_LOG" || fail "the CA did not stop at the crash point"
restart_aclm_ca
ok renew crash.example.test
[ -s "$ACLM_HOME/live/crash.example.test/cert.pem" ] || fail "no certificate after the restart"
aclm_ca cert list --search crash.example.test --format json >"$T/c.json"
json_check "$T/c.json" "len(d) == 1 and d[0]['source'] == 'ca'" "exactly one certificate issued, in the CA's inventory"

note "killed while a validation runs: the restarted CA validates again and the order completes"
stop_aclm_ca
export ACLM_TEST_CRASH_AT=ca-before-validate
restart_aclm_ca
unset ACLM_TEST_CRASH_AT
expect_exit 1 issue -d va-crash.example.test --http-listen "127.0.0.1:$CA_HTTP_PORT"
wait "$CA_PID" 2>/dev/null || true
grep -q "test crash point ca-before-validate" "$CA_LOG" || fail "the CA did not stop in the VA"
restart_aclm_ca
grep -q "1 validation(s) left processing by the last run queued again" "$CA_LOG" ||
	fail "the pending validation was not queued again"
ok renew va-crash.example.test
[ -s "$ACLM_HOME/live/va-crash.example.test/cert.pem" ] || fail "no certificate after the VA restart"

note "the CA's inventory holds every issued certificate"
aclm_ca cert list --format json >"$T/all.json"
json_check "$T/all.json" "len([c for c in d if c['source'] == 'ca' and not c['is_ca']]) >= 7" "issued certificates"

note "ca certs lists what was issued; ca revoke and ca crl from the command line"
aclm_ca ca certs --format json >"$T/certs.json"
json_check "$T/certs.json" "len([c for c in d if c['status'] == 'revoked']) == 1" "one revoked certificate"
crash_serial=$(openssl x509 -in "$ACLM_HOME/live/crash.example.test/cert.pem" -noout -serial | cut -d= -f2)
aclm_ca ca revoke "$crash_serial" --reason keyCompromise 2>/dev/null || fail "ca revoke failed"
expect_exit 1 aclm_ca ca revoke "$crash_serial"
expect_contains "$(err)" "already revoked"
aclm_ca ca crl --key-type p256 --out "$T/cli.crl" || fail "ca crl failed"
openssl crl -in "$T/cli.crl" -noout -text >"$T/cli-crl.txt"
expect_file_contains "$T/cli-crl.txt" "$crash_serial" "CLI revocation in the CRL"
expect_file_contains "$T/cli-crl.txt" "Key Compromise" "reason"

note "EAB: an account bound to tenant team-a and *.corp.example gets only those names"
aclm_ca ca eab create --for-tenant team-a --allow '*.corp.example' --hmac-out "$T/eab.key" >"$T/kid" ||
	fail "eab create failed"
expect_eq "$(mode_of "$T/eab.key")" 600 "HMAC key file mode"
H2=$T/home2
mkdir -p "$H2"
expect_exit 0 env ACLM_HOME="$H2" "$ACLM_BIN" issue --server "$CA_DIR" --ca-bundle "$CA_ROOTS" --agree-tos \
	--eab-kid "$(cat "$T/kid")" --eab-hmac-key-file "$T/eab.key" -d www.corp.example \
	--http-listen "127.0.0.1:$CA_HTTP_PORT"
aclm_ca --tenant team-a cert list --search www.corp.example --format json >"$T/ta.json"
json_check "$T/ta.json" "len(d) == 1 and d[0]['source'] == 'ca'" "certificate filed under team-a"
expect_exit 1 env ACLM_HOME="$H2" "$ACLM_BIN" issue --server "$CA_DIR" --ca-bundle "$CA_ROOTS" --agree-tos \
	-d www.other.example --http-listen "127.0.0.1:$CA_HTTP_PORT"
expect_contains "$(err)" "rejectedIdentifier"
note "rate limits: a second order within the minute is refused with rateLimited and the retry time"
stop_aclm_ca
CA_SERVE_ARGS="--limit-orders 1"
restart_aclm_ca
CA_SERVE_ARGS=""
expect_exit 0 issue -d rl1.example.test --http-listen "127.0.0.1:$CA_HTTP_PORT"
# A minute boundary between the two orders opens a new window: then the third one is refused.
if issue -d rl2.example.test --http-listen "127.0.0.1:$CA_HTTP_PORT" >"$OUT" 2>"$ERR"; then
	expect_exit 1 issue -d rl3.example.test --http-listen "127.0.0.1:$CA_HTTP_PORT"
fi
expect_contains "$(err)" "rateLimited"
expect_contains "$(err)" "retry after"
stop_aclm_ca
grep -E "AddressSanitizer|runtime error" "$CA_LOG" && fail "sanitizer report in the CA log"
true
