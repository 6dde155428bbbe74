# External Account Binding (RFC 8555 §7.3.4) and authorization reuse against one Pebble that
# requires EAB (key kid-1) and always reuses valid authorizations: no EAB -> usage error naming
# --eab-kid; a wrong HMAC key -> Pebble's refusal; the right key (read from a file) -> issued;
# the same name again -> the valid authorization is reused and no challenge is answered.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

b64url_random() {
	python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))'
}
PEBBLE_EAB_KID=kid-1
PEBBLE_EAB_KEY=$(b64url_random)
PEBBLE_AUTHZREUSE=100 start_pebble
printf '%s\n' "$PEBBLE_EAB_KEY" >"$T/eab.key"
b64url_random >"$T/wrong.key"
chmod 600 "$T/eab.key" "$T/wrong.key"

issue() {
	aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos --email ops@example.test \
		--http-listen "127.0.0.1:$PEBBLE_HTTP_PORT" "$@"
}

note "EAB required, none given: usage error (exit 2) naming --eab-kid, nothing registered"
expect_exit 2 issue -d eab.example.test
expect_contains "$(err)" "--eab-kid"
ok account list --format json
cp "$OUT" "$T/acc0.json"
json_check "$T/acc0.json" "len(d) == 0" "no account without EAB"

note "a wrong HMAC key: Pebble refuses the binding (exit 1, its problem in the message)"
expect_exit 1 issue -d eab.example.test --eab-kid kid-1 --eab-hmac-key-file "$T/wrong.key"
expect_contains "$(err)" "newAccount: unauthorized: external account binding"
[ ! -e "$ACLM_HOME/live/eab.example.test" ] || fail "files written with a refused binding"

note "the right key from a file: account bound, certificate issued"
expect_exit 0 issue -d eab.example.test --eab-kid kid-1 --eab-hmac-key-file "$T/eab.key" -v
expect_contains "$(err)" "http-01 validated"
openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$ACLM_HOME/live/eab.example.test/chain.pem" \
	"$ACLM_HOME/live/eab.example.test/cert.pem" >/dev/null 2>&1 || fail "certificate does not verify"
ok account list --format json
cp "$OUT" "$T/acc1.json"
json_check "$T/acc1.json" "len(d) == 1 and d[0]['status'] == 'valid'" "one bound account"

note "PEBBLE_AUTHZREUSE=100: the same name again reuses the valid authorization, no challenge"
# Pebble's VA logs "Attempting to validate w/ HTTP: URL" for each fetch of the challenge.
validations_before=$(grep -c "Attempting to validate" "$P/pebble.log" || true)
[ "$validations_before" -gt 0 ] || fail "Pebble logged no validation for the first issuance"
expect_exit 0 issue -d eab.example.test --name eab-again -v
expect_contains "$(err)" "eab.example.test: authorization already valid (reused)"
expect_not_contains "$(err)" "http-01 validated"
validations_after=$(grep -c "Attempting to validate" "$P/pebble.log" || true)
expect_eq "$validations_after" "$validations_before" "challenge fetches by Pebble during the reused run"
openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$ACLM_HOME/live/eab-again/chain.pem" \
	"$ACLM_HOME/live/eab-again/cert.pem" >/dev/null 2>&1 || fail "second certificate does not verify"
true
