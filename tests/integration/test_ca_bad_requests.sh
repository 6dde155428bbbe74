# aclm's ACME server against a corpus of malformed requests (acme_raw.py, an ACME request
# builder independent of aclm's client): each case gets the right HTTP status and problem type
# (RFC 8555 §6.7) and the directory still answers after every one. First the open CA (JWS,
# accounts, orders, CSRs, ARI, replaces, revocation), then the same CA restarted with
# --eab-required (External Account Binding, an account limited to '*.corp.example'). A
# sanitizer report in the CA's log fails the test.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/aclm_ca.sh"

# The driver needs the cryptography module: the first python3 on PATH, else Debian's (certbot
# depends on python3-cryptography).
PY=""
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import cryptography' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || fail "no python3 with the cryptography module (python3-cryptography)"
RAW=$ACLM_SRC/tests/integration/acme_raw.py

start_aclm_ca p256
raw() { # PHASE ARGS...: the driver's lines go to stderr and $T/PHASE.out
	raw__phase=$1
	shift
	if "$PY" "$RAW" "$raw__phase" --dir "$CA_DIR" --roots "$CA_ROOTS" --http-port "$CA_HTTP_PORT" \
		"$@" >"$T/$raw__phase.out" 2>&1; then raw__rc=0; else raw__rc=$?; fi
	cat "$T/$raw__phase.out" >&2
	if ! kill -0 "$CA_PID" 2>/dev/null; then
		grep -E -A20 "AddressSanitizer|runtime error" "$CA_LOG" >&2 || true
		fail "the CA exited during the $raw__phase cases"
	fi
	return "$raw__rc"
}

failed=""
note "the open CA: JWS, nonces, accounts, orders, CSRs, ARI, replaces, revocation"
raw main || failed="$failed main"

note "the CA with --eab-required: EAB keys, one of them limited to '*.corp.example'"
aclm_ca ca eab create --hmac-out "$T/eab.key" >"$T/eab.kid" 2>"$ERR" || fail "eab create: $(err)"
aclm_ca ca eab create --allow '*.corp.example' --hmac-out "$T/corp.key" >"$T/corp.kid" 2>"$ERR" ||
	fail "eab create --allow: $(err)"
stop_aclm_ca
CA_SERVE_ARGS="--eab-required" restart_aclm_ca
raw eab --eab-kid "$(cat "$T/eab.kid")" --eab-hmac "$T/eab.key" \
	--corp-kid "$(cat "$T/corp.kid")" --corp-hmac "$T/corp.key" || failed="$failed eab"

# The CA stops cleanly; then its log (ASan/UBSan write there) must hold no sanitizer report.
stop_aclm_ca
if grep -E "AddressSanitizer|runtime error" "$CA_LOG" >&2; then
	fail "sanitizer report in the CA's log ($CA_LOG)"
fi
[ -z "$failed" ] || fail "cases failed in:$failed (the FAIL lines above)"
grep -c '^PASS ' "$T/main.out" "$T/eab.out" >&2
