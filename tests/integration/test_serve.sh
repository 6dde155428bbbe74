# Proves `aclm serve` as a whole: first start writes the commented aclm.conf, creates tenant
# "default" + admin and prints the admin token once (same as STATE_DIR/admin-token, 0600); the token
# works on the API, a restart prints none and keeps it; /healthz, /readyz; the scheduler inside the
# daemon turns an imported certificate with 2 of 30 days left into an expiry alert delivered by
# email (a real SMTP server, aiosmtpd) and by a signed webhook (the receiver checks the signature);
# SIGHUP with a broken file is refused naming FILE:LINE and the service keeps running, a good file
# is taken; SIGTERM stops it with exit 0; a bad configuration or a taken port refuses to start.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$LIB_DIR/pebble.sh"

PORT=$(free_port)
BASE=https://127.0.0.1:$PORT
CONF=$ACLM_HOME/aclm.conf

# serve_start LOG: starts the daemon in the background, waits for its ready file.
serve_start() {
	rm -f "$T/ready"
	"$ACLM_BIN" serve --listen "127.0.0.1:$PORT" --ready-file "$T/ready" >"$1.out" 2>"$1.err" &
	SERVE_PID=$!
	bg_track $SERVE_PID
	for _ in $(seq 1 150); do
		[ -s "$T/ready" ] && return 0
		kill -0 $SERVE_PID 2>/dev/null || { cat "$1.err" >&2; fail "aclm serve exited at start"; }
		sleep 0.1
	done
	cat "$1.err" >&2
	fail "aclm serve: no ready file after 15 s"
}

serve_stop() { # LOG: SIGTERM, exit 0 within 15 s, no sanitizer report
	kill -TERM $SERVE_PID
	for _ in $(seq 1 150); do
		kill -0 $SERVE_PID 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $SERVE_PID 2>/dev/null && fail "aclm serve still running 15 s after SIGTERM"
	rc=0
	wait $SERVE_PID || rc=$?
	expect_eq "$rc" 0 "exit status after SIGTERM"
	if grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' "$1.err"; then
		cat "$1.err" >&2
		fail "sanitizer report from aclm serve"
	fi
}

# api PATH [CURL ARGS...]: body to $OUT, HTTP status printed.
api() {
	api__p=$1
	shift
	curl -sk -o "$OUT" -w '%{http_code}' "$@" "$BASE$api__p"
}

note "first start: configuration, tenant, admin token shown once"
serve_start "$T/s1"
[ -s "$CONF" ] || fail "no aclm.conf written at first start"
expect_file_contains "$CONF" "[server]"
expect_file_contains "$CONF" "# [notify.ops]"
expect_eq "$(mode_of "$ACLM_HOME/admin-token")" 600 "admin-token mode"
TOKEN=$(cat "$ACLM_HOME/admin-token")
expect_contains "$TOKEN" "aclm_" "token format"
expect_contains "$(cat "$T/s1.out")" "$TOKEN" "the token printed at first start"
expect_eq "$(cat "$T/ready")" "$BASE" "ready file"

expect_eq "$(api /healthz)" 200 "/healthz"
expect_eq "$(api /readyz)" 200 "/readyz once serving"
expect_eq "$(api /api/v1/certificates)" 401 "API without a token"
expect_eq "$(api /api/v1/certificates -H "Authorization: Bearer ${TOKEN}x")" 401 "a wrong token"
expect_eq "$(api /api/v1/certificates -H "Authorization: Bearer $TOKEN")" 200 "API with the admin token"
json_check "$OUT" "d['items'] == []" "an empty inventory"
serve_stop "$T/s1"

note "restart: no new token, the old one still works"
serve_start "$T/s2"
expect_not_contains "$(cat "$T/s2.out")" "aclm_" "second start prints a token"
expect_eq "$(cat "$ACLM_HOME/admin-token")" "$TOKEN" "admin-token kept"
expect_eq "$(api /api/v1/certificates -H "Authorization: Bearer $TOKEN")" 200 "the token after restart"
serve_stop "$T/s2"

note "alerts: a certificate with 2 of 30 days left, delivered by email and by a signed webhook"
python3 - "$T/soon.pem" <<'EOF'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "soon.example.test")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=28))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("soon.example.test")]), False)
        .sign(key, hashes.SHA256()))
open(sys.argv[1], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
EOF
mkdir -p "$T/smtp" "$T/http"
printf 'whsec-serve-test-0123456789\n' >"$T/hook.secret"
chmod 600 "$T/hook.secret"
PY_SMTP=
for p in python3 /usr/bin/python3; do
	"$p" -c 'import aiosmtpd' 2>/dev/null && PY_SMTP=$p && break
done
[ -n "$PY_SMTP" ] || fail "python3-aiosmtpd is not installed (scripts/deps)"
"$PY_SMTP" "$LIB_DIR/notify_smtpd.py" "$T/smtp" >"$T/smtp/log" 2>&1 &
bg_track $!
python3 "$LIB_DIR/notify_http.py" "$T/http" "$T/hook.secret" >"$T/http/log" 2>&1 &
bg_track $!
for _ in $(seq 1 100); do
	[ -s "$T/smtp/port" ] && [ -s "$T/http/port" ] && break
	sleep 0.1
done
[ -s "$T/smtp/port" ] && [ -s "$T/http/port" ] || fail "SMTP or webhook receiver did not start"

# A broken file first: SIGHUP must refuse it and keep serving.
good_conf() {
	cat <<EOF
[sched]
tick_s = 1

[alerts]
channels = mail, hook

[notify.mail]
type = email
smtp_url = smtp://127.0.0.1:$(cat "$T/smtp/port")
starttls = none
from = aclm@example.test
to = pki@example.test

[notify.hook]
type = webhook
url = http://127.0.0.1:$(cat "$T/http/port")/webhook
secret_file = $T/hook.secret
EOF
}
printf '[sched]\ntick_s = 1\n' >"$CONF"
serve_start "$T/s3"
printf '[alerts]\nchannels = mail\n\n[server]\nbogus = 1\n' >"$CONF"
kill -HUP $SERVE_PID
for _ in $(seq 1 50); do
	grep -q "reload refused" "$T/s3.err" && break
	sleep 0.1
done
expect_file_contains "$T/s3.err" "reload refused"
expect_file_contains "$T/s3.err" "aclm.conf:5"
expect_eq "$(api /healthz)" 200 "/healthz after a refused reload"
[ ! -e "$T/smtp/msg-1.eml" ] || fail "mail sent before a channel was configured"

good_conf >"$CONF"
kill -HUP $SERVE_PID
for _ in $(seq 1 50); do
	grep -q "configuration reloaded" "$T/s3.err" && break
	sleep 0.1
done
expect_file_contains "$T/s3.err" "configuration reloaded"
# The planner ticks every second: two alerts for the new certificate (expiry: 2 of 30 days
# left; overdue: past its renewal point with no successor), each sent once per channel.
ok cert import "$T/soon.pem"
for _ in $(seq 1 300); do
	[ -s "$T/smtp/msg-2.json" ] && [ -s "$T/http/req-2.json" ] && break
	sleep 0.1
done
[ -s "$T/smtp/msg-2.json" ] || { cat "$T/s3.err" >&2; fail "no two alert emails within 30 s"; }
[ -s "$T/http/req-2.json" ] || { cat "$T/s3.err" >&2; fail "no two webhook alerts within 30 s"; }
expect_file_contains "$T/smtp/msg-1.eml" "soon.example.test" "alert email"
expect_file_contains "$T/smtp/msg-2.eml" "soon.example.test" "alert email"
events=$(python3 - "$T/http" <<'EOF'
import glob, json, sys
ev = []
for f in sorted(glob.glob(sys.argv[1] + "/req-*.json")):
    d = json.load(open(f))
    # 204: the receiver verified X-Aclm-Signature (401 otherwise)
    assert d["path"] == "/webhook" and d["status"] == 204, d
    ev.append(d["body"]["event"])
print(" ".join(sorted(ev)))
EOF
)
expect_eq "$events" "alert.expiry alert.overdue" "signed webhook events"
# Each alert fires once: more ticks, no further message.
sleep 3
[ ! -e "$T/smtp/msg-3.eml" ] || fail "an alert was emailed twice"
[ ! -e "$T/http/req-3.json" ] || fail "an alert was posted twice"
serve_stop "$T/s3"

note "[ca] enabled: aclm's own ACME CA at /acme/ on the API's socket, which serves a certificate from it"
ok ca init --name Corp --key-type p256
ok ca roots --out "$T/roots.pem"
H01=$(free_port)
{
	good_conf
	printf '\n[ca]\nenabled = on\nhttp01_port = %s\n' "$H01"
} >"$CONF"
serve_start "$T/s5"
expect_file_contains "$T/s5.err" "$BASE/acme/directory"
expect_eq "$(curl -s --cacert "$T/roots.pem" -o /dev/null -w '%{http_code}' "$BASE/healthz")" 200 \
	"the API's certificate verifies with the CA's roots"
expect_exit 0 aclm issue --server "$BASE/acme/directory" --ca-bundle "$T/roots.pem" --agree-tos \
	--ip 127.0.0.1 --http-listen "127.0.0.1:$H01"
ok ca certs --format json
json_check "$OUT" "len(d) == 1" "one certificate issued by the embedded CA"
expect_eq "$(api /acme/nosuch)" 404 "an unknown ACME path"
expect_eq "$(api /api/v1/certificates -H "Authorization: Bearer $TOKEN")" 200 "the API beside the CA"
serve_stop "$T/s5"

note "refused at start: bad configuration (FILE:LINE), port in use"
printf '[alerts]\nthresholds = 30,soon\n' >"$CONF"
expect_exit 1 aclm serve --listen "127.0.0.1:$PORT"
expect_contains "$(err)" "aclm.conf:2: [alerts] thresholds"
printf '[alerts]\nchannels = x\n\n[notify.x]\ntype = email\nfrom = a@example.test\n' >"$CONF"
expect_exit 1 aclm serve --listen "127.0.0.1:$PORT"
expect_contains "$(err)" "aclm.conf:5: notify.x: smtp_url"
good_conf >"$CONF"
serve_start "$T/s4"
expect_exit 1 aclm serve --listen "127.0.0.1:$PORT"
expect_contains "$(err)" "address already in use"
expect_eq "$(api /healthz)" 200 "the first instance after a second one was refused"
serve_stop "$T/s4"
