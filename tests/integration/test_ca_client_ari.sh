# aclm's client against aclm's own CA: profiles (a shortlived certificate lasts 160 h, is tagged
# acme.profile and renews as shortlived; an unknown profile is refused before any order, naming
# the offered ones; batch lines with profile=), the TLCP pair (--key-type sm2 --tlcp: signing and
# encryption certificates with separate keys and the right key usages, both verified, both
# renewed), and ARI (renew's reason names the CA's window and keeps the time chosen in it; a
# revoked certificate is renewed because its window moved into the past, and the CA recorded the
# new order as replacing it; alreadyReplaced leads to one retry without "replaces").
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/aclm_ca.sh"

start_aclm_ca p256 sm2
issue() { ca_issue "$@"; }
live=$ACLM_HOME/live

# lifetime_h FILE: notAfter - notBefore of the certificate, in hours.
lifetime_h() {
	lt__nb=$(date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s)
	lt__na=$(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s)
	echo $(((lt__na - lt__nb) / 3600))
}
# tag_of FILE TAG: the inventory tag of the certificate in FILE ("null" when absent).
tag_of() {
	list_json >/dev/null
	cert_field "$T/list.json" "$(pem_fp "$1")" "c['tags'].get('$2')"
}
# serial_of FILE: the serial as the CA stores it (lowercase hex).
serial_of() {
	openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'
}
# ca_sql QUERY ARGS...: the first column of the first row from the CA's database, or "none".
ca_sql() {
	python3 - "$CA_HOME/aclm.db" "$@" <<'EOF'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(sys.argv[2], sys.argv[3:]).fetchone()
print("none" if row is None or row[0] is None else row[0])
EOF
}
# ari_id_of FILE: the RFC 9773 §4.1 identifier, computed here independently of aclm.
ari_id_of() {
	python3 - "$1" <<'EOF'
import base64, re, subprocess, sys
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
txt = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-noout", "-text"], check=True,
                     capture_output=True, text=True).stdout
aki = re.search(r"Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)", txt).group(1)
serial = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-noout", "-serial"], check=True,
                        capture_output=True, text=True).stdout.strip().split("=")[1]
s = bytes.fromhex(serial if len(serial) % 2 == 0 else "0" + serial)
if s[0] & 0x80:
    s = b"\0" + s  # the DER INTEGER's contents keep it positive
print(b64(bytes.fromhex(aki.replace(":", ""))) + "." + b64(s))
EOF
}

note "--profile shortlived: a 160-hour certificate, tagged acme.profile, renewed as shortlived"
expect_exit 0 issue -d short.example.test --profile shortlived
expect_eq "$(lifetime_h "$live/short.example.test/cert.pem")" 160 "shortlived lifetime (hours)"
expect_eq "$(tag_of "$live/short.example.test/cert.pem" acme.profile)" shortlived "acme.profile tag"
expect_exit 0 issue -d classic.example.test
expect_eq "$(lifetime_h "$live/classic.example.test/cert.pem")" 2160 "classic (default) lifetime"
expect_eq "$(tag_of "$live/classic.example.test/cert.pem" acme.profile)" null "no profile, no tag"
first=$(pem_fp "$live/short.example.test/cert.pem")
ok renew --force short.example.test
expect_ne "$(pem_fp "$live/short.example.test/cert.pem")" "$first" "renewed certificate"
expect_eq "$(lifetime_h "$live/short.example.test/cert.pem")" 160 "renewed with the stored profile"

note "an unknown profile is refused before any order, naming the offered ones"
orders_before=$(ca_sql "select count(*) from ca_orders")
expect_exit 1 issue -d gold.example.test --profile gold
expect_contains "$(err)" "profile \"gold\" is not offered by $CA_DIR"
expect_contains "$(err)" "(offered: classic, shortlived, sm2-enc, tlsserver)"
expect_eq "$(ca_sql "select count(*) from ca_orders")" "$orders_before" "orders at the CA"
ok renew --dry-run
expect_not_contains "$(out)" "gold.example.test" "lineages"

note "batch lines with profile=, --profile as the default of the others"
printf 'b1.example.test profile=shortlived\nb2.example.test\n' >"$T/batch"
expect_exit 0 issue --batch "$T/batch" --profile tlsserver
expect_eq "$(lifetime_h "$live/b1.example.test/cert.pem")" 160 "profile= of the line"
expect_eq "$(lifetime_h "$live/b2.example.test/cert.pem")" 1080 "batch default --profile tlsserver"
printf 'b3.example.test\nb4.example.test profile=gold\n' >"$T/batch-bad"
expect_exit 1 issue --batch "$T/batch-bad"
expect_contains "$(err)" "b4.example.test: profile \"gold\" is not offered"
[ ! -e "$live/b3.example.test" ] || fail "a batch with an unknown profile ordered b3 anyway"

note "--tlcp: SM2 signing and encryption certificates with separate keys, both verified"
expect_exit 2 issue -d t.example.test --tlcp
expect_contains "$(err)" "--key-type must include sm2"
expect_exit 0 issue -d tlcp.example.test --key-type sm2 --tlcp
expect_contains "$(out)" "TLCP encryption certificate"
d=$live/tlcp.example.test
for f in cert.pem chain.pem fullchain.pem privkey.pem enc-cert.pem enc-privkey.pem; do
	[ -s "$d/$f" ] || fail "no $f in the TLCP lineage"
done
expect_eq "$(mode_of "$d/enc-privkey.pem")" 600 "enc-privkey.pem mode"
expect_eq "$(mode_of "$d/privkey.pem")" 600 "privkey.pem mode"
openssl x509 -in "$d/enc-cert.pem" -noout -ext keyUsage >"$T/enc-ku"
expect_file_contains "$T/enc-ku" "Key Encipherment" "encryption certificate key usage"
expect_file_contains "$T/enc-ku" "Data Encipherment" "encryption certificate key usage"
expect_file_contains "$T/enc-ku" "Key Agreement" "encryption certificate key usage"
grep -q "Digital Signature" "$T/enc-ku" && fail "the encryption certificate may sign"
openssl x509 -in "$d/cert.pem" -noout -ext keyUsage >"$T/sign-ku"
expect_file_contains "$T/sign-ku" "Digital Signature" "signing certificate key usage"
grep -q "Key Encipherment" "$T/sign-ku" && fail "the signing certificate may encipher keys"
openssl x509 -in "$d/enc-cert.pem" -noout -text | grep -q "SM2-with-SM3" || fail "enc not SM2-signed"
openssl x509 -in "$d/enc-cert.pem" -noout -ext subjectAltName | grep -q "DNS:tlcp.example.test" ||
	fail "the encryption certificate lacks the name"
for c in cert enc-cert; do
	openssl verify -partial_chain -vfyopt distid:1234567812345678 -CAfile "$d/chain.pem" \
		"$d/$c.pem" >/dev/null 2>&1 || fail "$c.pem does not verify against chain.pem"
done
sign_pub=$(openssl pkey -in "$d/privkey.pem" -pubout)
enc_pub=$(openssl pkey -in "$d/enc-privkey.pem" -pubout)
expect_ne "$enc_pub" "$sign_pub" "encryption key"
expect_eq "$(openssl x509 -in "$d/enc-cert.pem" -noout -pubkey)" "$enc_pub" "enc-privkey.pem matches"
expect_eq "$(openssl x509 -in "$d/cert.pem" -noout -pubkey)" "$sign_pub" "privkey.pem matches"
expect_eq "$(tag_of "$d/cert.pem" acme.tlcp)" sign "signing certificate tag"
expect_eq "$(tag_of "$d/enc-cert.pem" acme.tlcp)" enc "encryption certificate tag"
expect_eq "$(tag_of "$d/enc-cert.pem" acme.profile)" sm2-enc "encryption certificate profile tag"
enc_fp=$(pem_fp "$d/enc-cert.pem")
sign_fp=$(pem_fp "$d/cert.pem")
ok renew --force tlcp.example.test
expect_contains "$(out)" "renewed  tlcp.example.test: TLCP encryption certificate"
expect_ne "$(pem_fp "$d/enc-cert.pem")" "$enc_fp" "renewed encryption certificate"
expect_ne "$(pem_fp "$d/cert.pem")" "$sign_fp" "renewed signing certificate"
expect_eq "$(openssl x509 -in "$d/enc-cert.pem" -noout -pubkey)" "$(openssl pkey -in "$d/enc-privkey.pem" -pubout)" \
	"renewed enc-privkey.pem matches"

note "--tlcp in a batch file (tlcp=yes); issuing without it removes the old pair's enc-*.pem"
printf 'tlcpb.example.test key-type=sm2 tlcp=yes\n# no pair here:\nplain.example.test key-type=sm2\n' \
	>"$T/tlcp.batch"
expect_exit 0 issue --batch "$T/tlcp.batch"
[ -s "$live/tlcpb.example.test/enc-cert.pem" ] || fail "batch tlcp=yes: no enc-cert.pem"
expect_eq "$(tag_of "$live/tlcpb.example.test/enc-cert.pem" acme.profile)" sm2-enc "batch enc profile"
[ ! -e "$live/plain.example.test/enc-cert.pem" ] || fail "a line without tlcp= got a TLCP pair"
expect_exit 2 issue --batch "$T/tlcp.batch" --tlcp
expect_contains "$(err)" "write tlcp=yes on the lines"
expect_exit 0 issue -d tlcp.example.test --key-type sm2
[ ! -e "$d/enc-cert.pem" ] && [ ! -e "$d/enc-privkey.pem" ] ||
	fail "issuing without --tlcp left the earlier pair's enc-*.pem"

note "ARI: a fresh certificate is not due, by the CA's window; the chosen time is kept"
expect_exit 0 issue -d ari.example.test
a=$live/ari.example.test
ok renew ari.example.test
line=$(grep "ari.example.test" "$OUT")
expect_contains "$line" "skip     ari.example.test: not due until"
expect_contains "$line" "(ARI window "
ok renew ari.example.test
expect_eq "$(grep "ari.example.test" "$OUT")" "$line" "second run (Retry-After not over)"
# asking again (next_check over) gets the same window: the time chosen in it stays
python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute("update lineages set next_check = 0"); d.commit()' \
	"$(db_path)"
ok renew ari.example.test
expect_eq "$(grep "ari.example.test" "$OUT")" "$line" "after asking the CA again"

note "ARI: revoked, the window moves into the past; renew replaces it, naming it in \"replaces\""
old_ari=$(ari_id_of "$a/cert.pem")
old_serial=$(serial_of "$a/cert.pem")
ok revoke "$a/cert.pem"
ok renew ari.example.test
expect_contains "$(out)" "renew    ari.example.test: due since"
expect_contains "$(out)" "has passed"
expect_contains "$(out)" "renewed  ari.example.test: certificate"
expect_contains "$(out)" ", replaces $old_ari"
new_order=$(ca_sql "select order_id from ca_issued where serial = ?" "$(serial_of "$a/cert.pem")")
expect_ne "$new_order" none "the new certificate's order"
expect_eq "$(ca_sql "select replaced_by from ca_issued where serial = ?" "$old_serial")" "$new_order" \
	"the CA's record of what replaced the revoked certificate"
ok renew ari.example.test
expect_contains "$(out)" "skip     ari.example.test: not due until"

note "alreadyReplaced: an order that named the certificate and failed; the next goes without"
cur=$(serial_of "$a/cert.pem")
expect_exit 1 aclm issue --server "$CA_DIR" --ca-bundle "$CA_ROOTS" -d ari.example.test \
	--http-listen "127.0.0.1:$(free_port)"
failed_order=$(ca_sql "select replaced_by from ca_issued where serial = ?" "$cur")
expect_ne "$failed_order" none "the failed order replaced the certificate at the CA"
expect_exit 0 issue -d ari.example.test --format json
expect_contains "$(err)" "already replaced"
expect_contains "$(err)" "ordering again without \"replaces\""
json_check "$OUT" "'replaces' not in d" "the order that succeeded named nothing"
expect_ne "$(serial_of "$a/cert.pem")" "$cur" "new certificate"
expect_eq "$(ca_sql "select replaced_by from ca_issued where serial = ?" "$cur")" "$failed_order" \
	"the CA's record"
