#!/bin/sh
# The REST API's resources beyond certificates and identities, against the real binary
# (aclm serve --no-scheduler; jobs run by `aclm jobs run --once`), followed through Location:
# - a webhook channel stored through the API (CRUD, inline secrets refused, a signed test send);
# - a scan created and run through the API against an openssl s_server on loopback: the
#   endpoint appears with its leaf, and the unknown_cert alert reaches that stored channel,
#   which [alerts] names; a scan with an interval is run by the planner once per interval;
# - an order issued by aclm's own CA through an "issue" job (run again after a simulated
#   crash: no second certificate), renewed through a "renew" job, revoked;
# - a file target and a deployment of the lineage through a "deploy" job;
# - at least 30 cross-tenant probes, each compared with the answer for an absent object;
#   viewers cannot write, targets are for the installation's admins only.
# - scan runs, ACME accounts, orders, channels, targets and deployments walked in cursor pages
#   of 1 and 2 rows: each of the tenant's rows once, none of the other tenant's.
# The HTTP checks live in api_resources_check.py; this script sets up the peers.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/aclm_ca.sh" # free_port, aclm's own ACME CA

# Orders are issued by aclm's own CA; [acme] says where and how (http-01 on the port its VA
# connects to).
start_aclm_ca p256
# The webhook receiver for the channel made through the API (writes DIR/port, DIR/req-N.json).
mkdir -p "$T/http"
printf 'whsec-0123456789abcdef\n' >"$T/hook.secret"
chmod 600 "$T/hook.secret"
python3 "$LIB_DIR/notify_http.py" "$T/http" "$T/hook.secret" >"$T/http/log" 2>&1 &
bg_track $!
for _ in $(seq 1 100); do [ -s "$T/http/port" ] && break; sleep 0.1; done
[ -s "$T/http/port" ] || { cat "$T/http/log" >&2; fail "webhook receiver did not start"; }
# [alerts] names "apihook", a channel that only the API stores (no [notify.apihook]); the API
# must not take the names of the configuration's [notify.confhook] and [scan.confscan].
cat >"$ACLM_HOME/aclm.conf" <<EOF
[alerts]
channels = apihook
[notify.confhook]
type = webhook
url = http://127.0.0.1:9/never
[scan.confscan]
targets = 127.0.0.9
[acme]
server = $CA_DIR
ca_bundle = $CA_ROOTS
agree_tos = on
http_listen = 127.0.0.1:$CA_HTTP_PORT
EOF

ok cert list
start_api_serve
[ -s "$ACLM_HOME/admin-token" ] || fail "no admin-token file after the first start"
ADMIN=$(cat "$ACLM_HOME/admin-token")
ok token create --name viewer --role viewer
VIEWER=$(out)
ok tenant add other
ok token create --tenant other --role admin --name x
OTHER=$(out)

# A TLS server on loopback for the scan: its leaf must show up as the endpoint's.
TLS_PORT=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=scan.test \
	-addext subjectAltName=DNS:scan.test,IP:127.0.0.1 -days 30 -keyout "$T/leaf.key" \
	-out "$T/leaf.crt" 2>/dev/null || fail "openssl req"
openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$T/leaf.crt" -key "$T/leaf.key" -www -quiet \
	>"$T/s_server.log" 2>&1 &
bg_track $!
i=0
until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
	"$TLS_PORT" 2>/dev/null; do
	[ "$i" -lt 100 ] || fail "openssl s_server did not start"
	sleep 0.1
	i=$((i + 1))
done
LEAF_FP=$(openssl x509 -in "$T/leaf.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
	tr 'A-F' 'a-f')

HOOK_PORT=$(cat "$T/http/port")
HOOK_SECRET=$T/hook.secret
export ACLM_BIN ACLM_HOME ADMIN VIEWER OTHER TLS_PORT LEAF_FP HOOK_PORT HOOK_SECRET
if ! python3 "$LIB_DIR/api_resources_check.py" "https://127.0.0.1:$PORT" "$T" \
	>"$T/check.out" 2>&1; then
	cat "$T/check.out" >&2
	echo "--- server log" >&2
	tail -40 "$T/api.log" >&2
	fail "api_resources_check.py failed"
fi
cat "$T/check.out" >&2

ok audit verify
kill -TERM "$API_PID"
wait "$API_PID" || fail "serve exit status $? after SIGTERM"
cp "$T/api.log" "$ERR"
lib__no_sanitizer serve
