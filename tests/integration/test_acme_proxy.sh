# HTTP proxies from the environment (issue 3): with https_proxy (or HTTPS_PROXY) naming a real
# proxy (tinyproxy), issue against Pebble goes through it (CONNECT to Pebble's port in tinyproxy's
# log); no_proxy covering the server bypasses it; a proxy that is down fails with a message naming
# the proxy and the variable (without the proxy's password).
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

command -v tinyproxy >/dev/null || fail "tinyproxy is not installed (scripts/deps)"
start_pebble
PEBBLE_PORT=${PEBBLE_DIR#https://127.0.0.1:}
PEBBLE_PORT=${PEBBLE_PORT%%/*}

# Only aclm sees the proxy variables: the helpers (python3 urllib) must reach Pebble directly.
unset no_proxy NO_PROXY http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY

PROXY_PORT=$(free_port)
PROXY_LOG=$T/tinyproxy.log
cat >"$T/tinyproxy.conf" <<CONF
Port $PROXY_PORT
Listen 127.0.0.1
Allow 127.0.0.1
ConnectPort $PEBBLE_PORT
LogFile "$PROXY_LOG"
PidFile "$T/tinyproxy.pid"
LogLevel Connect
Timeout 60
MaxClients 20
CONF
: >"$PROXY_LOG"
tinyproxy -d -c "$T/tinyproxy.conf" >"$T/tinyproxy.out" 2>&1 &
bg_track $!
for _ in $(seq 1 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $PROXY_PORT), 1)" 2>/dev/null && break
	sleep 0.1
done
python3 -c "import socket; socket.create_connection(('127.0.0.1', $PROXY_PORT), 1)" ||
	{ cat "$T/tinyproxy.out" "$PROXY_LOG" >&2; fail "tinyproxy did not come up"; }

# connects: CONNECT requests to Pebble's API port tinyproxy logged so far.
connects() {
	grep -c "CONNECT 127.0.0.1:$PEBBLE_PORT " "$PROXY_LOG" || true
}
issue() { # EXIT ENV-ASSIGNMENT... -- ARGS...: aclm issue against Pebble with that environment
	issue__want=$1
	shift
	issue__env=""
	while [ "$1" != -- ]; do
		issue__env="$issue__env $1"
		shift
	done
	shift
	# shellcheck disable=SC2086 # one assignment per word
	expect_exit "$issue__want" env $issue__env "$ACLM_BIN" issue --server "$PEBBLE_DIR" \
		--ca-bundle "$PEBBLE_CA" --agree-tos --http-listen "127.0.0.1:$PEBBLE_HTTP_PORT" "$@"
}

note "https_proxy: every request to Pebble goes through tinyproxy (CONNECT)"
expect_eq "$(connects)" 0 "CONNECTs before any run"
issue 0 "https_proxy=http://127.0.0.1:$PROXY_PORT" -- -d proxied.example.test
expect_contains "$(out)" "issued   proxied.example.test"
n1=$(connects)
[ "$n1" -ge 1 ] || { cat "$PROXY_LOG" >&2; fail "tinyproxy saw no CONNECT to 127.0.0.1:$PEBBLE_PORT"; }
openssl x509 -in "$ACLM_HOME/live/proxied.example.test/cert.pem" -noout -issuer | grep -q Pebble ||
	fail "the certificate obtained through the proxy is not Pebble's"

note "HTTPS_PROXY (upper case) is honoured too"
issue 0 "HTTPS_PROXY=http://127.0.0.1:$PROXY_PORT" -- -d upper.example.test
n2=$(connects)
[ "$n2" -gt "$n1" ] || fail "HTTPS_PROXY: no new CONNECT in tinyproxy's log ($n1 before, $n2 after)"

note "no_proxy naming the server: straight to Pebble, the proxy sees nothing"
issue 0 "https_proxy=http://127.0.0.1:$PROXY_PORT" "no_proxy=localhost,127.0.0.1" -- -d direct.example.test
expect_eq "$(connects)" "$n2" "CONNECTs after a run with no_proxy"
issue 0 "HTTPS_PROXY=http://127.0.0.1:$PROXY_PORT" "NO_PROXY=127.0.0.1" -- -d direct2.example.test
expect_eq "$(connects)" "$n2" "CONNECTs after a run with NO_PROXY"

note "a proxy that is down: a clear failure naming the proxy and the variable, no password"
closed=$(free_port)
n=$(list_json)
issue 1 "https_proxy=http://user:s3cret@127.0.0.1:$closed" -- -d down.example.test
expect_contains "$(err)" "$PEBBLE_DIR" "the failing URL"
expect_contains "$(err)" "(through the HTTP proxy http://127.0.0.1:$closed from https_proxy)" \
	"the proxy in the message"
expect_not_contains "$(err)" "s3cret" "the proxy's password"
expect_eq "$(list_json)" "$n" "inventory size after the failed run"
[ ! -e "$ACLM_HOME/live/down.example.test" ] || fail "a lineage was written through a dead proxy"
