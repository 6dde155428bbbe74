# Shared by every integration test (sourced, POSIX sh): a private temp dir and a fresh inventory,
# a scrubbed environment, cleanup on exit, and assertion helpers. JSON is read with python3.
set -eu

: "${ACLM_BIN:?ACLM_BIN must name the aclm binary}"
: "${ACLM_SRC:?ACLM_SRC must name the source root}"
[ -x "$ACLM_BIN" ] || { echo "FAIL: ACLM_BIN=$ACLM_BIN is not executable" >&2; exit 1; }
case $ACLM_BIN in /*) ;; *) ACLM_BIN=$(pwd)/$ACLM_BIN ;; esac
LIB_DIR=$ACLM_SRC/tests/integration
LIB_NAME=$(basename "$0" .sh)

# Nothing from the caller's environment may change what aclm does.
for v in $(env | sed -n 's/^\(ACLM_[A-Za-z0-9_]*\)=.*/\1/p'); do
	case $v in ACLM_BIN | ACLM_SRC | ACLM_KEEP_TMP) ;; *) unset "$v" ;; esac
done

T=$(mktemp -d "${TMPDIR:-/tmp}/aclm-it.XXXXXX")
ACLM_HOME=$T/home
HOME=$T/user # the built-in default home (~/.local/share/aclm) stays inside the temp dir too
mkdir -p "$ACLM_HOME" "$HOME"
export ACLM_HOME HOME
# A sanitizer report must not look like exit status 1 (a normal failure).
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86:abort_on_error=0
UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:exitcode=87
export ASAN_OPTIONS UBSAN_OPTIONS
OUT=$T/out
ERR=$T/err
LIB_PIDS=""

lib__cleanup() {
	rc=$?
	for lib__p in $LIB_PIDS; do
		kill -9 "$lib__p" 2>/dev/null || true
		wait "$lib__p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] && [ -n "${ACLM_KEEP_TMP:-}" ]; then
		echo "$LIB_NAME: kept $T" >&2
	else
		rm -rf "$T"
	fi
	if [ "$rc" -eq 0 ]; then echo "PASS: $LIB_NAME"; else echo "FAIL: $LIB_NAME (exit $rc)" >&2; fi
	exit "$rc"
}
trap lib__cleanup EXIT
trap 'exit 130' INT TERM HUP

# bg_track PID: a background process the cleanup kills if the test did not.
bg_track() {
	LIB_PIDS="$LIB_PIDS $1"
}

aclm() {
	"$ACLM_BIN" "$@"
}

fail() {
	echo "FAIL: $LIB_NAME: $*" >&2
	exit 1
}

note() {
	echo "# $*" >&2
}

# lib__show: the last command's output, for failure messages.
lib__show() {
	echo "--- stdout:" >&2
	head -c 4000 "$OUT" >&2 || true
	echo "--- stderr:" >&2
	head -c 4000 "$ERR" >&2 || true
	echo "---" >&2
}

expect_eq() { # ACTUAL EXPECTED [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

expect_ne() { # ACTUAL UNEXPECTED [WHAT]
	[ "$1" != "$2" ] || fail "${3:-value}: must not be '$2'"
}

expect_contains() { # HAYSTACK NEEDLE [WHAT]
	case $1 in
	*"$2"*) ;;
	*) fail "${3:-output}: '$2' not found in: $(printf '%s' "$1" | head -c 2000)" ;;
	esac
}

expect_not_contains() { # HAYSTACK NEEDLE [WHAT]
	case $1 in
	*"$2"*) fail "${3:-output}: '$2' must not appear in: $(printf '%s' "$1" | head -c 2000)" ;;
	*) ;;
	esac
}

expect_file_contains() { # FILE NEEDLE [WHAT]
	grep -qF -- "$2" "$1" || { lib__show; fail "${3:-$1}: '$2' not found"; }
}

# lib__no_sanitizer: a sanitizer report fails the test whatever the exit status.
lib__no_sanitizer() {
	if grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:\|UndefinedBehaviorSanitizer' "$ERR"; then
		lib__show
		fail "sanitizer report from: $*"
	fi
}

# expect_exit CODE CMD...: runs CMD (stdout in $OUT, stderr in $ERR), checks its exit status.
# CODE may be a list "1|2". A sanitizer report always fails.
expect_exit() {
	lib__want=$1
	shift
	if "$@" >"$OUT" 2>"$ERR"; then lib__got=0; else lib__got=$?; fi
	lib__no_sanitizer "$@"
	case "|$lib__want|" in
	*"|$lib__got|"*) ;;
	*)
		lib__show
		fail "exit status $lib__got (want $lib__want): $*"
		;;
	esac
}

# ok ARGS...: aclm ARGS must succeed.
ok() {
	expect_exit 0 aclm "$@"
}

out() { cat "$OUT"; }
err() { cat "$ERR"; }

mode_of() { # FILE -> octal permission bits, e.g. 600
	stat -c %a "$1"
}

# json_get FILE EXPR: evaluates the Python expression EXPR with d = the JSON in FILE;
# prints strings as they are, booleans as true/false, None as null, the rest as JSON.
json_get() {
	python3 - "$1" "$2" <<'EOF' || { lib__show; fail "json_get '$2' failed on $1"; }
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    sys.exit("not JSON: %s" % e)
r = eval(sys.argv[2], {"json": json}, {"d": d})
if isinstance(r, str):
    print(r)
elif isinstance(r, bool):
    print("true" if r else "false")
elif r is None:
    print("null")
else:
    print(json.dumps(r, sort_keys=True))
EOF
}

# json_check FILE EXPR WHAT: EXPR (Python, d = the JSON) must be true.
json_check() {
	lib__r=$(json_get "$1" "$2")
	[ "$lib__r" = true ] || { lib__show; fail "$3: ($2) is $lib__r"; }
}

# list_json [GLOBAL ARGS...]: `cert list --format json` into $T/list.json, and its length.
list_json() {
	expect_exit 0 aclm "$@" cert list --format json
	cp "$OUT" "$T/list.json"
	json_get "$T/list.json" 'len(d)'
}

# cert_field LISTFILE FP EXPR: EXPR on the certificate c whose fingerprint is FP.
cert_field() {
	json_get "$1" "(lambda c: $3)([c for c in d if c['fingerprint_sha256'] == '$2'][0])"
}

# id_of_fp LISTFILE FP: the inventory id of the certificate with that fingerprint.
id_of_fp() {
	lib__r=$(json_get "$1" "[c['id'] for c in d if c['fingerprint_sha256'] == '$2']")
	case $lib__r in
	'["'*'"]') printf '%s\n' "$lib__r" | sed 's/^\["//; s/"\]$//' ;;
	*) fail "certificate $2 not exactly once in the inventory: $lib__r" ;;
	esac
}

# start_api_serve (free_port is pebble.sh's): `aclm serve --no-scheduler` (2 workers) on a free
# loopback port, until it wrote its ready file; sets PORT and API_PID, output in $T/api.out and
# $T/api.log.
start_api_serve() {
	PORT=$(free_port)
	"$ACLM_BIN" serve --no-scheduler -v --listen "127.0.0.1:$PORT" --workers 2 \
		--ready-file "$T/ready" >"$T/api.out" 2>"$T/api.log" &
	API_PID=$!
	bg_track "$API_PID"
	for _ in $(seq 1 200); do
		[ -s "$T/ready" ] && return 0
		kill -0 "$API_PID" 2>/dev/null || { cat "$T/api.log" >&2; fail "serve exited"; }
		sleep 0.1
	done
	cat "$T/api.log" >&2
	fail "serve not ready after 20 s"
}

# cn_of subject|issuer FILE: the CN of the first certificate's subject or issuer.
cn_of() {
	openssl x509 -in "$2" -noout -"$1" -nameopt multiline | sed -n 's/^ *commonName *= *//p'
}

# live_verifies ROOTS DIR: the status of verifying DIR/cert.pem through DIR/chain.pem against ROOTS
# (a live/LINEAGE folder).
live_verifies() {
	openssl verify -CAfile "$1" -untrusted "$2/chain.pem" "$2/cert.pem" >/dev/null 2>&1
}

# pem_fp FILE [DER]: SHA-256 fingerprint of the first certificate in FILE, lowercase, no colons.
pem_fp() {
	openssl x509 -in "$1" -inform "${2:-PEM}" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
		tr 'A-F' 'a-f'
}

# pem_count FILE: how many certificates a PEM file holds.
pem_count() {
	grep -c -- '-----BEGIN CERTIFICATE-----' "$1" || true
}

# db_integrity FILE: SQLite's integrity_check passes. SQLite 3.40.1 reports "NULL value in T.C"
# for NOT NULL columns of WITHOUT ROWID tables that precede the key (a false positive):
# such lines count only when T really has a NULL in C.
db_integrity() {
	python3 - "$1" <<'EOF' || fail "integrity_check fails on $1"
import re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
bad = []
for (msg,) in db.execute("pragma integrity_check"):
    if msg == "ok":
        continue
    m = re.fullmatch(r"NULL value in (\w+)\.(\w+)", msg)
    if m and db.execute('select count(*) from "%s" where "%s" is null' % m.groups()).fetchone()[0] == 0:
        continue
    bad.append(msg)
for b in bad[:20]:
    print("integrity_check:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# db_path: the SQLite file of the current home (default [store] db).
db_path() {
	echo "$ACLM_HOME/aclm.db"
}

. "$LIB_DIR/zoo.sh"
