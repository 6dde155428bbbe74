# haproxy target: hot swap over the runtime API (set/commit ssl cert) under wrk load with zero
# failed requests and no reload; the PEM is on disk too; a verify mismatch rolls back over the
# runtime API; an unreachable socket fails that target and changes nothing.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$LIB_DIR/deploy.sh"
command -v haproxy >/dev/null || { echo "SKIP: no haproxy"; exit 0; }
command -v wrk >/dev/null || { echo "SKIP: no wrk"; exit 0; }

mk_ca
for n in old new next other; do mk_leaf "$n"; done
NEW=$(import_leaf new)
NEXT=$(import_leaf next)

H=$T/haproxy
mkdir -p "$H"
cat "$T/ca/old.pem" "$T/ca/inter.pem" "$T/ca/old.key" >"$H/site.pem"
cat "$T/ca/other.pem" "$T/ca/other.key" >"$H/other.pem"
P1=$(free_port)
P2=$(free_port)
cat >"$H/haproxy.cfg" <<CONF
global
	stats socket $H/admin.sock mode 600 level admin

defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend site
	bind 127.0.0.1:$P1 ssl crt $H/site.pem
	http-request return status 200 content-type text/plain string ok
frontend other
	bind 127.0.0.1:$P2 ssl crt $H/other.pem
	http-request return status 200 content-type text/plain string ok
CONF
haproxy -c -q -f "$H/haproxy.cfg" || fail "haproxy rejects the test configuration"
haproxy -D -f "$H/haproxy.cfg" -p "$H/haproxy.pid" || fail "haproxy does not start"
trap 'lib__rc=$?; stop_pidfile "$H/haproxy.pid"; (exit $lib__rc); lib__cleanup' EXIT
wait_tcp "$P1"
HPID=$(cat "$H/haproxy.pid")
expect_eq "$(served_fp "127.0.0.1:$P1" site.test)" "$(pem_fp "$T/ca/old.pem")" "served before"

expect_exit 1 aclm target add lb --type haproxy --socket "$H/admin.sock"
expect_contains "$(err)" "--crt"
ok target add lb --type haproxy --socket "$H/admin.sock" --crt "$H/site.pem" \
	--verify "127.0.0.1:$P1/site.test"

# --- hot swap under load: no failed request at all
wrk -t2 -c16 -d6s "https://127.0.0.1:$P1/" >"$T/wrk.txt" 2>&1 &
WRK=$!
bg_track "$WRK"
sleep 1.5
ok deploy "$NEW" --to lb --format json
cp "$OUT" "$T/r1.json"
wait "$WRK" || fail "wrk failed: $(cat "$T/wrk.txt")"
note "$(grep -E 'requests in|Socket errors|Non-2xx' "$T/wrk.txt" | tr '\n' ' ')"
json_check "$T/r1.json" 'd[0]["state"] == "deployed"' "haproxy deploy"
json_check "$T/r1.json" 'd[0]["served_fingerprint"] == d[0]["fingerprint"]' "verified by probe"
json_check "$T/r1.json" 'd[0]["detail"]["runtime_api"]' "runtime API used"
expect_eq "$(served_fp "127.0.0.1:$P1" site.test)" "$(pem_fp "$T/ca/new.pem")" "served after"
grep -q 'requests in' "$T/wrk.txt" || fail "wrk ran no request"
if grep -Eq 'Non-2xx|Socket errors' "$T/wrk.txt"; then fail "failed requests: $(cat "$T/wrk.txt")"; fi
expect_eq "$(cat "$H/haproxy.pid")" "$HPID" "no restart"
# On disk as well, for the next start: leaf + intermediate + key.
expect_eq "$(pem_fp "$H/site.pem")" "$(pem_fp "$T/ca/new.pem")" "site.pem on disk"
expect_eq "$(pem_count "$H/site.pem")" 2 "site.pem certificates"
grep -q 'PRIVATE KEY' "$H/site.pem" || fail "site.pem holds no key"
expect_eq "$(mode_of "$H/site.pem")" 600 "site.pem mode"

# --- verify mismatch (the endpoint serves another certificate): rolled back over the runtime API
cp "$H/site.pem" "$T/before.pem"
ok target add lb-wrong --type haproxy --socket "$H/admin.sock" --crt "$H/site.pem" \
	--verify "127.0.0.1:$P2/other.test"
expect_exit 1 aclm deploy "$NEXT" --to lb-wrong --verify-timeout 2 --format json
cp "$OUT" "$T/r2.json"
json_check "$T/r2.json" 'd[0]["state"] == "rolled_back"' "mismatch -> rolled back"
json_check "$T/r2.json" 'd[0]["detail"]["rollback"] == "ok"' "rollback verified"
expect_eq "$(served_fp "127.0.0.1:$P1" site.test)" "$(pem_fp "$T/ca/new.pem")" "previous served again"
cmp -s "$T/before.pem" "$H/site.pem" || fail "site.pem not restored"

# --- a socket nobody listens on: that target fails, nothing changes
ok target add lb-nosock --type haproxy --socket "$T/nope.sock" --crt "$H/site.pem" \
	--verify "127.0.0.1:$P1/site.test"
expect_exit 1 aclm deploy "$NEXT" --to lb-nosock,lb --format json
cp "$OUT" "$T/r3.json"
json_check "$T/r3.json" '"nope.sock" in d[0]["error"]' "socket error named"
json_check "$T/r3.json" 'd[1]["state"] == "deployed"' "the other target still deployed"
