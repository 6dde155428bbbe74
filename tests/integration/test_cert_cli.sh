# Proves: `cert list` filters (table, json, csv), `cert show` by id and fingerprint prefix,
# usage errors (exit 2), `cert export` (pem, der, p12, --with-key 0600 with the matching key),
# `cert rm` (the key stays), and tenant isolation.
. "$ACLM_SRC/tests/integration/lib.sh"

Z=$T/zoo
make_zoo "$Z"
ok cert import "$Z/certs" "$Z/certbot" "$Z/lego"
ok cert import "$Z/p12" "$Z/enc" --password-file "$Z/pass.txt"
N=$(wc -l <"$Z/manifest")
expect_eq "$(list_json)" "$N" "rows after importing the zoo"
cp "$T/list.json" "$T/all.json"
M=$Z/manifest

# expected_fps PYTHON-CONDITION: fingerprints of the manifest lines where the condition holds
# (name, fp, nb, na, kt, bits, sig, icn, file; now = epoch seconds), in not_after order.
expected_fps() {
	python3 - "$M" "$1" <<'EOF'
import json, sys, time
now = time.time()
rows = []
for line in open(sys.argv[1]):
    name, fp, nb, na, kt, bits, sig, icn, file = line.rstrip("\n").split("|")
    nb, na = int(nb), int(na)
    if eval(sys.argv[2]):
        rows.append((na, fp))
print(json.dumps([fp for na, fp in sorted(rows)]))
EOF
}

# list_is FILTER-ARGS -- PYTHON-CONDITION [ordered]: `cert list ARGS --format json` returns exactly
# the manifest certificates where the condition holds.
list_is() {
	args=$1 cond=$2 order=${3:-}
	want=$(expected_fps "$cond")
	# shellcheck disable=SC2086 # the filter arguments are words
	expect_exit 0 aclm cert list $args --format json
	if [ "$order" = ordered ]; then
		got=$(json_get "$OUT" "[c['fingerprint_sha256'] for c in d]")
	else
		got=$(json_get "$OUT" "sorted(c['fingerprint_sha256'] for c in d)")
		want=$(python3 -c 'import json,sys; print(json.dumps(sorted(json.loads(sys.argv[1]))))' "$want")
	fi
	[ "$got" = "$want" ] || { lib__show; fail "cert list $args: got $got, want $want"; }
}

DAY=86400
list_is "--expiring 30" "nb <= now < na and na - now <= 30 * $DAY" ordered
list_is "--expiring 100" "nb <= now < na and na - now <= 100 * $DAY" ordered
list_is "--expired" "na < now"
list_is "--key-type rsa" "kt == 'rsa'"
list_is "--key-type ec" "kt == 'ec'"
list_is "--key-type sm2" "kt == 'sm2'"
list_is "--search www.example.test" "name == 'ec-leaf'"
list_is "--search api.example" "name == 'ec-leaf'"
list_is "--search lego.example.test" "name == 'lego'"
expect_exit 0 aclm cert list --issuer "Zoo EC Intermediate CA" --format json
json_check "$OUT" "sorted(c['fingerprint_sha256'] for c in d) == sorted($(expected_fps "icn == 'Zoo EC Intermediate CA'"))" \
	"cert list --issuer 'Zoo EC Intermediate CA'"
expect_exit 0 aclm cert list --issuer "Zoo SM2" --key-type sm2 --format json
json_check "$OUT" "sorted(c['fingerprint_sha256'] for c in d) == sorted($(expected_fps "icn.startswith('Zoo SM2')"))" \
	"cert list --issuer 'Zoo SM2' --key-type sm2"
expect_exit 0 aclm cert list --limit 3 --format json
json_check "$OUT" "len(d) == 3" "cert list --limit 3"
expect_exit 0 aclm cert list --key-type rsa --limit 2 --format json
json_check "$OUT" "len(d) == 2 and all(c['key']['type'] == 'rsa' for c in d)" "cert list --key-type rsa --limit 2"
expect_exit 0 aclm cert list --search no-such-name.invalid --format json
json_check "$OUT" "d == []" "cert list --search with no match is an empty array"

# Table: a header and one row per certificate, with its id, CN and issuer CN.
expect_exit 0 aclm cert list --key-type sm2
head -n 1 "$OUT" | grep -q 'ID.*EXPIRES.*DAYS.*KEY' || { lib__show; fail "table header"; }
for cn in sm2.example.test "Zoo SM2 Intermediate CA" "Zoo SM2 Root CA"; do
	expect_file_contains "$OUT" "$cn" "table --key-type sm2"
done
expect_not_contains "$(out)" "Zoo RSA" "table --key-type sm2"
for id in $(json_get "$T/all.json" "' '.join(c['id'] for c in d if c['key']['type'] == 'sm2')"); do
	grep -q "^ *${id}[[:space:]]" "$OUT" || { lib__show; fail "table: no row starts with id $id"; }
done
expect_exit 0 aclm cert list --expired
expect_file_contains "$OUT" expired.example.test "table --expired"
expect_eq "$(grep -c 'example.test\|Zoo ' "$OUT")" 1 "table --expired: one row"

# CSV: the documented header and one parsable row per certificate.
expect_exit 0 aclm cert list --key-type sm2 --format csv
expect_eq "$(head -n 1 "$OUT")" \
	"id,fingerprint_sha256,common_name,sans,issuer,not_before,not_after,days_left,key_type,key_bits,signature_algorithm,source,owner" \
	"csv header"
python3 - "$OUT" "$(expected_fps "kt == 'sm2'")" <<'EOF' || fail "csv rows"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
want = sorted(json.loads(sys.argv[2]))
got = sorted(r["fingerprint_sha256"] for r in rows)
assert got == want, (got, want)
for r in rows:
    assert r["key_type"] == "sm2" and r["signature_algorithm"] == "SM2-with-SM3", r
    int(r["days_left"]), int(r["key_bits"])
EOF
expect_exit 0 aclm cert list --search "www.example.test" --format csv
expect_eq "$(wc -l <"$OUT")" 2 "csv --search: header and one row"
expect_file_contains "$OUT" "$(zoo_fp "$Z" ec-leaf)" "csv --search"

# show: by id, by fingerprint prefix (8 digits, upper case with colons, the whole fingerprint).
fp=$(zoo_fp "$Z" ec-leaf)
id=$(id_of_fp "$T/all.json" "$fp")
ok cert show "$id" --format json
json_check "$OUT" "d['fingerprint_sha256'] == '$fp'" "show by id"
ok cert show "$id"
expect_file_contains "$OUT" "www.example.test" "show text"
prefix=$(echo "$fp" | cut -c1-8)
ok cert show "$prefix" --format json
json_check "$OUT" "d['id'] == '$id'" "show by 8-digit prefix"
colons=$(echo "$fp" | cut -c1-12 | tr 'a-f' 'A-F' | sed 's/../&:/g; s/:$//')
ok cert show "$colons" --format json
json_check "$OUT" "d['id'] == '$id'" "show by upper-case prefix with colons ($colons)"
full=$(openssl x509 -in "$Z/work/ec-leaf.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
ok cert show "$full" --format json
json_check "$OUT" "d['id'] == '$id'" "show by the whole colon fingerprint"
ok cert show "$prefix" --format pem
expect_eq "$(pem_fp "$OUT")" "$fp" "show --format pem"
# Unknown prefix; too short a prefix. (An ambiguous 8-digit prefix needs ~65k certificates: not made.)
unknown=00000000
json_check "$T/all.json" "not any(c['fingerprint_sha256'].startswith('$unknown') for c in d)" "zoo has no 00000000 prefix"
expect_exit 1 aclm cert show "$unknown"
expect_contains "$(err)" "$unknown" "unknown prefix: message names it"
[ ! -s "$OUT" ] || { lib__show; fail "unknown prefix: nothing on stdout"; }
expect_exit "1|2" aclm cert show "$(echo "$fp" | cut -c1-7)"
[ -s "$ERR" ] || fail "7-digit prefix: no message"
expect_exit 1 aclm cert show 999999999
[ -s "$ERR" ] || fail "unknown id: no message"

# Usage errors: exit 2 with a message.
for args in "cert list --bogus" "cert list --limit" "cert list --limit abc" "cert list --expiring abc" \
	"cert list --format yaml" "cert list --key-type dsa2" "cert show" "cert export" "cert rm" "cert nosuchsub" \
	"cert import" "cert show $id --format yaml"; do
	# shellcheck disable=SC2086
	expect_exit 2 aclm $args
	[ -s "$ERR" ] || fail "'$args': no message on stderr"
done

# export: PEM is the certificate then its chain; DER; PKCS#12 without a key.
# (Whether "its chain as far as the inventory knows it" includes the self-signed root is not
# spelled out in docs/CLI.md: either is accepted, in order.)
ok cert export "$id"
cp "$OUT" "$T/export.pem"
n=$(pem_count "$T/export.pem")
[ "$n" = 2 ] || [ "$n" = 3 ] || fail "export pem: $n certificates, want leaf + intermediate (+ root)"
expect_eq "$(pem_fp "$T/export.pem")" "$fp" "export pem: the leaf first"
awk '/BEGIN CERT/{n++} n==2' "$T/export.pem" >"$T/second.pem"
expect_eq "$(pem_fp "$T/second.pem")" "$(zoo_fp "$Z" ec-int)" "export pem: the intermediate second"
if [ "$n" = 3 ]; then
	awk '/BEGIN CERT/{n++} n==3' "$T/export.pem" >"$T/third.pem"
	expect_eq "$(pem_fp "$T/third.pem")" "$(zoo_fp "$Z" ec-root)" "export pem: the root third"
fi
expect_not_contains "$(out)" "PRIVATE KEY" "export without --with-key"
ok cert export "$id" --format der --out "$T/leaf.der"
expect_eq "$(pem_fp "$T/leaf.der" DER)" "$fp" "export der"
ok cert export "$id" --format p12 --out "$T/nokey.p12"
openssl pkcs12 -in "$T/nokey.p12" -passin pass: -nokeys -out "$T/nokey.pem" 2>"$T/p12.err" || { cat "$T/p12.err" >&2; fail "export p12: openssl cannot read it (empty password)"; }
expect_eq "$(pem_fp "$T/nokey.pem")" "$fp" "export p12: the leaf"

# --with-key: needs --out; writes 0600; the key matches the certificate.
expect_exit "1|2" aclm cert export "$id" --with-key
expect_not_contains "$(out)" "PRIVATE KEY" "export --with-key without --out"
[ -s "$ERR" ] || fail "export --with-key without --out: no message"
ok cert export "$id" --with-key --out "$T/withkey.pem"
expect_eq "$(mode_of "$T/withkey.pem")" 600 "export --with-key file mode"
expect_file_contains "$T/withkey.pem" "PRIVATE KEY" "export --with-key pem"
expect_eq "$(pem_fp "$T/withkey.pem")" "$fp" "export --with-key: the certificate first"
expect_eq "$(openssl pkey -in "$T/withkey.pem" -pubout)" "$(openssl x509 -in "$T/withkey.pem" -noout -pubkey)" \
	"export --with-key: the key is the certificate's"
ok cert export "$id" --format p12 --with-key --password-file "$Z/pass.txt" --out "$T/withkey.p12"
expect_eq "$(mode_of "$T/withkey.p12")" 600 "export p12 --with-key file mode"
openssl pkcs12 -in "$T/withkey.p12" -passin "file:$Z/pass.txt" -nodes -out "$T/p12.pem" 2>"$T/p12.err" ||
	{ cat "$T/p12.err" >&2; fail "export p12 --with-key: openssl cannot read it with the password"; }
expect_eq "$(openssl pkey -in "$T/p12.pem" -pubout)" "$(openssl x509 -in "$Z/work/ec-leaf.crt" -noout -pubkey)" \
	"export p12 --with-key: the key is the certificate's"
openssl pkcs12 -in "$T/withkey.p12" -passin "file:$Z/wrong.txt" -nodes -out /dev/null 2>/dev/null &&
	fail "export p12 --with-key: opens with a wrong password"
# SM2 leaves export with their chain too (the certificate, not a key, is the point here).
ok cert export "$(id_of_fp "$T/all.json" "$(zoo_fp "$Z" sm2-leaf)")"
[ "$(pem_count "$OUT")" -ge 2 ] || { lib__show; fail "export sm2 pem: no chain"; }
awk '/BEGIN CERT/{n++} n==2' "$OUT" >"$T/second.pem"
expect_eq "$(pem_fp "$T/second.pem")" "$(zoo_fp "$Z" sm2-int)" "export sm2 pem: the intermediate second"

# A tenant must exist before a command acts on it (only "default" is made on first use): a
# mistyped --tenant is an error, not a new empty tenant.
expect_exit 1 aclm --tenant other cert list
expect_contains "$(err)" 'tenant "other" does not exist'
ACLM_TENANT=other ok tenant add other # the tenant commands act as "default"
# Tenant isolation: another tenant sees nothing and cannot touch the default tenant's rows.
expect_eq "$(list_json --tenant other)" 0 "tenant other: empty list"
expect_exit 1 aclm --tenant other cert show "$id"
expect_exit 1 aclm --tenant other cert show "$prefix"
expect_exit 1 aclm --tenant other cert export "$id"
expect_not_contains "$(out)" "BEGIN CERTIFICATE" "tenant other: export"
expect_exit 1 aclm --tenant other cert rm "$id"
ACLM_TENANT=other expect_exit 1 aclm cert show "$id"
ok cert show "$id" --format json
json_check "$OUT" "d['fingerprint_sha256'] == '$fp' and d['tenant'] == 'default'" "default tenant still has its row"
# The same certificate imported into another tenant is a separate row there.
expect_exit 0 aclm --tenant other cert import "$Z/certs/rsa-leaf.pem" --format json
json_check "$OUT" "d[0]['status'] == 'added'" "tenant other: the import adds"
expect_eq "$(list_json --tenant other)" 1 "tenant other: one row"
json_check "$T/list.json" "d[0]['tenant'] == 'other' and d[0]['id'] != '$(id_of_fp "$T/all.json" "$(zoo_fp "$Z" rsa-leaf)")'" \
	"tenant other: its own row"
expect_eq "$(list_json)" "$N" "default tenant unchanged by tenant other"

# rm: the row goes, its key stays in the keystore (re-importing the bare certificate pairs it again).
ok cert rm "$id"
expect_exit 1 aclm cert show "$id"
expect_eq "$(list_json)" $((N - 1)) "rows after cert rm"
expect_exit 1 aclm cert rm "$id"
ok cert import "$Z/work/ec-leaf.crt"
list_json >/dev/null
expect_eq "$(cert_field "$T/list.json" "$fp" "c['has_private_key']")" true "re-imported leaf finds its kept key"
