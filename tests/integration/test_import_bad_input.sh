# Proves: every kind of bad input fails alone ("failed FILE: reason", exit 1) and leaves the
# inventory unchanged; good files in the same command are still imported; the size cap applies;
# an import killed with SIGKILL midway leaves only complete certificates behind.
. "$ACLM_SRC/tests/integration/lib.sh"

Z=$T/zoo
make_zoo "$Z"

ok cert import "$Z/certs/rsa-chain.pem" "$Z/certs/ec-bundle.pem"

# snapshot NAME: the inventory as the CLI shows it, and every non-audit table of the database.
snapshot() {
	expect_exit 0 aclm cert list --format json
	cp "$OUT" "$T/$1.json"
	python3 - "$(db_path)" >"$T/$1.db.txt" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for (t,) in db.execute("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name"):
    if "audit" in t:
        continue  # the audit log may record the attempt
    for row in sorted(repr(r) for r in db.execute('select * from "%s"' % t)):
        print(t, row)
EOF
}

snapshot before
[ -s "$T/before.db.txt" ] || fail "the database holds no rows after an import"

# bad_one WHAT FILE [ARGS...]: the file fails with its name in the message, exit 1, nothing changes.
bad_one() {
	what=$1 f=$2
	shift 2
	base=$(basename "$f")
	expect_exit 1 aclm cert import "$f" "$@"
	out | grep -Eq "^failed +[^ ]*$base: .+" || { lib__show; fail "$what: no 'failed $base: REASON' line"; }
	expect_exit 1 aclm cert import "$f" "$@" --format json
	json_check "$OUT" "len(d) == 1 and d[0]['status'] == 'failed' and d[0]['file'].endswith('$base')" "$what: JSON status"
	json_check "$OUT" "isinstance(d[0]['error'], str) and len(d[0]['error']) > 0 and d[0]['added'] == 0" "$what: JSON error"
	snapshot after
	cmp -s "$T/before.json" "$T/after.json" || { diff "$T/before.json" "$T/after.json" >&2 || true; fail "$what: cert list changed"; }
	cmp -s "$T/before.db.txt" "$T/after.db.txt" || { diff "$T/before.db.txt" "$T/after.db.txt" >&2 || true; fail "$what: database changed"; }
}

bad_one "random bytes" "$Z/bad/garbage.bin"
bad_one "PEM cut in the base64" "$Z/bad/truncated.pem"
bad_one "empty file" "$Z/bad/empty.pem"
bad_one "missing file" "$T/does-not-exist.pem"
ACLM_IMPORT_MAX_FILE_BYTES=2048
export ACLM_IMPORT_MAX_FILE_BYTES
bad_one "file above [import] max_file_bytes" "$Z/bad/big.pem"
unset ACLM_IMPORT_MAX_FILE_BYTES
bad_one "PKCS#12 without a password" "$Z/p12/modern.p12"
bad_one "PKCS#12 with a wrong password" "$Z/p12/modern.p12" --password-file "$Z/wrong.txt"
bad_one "legacy PKCS#12 with a wrong password" "$Z/p12/legacy.p12" --password-file "$Z/wrong.txt"
bad_one "encrypted key without a password" "$Z/enc/encrypted-bundle.pem"
bad_one "encrypted key with a wrong password" "$Z/enc/encrypted-bundle.pem" --password-file "$Z/wrong.txt"

# The cap, not the content, refused big.pem: it imports under the default cap.
expect_exit 0 aclm cert import "$Z/bad/big.pem" --format json
json_check "$OUT" "d[0]['status'] == 'added' and d[0]['added'] == 1" "big.pem under the default cap"

# Good and bad files in one command: the good ones are imported, the status is 1.
expect_exit 1 aclm cert import "$Z/bad/garbage.bin" "$Z/certs/rsa-leaf.pem" "$Z/bad/empty.pem" "$Z/certs/sm2-chain.pem"
out | grep -Eq '^failed +[^ ]*garbage\.bin: ' || { lib__show; fail "mix: garbage.bin not failed"; }
out | grep -Eq '^failed +[^ ]*empty\.pem: ' || { lib__show; fail "mix: empty.pem not failed"; }
out | grep -Eq '^added +[^ ]*rsa-leaf\.pem ' || { lib__show; fail "mix: rsa-leaf.pem not added"; }
out | grep -Eq '^added +[^ ]*sm2-chain\.pem ' || { lib__show; fail "mix: sm2-chain.pem not added"; }
expect_contains "$(err)" "imported 4 files" "mix: summary"
expect_contains "$(err)" "2 failed" "mix: summary"
list_json >/dev/null
for n in rsa-leaf sm2-leaf sm2-int sm2-root; do
	json_check "$T/list.json" "any(c['fingerprint_sha256'] == '$(zoo_fp "$Z" "$n")' for c in d)" "mix: $n imported"
done

# SIGKILL midway through a 300-file import: whatever rows exist are whole certificates.
# python3 starts the import, watches the certificates table and kills once 20 new rows exist.
make_many "$Z" 300
base=$(list_json)
python3 - "$(db_path)" "$base" "$ACLM_BIN" cert import "$Z/many" >"$T/kill.txt" <<'EOF'
import signal, sqlite3, subprocess, sys, time
db, base, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
seen, deadline = base, time.time() + 120
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=0.05)
while p.poll() is None and time.time() < deadline:
    try:
        seen = con.execute("select count(*) from certificates").fetchone()[0]
    except sqlite3.Error:
        pass
    if seen >= base + 20:
        p.send_signal(signal.SIGKILL)
        break
    time.sleep(0.001)
print(seen, p.wait())
EOF
read -r seen status <"$T/kill.txt"
[ "$status" = -9 ] || note "the import ended (status $status) before SIGKILL; rows seen: $seen"
killed=$(list_json)
note "killed import: $((killed - base)) of 300 rows were committed"
# Every row is complete in the list (all contract fields present) ...
python3 - "$T/list.json" <<'EOF' || fail "an incomplete row after the kill"
import json, sys
for c in json.load(open(sys.argv[1])):
    for k in ("id", "fingerprint_sha256", "serial", "subject", "issuer", "not_before", "not_after", "key", "spki_sha256"):
        assert c.get(k) not in (None, ""), (k, c)
EOF
# ... and every row committed by the killed import round-trips to its certificate.
json_get "$T/list.json" "'\\n'.join(c['id'] + ' ' + c['fingerprint_sha256'] for c in d if c['common_name'] == 'many.example.test')" >"$T/rows.txt"
json_check "$T/list.json" "sum(1 for c in d if c['common_name'] == 'many.example.test') == $killed - $base" "rows of the killed import"
while read -r id fp; do
	expect_exit 0 aclm cert show "$id" --format pem
	expect_eq "$(pem_fp "$OUT")" "$fp" "row $id after the kill: PEM round-trips to its fingerprint"
done <"$T/rows.txt"
db_integrity "$(db_path)"
ok audit verify

# The interrupted import completes when run again.
expect_exit 0 aclm cert import "$Z/many"
expect_eq "$(list_json)" $((base + 300)) "rows after finishing the killed import"
