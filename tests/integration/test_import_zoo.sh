# Proves: every good zoo file imports ("added"), a re-import is idempotent ("present", same rows),
# and the certificate JSON (docs/JSON.md) agrees with openssl for RSA, ECDSA, SM2, SHA-1,
# RSA-1024, PKCS#12 (modern and legacy), encrypted keys, certbot and lego folders, and validity.
. "$ACLM_SRC/tests/integration/lib.sh"

Z=$T/zoo
make_zoo "$Z"
N=$(wc -l <"$Z/manifest")

# import_one STATUS FILE [ARGS...]: one file, JSON output, that file's status must be STATUS.
import_one() {
	st=$1 f=$2
	shift 2
	expect_exit 0 aclm cert import "$f" --format json "$@"
	json_check "$OUT" "len(d) == 1 and d[0]['file'].endswith('$(basename "$f")')" "import $f: one result for the file"
	json_check "$OUT" "d[0]['status'] == '$st' and not d[0].get('error')" "import $f: status $st"
}

# Plain files, one command each: each adds at least one new certificate.
for f in $ZOO_PLAIN; do
	import_one added "$Z/certs/$f"
	if [ "$f" = ec-bundle.pem ]; then
		# Leaf, key and chain in shuffled order: 3 certificates and the leaf's key.
		json_check "$OUT" "d[0]['added'] == 3 and d[0]['keys'] == 1 and len(d[0]['certificates']) == 3" \
			"ec-bundle.pem: 3 certificates and 1 key added"
	fi
done
json_check "$OUT" "d[0]['added'] == 1 and d[0]['certificates'][0]['status'] == 'added'" "soon.der: one certificate added"
# Importing the same file again changes nothing.
import_one present "$Z/certs/ec-bundle.pem"
json_check "$OUT" "len(d[0]['certificates']) == 3 and all(c['status'] == 'present' for c in d[0]['certificates'])" \
	"ec-bundle.pem re-import: 3 certificates present"

# PKCS#12 (modern, then legacy RC2/3DES) and the encrypted key bundle, password from a file.
# Text output: "added FILE (N certificates, K keys)" and the summary on standard error.
expect_exit 0 aclm cert import "$Z/p12/modern.p12" --password-file "$Z/pass.txt"
out | grep -Eq '^added +[^ ]*modern\.p12 \([0-9]+ certificates?, 1 keys?\)$' || { lib__show; fail "p12 modern: text line"; }
expect_contains "$(err)" "imported 1 file" "import summary on stderr"
import_one added "$Z/p12/legacy.p12" --password-file "$Z/pass.txt"
json_check "$OUT" "d[0]['keys'] == 1" "legacy.p12: its key is imported"
import_one added "$Z/enc/encrypted-bundle.pem" --password-file "$Z/pass.txt"
json_check "$OUT" "d[0]['keys'] == 1" "encrypted bundle: its key is imported"

# certbot's live/ (symlinks into archive/, README files) and lego's certificates/ (with its
# .json), as they are: exit 0, the leaf and its key imported.
ok cert import "$Z/certbot/live"
ok cert import "$Z/lego/certificates"

rows=$(list_json)
expect_eq "$rows" "$N" "rows after importing the zoo (manifest has $N certificates)"
cp "$T/list.json" "$T/first.json"
json_check "$T/first.json" "sorted(c['fingerprint_sha256'] for c in d) == sorted(l.split('|')[1] for l in open('$Z/manifest'))" \
	"the inventory holds exactly the zoo's certificates"

# Re-import everything in one command: every file "present", nothing added.
expect_exit 0 aclm cert import --format json --password-file "$Z/pass.txt" \
	"$Z/certs" "$Z/p12" "$Z/enc" "$Z/certbot" "$Z/lego"
json_check "$OUT" "len(d) >= 15 and all(r['status'] == 'present' for r in d if r['file'].endswith(('.pem', '.der', '.p12', '.crt')))" \
	"re-import: every certificate file present"
json_check "$OUT" "not any(r['status'] in ('added', 'failed') for r in d)" "re-import: nothing added, nothing failed"
json_check "$OUT" "sum(r['added'] for r in d) == 0" "re-import: nothing added"
expect_eq "$(list_json)" "$N" "rows after the re-import"
json_check "$T/list.json" "sorted(c['id'] for c in d) == sorted(c['id'] for c in json.load(open('$T/first.json')))" \
	"re-import keeps the same ids"

# A re-import adds --tag and --owner to the existing rows.
expect_exit 0 aclm cert import "$Z/certs/ec-bundle.pem" --tag env=prod --tag team=web --owner "web team" --format json
json_check "$OUT" "d[0]['status'] == 'present'" "re-import with tags: present"
list_json >/dev/null
L=$T/list.json

# --- the ECDSA leaf against openssl ---
c=$Z/work/ec-leaf.crt
fp=$(pem_fp "$c")
ifp=$(pem_fp "$Z/work/ec-int.crt")
rfp=$(pem_fp "$Z/work/ec-root.crt")
serial=$(openssl x509 -in "$c" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
subject=$(openssl x509 -in "$c" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
issuer=$(openssl x509 -in "$c" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
rfc3339() { date -u -d "$(openssl x509 -in "$1" -noout "-$2" | sed 's/^[^=]*=//')" +%Y-%m-%dT%H:%M:%SZ; }
not_after=$(rfc3339 "$c" enddate)
not_before=$(rfc3339 "$c" startdate)
spki=$(openssl x509 -in "$c" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
kid() { openssl x509 -in "$1" -noout -ext "$2" | sed -n '2p' | sed 's/^ *//; s/^keyid://; s/://g' | tr 'A-F' 'a-f'; }
ski=$(kid "$c" subjectKeyIdentifier)
aki=$(kid "$c" authorityKeyIdentifier)
int_ski=$(kid "$Z/work/ec-int.crt" subjectKeyIdentifier)
expect_eq "$aki" "$int_ski" "zoo: leaf AKI = intermediate SKI"

python3 - "$L" "$fp" "$serial" "$subject" "$issuer" "$not_before" "$not_after" "$spki" "$ski" "$aki" "$ifp" <<'EOF' || fail "ECDSA leaf JSON does not match openssl"
import ipaddress, json, sys
lst, fp, serial, subject, issuer, nb, na, spki, ski, aki, ifp = sys.argv[1:]
c = [x for x in json.load(open(lst)) if x["fingerprint_sha256"] == fp][0]
bad = []
def eq(k, got, want):
    if got != want:
        bad.append("%s: got %r, want %r" % (k, got, want))
eq("serial", c["serial"], serial)
eq("subject", c["subject"], subject)
eq("issuer", c["issuer"], issuer)
eq("common_name", c["common_name"], "www.example.test")
eq("not_before", c["not_before"], nb)
eq("not_after", c["not_after"], na)
eq("lifetime_days", c["lifetime_days"], 60)
if c["days_left"] not in (59, 60):
    bad.append("days_left %r not 59 or 60" % c["days_left"])
eq("sans keys", sorted(c["sans"]), ["dns", "email", "ip", "uri"])
eq("sans.dns", sorted(c["sans"]["dns"]), ["api.example.test", "www.example.test"])
try:
    ips = sorted(str(ipaddress.ip_address(x)) for x in c["sans"]["ip"])
except ValueError as e:
    ips = ["unparsable: %s" % e]
eq("sans.ip", ips, ["192.0.2.10", "2001:db8::10"])
eq("sans.email", c["sans"]["email"], [])
eq("sans.uri", c["sans"]["uri"], [])
eq("key", (c["key"]["type"], c["key"]["bits"], c["key"]["curve"]), ("ec", 256, "P-256"))
eq("signature_algorithm", c["signature_algorithm"], "ecdsa-with-SHA256")
eq("is_ca", c["is_ca"], False)
eq("self_signed", c["self_signed"], False)
eq("key_usage", c["key_usage"], ["digitalSignature"])
eq("ext_key_usage", c["ext_key_usage"], ["serverAuth"])
eq("must_staple", c["must_staple"], False)
eq("sct_count", c["sct_count"], 0)
eq("ocsp_urls", c["ocsp_urls"], [])
eq("crl_urls", c["crl_urls"], [])
eq("ski", c["ski"], ski)
eq("aki", c["aki"], aki)
eq("spki_sha256", c["spki_sha256"], spki)
eq("has_private_key", c["has_private_key"], True)
eq("key_id", c["key_id"], "k" + spki[:24])
eq("source", c["source"], "import")
eq("sources", c["sources"], ["import"])
eq("tenant", c["tenant"], "default")
eq("owner", c["owner"], "web team")
eq("tags", c["tags"], {"env": "prod", "team": "web"})
eq("issuer_fingerprint", c["issuer_fingerprint"], ifp)
for k in ("created_at", "updated_at"):
    if not (isinstance(c.get(k), str) and len(c[k]) >= 20 and c[k].endswith("Z")):
        bad.append("%s: %r is not RFC 3339 UTC" % (k, c.get(k)))
for m in bad:
    print("ECDSA leaf:", m, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# show by id returns the same object as list.
id=$(id_of_fp "$L" "$fp")
ok cert show "$id" --format json
json_check "$OUT" "d['fingerprint_sha256'] == '$fp' and d['id'] == '$id'" "cert show $id"

# The CAs of the bundle: no key, CA flags, chain links by fingerprint.
expect_eq "$(cert_field "$L" "$ifp" "c['has_private_key']")" false "ec intermediate has_private_key"
expect_eq "$(cert_field "$L" "$rfp" "c['has_private_key']")" false "ec root has_private_key"
expect_eq "$(cert_field "$L" "$ifp" "c['is_ca'] and not c['self_signed']")" true "ec intermediate is a CA"
expect_eq "$(cert_field "$L" "$rfp" "c['is_ca'] and c['self_signed']")" true "ec root is a self-signed CA"
expect_eq "$(cert_field "$L" "$ifp" "c['issuer_fingerprint']")" "$rfp" "ec intermediate issuer_fingerprint"
expect_eq "$(cert_field "$L" "$ifp" "c['key_usage']")" '["keyCertSign", "cRLSign"]' "ec intermediate key_usage"

# Every manifest certificate: key type and size, signature algorithm, issuer.
python3 - "$L" "$Z/manifest" <<'EOF' || fail "certificates differ from the zoo manifest"
import json, sys
by_fp = {c["fingerprint_sha256"]: c for c in json.load(open(sys.argv[1]))}
bad = []
for line in open(sys.argv[2]):
    name, fp, nb, na, kt, bits, sig, icn, f = line.rstrip("\n").split("|")
    c = by_fp[fp]
    got = (c["key"]["type"], c["key"]["bits"], c["signature_algorithm"], "CN=%s" % icn in c["issuer"])
    want = (kt, int(bits), sig, True)
    if got != want:
        bad.append("%s: (key.type, key.bits, signature_algorithm, issuer CN) = %r, want %r" % (name, got, want))
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# SM2 leaf, SHA-1 and RSA-1024 (also covered above: spelled out because they are the point).
sm2=$(zoo_fp "$Z" sm2-leaf)
expect_eq "$(cert_field "$L" "$sm2" "[c['key']['type'], c['key']['curve'], c['signature_algorithm']]")" \
	'["sm2", "SM2", "SM2-with-SM3"]' "SM2 leaf key and signature"
expect_eq "$(cert_field "$L" "$sm2" "c['issuer_fingerprint']")" "$(zoo_fp "$Z" sm2-int)" "SM2 leaf issuer_fingerprint"
expect_eq "$(cert_field "$L" "$(zoo_fp "$Z" rsa1024)" "c['key']['bits']")" 1024 "RSA-1024 key.bits"
expect_eq "$(cert_field "$L" "$(zoo_fp "$Z" sha1)" "c['signature_algorithm']")" sha1WithRSAEncryption "SHA-1 signature"

# Keys attached from PKCS#12 (both), the encrypted bundle, certbot's privkey.pem and lego's .key;
# never to a certificate whose key was not imported.
for n in p12m p12l enc certbot lego; do
	expect_eq "$(cert_field "$L" "$(zoo_fp "$Z" "$n")" "c['has_private_key'] and c['key_id'] is not None")" true "$n has_private_key"
done
for n in rsa-root rsa-int rsa-leaf ec-root ec-int sm2-leaf sha1 soon; do
	expect_eq "$(cert_field "$L" "$(zoo_fp "$Z" "$n")" "c['has_private_key']")" false "$n has_private_key"
done

# Validity: the expired certificate, the not-yet-valid one.
efp=$(zoo_fp "$Z" expired)
expect_eq "$(cert_field "$L" "$efp" "c['days_left'] < 0 and c['not_after'] == '2021-01-01T00:00:00Z'")" true "expired days_left < 0"
expect_eq "$(cert_field "$L" "$efp" "c['lifetime_days']")" 366 "expired lifetime_days (2020 is a leap year)"
ok cert list --expired --format json
json_check "$OUT" "[c['fingerprint_sha256'] for c in d] == ['$efp']" "cert list --expired is exactly the expired certificate"
nfp=$(zoo_fp "$Z" notyet)
expect_eq "$(cert_field "$L" "$nfp" "c['lifetime_days'] == 100 and c['days_left'] > c['lifetime_days']")" true \
	"not-yet-valid: days_left > lifetime_days"
