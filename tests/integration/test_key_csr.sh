# Proves: `key gen` for every type (id = k + SPKI SHA-256 prefix, --out 0600 PKCS#8 that openssl
# reads), the master key file (0600, base64 of 32 bytes), no private key in clear in the database,
# `csr new` for RSA, P-256, P-384 and SM2 keys (signature, SANs, SM2 user ID), and a wrong
# ACLM_MASTER_KEY failing cleanly.
. "$ACLM_SRC/tests/integration/lib.sh"

spki_of_key() { # KEYFILE -> SHA-256 of the DER SubjectPublicKeyInfo
	openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1
}

for t in rsa2048 rsa3072 rsa4096 p256 p384 sm2; do
	k=$T/$t.key
	ok key gen --key-type "$t" --out "$k" --format json
	cp "$OUT" "$T/$t.json"
	spki=$(spki_of_key "$k")
	json_check "$T/$t.json" "d['spki_sha256'] == '$spki'" "$t: spki_sha256 is that of the written key"
	json_check "$T/$t.json" "d['id'] == 'k' + '$spki'[:24]" "$t: id is k + 24 hex digits of the SPKI SHA-256"
	json_check "$T/$t.json" "isinstance(d['type'], str) and d['out'].endswith('$t.key')" "$t: type and out"
	expect_eq "$(mode_of "$k")" 600 "$t: --out file mode"
	expect_eq "$(head -n 1 "$k")" "-----BEGIN PRIVATE KEY-----" "$t: --out is PKCS#8 PEM"
	openssl pkey -in "$k" -noout -text >"$T/$t.txt" 2>&1 || fail "$t: openssl pkey cannot read the key"
	case $t in
	rsa*) expect_file_contains "$T/$t.txt" "Private-Key: (${t#rsa} bit" "$t: size" ;;
	p256) expect_file_contains "$T/$t.txt" "NIST CURVE: P-256" "$t: curve" ;;
	p384) expect_file_contains "$T/$t.txt" "NIST CURVE: P-384" "$t: curve" ;;
	sm2) expect_file_contains "$T/$t.txt" "ASN1 OID: SM2" "$t: curve" ;;
	esac
done
# Text output: the id alone.
ok key gen --key-type p256
out | grep -Eq '^k[0-9a-f]{24}$' || { lib__show; fail "key gen text output is not an id"; }
expect_exit 2 aclm key gen --key-type rsa1024
expect_exit 2 aclm key gen --key-type p256 --bogus

# The master key file.
mk=$ACLM_HOME/master.key
[ -f "$mk" ] || fail "no $mk after key gen"
expect_eq "$(mode_of "$mk")" 600 "master.key mode"
expect_eq "$(base64 -d "$mk" | wc -c)" 32 "master.key: base64 of 32 bytes"

# No private key in clear anywhere in the home (database, WAL, ...): not the PKCS#8 or
# traditional DER, not their base64 lines, not the raw private scalar or exponent.
Z=$T/zoo
make_zoo "$Z"
ok cert import "$Z/certs/ec-bundle.pem"
cp "$Z/work/ec-leaf.key" "$T/imported.key"
[ -s "$(db_path)" ] || fail "no database at $(db_path)"
for t in rsa2048 p256 sm2 imported; do
	k=$T/$t.key
	openssl pkey -in "$k" -outform DER -out "$T/$t.p8.der"
	openssl pkey -in "$k" -traditional -outform DER -out "$T/$t.trad.der" 2>/dev/null || : >"$T/$t.trad.der"
	openssl pkey -in "$k" -noout -text >"$T/$t.txt"
	python3 - "$ACLM_HOME" "$k" "$T/$t.p8.der" "$T/$t.trad.der" "$T/$t.txt" <<'EOF' || fail "$t: private key material in clear under the home"
import base64, os, re, sys
home, pem, p8, trad, text = sys.argv[1:]
needles = {}
for name, path in (("pkcs8 der", p8), ("traditional der", trad)):
    der = open(path, "rb").read()
    if der:
        needles[name] = der
        needles[name + " base64"] = base64.b64encode(der)[:64]
for line in open(pem).read().splitlines():
    if not line.startswith("-----") and len(line) >= 40:
        needles["pem line"] = line.encode()
# The private scalar (EC/SM2 "priv:") or exponent (RSA "privateExponent:"), raw bytes.
t = open(text).read()
m = re.search(r"^(priv|privateExponent):\s*\n((?:\s+[0-9a-f:]+\n)+)", t, re.M)
assert m, "no private value in openssl pkey -text"
raw = bytes.fromhex(re.sub(r"[\s:]", "", m.group(2)))
raw = raw.lstrip(b"\0")
needles["private value"] = raw[:24]
found = []
for root, _, files in os.walk(home):
    for f in files:
        data = open(os.path.join(root, f), "rb").read()
        for name, n in needles.items():
            if n in data:
                found.append("%s in %s" % (name, f))
for x in found:
    print("found", x, file=sys.stderr)
sys.exit(1 if found else 0)
EOF
done

# CSRs: keystore ids (RSA, P-256, SM2) and a key file (P-384).
for t in rsa2048 p256 sm2 p384; do
	if [ "$t" = p384 ]; then key=$T/$t.key; else key=$(json_get "$T/$t.json" "d['id']"); fi
	ok csr new --key "$key" -d a.example.test -d b.example.test --ip 192.0.2.7 --ip 2001:db8::7 --cn a.example.test
	cp "$OUT" "$T/$t.csr"
	expect_eq "$(head -n 1 "$T/$t.csr")" "-----BEGIN CERTIFICATE REQUEST-----" "$t: csr new prints a PEM CSR"
	vfy=""
	[ "$t" = sm2 ] && vfy="-vfyopt distid:$ZOO_DISTID"
	# `openssl req -verify` (3.0) exits 0 even on failure: read its verdict.
	# shellcheck disable=SC2086
	openssl req -in "$T/$t.csr" -noout -verify $vfy >"$T/verify.out" 2>&1 || true
	grep -q 'verify OK' "$T/verify.out" || { cat "$T/verify.out" >&2; fail "$t: openssl req -verify fails on the CSR"; }
	openssl req -in "$T/$t.csr" -noout -text >"$T/$t.csr.txt"
	for s in "DNS:a.example.test" "DNS:b.example.test" "IP Address:192.0.2.7" "IP Address:2001:DB8:0:0:0:0:0:7" "CN = a.example.test"; do
		expect_file_contains "$T/$t.csr.txt" "$s" "$t CSR"
	done
	expect_eq "$(openssl req -in "$T/$t.csr" -noout -pubkey)" "$(openssl pkey -in "$T/$t.key" -pubout)" "$t: CSR public key"
done
expect_file_contains "$T/sm2.csr.txt" "SM2-with-SM3" "SM2 CSR signature algorithm"
# The SM2 signature carries the default user ID, not another one.
openssl req -in "$T/sm2.csr" -noout -verify -vfyopt distid:0000000000000000 >"$T/verify.out" 2>&1 || true
grep -q 'verify failure' "$T/verify.out" || fail "SM2 CSR verifies with a wrong user ID"
ok csr new --key "$T/p256.key" -d out.example.test --out "$T/out.csr"
openssl req -in "$T/out.csr" -noout -verify 2>&1 | grep -q 'verify OK' || fail "csr new --out: not a valid CSR"
expect_exit 2 aclm csr new --key "$T/p256.key" --bogus -d x.example.test
expect_exit "1|2" aclm csr new --key "$T/p256.key" -d x.example.test --ip not-an-ip

# ACLM_MASTER_KEY replaces master.key: the right value works, another one fails cleanly.
p256=$(json_get "$T/p256.json" "d['id']")
ACLM_MASTER_KEY=$(cat "$mk") expect_exit 0 aclm csr new --key "$p256" -d ok.example.test
other=$(head -c 32 /dev/urandom | base64)
ACLM_MASTER_KEY=$other expect_exit 1 aclm csr new --key "$p256" -d x.example.test
[ -s "$ERR" ] || fail "wrong master key: no message"
expect_not_contains "$(out)" "BEGIN" "wrong master key: csr new output"
list_json >/dev/null
leaf=$(id_of_fp "$T/list.json" "$(zoo_fp "$Z" ec-leaf)")
ACLM_MASTER_KEY=$other expect_exit 1 aclm cert export "$leaf" --with-key --out "$T/wrongmk.pem"
[ ! -s "$T/wrongmk.pem" ] || ! grep -q "PRIVATE KEY" "$T/wrongmk.pem" || fail "wrong master key: a key was exported"
ACLM_MASTER_KEY=not-base64 expect_exit "1|2" aclm csr new --key "$p256" -d x.example.test
[ -s "$ERR" ] || fail "malformed ACLM_MASTER_KEY: no message"
# Nothing was damaged: the right key still works.
ok csr new --key "$p256" -d again.example.test
