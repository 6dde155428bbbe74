# The certificate zoo: every kind of file `aclm cert import` meets, made with the openssl CLI.
# Sourced (POSIX sh); `make_zoo DIR` fills DIR and writes DIR/manifest (one line per distinct
# certificate: name|sha256|not_before_epoch|not_after_epoch|key_type|bits|sig_alg|issuer_cn|file).
#
# Layout (every certificate appears in exactly one file of certs/, p12/, enc/, certbot/, lego/
# except the CA certificates that PKCS#12 files, certbot's chain.pem and lego's issuer.crt repeat):
#   certs/   plain files that import without a password, in the order of $ZOO_PLAIN
#   p12/     modern.p12 (AES) and legacy.p12 (RC2/3DES), password in pass.txt
#   enc/     encrypted-bundle.pem: leaf + PKCS#8 key encrypted with pass.txt
#   certbot/live/example.test/{cert,chain,fullchain,privkey}.pem (symlinks into archive/) + README
#   lego/certificates/example.test.{crt,key,issuer.crt,json}
#   bad/     garbage.bin truncated.pem empty.pem (and big.pem: valid, larger than 2048 bytes)
#   work/    keys, CSRs and CA state used to make the rest (not imported)

ZOO_DISTID=1234567812345678
ZOO_PASS=zoo-secret-pass
# Plain files, in an order where each one adds at least one new certificate.
ZOO_PLAIN="rsa-chain.pem rsa-leaf.pem ec-bundle.pem sm2-chain.pem expired.pem notyet.pem sha1.pem rsa1024.pem soon.der"

zoo__die() {
	echo "zoo: $*" >&2
	exit 1
}

# zoo__cnf WORK: one config for req, x509 -extfile and ca; SANs come from $ZOO_SAN.
zoo__cnf() {
	cat >"$1/zoo.cnf" <<EOF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_int ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = \$ENV::ZOO_SAN
[ ca ]
default_ca = zoo_ca
[ zoo_ca ]
dir = $1/ca
database = $1/ca/index.txt
new_certs_dir = $1/ca/new
serial = $1/ca/serial
certificate = $1/rsa-int.crt
private_key = $1/rsa-int.key
default_md = sha256
policy = zoo_policy
unique_subject = no
email_in_dn = no
copy_extensions = none
x509_extensions = v3_leaf
[ zoo_policy ]
commonName = supplied
EOF
}

# zoo__key WORK NAME TYPE: rsa2048 | rsa1024 | p256 | sm2
zoo__key() {
	case $3 in
	rsa2048) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1/$2.key" ;;
	rsa1024) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$1/$2.key" ;;
	p256) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1/$2.key" ;;
	sm2) openssl genpkey -quiet -algorithm SM2 -out "$1/$2.key" ;;
	*) zoo__die "unknown key type $3" ;;
	esac || zoo__die "key $2"
}

zoo__serial() {
	echo "0x$(openssl rand -hex 8)"
}

# zoo__root WORK NAME CN DAYS [sm2]: a self-signed CA certificate.
zoo__root() {
	w=$1 n=$2 cn=$3 days=$4 sm2opt=""
	[ "${5:-}" = sm2 ] && sm2opt="-sm3 -sigopt distid:$ZOO_DISTID"
	# shellcheck disable=SC2086 # word splitting of the option list is intended
	ZOO_SAN=DNS:unused openssl req -x509 -new -config "$w/zoo.cnf" -key "$w/$n.key" -subj "/O=Zoo/CN=$cn" \
		-days "$days" -extensions v3_ca -set_serial "$(zoo__serial)" $sm2opt -out "$w/$n.crt" ||
		zoo__die "root $n"
}

# zoo__issue WORK NAME CN DAYS ISSUER EXT SAN [openssl x509 options...]
# Signs NAME.key's CSR with ISSUER.crt/ISSUER.key. SM2 keys sign with SM3 and the default ID.
zoo__issue() {
	w=$1 n=$2 cn=$3 days=$4 iss=$5 ext=$6 san=$7
	shift 7
	reqopt="" x509opt=""
	if openssl pkey -in "$w/$n.key" -noout -text 2>/dev/null | grep -q 'ASN1 OID: SM2'; then
		reqopt="-sm3 -sigopt distid:$ZOO_DISTID"
		x509opt="-vfyopt distid:$ZOO_DISTID"
	fi
	if openssl pkey -in "$w/$iss.key" -noout -text 2>/dev/null | grep -q 'ASN1 OID: SM2'; then
		x509opt="$x509opt -sm3 -sigopt distid:$ZOO_DISTID"
	fi
	# shellcheck disable=SC2086 # word splitting of the option lists is intended
	openssl req -new -config "$w/zoo.cnf" -key "$w/$n.key" -subj "/CN=$cn" $reqopt -out "$w/$n.csr" ||
		zoo__die "csr $n"
	# shellcheck disable=SC2086
	ZOO_SAN=$san openssl x509 -req -in "$w/$n.csr" -CA "$w/$iss.crt" -CAkey "$w/$iss.key" \
		-set_serial "$(zoo__serial)" -days "$days" -extfile "$w/zoo.cnf" -extensions "$ext" \
		$x509opt "$@" -out "$w/$n.crt" 2>"$w/$n.err" || { cat "$w/$n.err" >&2; zoo__die "issue $n"; }
}

# zoo__ca_issue WORK NAME CN SAN STARTDATE ENDDATE: `openssl ca` for explicit validity windows
# (openssl x509 in 3.0 has no -not_before).
zoo__ca_issue() {
	w=$1 n=$2
	openssl req -new -config "$w/zoo.cnf" -key "$w/$n.key" -subj "/CN=$3" -out "$w/$n.csr" || zoo__die "csr $n"
	ZOO_SAN=$4 openssl ca -batch -notext -config "$w/zoo.cnf" -startdate "$5" -enddate "$6" \
		-in "$w/$n.csr" -out "$w/$n.crt" 2>"$w/$n.err" || { cat "$w/$n.err" >&2; zoo__die "ca $n"; }
}

zoo__date() { # zoo__date OFFSET -> YYYYMMDDHHMMSSZ, UTC
	date -u -d "$1" +%Y%m%d%H%M%SZ
}

# zoo__verify WORK CERT ISSUER [sm2]: each link on its own (TESTBED.md: SM2 chains link by link).
zoo__verify() {
	if [ "${4:-}" = sm2 ]; then
		openssl verify -no_check_time -partial_chain -CAfile "$1/$3.crt" -vfyopt "distid:$ZOO_DISTID" "$1/$2.crt" >/dev/null
	else
		openssl verify -no_check_time -partial_chain -CAfile "$1/$3.crt" "$1/$2.crt" >/dev/null
	fi || zoo__die "$2 does not verify against $3"
}

# zoo__manifest WORK NAME KEYTYPE BITS FILE: append one line for WORK/NAME.crt
zoo__manifest() {
	c=$1/$2.crt
	fp=$(openssl x509 -in "$c" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
	nb=$(date -u -d "$(openssl x509 -in "$c" -noout -startdate | sed 's/.*=//')" +%s)
	na=$(date -u -d "$(openssl x509 -in "$c" -noout -enddate | sed 's/.*=//')" +%s)
	sig=$(openssl x509 -in "$c" -noout -text | sed -n 's/^ *Signature Algorithm: *//p' | head -n 1)
	icn=$(openssl x509 -in "$c" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//; s/^CN=//; s/,.*//')
	echo "$2|$fp|$nb|$na|$3|$4|$sig|$icn|$5" >>"$ZOO_DIR/manifest"
}

# make_zoo DIR
make_zoo() {
	ZOO_DIR=$1
	w=$ZOO_DIR/work
	# zoo.cnf reads the SAN from the environment: every openssl run needs it set.
	ZOO_SAN=DNS:unused
	export ZOO_SAN
	mkdir -p "$w/ca/new" "$ZOO_DIR/certs" "$ZOO_DIR/p12" "$ZOO_DIR/enc" "$ZOO_DIR/bad" \
		"$ZOO_DIR/certbot/live/example.test" "$ZOO_DIR/lego/certificates" || zoo__die mkdir
	: >"$w/ca/index.txt"
	echo 1000 >"$w/ca/serial"
	: >"$ZOO_DIR/manifest"
	zoo__cnf "$w"
	printf '%s\n' "$ZOO_PASS" >"$ZOO_DIR/pass.txt"
	printf '%s\n' "not-the-password" >"$ZOO_DIR/wrong.txt"

	# Keys. Leaf keys that are never imported are shared (rsa-misc), to keep generation fast.
	for k in rsa-root rsa-int rsa-leaf rsa-misc certbot; do zoo__key "$w" "$k" rsa2048 & done
	zoo__key "$w" rsa1024 rsa1024
	for k in ec-root ec-int ec-leaf lego p12m p12l enc; do zoo__key "$w" "$k" p256; done
	for k in sm2-root sm2-int sm2-leaf; do zoo__key "$w" "$k" sm2; done
	wait
	for k in rsa-root rsa-int rsa-leaf rsa-misc certbot; do
		[ -s "$w/$k.key" ] || zoo__die "key $k"
	done

	# RSA 2048: root -> intermediate -> leaf (20 days: in the <30 d window).
	zoo__root "$w" rsa-root "Zoo RSA Root CA" 3650
	zoo__issue "$w" rsa-int "Zoo RSA Intermediate CA" 1825 rsa-root v3_int DNS:unused
	zoo__issue "$w" rsa-leaf rsa.example.test 20 rsa-int v3_leaf "DNS:rsa.example.test"
	zoo__verify "$w" rsa-int rsa-root
	zoo__verify "$w" rsa-leaf rsa-int

	# ECDSA P-256: root -> intermediate -> leaf (60 days: <90 d) with DNS and IP SANs.
	zoo__root "$w" ec-root "Zoo EC Root CA" 3650
	zoo__issue "$w" ec-int "Zoo EC Intermediate CA" 1825 ec-root v3_int DNS:unused
	zoo__issue "$w" ec-leaf www.example.test 60 ec-int v3_leaf \
		"DNS:www.example.test,DNS:api.example.test,IP:192.0.2.10,IP:2001:db8::10"
	zoo__verify "$w" ec-int ec-root
	zoo__verify "$w" ec-leaf ec-int

	# SM2: three levels, SM3 signatures with the default user ID.
	zoo__root "$w" sm2-root "Zoo SM2 Root CA" 3650 sm2
	zoo__issue "$w" sm2-int "Zoo SM2 Intermediate CA" 1825 sm2-root v3_int DNS:unused
	zoo__issue "$w" sm2-leaf sm2.example.test 365 sm2-int v3_leaf "DNS:sm2.example.test"
	zoo__verify "$w" sm2-int sm2-root sm2
	zoo__verify "$w" sm2-leaf sm2-int sm2
	zoo__verify "$w" sm2-root sm2-root sm2

	# Validity edge cases, issued by the RSA intermediate through `openssl ca`.
	cp "$w/rsa-misc.key" "$w/expired.key"
	cp "$w/rsa-misc.key" "$w/notyet.key"
	zoo__ca_issue "$w" expired expired.example.test DNS:expired.example.test 20200101000000Z 20210101000000Z
	zoo__ca_issue "$w" notyet notyet.example.test DNS:notyet.example.test \
		"$(zoo__date '+400 days')" "$(zoo__date '+500 days')"

	# SHA-1 signature (200 days), RSA-1024 key (300 days), a DER leaf expiring in 3 days (<7 d).
	cp "$w/rsa-misc.key" "$w/sha1.key"
	zoo__issue "$w" sha1 sha1.example.test 200 rsa-int v3_leaf DNS:sha1.example.test -sha1
	openssl x509 -in "$w/sha1.crt" -noout -text | grep -q 'Signature Algorithm: sha1WithRSAEncryption' ||
		zoo__die "sha1 certificate is not sha1WithRSAEncryption"
	zoo__issue "$w" rsa1024 rsa1024.example.test 300 rsa-int v3_leaf DNS:rsa1024.example.test
	cp "$w/rsa-misc.key" "$w/soon.key"
	zoo__issue "$w" soon soon.example.test 3 rsa-int v3_leaf DNS:soon.example.test

	# certbot (RSA, 85 days), lego (P-256, 45 days), PKCS#12 and encrypted-key leaves (later).
	zoo__issue "$w" certbot example.test 85 rsa-int v3_leaf DNS:example.test
	zoo__issue "$w" lego example.test 45 ec-int v3_leaf DNS:example.test,DNS:lego.example.test
	zoo__issue "$w" p12m p12-modern.example.test 120 ec-int v3_leaf DNS:p12-modern.example.test
	zoo__issue "$w" p12l p12-legacy.example.test 150 ec-int v3_leaf DNS:p12-legacy.example.test
	zoo__issue "$w" enc enc.example.test 200 ec-int v3_leaf DNS:enc.example.test
	for n in expired notyet sha1 rsa1024 soon certbot; do zoo__verify "$w" "$n" rsa-int; done
	for n in lego p12m p12l enc; do zoo__verify "$w" "$n" ec-int; done

	# Plain files.
	c=$ZOO_DIR/certs
	cat "$w/rsa-root.crt" "$w/rsa-int.crt" >"$c/rsa-chain.pem"
	cp "$w/rsa-leaf.crt" "$c/rsa-leaf.pem"
	# Leaf, key and chain shuffled: intermediate, key, root, leaf.
	cat "$w/ec-int.crt" "$w/ec-leaf.key" "$w/ec-root.crt" "$w/ec-leaf.crt" >"$c/ec-bundle.pem"
	cat "$w/sm2-leaf.crt" "$w/sm2-int.crt" "$w/sm2-root.crt" >"$c/sm2-chain.pem"
	for n in expired notyet sha1 rsa1024; do cp "$w/$n.crt" "$c/$n.pem"; done
	openssl x509 -in "$w/soon.crt" -outform DER -out "$c/soon.der" || zoo__die der

	# PKCS#12: modern (PBES2/AES-256, the 3.0 default) and legacy (RC2/3DES).
	cat "$w/ec-int.crt" "$w/ec-root.crt" >"$w/ec-cachain.pem"
	openssl pkcs12 -export -in "$w/p12m.crt" -inkey "$w/p12m.key" -certfile "$w/ec-cachain.pem" \
		-passout "file:$ZOO_DIR/pass.txt" -out "$ZOO_DIR/p12/modern.p12" || zoo__die p12 modern
	openssl pkcs12 -export -legacy -in "$w/p12l.crt" -inkey "$w/p12l.key" -certfile "$w/ec-cachain.pem" \
		-passout "file:$ZOO_DIR/pass.txt" -out "$ZOO_DIR/p12/legacy.p12" || zoo__die p12 legacy
	openssl pkcs12 -in "$ZOO_DIR/p12/modern.p12" -info -noout -passin "file:$ZOO_DIR/pass.txt" 2>&1 |
		grep -q 'PBES2' || zoo__die "modern.p12 is not PBES2"
	openssl pkcs12 -in "$ZOO_DIR/p12/legacy.p12" -info -noout -passin "file:$ZOO_DIR/pass.txt" 2>&1 |
		grep -q 'pbeWithSHA1And40BitRC2-CBC\|pbeWithSHA1And3-KeyTripleDES-CBC' ||
		zoo__die "legacy.p12 is not RC2/3DES"
	openssl pkcs12 -in "$ZOO_DIR/p12/legacy.p12" -noout -passin "file:$ZOO_DIR/pass.txt" 2>/dev/null &&
		zoo__die "legacy.p12 opened without the legacy provider"

	# Encrypted PKCS#8 key with its certificate.
	openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$w/enc.key" -passout "file:$ZOO_DIR/pass.txt" \
		-out "$w/enc-encrypted.key" || zoo__die pkcs8
	cat "$w/enc.crt" "$w/enc-encrypted.key" >"$ZOO_DIR/enc/encrypted-bundle.pem"

	# certbot's layout: live/NAME/*.pem are relative symlinks into archive/NAME/*1.pem, and
	# certbot writes a README next to them.
	a=$ZOO_DIR/certbot/archive/example.test
	l=$ZOO_DIR/certbot/live/example.test
	mkdir -p "$a"
	cp "$w/certbot.crt" "$a/cert1.pem"
	cp "$w/rsa-int.crt" "$a/chain1.pem"
	cat "$w/certbot.crt" "$w/rsa-int.crt" >"$a/fullchain1.pem"
	cp "$w/certbot.key" "$a/privkey1.pem"
	chmod 600 "$a/privkey1.pem"
	for f in cert chain fullchain privkey; do
		ln -s "../../archive/example.test/${f}1.pem" "$l/$f.pem"
	done
	printf 'This directory contains your keys and certificates.\n' >"$l/README"
	printf 'This directory contains your keys and certificates.\n' >"$ZOO_DIR/certbot/live/README"
	# lego's layout: NAME.crt (leaf + issuer), NAME.issuer.crt, NAME.key and NAME.json.
	g=$ZOO_DIR/lego/certificates
	cat "$w/lego.crt" "$w/ec-int.crt" >"$g/example.test.crt"
	cp "$w/lego.key" "$g/example.test.key"
	cp "$w/ec-int.crt" "$g/example.test.issuer.crt"
	printf '{\n\t"domain": "example.test",\n\t"certUrl": "https://127.0.0.1:14000/certZ/1",\n\t"certStableUrl": "https://127.0.0.1:14000/certZ/1"\n}\n' \
		>"$g/example.test.json"

	# Bad input.
	b=$ZOO_DIR/bad
	head -c 4096 /dev/urandom >"$b/garbage.bin"
	# Cut in the middle of the base64: the BEGIN line and half of the body, no END line.
	len=$(wc -c <"$w/rsa-leaf.crt")
	head -c $((len / 2)) "$w/rsa-leaf.crt" >"$b/truncated.pem"
	: >"$b/empty.pem"
	# Valid but larger than 3000 bytes (fails only under ACLM_IMPORT_MAX_FILE_BYTES=2048):
	# a new certificate and the RSA chain.
	cp "$w/rsa-misc.key" "$w/big.key"
	zoo__issue "$w" big big.example.test 250 rsa-int v3_leaf DNS:big.example.test
	cat "$w/big.crt" "$w/rsa-int.crt" "$w/rsa-root.crt" >"$b/big.pem"
	[ "$(wc -c <"$b/big.pem")" -gt 3000 ] || zoo__die "big.pem is too small"
	chmod 600 "$g/example.test.key"

	# The manifest: every distinct certificate the good files hold (big is bad input, left out).
	zoo__manifest "$w" rsa-root rsa 2048 certs/rsa-chain.pem
	zoo__manifest "$w" rsa-int rsa 2048 certs/rsa-chain.pem
	zoo__manifest "$w" rsa-leaf rsa 2048 certs/rsa-leaf.pem
	zoo__manifest "$w" ec-root ec 256 certs/ec-bundle.pem
	zoo__manifest "$w" ec-int ec 256 certs/ec-bundle.pem
	zoo__manifest "$w" ec-leaf ec 256 certs/ec-bundle.pem
	zoo__manifest "$w" sm2-root sm2 256 certs/sm2-chain.pem
	zoo__manifest "$w" sm2-int sm2 256 certs/sm2-chain.pem
	zoo__manifest "$w" sm2-leaf sm2 256 certs/sm2-chain.pem
	zoo__manifest "$w" expired rsa 2048 certs/expired.pem
	zoo__manifest "$w" notyet rsa 2048 certs/notyet.pem
	zoo__manifest "$w" sha1 rsa 2048 certs/sha1.pem
	zoo__manifest "$w" rsa1024 rsa 1024 certs/rsa1024.pem
	zoo__manifest "$w" soon rsa 2048 certs/soon.der
	zoo__manifest "$w" p12m ec 256 p12/modern.p12
	zoo__manifest "$w" p12l ec 256 p12/legacy.p12
	zoo__manifest "$w" enc ec 256 enc/encrypted-bundle.pem
	zoo__manifest "$w" certbot rsa 2048 certbot
	zoo__manifest "$w" lego ec 256 lego
}

# zoo_fp DIR NAME: the SHA-256 fingerprint (lowercase hex) of a zoo certificate.
zoo_fp() {
	awk -F'|' -v n="$2" '$1 == n { print $2 }' "$1/manifest"
}

# make_many DIR N: N distinct certificates, one PEM file each (one `openssl ca` run).
make_many() {
	md=$1 mn=$2
	mkdir -p "$md/work/ca/new" "$md/many" || zoo__die mkdir
	mw=$md/work
	ZOO_SAN=DNS:unused
	export ZOO_SAN
	[ -f "$mw/zoo.cnf" ] || zoo__die "make_zoo first"
	[ -f "$mw/many.key" ] || zoo__key "$mw" many p256
	openssl req -new -config "$mw/zoo.cnf" -key "$mw/many.key" -subj "/CN=many.example.test" \
		-out "$mw/many.csr" || zoo__die "csr many"
	# The same request signed mn times: distinct serials, distinct certificates.
	zoo__i=0
	set --
	while [ "$zoo__i" -lt "$mn" ]; do
		set -- "$@" "$mw/many.csr"
		zoo__i=$((zoo__i + 1))
	done
	ZOO_SAN=DNS:many.example.test openssl ca -batch -notext -config "$mw/zoo.cnf" -days 100 \
		-outdir "$md/many" -out /dev/null -infiles "$@" 2>"$mw/many.err" ||
		{ cat "$mw/many.err" >&2; zoo__die "ca many"; }
}
