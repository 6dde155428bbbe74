# aclm notify test against real peers: SMTP servers (aiosmtpd: plain, STARTTLS with AUTH, SMTPS
# with AUTH) receiving the test email (headers, body, envelope checked), a webhook receiver that
# verifies X-Aclm-Signature (and refuses a wrong one), receivers answering like Slack, DingTalk,
# Feishu, WeCom and Teams (signatures checked; their error replies fail the send), a closed port.
. "$ACLM_SRC/tests/integration/lib.sh"

PY_SMTP=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import aiosmtpd' 2>/dev/null; then
		PY_SMTP=$p
		break
	fi
done
[ -n "$PY_SMTP" ] || fail "python3-aiosmtpd is not installed (scripts/deps)"

# serve VAR DIR CMD...: starts a server that writes its port to DIR/port and sets VAR to that
# port. Not in a command substitution: bg_track must run in this shell, or the cleanup would
# never see the server (it kept running after the test).
serve() {
	serve__var=$1
	serve__dir=$2
	shift 2
	mkdir -p "$serve__dir"
	"$@" >"$serve__dir/log" 2>&1 &
	bg_track $!
	for _ in $(seq 1 100); do
		if [ -s "$serve__dir/port" ]; then
			serve__port=$(cat "$serve__dir/port") # no newline: not `read`
			eval "$serve__var=\$serve__port"
			return 0
		fi
		sleep 0.1
	done
	cat "$serve__dir/log" >&2
	fail "server in $serve__dir did not start"
}

note "a test CA and a certificate for 127.0.0.1"
w=$T/pki
mkdir -p "$w"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$w/ca.key" -out "$w/ca.pem" -subj "/CN=Notify Test CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
	2>/dev/null || fail "test CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$w/srv.key" \
	-out "$w/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null || fail "server CSR"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$w/ext"
openssl x509 -req -in "$w/srv.csr" -CA "$w/ca.pem" -CAkey "$w/ca.key" -CAcreateserial \
	-days 2 -extfile "$w/ext" -out "$w/srv.pem" 2>/dev/null || fail "server certificate"

printf 'correct horse battery staple\n' >"$T/smtp.pw"
printf 'wrong password\n' >"$T/smtp.badpw"
printf 'whsec-0123456789abcdef\n' >"$T/hook.secret"
printf 'not-the-secret\n' >"$T/hook.badsecret"
chmod 600 "$T"/smtp.pw "$T"/smtp.badpw "$T"/hook.secret "$T"/hook.badsecret

note "servers"
serve SMTP_PLAIN "$T/smtp-plain" "$PY_SMTP" "$LIB_DIR/notify_smtpd.py" "$T/smtp-plain"
serve SMTP_TLS "$T/smtp-tls" "$PY_SMTP" "$LIB_DIR/notify_smtpd.py" "$T/smtp-tls" \
	--starttls "$w/srv.pem" "$w/srv.key" --auth alerts "$T/smtp.pw"
serve SMTPS "$T/smtps" "$PY_SMTP" "$LIB_DIR/notify_smtpd.py" "$T/smtps" \
	--smtps "$w/srv.pem" "$w/srv.key" --auth alerts "$T/smtp.pw"
serve HTTP "$T/http" python3 "$LIB_DIR/notify_http.py" "$T/http" "$T/hook.secret"
# A port nothing listens on: taken from the kernel, then released.
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

H=http://127.0.0.1:$HTTP
email() { # NAME URL STARTTLS [EXTRA LINES]
	printf '[notify.%s]\ntype = email\nsmtp_url = %s\nfrom = aclm <alerts@example.org>\n' "$1" "$2"
	printf 'to = ops@example.org, Second <second@example.org>\nstarttls = %s\n' "$3"
	[ $# -lt 4 ] || printf '%s\n' "$4"
}
hook() { # NAME TYPE URL [EXTRA LINES]
	printf '[notify.%s]\ntype = %s\nurl = %s\ntimeout_ms = 5000\n' "$1" "$2" "$3"
	[ $# -lt 4 ] || printf '%s\n' "$4"
}
AUTH="username = alerts
password_file = $T/smtp.pw
ca_file = $w/ca.pem"
{
	email mail "smtp://127.0.0.1:$SMTP_PLAIN" none
	email mailtls "smtp://127.0.0.1:$SMTP_TLS" required "$AUTH"
	email mails "smtps://127.0.0.1:$SMTPS" required "$AUTH"
	email mailbadpw "smtp://127.0.0.1:$SMTP_TLS" required "username = alerts
password_file = $T/smtp.badpw
ca_file = $w/ca.pem"
	email mailnoca "smtp://127.0.0.1:$SMTP_TLS" required "username = alerts
password_file = $T/smtp.pw"
	email mailnotls "smtp://127.0.0.1:$SMTP_PLAIN" required
	hook hook webhook "$H/webhook" "secret_file = $T/hook.secret"
	hook hookbad webhook "$H/webhook" "secret_file = $T/hook.badsecret"
	hook slack slack "$H/slack/T000/B000/XXXX"
	hook slackfail slack "$H/slack/fail"
	hook ding dingtalk "$H/dingtalk?access_token=abc" "secret_file = $T/hook.secret"
	hook dingbad dingtalk "$H/dingtalk?access_token=abc" "secret_file = $T/hook.badsecret"
	hook feishu feishu "$H/feishu/hook-token" "secret_file = $T/hook.secret"
	hook feishubad feishu "$H/feishu/hook-token" "secret_file = $T/hook.badsecret"
	hook wecom wecom "$H/wecom?key=k"
	hook wecomfail wecom "$H/wecom/fail?key=k"
	hook teams teams "$H/teams/workflow"
	hook teamsfail teams "$H/teams/fail"
	hook closed webhook "http://127.0.0.1:$CLOSED/hook?token=TOPSECRET"
} >"$T/aclm.conf"
C="--config $T/aclm.conf"

note "notify list shows every channel and checks it"
ok notify list $C --format json
cp "$OUT" "$T/list.json"
json_check "$T/list.json" 'len(d) == 19 and all(c["ok"] and c["origin"] == "config" for c in d)' \
	"every configured channel listed and valid"

# received DIR: how many messages (msg-N.json) the SMTP server saved.
received() {
	find "$1" -name 'msg-*.json' | wc -l | tr -d ' '
}

# check_mail DIR TLS AUTHENTICATED: the one message in DIR is the test email, well formed.
check_mail() {
	"$PY_SMTP" - "$1" "$2" "$3" <<'EOF' || fail "the email in $1 is not what was sent"
import email, email.policy, email.utils, json, re, sys
d, tls, auth = sys.argv[1], sys.argv[2] == "true", sys.argv[3] == "true"
meta = json.load(open(d + "/msg-1.json"))
raw = open(d + "/msg-1.eml", "rb").read()
assert meta["mail_from"] == "alerts@example.org", meta
assert meta["rcpt_tos"] == ["ops@example.org", "second@example.org"], meta
assert meta["tls"] == tls and meta["authenticated"] == auth, meta
if auth:
    assert meta["login"] == "alerts", meta
assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
m = email.message_from_bytes(raw, policy=email.policy.default)
assert m["From"] == "aclm <alerts@example.org>", m["From"]
assert m["To"] == "ops@example.org, Second <second@example.org>", m["To"]
name = d.rsplit("/", 1)[1]
assert m["Subject"].startswith("aclm test message (notify."), m["Subject"]
assert email.utils.parsedate_to_datetime(m["Date"]).utcoffset().total_seconds() == 0
assert re.fullmatch(r"<aclm\.[0-9a-f]{24}@example\.org>", m["Message-ID"]), m["Message-ID"]
assert m["MIME-Version"] == "1.0"
assert m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8"
body = m.get_content()
assert "If you can read it, alerts reach this channel." in body, body
assert "Event:    test" in body and "Tenant:   default" in body, body
EOF
}

note "email: plain SMTP"
ok notify test mail $C
expect_contains "$(out)" "notify.mail: test message sent (email"
expect_eq "$(received "$T/smtp-plain")" 1 "messages at the plain server"
check_mail "$T/smtp-plain" false false

note "email: STARTTLS (required) with AUTH"
ok notify test mailtls $C --format json
json_check "$OUT" 'd["sent"] and d["type"] == "email" and d["origin"] == "config"' "sent"
expect_eq "$(received "$T/smtp-tls")" 1 "messages at the STARTTLS server"
check_mail "$T/smtp-tls" true true

note "email: SMTPS with AUTH"
ok notify test mails $C
expect_eq "$(received "$T/smtps")" 1 "messages at the SMTPS server"

note "email: a wrong password is refused (and nothing is delivered)"
expect_exit 1 aclm notify test mailbadpw $C
expect_contains "$(err)" "notify.mailbadpw: smtp://127.0.0.1:$SMTP_TLS: "
expect_contains "$(err)" "535"
expect_not_contains "$(err)" "wrong password"
expect_eq "$(received "$T/smtp-tls")" 1 "messages at the STARTTLS server"

note "email: a server certificate aclm does not trust"
expect_exit 1 aclm notify test mailnoca $C --format json
json_check "$OUT" 'not d["sent"] and d["status"] == "io"' "untrusted certificate is an I/O error"
expect_contains "$(err)" "notify.mailnoca: smtp://127.0.0.1:$SMTP_TLS: "

note "email: STARTTLS required but not offered"
expect_exit 1 aclm notify test mailnotls $C --format json
json_check "$OUT" 'not d["sent"] and d["status"] == "config"' "missing STARTTLS is permanent"
expect_eq "$(received "$T/smtp-plain")" 1 "messages at the plain server"

note "webhook: signed, verified by the receiver"
ok notify test hook $C
last_req() { ls -t "$T/http"/req-*.json | head -1; }
json_check "$(last_req)" 'd["path"] == "/webhook" and d["status"] == 204' "the receiver verified"
json_check "$(last_req)" 'd["body"]["event"] == "test" and d["body"]["tenant"] == "default" and d["body"]["data"] is None and d["body"]["at"].endswith("Z")' "webhook body"
json_check "$(last_req)" 'd["headers"]["X-Aclm-Signature"].startswith("sha256=") and d["headers"]["X-Aclm-Timestamp"].isdigit()' "signature headers"

note "webhook: a wrong secret is refused with 401 and the send fails"
expect_exit 1 aclm notify test hookbad $C --format json
json_check "$OUT" 'not d["sent"] and d["status"] == "config" and "HTTP 401: bad signature" in d["error"]' "401 reported"
expect_contains "$(err)" "notify.hookbad: $H/webhook: HTTP 401"
expect_not_contains "$(err)" "not-the-secret"

note "chat formats, answered like each platform"
for ch in slack ding feishu wecom teams; do
	ok notify test $ch $C
	expect_contains "$(out)" "notify.$ch: test message sent"
done
json_check "$T/http/req-3.json" 'd["path"].startswith("/slack/") and "*aclm test message (notify.slack)*" in d["body"]["text"]' "slack body"
json_check "$T/http/req-4.json" 'd["body"]["msgtype"] == "markdown" and "sign=" in d["query"] and json.loads(d["answer"])["errcode"] == 0' "dingtalk signed"
json_check "$T/http/req-5.json" 'd["body"]["msg_type"] == "text" and d["body"]["sign"] and json.loads(d["answer"])["code"] == 0' "feishu signed"
json_check "$T/http/req-6.json" 'd["body"]["markdown"]["content"].startswith("**aclm test message")' "wecom body"
json_check "$T/http/req-7.json" 'd["status"] == 202 and d["body"]["attachments"][0]["content"]["version"] == "1.4"' "teams card"

note "chat error replies fail the send"
expect_exit 1 aclm notify test dingbad $C
expect_contains "$(err)" "errcode 310000: sign not match"
expect_exit 1 aclm notify test feishubad $C
expect_contains "$(err)" "code 19021"
expect_exit 1 aclm notify test wecomfail $C
expect_contains "$(err)" "errcode 93000: invalid webhook url"
expect_exit 1 aclm notify test slackfail $C
expect_contains "$(err)" "HTTP 400: invalid_payload"
expect_exit 1 aclm notify test teamsfail $C
expect_contains "$(err)" "HTTP 400"
# Chat URLs carry their token in the path or the query: never shown.
expect_not_contains "$(err)" "access_token"
: >"$T/empty.conf"
expect_exit 1 aclm notify test slack --config "$T/empty.conf"
expect_contains "$(err)" "no channel slack: neither [notify.slack] in the configuration nor"

note "a stored channel of the tenant (origin api) is found when the configuration has none"
python3 - "$(db_path)" "$H/webhook" "$T/hook.secret" <<'EOF' || fail "could not store a channel"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
tid = db.execute("select id from tenants where name = 'default'").fetchone()[0]
db.execute("insert into notify_channels(tenant_id, name, type, params, origin, created_at,"
           " updated_at) values(?, 'stored', 'webhook', ?, 'api', 0, 0)",
           (tid, json.dumps({"url": sys.argv[2], "secret_file": sys.argv[3]})))
db.commit()
EOF
ok notify test stored $C --format json
json_check "$OUT" 'd["sent"] and d["origin"] == "api"' "stored channel used"
json_check "$(last_req)" 'd["status"] == 204 and d["body"]["event"] == "test"' "stored channel verified"
ok notify list $C --format json
json_check "$OUT" '[c["name"] for c in d if c["origin"] == "api"] == ["stored"]' "stored channel listed"
expect_exit 1 aclm notify test stored $C --tenant other
expect_contains "$(err)" "no channel stored"

note "a closed port is an I/O error naming the URL (without its query)"
expect_exit 1 aclm notify test closed $C --format json
json_check "$OUT" 'not d["sent"] and d["status"] == "io"' "closed port is io"
expect_contains "$(err)" "notify.closed: http://127.0.0.1:$CLOSED/hook: "
expect_not_contains "$(err)" "TOPSECRET"

note "a bad section is refused naming file, line and key"
printf '[notify.x]\ntype = webhook\nurl = ftp://example.org/\n' >"$T/bad.conf"
expect_exit 1 aclm notify test x --config "$T/bad.conf"
expect_contains "$(err)" "notify.x: url: unsupported scheme"
printf '[notify.x]\ntype = pager\n' >"$T/bad2.conf"
expect_exit 1 aclm notify list --config "$T/bad2.conf"
expect_contains "$(err)" "bad2.conf:2"
