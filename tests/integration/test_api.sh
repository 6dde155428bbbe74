#!/bin/sh
# The REST API (aclm serve --no-scheduler): authentication, roles, tenant isolation (at
# least 50 cross-tenant probes: none may tell another tenant's object from an
# absent one), CSRF with sessions, immediate token revocation, login rate
# limits, cursor pagination, problem documents, /metrics against the
# inventory. The checks live in api_check.py; this script sets up the home
# and the server.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/pebble.sh"

# The database and the default tenant exist once any command ran.
ok cert list
start_api_serve
FPR=$(sed -n 's/.*certificate SHA-256 \([0-9A-F:]*\).*/\1/p' "$T/api.log")
[ -n "$FPR" ] || fail "no certificate fingerprint in the log"

if ! python3 "$LIB_DIR/api_check.py" "https://127.0.0.1:$PORT" "$(db_path)" "$FPR" "$T" \
	>"$T/check.out" 2>&1; then
	cat "$T/check.out" >&2
	echo "--- server log" >&2
	tail -50 "$T/api.log" >&2
	fail "api_check.py failed"
fi
cat "$T/check.out" >&2

# What the API wrote is in the hash chain.
ok audit verify
# Graceful stop on SIGTERM, and no sanitizer report.
kill -TERM "$API_PID"
wait "$API_PID" || fail "serve exit status $? after SIGTERM"
cp "$T/api.log" "$ERR"
lib__no_sanitizer serve
# The first start prints the admin token once, on stdout (never in the log).
expect_eq "$(grep -c 'aclm_[0-9a-f]\{16\}_' "$T/api.out")" 1 "the admin token printed once"
# One line per request, and never a token in the log.
expect_file_contains "$T/api.log" "api: serving https://127.0.0.1:$PORT/"
if grep -q 'aclm_[0-9a-f]\{16\}_' "$T/api.log"; then fail "a token appears in the server log"; fi
expect_file_contains "$T/api.log" "api: GET /healthz 200"
expect_file_contains "$T/api.log" "api: DELETE /api/v1/certificates/"

# Given files: that certificate is served and its fingerprint logged.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=api.test \
	-addext subjectAltName=IP:127.0.0.1 -days 2 -keyout "$T/tls.key" -out "$T/tls.crt" 2>/dev/null ||
	fail "openssl req"
PORT2=$(free_port)
"$ACLM_BIN" serve --no-scheduler --listen "127.0.0.1:$PORT2" --tls-cert "$T/tls.crt" --tls-key "$T/tls.key" \
	--ready-file "$T/ready2" >"$T/api2.log" 2>&1 &
API2=$!
bg_track "$API2"
i=0
while [ ! -s "$T/ready2" ] && [ "$i" -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/ready2" ] || { cat "$T/api2.log" >&2; fail "serve with --tls-cert not ready"; }
WANT=$(openssl x509 -in "$T/tls.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
expect_file_contains "$T/api2.log" "certificate SHA-256 $WANT"
GOT=$(echo | openssl s_client -connect "127.0.0.1:$PORT2" 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//')
expect_eq "$GOT" "$WANT" "served certificate"
# The same port again: exit 1 naming the address.
expect_exit 1 aclm serve --no-scheduler --listen "127.0.0.1:$PORT2"
expect_contains "$(err)" "127.0.0.1:$PORT2"
expect_exit 2 aclm serve --no-scheduler --listen "127.0.0.1:$PORT2" --tls-cert "$T/tls.crt"
kill -TERM "$API2"
wait "$API2" || fail "serve (files) exit status $?"
