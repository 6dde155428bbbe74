# aclm target add --type webhook / aclm deploy against a Python receiver on 127.0.0.1 that checks
# X-Aclm-Signature with the shared secret (constant-time) and records each body: the documented
# JSON arrives signed, the key stays home over http, a 500 answer and a bad signature are failures,
# and a failed verify posts the previous certificate back (event rollback).
. "$ACLM_SRC/tests/integration/lib.sh"
. "$LIB_DIR/deploy.sh"

mk_ca
mk_leaf site
mk_leaf next
ID=$(import_leaf site)
ID2=$(import_leaf next)
FP=$(pem_fp "$T/ca/site.pem")
FP2=$(pem_fp "$T/ca/next.pem")

printf 'the-shared-secret\n' >"$T/secret"
printf 'another-secret\n' >"$T/wrong-secret"
mkdir -p "$T/bodies"
cat >"$T/receiver.py" <<'EOF'
# Checks the signature as docs/CLI.md tells receivers to; records body and verdict; answers 500
# while the file "fail" exists next to the bodies directory.
import hashlib, hmac, http.server, os, sys, time

port, secret_file, outdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
secret = open(secret_file, "rb").read().strip()

class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-Aclm-Timestamp", "")
        sig = self.headers.get("X-Aclm-Signature", "")
        want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
        good = hmac.compare_digest(sig, want) and fresh
        n = len([f for f in os.listdir(outdir) if f.endswith(".json")])
        with open(os.path.join(outdir, "%03d.json" % n), "wb") as f:
            f.write(body)
        with open(os.path.join(outdir, "%03d.verdict" % n), "w") as f:
            f.write("%s %s %s" % ("good" if good else "bad", self.path,
                                  self.headers.get("Content-Type")))
        if not good:
            code, text = 401, b"bad signature"
        elif os.path.exists(os.path.join(outdir, "..", "fail")):
            code, text = 500, b"receiver broke: disk full"
        else:
            code, text = 200, b'{"ok": true}'
        self.send_response(code)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
EOF
PORT=$(free_port)
python3 "$T/receiver.py" "$PORT" "$T/secret" "$T/bodies" &
bg_track $!
wait_tcp "$PORT"
URL="http://127.0.0.1:$PORT/hooks/aclm"

# --- target add: options checked by the type
expect_exit 1 aclm target add bad --type webhook --url "$URL"
expect_contains "$(err)" "secret_file"
expect_exit 1 aclm target add bad --type webhook --url "ftp://127.0.0.1/" --secret "$T/secret"
expect_contains "$(err)" "option url"
expect_exit 1 aclm target add bad --type webhook --url "$URL" --secret "$T/secret" \
	--option include_key=true
expect_contains "$(err)" "include_key needs an https:// url"
expect_exit 1 aclm target add bad --type webhook --url "$URL" --secret "$T/nonexistent"
expect_contains "$(err)" "secret_file"

# --- a deploy: signed, documented body, no key over http
ok target add h1 --type webhook --url "$URL" --secret "$T/secret"
ok deploy "$ID" --to h1 --format json
cp "$OUT" "$T/r1.json"
expect_eq "$(result_field "$T/r1.json" h1 'r["state"]')" deployed "webhook deploy"
expect_eq "$(cat "$T/bodies/000.verdict")" "good /hooks/aclm application/json" "signature"
B=$T/bodies/000.json
json_check "$B" 'd["event"] == "deploy" and d["target"] == "h1"' "event and target"
json_check "$B" "d['certificate']['fingerprint_sha256'] == '$FP'" "fingerprint"
json_check "$B" "d['certificate']['id'] == $ID or str(d['certificate']['id']) == '$ID'" "id"
json_check "$B" '"site.test" in d["certificate"]["names"] and "127.0.0.1" in d["certificate"]["names"]' "names"
json_check "$B" 'd["certificate"]["not_after"].endswith("Z")' "not_after"
json_check "$B" 'd["fullchain_pem"].count("BEGIN CERTIFICATE") == 2' "fullchain_pem"
json_check "$B" 'd["chain_pem"].count("BEGIN CERTIFICATE") == 1' "chain_pem"
json_check "$B" 'd["fullchain_pem"].startswith(d["cert_pem"])' "cert_pem leads the full chain"
json_check "$B" '"key_pem" not in d' "no key over http"
expect_not_contains "$(cat "$T/bodies/000.json")" "PRIVATE KEY" "body"

# --- the receiver answers 500: a failure quoting status and body
touch "$T/fail"
expect_exit 1 aclm deploy "$ID" --to h1 --format json
cp "$OUT" "$T/r2.json"
# (the engine then rolls back: nothing went live, the receiver keeps what it had)
expect_eq "$(result_field "$T/r2.json" h1 'r["state"]')" rolled_back "500 answer"
expect_contains "$(result_field "$T/r2.json" h1 'r["error"]')" "HTTP 500: receiver broke: disk full"
rm "$T/fail"

# --- signed with another secret: the receiver refuses it
ok target add h2 --type webhook --url "$URL" --secret "$T/wrong-secret"
expect_exit 1 aclm deploy "$ID" --to h2 --format json
cp "$OUT" "$T/r3.json"
expect_contains "$(result_field "$T/r3.json" h2 'r["error"]')" "HTTP 401: bad signature"
expect_contains "$(cat "$T/bodies/002.verdict")" "bad" "receiver verdict on the wrong secret"

# --- verify fails (the endpoint keeps serving the first certificate): the previous one is posted
TLS=$(free_port)
openssl s_server -quiet -www -accept "127.0.0.1:$TLS" -cert "$T/ca/site.pem" -key "$T/ca/site.key" \
	>/dev/null 2>&1 &
bg_track $!
wait_tcp "$TLS"
ok target add h3 --type webhook --url "$URL" --secret "$T/secret" --verify "127.0.0.1:$TLS/site.test"
ok deploy "$ID" --to h3 --format json
N=$(find "$T/bodies" -name '*.json' | wc -l)
expect_exit 1 aclm deploy "$ID2" --to h3 --verify-timeout 2 --format json
cp "$OUT" "$T/r4.json"
expect_eq "$(result_field "$T/r4.json" h3 'r["state"]')" rolled_back "verify mismatch"
D=$T/bodies/$(printf '%03d' "$N").json
R=$T/bodies/$(printf '%03d' $((N + 1))).json
json_check "$D" "d['event'] == 'deploy' and d['certificate']['fingerprint_sha256'] == '$FP2'" "deploy body"
json_check "$R" "d['event'] == 'rollback' and d['certificate']['fingerprint_sha256'] == '$FP'" "rollback body"
json_check "$R" "d['failed']['fingerprint_sha256'] == '$FP2'" "rollback names the withdrawn certificate"
json_check "$R" "d['cert_pem'].count('BEGIN CERTIFICATE') == 1 and 'key_pem' not in d" "rollback PEM"
expect_contains "$(cat "$T/bodies/$(printf '%03d' $((N + 1))).verdict")" "good" "rollback signature"
