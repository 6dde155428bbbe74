# aclm target / deploy / deployments with file targets: cert, chain, fullchain, key with owner,
# group and mode; combined PEM and PKCS#12; per-target errors (unknown target, vanished
# directory, unreachable verify endpoint) while the other targets succeed; results recorded.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$LIB_DIR/deploy.sh"

mk_ca
mk_leaf site
ID=$(import_leaf site)
FP=$(pem_fp "$T/ca/site.pem")
D=$T/out1 && mkdir -p "$D" "$T/out2" "$T/out3" "$T/out4"

# --- target add: options checked by the type, usage errors
expect_exit 2 aclm target add x --type ftp --cert-path "$D/c.pem"
expect_exit 1 aclm target add x --type file --cert-path relative.pem
expect_contains "$(err)" "cert_path"
expect_exit 1 aclm target add x --type file --cert-path "$D/c.pem" --socket /run/x.sock
expect_contains "$(err)" '"socket" does not apply'
expect_exit 1 aclm target add x --type file
expect_contains "$(err)" "no file to write"
expect_exit 1 aclm target add x --type file --cert-path "$D/c.pem" --verify 127.0.0.1
expect_contains "$(err)" "HOST:PORT"

ok target add f1 --type file --cert-path "$D/cert.pem" --chain-path "$D/chain.pem" \
	--fullchain-path "$D/fullchain.pem" --key-path "$D/key.pem" --owner nobody --group nogroup \
	--mode 0640 --reload-cmd "sh -c 'echo reloaded >> \"$T/reloads\"'"
ok target add f2 --type file --combined-path "$T/out2/combined.pem" --p12-path "$T/out2/site.p12"
ok target add f3 --type file --cert-path "$T/out3/cert.pem"
PORT=$(free_port)
ok target add f4 --type file --fullchain-path "$T/out4/fullchain.pem" --verify "127.0.0.1:$PORT/site.test"
expect_exit 1 aclm target add f1 --type file --cert-path "$D/c.pem"
expect_contains "$(err)" "exists"
ok target list --format json
json_check "$OUT" '[t["name"] for t in d] == ["f1", "f2", "f3", "f4"]' "target list"
ok target show f1 --format json
json_check "$OUT" 'd["options"]["mode"] == "0640" and d["type"] == "file"' "target show"

# --- dry run: nothing written
ok deploy "$ID" --to f1,f2 --dry-run --format json
json_check "$OUT" '[r["state"] for r in d] == ["dry_run", "dry_run"]' "dry run"
[ ! -e "$D/cert.pem" ] || fail "dry run wrote a file"

# --- deploy to f1 and f2
ok deploy "$ID" --to f1,f2 --format json
cp "$OUT" "$T/r1.json"
json_check "$T/r1.json" '[r["state"] for r in d] == ["deployed", "deployed"]' "deploy f1,f2"
expect_eq "$(result_field "$T/r1.json" f1 'r["fingerprint"]')" "$FP" "deployed fingerprint"
expect_eq "$(pem_fp "$D/cert.pem")" "$FP" "cert.pem"
expect_eq "$(pem_count "$D/chain.pem")" 1 "chain.pem certificates"
expect_eq "$(pem_fp "$D/chain.pem")" "$(pem_fp "$T/ca/inter.pem")" "chain.pem is the intermediate"
expect_eq "$(pem_count "$D/fullchain.pem")" 2 "fullchain.pem certificates"
cmp -s "$D/key.pem" /dev/null && fail "key.pem is empty"
openssl pkey -in "$D/key.pem" -pubout >"$T/k1.pub" 2>/dev/null || fail "key.pem does not load"
openssl x509 -in "$T/ca/site.pem" -pubkey -noout >"$T/k2.pub"
cmp -s "$T/k1.pub" "$T/k2.pub" || fail "key.pem is not the certificate's key"
for f in cert chain fullchain key; do
	expect_eq "$(stat -c '%a %U %G' "$D/$f.pem")" "640 nobody nogroup" "$f.pem mode and owner"
done
expect_eq "$(cat "$T/reloads")" "reloaded" "reload command ran once"
expect_eq "$(pem_count "$T/out2/combined.pem")" 2 "combined.pem certificates"
grep -q 'BEGIN PRIVATE KEY' "$T/out2/combined.pem" || fail "combined.pem holds no key"
expect_eq "$(mode_of "$T/out2/combined.pem")" 600 "combined.pem mode"
openssl pkcs12 -in "$T/out2/site.p12" -passin pass: -nokeys -clcerts 2>/dev/null |
	openssl x509 -noout >/dev/null 2>&1 || fail "site.p12 does not load"
expect_eq "$(openssl pkcs12 -in "$T/out2/site.p12" -passin pass: -nokeys -clcerts 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)" "$FP" "p12 leaf"
openssl pkcs12 -in "$T/out2/site.p12" -passin pass: -nocerts -nodes 2>/dev/null | grep -q 'PRIVATE KEY' ||
	fail "site.p12 holds no key"
# The key never reaches output or logs.
expect_not_contains "$(cat "$T/r1.json")" "PRIVATE KEY" "deploy output"

# --- per-target errors, the others still deployed
rm -rf "$T/out3"
echo "previous" >"$T/out4/keep"
expect_exit 1 aclm deploy "$ID" --to f1,nope,f3,f4 --verify-timeout 2 --format json
cp "$OUT" "$T/r2.json"
expect_eq "$(result_field "$T/r2.json" f1 'r["state"]')" deployed "f1 with failing neighbours"
expect_eq "$(result_field "$T/r2.json" nope 'r["state"]')" failed "unknown target"
expect_contains "$(result_field "$T/r2.json" nope 'r["error"]')" "no target nope"
expect_eq "$(result_field "$T/r2.json" f3 'r["state"]')" failed "vanished directory"
expect_contains "$(result_field "$T/r2.json" f3 'r["error"]')" "$T/out3/cert.pem"
expect_contains "$(result_field "$T/r2.json" f4 'r["error"]')" "cannot connect"
# f4 had no file before: the rollback removes the one it wrote.
[ ! -e "$T/out4/fullchain.pem" ] || fail "f4: the rollback left fullchain.pem"
expect_contains "$(err)" "3 of 4 targets failed"
expect_exit 1 aclm deploy "$ID" --to f1,f3
expect_contains "$(out)" "f3"
expect_contains "$(out)" "failed"

# --- recorded results: the last per target
ok deployments --format json
cp "$OUT" "$T/dep.json"
json_check "$T/dep.json" '{r["target"]: r["state"] for r in d} == {"f1": "deployed", "f2": "deployed", "f3": "failed", "f4": "failed"}' "deployments"
json_check "$T/dep.json" 'all(r["fingerprint"] == "'"$FP"'" for r in d)' "deployments fingerprint"
ok deployments
expect_contains "$(out)" "f4"
ok audit verify
DB=$(db_path)
# One event per deploy to an existing target: 2 + 3 (not "nope") + 2.
expect_eq "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from audit where action='deploy'\").fetchone()[0])" "$DB")" 7 "audit events"

# --- bind, rm
ok bind site.test f1 f2
expect_contains "$(out)" "site.test -> f2"
expect_exit 1 aclm bind site.test f1 nope
expect_contains "$(err)" "no target nope"
ok target rm f2
expect_exit 1 aclm target show f2
expect_exit 1 aclm target rm f2
ok deployments --format json
json_check "$OUT" '"f2" not in [r["target"] for r in d]' "results of a removed target"
