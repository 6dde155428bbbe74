# Account key types (--account-key-type, issue 3): against aclm's own CA, one issue per type
# (p256 ES256, p384 ES384, rsa2048/3072/4096 RS256, ed25519 EdDSA), each in its own ACLM_HOME;
# `account show` names the type, and the CA stored a JWK of that type (it verified the JWS with
# it). An existing account keeps its key (a different type is refused, naming rollover); rollover
# moves to another type. Refusals: Pebble 2.4 answers an Ed25519 account with badPublicKey; a
# server answering badSignatureAlgorithm with "algorithms" (RFC 8555 §6.2; a minimal stand-in,
# since neither Pebble nor aclm's CA refuses an algorithm aclm can sign with) gets them named in
# the error. Usage: ed25519 is never a certificate key type, sm2 never an account key type.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/aclm_ca.sh"

start_aclm_ca p256

# in_home TYPE ARGS...: aclm ARGS with the client home of that account key type.
in_home() {
	in_home__t=$1
	shift
	mkdir -p "$T/home-$in_home__t"
	ACLM_HOME=$T/home-$in_home__t "$ACLM_BIN" "$@"
}
issue_at_ca() { # EXIT TYPE ARGS...
	issue_at_ca__want=$1
	issue_at_ca__t=$2
	shift 2
	expect_exit "$issue_at_ca__want" in_home "$issue_at_ca__t" issue --server "$CA_DIR" \
		--ca-bundle "$CA_ROOTS" --agree-tos --http-listen "127.0.0.1:$CA_HTTP_PORT" "$@"
}
account_at_ca() { # EXIT TYPE SUBCOMMAND ARGS...
	account_at_ca__want=$1
	account_at_ca__t=$2
	account_at_ca__sub=$3
	shift 3
	expect_exit "$account_at_ca__want" in_home "$account_at_ca__t" account "$account_at_ca__sub" \
		--server "$CA_DIR" --ca-bundle "$CA_ROOTS" "$@"
}
# ca_jwk URL EXPR: EXPR (Python, j = the JWK the CA stored for the account at URL) is true.
ca_jwk() {
	python3 - "$CA_HOME/aclm.db" "${1##*/}" "$2" <<'PY' || fail "the CA's JWK for $1: ($2) is false"
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
rows = db.execute("select jwk from ca_accounts where id = ?", (sys.argv[2],)).fetchall()
assert len(rows) == 1, rows
j = json.loads(rows[0][0])
sys.exit(0 if eval(sys.argv[3], {}, {"j": j}) else 1)
PY
}
b64len() { # EXPR on a base64url member: its decoded length
	echo "len(j['$1']) * 3 // 4"
}

note "one account per key type at aclm's CA: issue succeeds, show names the type and alg"
for t in p256:ES256:"j['kty'] == 'EC' and j['crv'] == 'P-256'" \
	p384:ES384:"j['kty'] == 'EC' and j['crv'] == 'P-384'" \
	rsa2048:RS256:"j['kty'] == 'RSA' and $(b64len n) == 256" \
	rsa3072:RS256:"j['kty'] == 'RSA' and $(b64len n) == 384" \
	rsa4096:RS256:"j['kty'] == 'RSA' and $(b64len n) == 512" \
	ed25519:EdDSA:"j['kty'] == 'OKP' and j['crv'] == 'Ed25519' and $(b64len x) == 32"; do
	kt=${t%%:*}
	rest=${t#*:}
	alg=${rest%%:*}
	jwk=${rest#*:}
	issue_at_ca 0 "$kt" --account-key-type "$kt" -d "$kt.example.test"
	expect_contains "$(out)" "issued   $kt.example.test: certificate" "issue with a $kt account key"
	account_at_ca 0 "$kt" show --format json
	cp "$OUT" "$T/show-$kt.json"
	json_check "$T/show-$kt.json" "d['key_type'] == '$kt' and d['alg'] == '$alg' and d['status'] == 'valid'" \
		"account show --format json ($kt)"
	account_at_ca 0 "$kt" show
	expect_contains "$(out)" "key type: $kt ($alg)" "account show ($kt)"
	expect_exit 0 in_home "$kt" account list --format json
	cp "$OUT" "$T/list-$kt.json"
	json_check "$T/list-$kt.json" "[(a['key_type'], a['alg']) for a in d] == [('$kt', '$alg')]" \
		"account list --format json ($kt)"
	expect_exit 0 in_home "$kt" account list
	expect_contains "$(out)" "($kt)" "account list ($kt)"
	ca_jwk "$(json_get "$T/show-$kt.json" "d['url']")" "$jwk"
done

note "without --account-key-type a new account is P-256 (ES256)"
issue_at_ca 0 default -d default.example.test
account_at_ca 0 default show
expect_contains "$(out)" "key type: p256 (ES256)" "default account key type"

note "an existing account keeps its key: another type is refused, naming its type and rollover"
n=$(in_home ed25519 cert list --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
issue_at_ca 1 ed25519 --account-key-type p384 -d other.example.test
expect_contains "$(err)" "signs with a key of type ed25519 (EdDSA)" "the existing account's type"
expect_contains "$(err)" "aclm account rollover --account-key-type p384" "the way to change it"
expect_eq "$(in_home ed25519 cert list --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" \
	"$n" "inventory size after the refusal"
issue_at_ca 0 ed25519 --account-key-type ed25519 -d same.example.test
issue_at_ca 0 ed25519 -d same2.example.test

note "rollover --account-key-type moves the account to another type; issue goes on with it"
account_at_ca 0 ed25519 show --format json
URL=$(json_get "$OUT" "d['url']")
account_at_ca 0 ed25519 rollover --account-key-type p384
expect_contains "$(out)" "rolled over $URL: key k" "rollover output"
expect_contains "$(out)" "(p384)" "rollover names the new type"
account_at_ca 0 ed25519 show --format json
json_check "$OUT" "d['url'] == '$URL' and d['key_type'] == 'p384' and d['alg'] == 'ES384'" \
	"the same account, now p384"
ca_jwk "$URL" "j['kty'] == 'EC' and j['crv'] == 'P-384'"
issue_at_ca 0 ed25519 --account-key-type p384 -d after-rollover.example.test
note "rollover without the option keeps the type"
account_at_ca 0 ed25519 rollover
expect_contains "$(out)" "(p384)" "rollover keeps p384"

note "Pebble 2.4 refuses an Ed25519 account key: a clear error, nothing stored"
start_pebble
expect_exit 1 in_home pebble account register --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" \
	--agree-tos --account-key-type ed25519
expect_contains "$(err)" "newAccount: badPublicKey:" "Pebble's problem"
expect_contains "$(err)" "choose the account key with --account-key-type" "the hint"
expect_exit 0 in_home pebble account list --format json
expect_eq "$(json_get "$OUT" 'len(d)')" 0 "accounts stored after the refusal"

note "badSignatureAlgorithm lists the server's algorithms in the error"
MOCK_PORT=$(free_port)
python3 - "$MOCK_PORT" "$T/mock-algs" <<'PY' >"$T/mock.log" 2>&1 &
# Answers the directory and newNonce, and refuses every newAccount with RFC 8555 §6.2's
# badSignatureAlgorithm problem; records the JWS "alg" each request used.
import base64, http.server, json, sys
port, rec = int(sys.argv[1]), sys.argv[2]
base = "http://127.0.0.1:%d" % port
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Replay-Nonce", "bm9uY2U")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    def do_GET(self):
        d = {"newNonce": base + "/nonce", "newAccount": base + "/acct", "newOrder": base + "/order"}
        self.answer(200, "application/json", json.dumps(d).encode())
    def do_HEAD(self):
        self.answer(200, "text/plain", b"")
    def do_POST(self):
        jws = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prot = jws["protected"] + "=" * (-len(jws["protected"]) % 4)
        with open(rec, "a") as f:
            f.write(json.loads(base64.urlsafe_b64decode(prot))["alg"] + "\n")
        p = {"type": "urn:ietf:params:acme:error:badSignatureAlgorithm",
             "detail": "this server does not take EdDSA", "algorithms": ["ES256", "RS256"]}
        self.answer(400, "application/problem+json", json.dumps(p).encode())
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
bg_track $!
wait_http "http://127.0.0.1:$MOCK_PORT/dir"
expect_exit 1 in_home mock account register --server "http://127.0.0.1:$MOCK_PORT/dir" --agree-tos \
	--account-key-type ed25519
expect_eq "$(cat "$T/mock-algs")" "EdDSA" "the alg the client sent"
expect_contains "$(err)" "newAccount: badSignatureAlgorithm: this server does not take EdDSA (the server accepts ES256, RS256)" \
	"the algorithms in the error"
expect_contains "$(err)" "choose the account key with --account-key-type" "the hint"

note "usage: ed25519 is no certificate key type, sm2 no account key type"
issue_at_ca 2 usage --key-type ed25519 -d u.example.test
expect_contains "$(err)" "--key-type ed25519: expected" "--key-type ed25519 refused"
expect_contains "$(err)" "ed25519 is for account keys only: --account-key-type" "the reason"
issue_at_ca 2 usage --key-type p256,ed25519 -d u.example.test
issue_at_ca 2 usage --account-key-type sm2 -d u.example.test
expect_contains "$(err)" "--account-key-type sm2: expected p256 (ES256)" "--account-key-type sm2 refused"
issue_at_ca 2 usage --account-key-type p521 -d u.example.test
echo "u.example.test key-type=ed25519" >"$T/batch.txt"
issue_at_ca 2 usage --batch "$T/batch.txt"
expect_contains "$(err)" "key-type ed25519: for account keys only" "batch key-type=ed25519 refused"
account_at_ca 2 usage show --account-key-type p384
expect_contains "$(err)" "--account-key-type applies to register and rollover" "show refuses the option"
expect_exit 2 in_home ca-usage ca init --name X --key-type ed25519
expect_contains "$(err)" "--key-type ed25519: expected p256, p384, rsa3072, rsa4096 or sm2" "ca init refuses ed25519"
[ ! -e "$T/home-usage/live" ] || fail "a usage error wrote a lineage"
