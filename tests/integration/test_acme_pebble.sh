# aclm issue against Pebble (Let's Encrypt's test CA): account registration, http-01 through the
# built-in listener and through a webroot served by nginx, an IP identifier, two key types in one
# run, the inventory rows and the certbot-style lineage files. Pebble rejects 5 % of nonces, so
# badNonce retries happen along the way.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

start_pebble

issue() {
	aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos --email ops@example.test "$@"
}

verify_lineage() { # DIR: chain verifies to Pebble's root, key matches, key 0600
	d=$1
	for f in cert.pem chain.pem fullchain.pem privkey.pem; do
		[ -s "$d/$f" ] || fail "$d/$f missing or empty"
	done
	expect_eq "$(mode_of "$d/privkey.pem")" 600 "privkey.pem mode"
	openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$d/chain.pem" "$d/cert.pem" >/dev/null 2>&1 ||
		fail "$d/cert.pem does not verify against Pebble's root"
	expect_eq "$(openssl x509 -in "$d/cert.pem" -noout -pubkey)" \
		"$(openssl pkey -in "$d/privkey.pem" -pubout)" "public key of $d"
	[ "$(cat "$d/cert.pem" "$d/chain.pem")" = "$(cat "$d/fullchain.pem")" ] ||
		fail "$d/fullchain.pem is not cert.pem + chain.pem"
}

note "http-01 through the built-in listener, two names and an IP, two key types"
expect_exit 0 issue -d a.example.test -d www.a.example.test --ip 127.0.0.1 \
	--http-listen "127.0.0.1:$PEBBLE_HTTP_PORT" --key-type p256,rsa2048 --format json
expect_eq "$(wc -l <"$OUT")" 2 "one JSON line per certificate"
verify_lineage "$ACLM_HOME/live/a.example.test"
verify_lineage "$ACLM_HOME/live/a.example.test-rsa2048"
openssl x509 -in "$ACLM_HOME/live/a.example.test/cert.pem" -noout -ext subjectAltName >"$T/san"
expect_file_contains "$T/san" "DNS:a.example.test" "SAN"
expect_file_contains "$T/san" "DNS:www.a.example.test" "SAN"
expect_file_contains "$T/san" "IP Address:127.0.0.1" "SAN"
openssl x509 -in "$ACLM_HOME/live/a.example.test-rsa2048/cert.pem" -noout -text | grep -q "rsaEncryption" ||
	fail "the second lineage is not RSA"

note "the inventory holds both leaves as source acme, with their keys"
ok cert list --search a.example.test --format json
cp "$OUT" "$T/list.json"
json_check "$T/list.json" "len([c for c in d if c['source'] == 'acme' and not c['is_ca']]) == 2" "two acme leaves"
json_check "$T/list.json" "all(c['has_private_key'] for c in d if not c['is_ca'])" "leaf keys held"
json_check "$T/list.json" "all(c['tags'].get('acme.lineage','').startswith('a.example.test') for c in d if not c['is_ca'])" "lineage tag"

note "one account, reused by the next order"
ok account list --format json
cp "$OUT" "$T/acc.json"
json_check "$T/acc.json" "len(d) == 1 and d[0]['status'] == 'valid' and d[0]['url'].startswith('https://127.0.0.1')" "one account"

note "http-01 through a webroot served by nginx"
W=$T/www
mkdir -p "$W"
chmod 755 "$T" "$W"
cat >"$T/nginx.conf" <<NGINX
daemon off;
master_process off;
user root;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
events { worker_connections 64; }
http {
	access_log $T/nginx-access.log;
	client_body_temp_path $T/nginx-body;
	proxy_temp_path $T/nginx-proxy;
	fastcgi_temp_path $T/nginx-fastcgi;
	uwsgi_temp_path $T/nginx-uwsgi;
	scgi_temp_path $T/nginx-scgi;
	server { listen 127.0.0.1:$PEBBLE_HTTP_PORT; root $W; }
}
NGINX
nginx -c "$T/nginx.conf" -p "$T" &
NGINX_PID=$!
bg_track $NGINX_PID
for _ in $(seq 1 50); do
	[ -s "$T/nginx.pid" ] && break
	sleep 0.1
done
expect_exit 0 issue -d web.example.test --webroot "$W"
verify_lineage "$ACLM_HOME/live/web.example.test"
grep -q "GET /.well-known/acme-challenge/" "$T/nginx-access.log" || fail "nginx served no challenge"
[ -z "$(find "$W/.well-known/acme-challenge" -type f 2>/dev/null)" ] || fail "token files left behind"
ok account list --format json
cp "$OUT" "$T/acc2.json"
json_check "$T/acc2.json" "len(d) == 1" "still one account"

note "bad input: an invalid name fails before any request, nothing written"
for bad in "bad name.example.test" "empty..example.test" "-lead.example.test" "nodot"; do
	expect_exit 1 issue -d "$bad" --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
	expect_contains "$(err)" "not a valid DNS name"
done
[ ! -e "$ACLM_HOME/live/empty..example.test" ] || fail "files written for a bad name"

note "terms of service not agreed: clear refusal"
ok tenant add fresh # a tenant without an ACME account
expect_exit 2 aclm --tenant fresh issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" -d t.example.test \
	--http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
expect_contains "$(err)" "agree-tos"
[ ! -d "$ACLM_HOME/live/t.example.test" ] || fail "files written without an account"

note "TLS verification of the ACME server is on: without its CA the run fails clearly"
expect_exit 1 aclm --tenant fresh issue --server "$PEBBLE_DIR" --agree-tos -d v.example.test \
	--http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
expect_contains "$(err)" "verif"

note "renew: nothing is due right after issuance; --dry-run changes nothing; --force renews"
note "(web.example.test renews through its stored webroot, still served by nginx)"
ok renew --dry-run
expect_contains "$(out)" "skip     a.example.test: not due until"
expect_contains "$(out)" "skip     web.example.test: not due until"
old=$(openssl x509 -in "$ACLM_HOME/live/web.example.test/cert.pem" -noout -serial)
ok renew --force web.example.test
expect_contains "$(out)" "renewed  web.example.test"
new=$(openssl x509 -in "$ACLM_HOME/live/web.example.test/cert.pem" -noout -serial)
expect_ne "$new" "$old" "serial after a forced renewal"
verify_lineage "$ACLM_HOME/live/web.example.test"
expect_exit 1 aclm renew no-such-lineage
expect_contains "$(out)" "no-such-lineage"

note "revoke: Pebble reports the certificate revoked"
serial=$(openssl x509 -in "$ACLM_HOME/live/web.example.test/cert.pem" -noout -serial | sed 's/serial=//' | tr 'A-F' 'a-f')
fp=$(openssl x509 -in "$ACLM_HOME/live/web.example.test/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
ok revoke "$(printf %.16s "$fp")" --reason superseded
expect_contains "$(out)" "revoked"
python3 - "$PEBBLE_MGMT/cert-status-by-serial/$serial" "$PEBBLE_CA" >"$T/status.json" <<'PY'
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=5).read().decode())
PY
json_check "$T/status.json" "d['Status'] == 'Revoked' and d['Reason'] == 4" "Pebble's status of the revoked certificate"
expect_exit 1 aclm revoke "$(printf %.16s "$fp")"
expect_contains "$(err)" "alreadyRevoked"

kill "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null || true

note "crash after finalize, then resume: the same order, exactly one certificate"
issued_before=$(grep -c "Issued certificate serial" "$P/pebble.log" || true)
rc=0
ACLM_TEST_CRASH_AT=after-finalize aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" \
	-d crash.example.test --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT" >"$OUT" 2>"$ERR" || rc=$?
[ "$rc" -eq 137 ] || { lib__show; fail "the crash point did not fire (exit $rc, want 137 = SIGKILL)"; }
[ ! -e "$ACLM_HOME/live/crash.example.test/cert.pem" ] || fail "files written before the crash"
expect_exit 0 issue -d crash.example.test --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT" -v
expect_contains "$(err)" "resuming order"
expect_not_contains "$(err)" "(pending)" "state of the resumed order"
verify_lineage "$ACLM_HOME/live/crash.example.test"
issued_after=$(grep -c "Issued certificate serial" "$P/pebble.log" || true)
expect_eq "$((issued_after - issued_before))" 1 "certificates Pebble issued for the crashed and resumed order"

note "--batch: six lines (one with two key types) on four threads, one account"
cat >"$T/batch.txt" <<BATCH
# one certificate per line
b1.example.test www.b1.example.test
b2.example.test key-type=p256,rsa2048
b3.example.test name=third
b4.example.test
b5.example.test
b6.example.test
BATCH
expect_exit 0 issue --batch "$T/batch.txt" --concurrency 4 --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
expect_eq "$(grep -c '^issued' "$OUT")" 7 "issued lines"
for l in b1.example.test b2.example.test b2.example.test-rsa2048 third b4.example.test b5.example.test b6.example.test; do
	verify_lineage "$ACLM_HOME/live/$l"
done
ok account list --format json
cp "$OUT" "$T/acc3.json"
json_check "$T/acc3.json" "len(d) == 1" "one account after the batch"

note "--batch: a bad line is refused with FILE:LINE before any order"
printf 'ok.example.test\nbad..name.example.test\n' >"$T/bad-batch.txt"
expect_exit 1 issue --batch "$T/bad-batch.txt" --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
expect_contains "$(err)" "bad-batch.txt:2"
[ ! -e "$ACLM_HOME/live/ok.example.test" ] || fail "a batch with a bad line issued certificates"
# Pebble 2.4 offers no profiles: a line asking for one fails before any order, naming the server.
printf 'x.example.test profile=classic\n' >"$T/bad-batch2.txt"
expect_exit 1 issue --batch "$T/bad-batch2.txt" --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
expect_contains "$(err)" "offers no profiles"
[ ! -e "$ACLM_HOME/live/x.example.test" ] || fail "a batch with an unavailable profile issued"

note "--csr: the user's CSR is sent as is; the key stays with the user (no privkey.pem)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=csr.example.test \
	-addext subjectAltName=DNS:csr.example.test -keyout "$T/csr.key" -out "$T/csr.pem" 2>/dev/null ||
	fail "openssl req failed"
expect_exit 2 issue --csr "$T/csr.pem" -d other.example.test --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
expect_contains "$(err)" "--csr"
expect_exit 2 issue --csr "$T/csr.pem" --key-type rsa2048 --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
expect_contains "$(err)" "--key-type"
expect_exit 0 issue --csr "$T/csr.pem" --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
d=$ACLM_HOME/live/csr.example.test
for f in cert.pem chain.pem fullchain.pem; do
	[ -s "$d/$f" ] || fail "$d/$f missing or empty"
done
[ ! -e "$d/privkey.pem" ] || fail "privkey.pem written for a --csr lineage"
openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$d/chain.pem" "$d/cert.pem" >/dev/null 2>&1 ||
	fail "$d/cert.pem does not verify against Pebble's root"
expect_eq "$(openssl x509 -in "$d/cert.pem" -noout -pubkey)" \
	"$(openssl req -in "$T/csr.pem" -noout -pubkey)" "public key of the --csr certificate"
ok cert list --search csr.example.test --format json
cp "$OUT" "$T/csr-list.json"
json_check "$T/csr-list.json" "[c['has_private_key'] for c in d if not c['is_ca']] == [False]" "--csr leaf: key not held"

note "--csr: renew re-sends the stored CSR (same key); a DER CSR works too"
openssl req -in "$T/csr.pem" -outform DER -out "$T/csr.der"
old=$(openssl x509 -in "$d/cert.pem" -noout -serial)
ok renew --force csr.example.test
new=$(openssl x509 -in "$d/cert.pem" -noout -serial)
expect_ne "$new" "$old" "serial after renewing the --csr lineage"
expect_eq "$(openssl x509 -in "$d/cert.pem" -noout -pubkey)" \
	"$(openssl req -in "$T/csr.pem" -noout -pubkey)" "public key after renewal"
[ ! -e "$d/privkey.pem" ] || fail "privkey.pem written by renew of a --csr lineage"
expect_exit 0 issue --csr "$T/csr.der" --name csr-der --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
expect_eq "$(openssl x509 -in "$ACLM_HOME/live/csr-der/cert.pem" -noout -pubkey)" \
	"$(openssl req -in "$T/csr.pem" -noout -pubkey)" "public key of the DER --csr certificate"

note "--csr: a CSR whose signature does not verify is refused before any order"
python3 - "$T/csr.der" "$T/bad.der" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[-1] ^= 1
open(sys.argv[2], 'wb').write(b)
PY
expect_exit 1 issue --csr "$T/bad.der" --name csr-bad --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT"
expect_contains "$(err)" "bad.der"
[ ! -e "$ACLM_HOME/live/csr-bad" ] || fail "files written for a CSR with a bad signature"
