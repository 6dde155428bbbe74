# Proves (issue 4, first slice): `ca init` with P-256, RSA-3072 and SM2 makes a root and an
# intermediate per type that openssl verifies (SM2 with the standard ID, link by link as
# TESTBED.md says), `ca roots` prints the three roots, the certificates are in the inventory
# (source ca, with their keys), a second `ca init` of the same CA fails with "exists", and
# `--offline-root` writes 0600 root keys and removes them from the keystore.
. "$ACLM_SRC/tests/integration/lib.sh"

ok ca init --name Corp --key-type p256 --key-type rsa3072 --key-type sm2 --format json
cp "$OUT" "$T/init.json"
json_check "$T/init.json" "sorted(c['key_type'] for c in d) == ['p256', 'rsa3072', 'sm2']" "ca init: three key types"
json_check "$T/init.json" "not any(c['offline_root'] for c in d)" "ca init: roots online"

ok ca roots --out "$T/roots.pem"
expect_eq "$(pem_count "$T/roots.pem")" 3 "ca roots: PEM roots"
ok ca roots --ca Corp
expect_eq "$(out | grep -c -- '-----BEGIN CERTIFICATE-----')" 3 "ca roots --ca Corp on stdout"

# Each pair as PEM files from the inventory.
for t in p256 rsa3072 sm2; do
	rid=$(json_get "$T/init.json" "[c for c in d if c['key_type'] == '$t'][0]['root_cert_id']")
	iid=$(json_get "$T/init.json" "[c for c in d if c['key_type'] == '$t'][0]['intermediate_cert_id']")
	ok cert show "$rid" --format pem
	cp "$OUT" "$T/$t-root.pem"
	ok cert show "$iid" --format pem
	cp "$OUT" "$T/$t-int.pem"
	openssl x509 -in "$T/$t-root.pem" -noout -subject >"$T/$t.subj"
	expect_file_contains "$T/$t.subj" "Corp Root" "$t: root subject"
	openssl x509 -in "$T/$t-int.pem" -noout -text >"$T/$t-int.txt"
	expect_file_contains "$T/$t-int.txt" "CA:TRUE, pathlen:0" "$t: intermediate pathlen"
	case $t in
	sm2)
		expect_file_contains "$T/$t-int.txt" "SM2-with-SM3" "sm2: signature algorithm"
		openssl verify -partial_chain -CAfile "$T/$t-root.pem" -vfyopt distid:1234567812345678 \
			"$T/$t-int.pem" >"$T/v.out" 2>&1 || { cat "$T/v.out" >&2; fail "sm2: intermediate does not verify with the standard ID"; }
		# Self-signed root with the ID too.
		openssl verify -partial_chain -CAfile "$T/$t-root.pem" -vfyopt distid:1234567812345678 \
			"$T/$t-root.pem" >"$T/v.out" 2>&1 || { cat "$T/v.out" >&2; fail "sm2: root does not verify with the standard ID"; }
		;;
	*)
		openssl verify -CAfile "$T/$t-root.pem" "$T/$t-int.pem" >"$T/v.out" 2>&1 ||
			{ cat "$T/v.out" >&2; fail "$t: intermediate does not verify against its root"; }
		;;
	esac
done

# In the inventory: six certificates, source ca, with their private keys.
n=$(list_json)
expect_eq "$n" 6 "cert list: CA certificates"
json_check "$T/list.json" "all(c['source'] == 'ca' and c['has_private_key'] and c['is_ca'] for c in d)" "cert list: source ca, keys held"

# Again: refused, nothing added.
expect_exit 1 aclm ca init --name Corp --key-type sm2
expect_contains "$(err)" "exists" "second ca init"
expect_eq "$(list_json)" 6 "cert list after the refused ca init"
expect_exit 2 aclm ca init --name 'a/b'
# A CA keeps its certificates: cert rm says why instead of a database error.
root_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$T/list.json")
expect_exit 1 aclm cert rm "$root_id"
expect_contains "$(err)" "a CA keeps its certificates"
expect_eq "$(list_json)" 6 "cert list after the refused cert rm"
expect_exit 2 aclm ca init --name X --key-type rsa1024

# Offline roots.
ok ca init --name Vault --key-type p256 --key-type sm2 --offline-root --format json
cp "$OUT" "$T/off.json"
for t in p256 sm2; do
	k=$ACLM_HOME/ca/Vault-$t-root.key
	[ -f "$k" ] || fail "offline root key $k missing"
	expect_eq "$(mode_of "$k")" 600 "$t: offline root key mode"
	kid=$(json_get "$T/off.json" "[c for c in d if c['key_type'] == '$t'][0]['root_key_id']")
	rid=$(json_get "$T/off.json" "[c for c in d if c['key_type'] == '$t'][0]['root_cert_id']")
	# The file holds the root's key; the keystore no longer does.
	ok cert show "$rid" --format pem
	cp "$OUT" "$T/off-$t.pem"
	expect_eq "$(openssl pkey -in "$k" -pubout | openssl sha256 -r)" \
		"$(openssl x509 -in "$T/off-$t.pem" -noout -pubkey | openssl sha256 -r)" "$t: offline key matches its root"
	ok cert show "$rid" --format json
	cp "$OUT" "$T/root.json"
	json_check "$T/root.json" "d['has_private_key'] is False" "$t: offline root has no key in the keystore"
	expect_exit 1 aclm csr new --key "$kid" -d example.com
done
ok ca list --format json
cp "$OUT" "$T/list-ca.json"
json_check "$T/list-ca.json" "[c['offline_root'] for c in d if c['name'] == 'Vault'] == [True, True]" "ca list: Vault offline"
ok ca list
expect_contains "$(out)" "offline" "ca list text"
# Two CAs: ca roots needs --ca.
expect_exit 1 aclm ca roots
ok ca roots --ca Vault
expect_eq "$(out | grep -c -- '-----BEGIN CERTIFICATE-----')" 2 "ca roots --ca Vault"
ok audit verify
# Each offline root: one audited export and one audited delete.
expect_eq "$(python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); print(db.execute(\"SELECT count(*) FROM audit WHERE action IN ('key.export','key.delete')\").fetchone()[0])" "$(db_path)")" 4 "audit: key.export + key.delete per offline root"

note "ca init is one transaction: a failure at the second key type leaves nothing behind"
# An unrelated file where the SM2 root key would go: never replaced, so init fails there.
echo "someone else's key" >"$ACLM_HOME/ca/Half-sm2-root.key"
count_rows() { python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); print(db.execute(sys.argv[2]).fetchone()[0])" "$(db_path)" "$1"; }
keys_before=$(count_rows "SELECT count(*) FROM keys")
certs_before=$(count_rows "SELECT count(*) FROM certificates")
expect_exit 1 aclm ca init --name Half --key-type p256 --key-type sm2 --offline-root
expect_contains "$(err)" "not replacing it"
expect_eq "$(count_rows "SELECT count(*) FROM cas WHERE name = 'Half'")" 0 "no CA row of the failed init"
expect_eq "$(count_rows "SELECT count(*) FROM keys")" "$keys_before" "no key of the failed init"
expect_eq "$(count_rows "SELECT count(*) FROM certificates")" "$certs_before" "no certificate of the failed init"
[ ! -e "$ACLM_HOME/ca/Half-p256-root.key" ] || fail "the P-256 root key file of the failed init stayed"
expect_eq "$(cat "$ACLM_HOME/ca/Half-sm2-root.key")" "someone else's key" "the existing file is untouched"
ok audit verify
