# Starts aclm's own ACME CA (`aclm ca serve`) on free loopback ports, for tests that source lib.sh
# first; the CA keeps its own state directory (CA_HOME), apart from the client's ACLM_HOME, as a
# separate installation would. pebble-challtestsrv is its DNS server (every name -> 127.0.0.1;
# TXT and CAA records set through CA_CHALLTESTSRV).
# start_aclm_ca KEY_TYPE...: `ca init --name TestCA` with those key types, then serve. Sets
# CA_DIR (directory URL), CA_ROOTS (the roots, PEM: the --ca-bundle for clients), CA_HTTP_PORT
# and CA_TLS_PORT (where the VA connects for http-01 and tls-alpn-01), CA_DNS, CA_CHALLTESTSRV,
# CA_PID, CA_LOG. CA_SERVE_ARGS adds options to `ca serve`. restart_aclm_ca starts it again
# with the same ports and state.
. "$ACLM_SRC/tests/integration/pebble.sh"

aclm_ca() {
	ACLM_HOME=$CA_HOME "$ACLM_BIN" "$@"
}

start_aclm_ca() {
	CA_HOME=$T/ca-home
	mkdir -p "$CA_HOME"
	ca__types=""
	for ca__t in "$@"; do ca__types="$ca__types --key-type $ca__t"; done
	# shellcheck disable=SC2086 # one word per option
	aclm_ca ca init --name TestCA $ca__types >"$T/ca-init.out" 2>&1 || {
		cat "$T/ca-init.out" >&2
		fail "ca init failed"
	}
	CA_ROOTS=$T/ca-roots.pem
	aclm_ca ca roots >"$CA_ROOTS"
	CA_PORT=$(free_port)
	CA_HTTP_PORT=$(free_port)
	CA_TLS_PORT=$(free_port)
	ca__dns=$(free_port)
	ca__cmgmt=$(free_port)
	start_challtestsrv "$ca__dns" "$ca__cmgmt" "$T/ca-challtestsrv.log"
	CA_DNS=127.0.0.1:$ca__dns
	CA_CHALLTESTSRV=http://127.0.0.1:$ca__cmgmt
	CA_DIR=https://127.0.0.1:$CA_PORT/acme/directory
	CA_LOG=$T/ca.log
	restart_aclm_ca
}

restart_aclm_ca() {
	rm -f "$T/ca-ready"
	# shellcheck disable=SC2086 # CA_SERVE_ARGS holds several words
	ACLM_HOME=$CA_HOME "$ACLM_BIN" ca serve --listen "127.0.0.1:$CA_PORT" \
		--http01-port "$CA_HTTP_PORT" --tlsalpn01-port "$CA_TLS_PORT" --dns-server "$CA_DNS" \
		--ready-file "$T/ca-ready" -v ${CA_SERVE_ARGS:-} >>"$CA_LOG" 2>&1 &
	CA_PID=$!
	bg_track $CA_PID
	for _ in $(seq 1 100); do
		[ -s "$T/ca-ready" ] && return 0
		kill -0 "$CA_PID" 2>/dev/null || { cat "$CA_LOG" >&2; fail "ca serve exited"; }
		sleep 0.1
	done
	cat "$CA_LOG" >&2
	fail "ca serve did not become ready"
}

stop_aclm_ca() { # [SIGNAL]
	kill "-${1:-TERM}" "$CA_PID" 2>/dev/null || true
	wait "$CA_PID" 2>/dev/null || true
}
