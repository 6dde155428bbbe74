# Starts Pebble and pebble-challtestsrv on free loopback ports (TESTBED.md), for tests that
# source lib.sh first. Sets PEBBLE_DIR (directory URL), PEBBLE_CA (its TLS certificate: the
# --ca-bundle for aclm), PEBBLE_MGMT (management API), PEBBLE_HTTP_PORT (where Pebble's VA
# connects for http-01), PEBBLE_TLS_PORT (for tls-alpn-01), PEBBLE_ROOT (file with the issuing root, fetched after start),
# PEBBLE_DNS (challtestsrv's DNS server, HOST:PORT; Pebble's VA resolves through it) and
# PEBBLE_CHALLTESTSRV (its management API: /set-txt, /clear-txt).
# Pebble's default 5 % nonce rejection stays on: every test also exercises badNonce retries.
# Optional environment, read by start_pebble: PEBBLE_ALTERNATE_ROOTS=N (N alternate chains with
# their own roots: /roots/1.., /intermediates/1..), PEBBLE_AUTHZREUSE=PERCENT (default 50),
# PEBBLE_EAB_KID and PEBBLE_EAB_KEY (base64url): External Account Binding becomes required and
# that key the only one Pebble accepts; PEBBLE_DNS_SERVER=HOST:PORT: Pebble's VA resolves through
# that server instead of challtestsrv (which still runs), e.g. a BIND taking RFC 2136 updates.

# A port free now on 127.0.0.1 for TCP and UDP, drawn at random below the kernel's ephemeral range
# (32768-60999 here): a port the kernel picks from that range can be handed to any outgoing
# connection of a parallel test before our server binds it.
free_port() {
	python3 -c '
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    p = random.randrange(10000, max(lo, 10001))
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.1", p))
            s.close()
    except OSError:
        continue
    print(p)
    break
'
}

# http_up URL [CAFILE [PID]]: until URL answers (0), at most ~10 s; 1 when it does not, or as soon
# as process PID (given) has exited.
http_up() {
	for _ in $(seq 1 100); do
		[ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
		if python3 - "$1" "${2:-}" <<'PY' 2>/dev/null; then return 0; fi
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[2] else None
urllib.request.urlopen(sys.argv[1], context=ctx, timeout=1).read()
PY
		sleep 0.1
	done
	return 1
}

wait_http() { # URL [CAFILE]: until it answers, at most ~10 s
	http_up "$1" "${2:-}" || fail "$1 did not come up"
}

# start_challtestsrv LOG: DNS only (every name -> 127.0.0.1), no responders, on free ports; sets
# CTS_DNS_PORT and CTS_MGMT_PORT. Tests run in parallel, so a port found free may be taken before
# challtestsrv binds it: the start is checked (its management API answers, the process lives) and
# retried on other ports.
start_challtestsrv() {
	for _ in 1 2 3; do
		CTS_DNS_PORT=$(free_port)
		CTS_MGMT_PORT=$(free_port)
		pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$CTS_DNS_PORT" \
			-http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$CTS_MGMT_PORT" >"$1" 2>&1 &
		cts__pid=$!
		bg_track $cts__pid
		for _ in $(seq 1 50); do
			kill -0 "$cts__pid" 2>/dev/null || break
			if curl -sf -o /dev/null -d '{"host":"probe.invalid."}' \
				"http://127.0.0.1:$CTS_MGMT_PORT/clear-txt"; then
				return 0
			fi
			sleep 0.1
		done
		kill "$cts__pid" 2>/dev/null || true
	done
	fail "pebble-challtestsrv did not start (see $1)"
}

start_pebble() {
	command -v pebble >/dev/null || fail "pebble is not installed (scripts/deps)"
	P=$T/pebble
	mkdir -p "$P"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=pebble -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$P/key.pem" -out "$P/cert.pem" 2>/dev/null
	eab='"externalAccountBindingRequired":false'
	if [ -n "${PEBBLE_EAB_KID:-}" ]; then
		eab="\"externalAccountBindingRequired\":true,\"externalAccountMACKeys\":{\"$PEBBLE_EAB_KID\":\"$PEBBLE_EAB_KEY\"}"
	fi
	start_challtestsrv "$P/challtestsrv.log"
	dns=$CTS_DNS_PORT
	cmgmt=$CTS_MGMT_PORT
	PEBBLE_DNS=127.0.0.1:$dns
	PEBBLE_CHALLTESTSRV=http://127.0.0.1:$cmgmt
	PEBBLE_CA=$P/cert.pem
	# As for challtestsrv: a port found free may be taken by a parallel test before Pebble binds
	# it, and then Pebble exits; it is started again on other ports.
	for pb__try in 1 2 3; do
		api=$(free_port)
		mgmt=$(free_port)
		PEBBLE_HTTP_PORT=$(free_port)
		PEBBLE_TLS_PORT=$(free_port)
		cat >"$P/pebble.json" <<JSON
{"pebble":{"listenAddress":"127.0.0.1:$api","managementListenAddress":"127.0.0.1:$mgmt",
 "certificate":"$P/cert.pem","privateKey":"$P/key.pem","httpPort":$PEBBLE_HTTP_PORT,"tlsPort":$PEBBLE_TLS_PORT,
 "ocspResponderURL":"",$eab}}
JSON
		PEBBLE_VA_NOSLEEP=1 PEBBLE_ALTERNATE_ROOTS=${PEBBLE_ALTERNATE_ROOTS:-0} \
			PEBBLE_AUTHZREUSE=${PEBBLE_AUTHZREUSE:-50} pebble -config "$P/pebble.json" -dnsserver "${PEBBLE_DNS_SERVER:-127.0.0.1:$dns}" -strict=false \
			>"$P/pebble.log" 2>&1 &
		pb__pid=$!
		bg_track $pb__pid
		PEBBLE_DIR=https://127.0.0.1:$api/dir
		PEBBLE_MGMT=https://127.0.0.1:$mgmt
		http_up "$PEBBLE_DIR" "$PEBBLE_CA" "$pb__pid" && break
		kill "$pb__pid" 2>/dev/null || true
		if [ "$pb__try" -eq 3 ]; then
			tail -n 20 "$P/pebble.log" >&2
			fail "$PEBBLE_DIR did not come up (3 tries; Pebble's log above)"
		fi
	done
	PEBBLE_ROOT=$P/root.pem
	pebble_get /roots/0 >"$PEBBLE_ROOT"
}

pebble_get() { # PATH: GET on Pebble's management API (/roots/N, /intermediates/N...) to stdout
	python3 - "$PEBBLE_MGMT$1" "$PEBBLE_CA" <<'PY'
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=5).read().decode())
PY
}
