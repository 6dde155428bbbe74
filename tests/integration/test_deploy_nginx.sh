# nginx target against a real nginx on loopback: a deploy verified by probe while wrk loads the
# server (Connection: close: zero non-2xx, zero connect errors); a failing configuration test and
# a configuration nginx -t rejects -> rollback, the previous certificate still served.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$LIB_DIR/deploy.sh"
command -v nginx >/dev/null || { echo "SKIP: no nginx"; exit 0; }
command -v wrk >/dev/null || { echo "SKIP: no wrk"; exit 0; }

mk_ca
for n in old new next; do mk_leaf "$n"; done
NEW=$(import_leaf new)
NEXT=$(import_leaf next)

N=$T/nginx
mkdir -p "$N/tls" "$N/tmp"
cp "$T/ca/old.pem" "$N/tls/fullchain.pem"
cat "$T/ca/inter.pem" >>"$N/tls/fullchain.pem"
cp "$T/ca/old.key" "$N/tls/key.pem"
PORT=$(free_port)
cat >"$N/nginx.conf" <<CONF
worker_processes 2;
pid $N/nginx.pid;
error_log $N/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT ssl;
		server_name site.test;
		ssl_certificate $N/tls/fullchain.pem;
		ssl_certificate_key $N/tls/key.pem;
		location / { return 200 "ok\n"; }
	}
}
CONF
NGINX="nginx -p $N -c $N/nginx.conf"
$NGINX -e "$N/error.log" || fail "nginx does not start"
# Stop nginx, then the usual cleanup with the script's own exit status.
trap 'lib__rc=$?; stop_pidfile "$N/nginx.pid"; (exit $lib__rc); lib__cleanup' EXIT
wait_tcp "$PORT"
expect_eq "$(served_fp "127.0.0.1:$PORT" site.test)" "$(pem_fp "$T/ca/old.pem")" "served before"

ok target add web --type nginx --fullchain-path "$N/tls/fullchain.pem" --key-path "$N/tls/key.pem" \
	--test-cmd "$NGINX -e $N/error.log -t -q" --reload-cmd "$NGINX -e $N/error.log -s reload" \
	--verify "127.0.0.1:$PORT/site.test"

# --- deploy under load
wrk -t2 -c16 -d6s -H 'Connection: close' "https://127.0.0.1:$PORT/" >"$T/wrk.txt" 2>&1 &
WRK=$!
bg_track "$WRK"
sleep 1.5
ok deploy "$NEW" --to web --format json
cp "$OUT" "$T/r1.json"
wait "$WRK" || fail "wrk failed: $(cat "$T/wrk.txt")"
note "$(grep -E 'requests in|Socket errors|Non-2xx' "$T/wrk.txt" | tr '\n' ' ')"
json_check "$T/r1.json" 'd[0]["state"] == "deployed"' "nginx deploy"
json_check "$T/r1.json" 'd[0]["served_fingerprint"] == d[0]["fingerprint"]' "verified by probe"
json_check "$T/r1.json" 'd[0]["detail"]["reloaded"] and d[0]["detail"]["verified"]' "reloaded, verified"
expect_eq "$(served_fp "127.0.0.1:$PORT" site.test)" "$(pem_fp "$T/ca/new.pem")" "served after deploy"
grep -q 'requests in' "$T/wrk.txt" || fail "wrk ran no request: $(cat "$T/wrk.txt")"
if grep -q 'Non-2xx' "$T/wrk.txt"; then fail "non-2xx answers during the reload: $(cat "$T/wrk.txt")"; fi
if grep -Eq 'Socket errors: connect [1-9]' "$T/wrk.txt"; then
	fail "refused connections during the reload: $(cat "$T/wrk.txt")"
fi

# --- a configuration test that fails: rolled back, the files as before, still served
cp "$N/tls/fullchain.pem" "$T/before.pem"
ok target add web-badtest --type nginx --fullchain-path "$N/tls/fullchain.pem" --key-path "$N/tls/key.pem" \
	--test-cmd "sh -c 'echo config broken >&2; exit 1'" --reload-cmd "$NGINX -e $N/error.log -s reload" \
	--verify "127.0.0.1:$PORT/site.test"
expect_exit 1 aclm deploy "$NEXT" --to web-badtest --format json
cp "$OUT" "$T/r2.json"
json_check "$T/r2.json" 'd[0]["state"] == "rolled_back"' "failed test -> rolled back"
json_check "$T/r2.json" '"config broken" in d[0]["error"]' "the test's message"
json_check "$T/r2.json" 'd[0]["detail"]["rollback"] == "ok"' "rollback verified"
cmp -s "$T/before.pem" "$N/tls/fullchain.pem" || fail "fullchain.pem not restored"
expect_eq "$(served_fp "127.0.0.1:$PORT" site.test)" "$(pem_fp "$T/ca/new.pem")" "served after failed test"

# --- a configuration nginx -t rejects (the certificate without its key: key mismatch)
ok target add web-certonly --type nginx --fullchain-path "$N/tls/fullchain.pem" \
	--test-cmd "$NGINX -e $N/error.log -t -q" --reload-cmd "$NGINX -e $N/error.log -s reload" \
	--verify "127.0.0.1:$PORT/site.test"
expect_exit 1 aclm deploy "$NEXT" --to web-certonly --format json
cp "$OUT" "$T/r3.json"
json_check "$T/r3.json" 'd[0]["state"] == "rolled_back"' "nginx -t rejects -> rolled back"
json_check "$T/r3.json" '"configuration test" in d[0]["error"]' "reason"
cmp -s "$T/before.pem" "$N/tls/fullchain.pem" || fail "fullchain.pem not restored after nginx -t"
expect_eq "$(served_fp "127.0.0.1:$PORT" site.test)" "$(pem_fp "$T/ca/new.pem")" "served after nginx -t failure"
kill -0 "$(cat "$N/nginx.pid")" || fail "nginx died"

ok deployments --format json
json_check "$OUT" '{r["target"]: r["state"] for r in d} == {"web": "deployed", "web-badtest": "rolled_back", "web-certonly": "rolled_back"}' "recorded"
