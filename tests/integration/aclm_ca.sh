# Starts aclm's own ACME CA (`aclm ca serve`) on free loopback ports, for tests that source lib.sh
# first; the CA keeps its own state directory (CA_HOME), apart from the client's ACLM_HOME, as a
# separate installation would. pebble-challtestsrv is its DNS server (every name -> 127.0.0.1;
# TXT and CAA records set through CA_CHALLTESTSRV).
# start_aclm_ca KEY_TYPE...: `ca init --name TestCA` with those key types, then serve. Sets
# CA_DIR (directory URL), CA_ROOTS (the roots, PEM: the --ca-bundle for clients), CA_HTTP_PORT
# and CA_TLS_PORT (where the VA connects for http-01 and tls-alpn-01), CA_DNS, CA_CHALLTESTSRV,
# CA_PID, CA_LOG. CA_SERVE_ARGS adds options to `ca serve`. restart_aclm_ca starts it again
# with the same ports and state.
. "$ACLM_SRC/tests/integration/pebble.sh"

aclm_ca() {
	ACLM_HOME=$CA_HOME "$ACLM_BIN" "$@"
}

start_aclm_ca() {
	CA_HOME=$T/ca-home
	mkdir -p "$CA_HOME"
	ca__types=""
	for ca__t in "$@"; do ca__types="$ca__types --key-type $ca__t"; done
	# shellcheck disable=SC2086 # one word per option
	aclm_ca ca init --name TestCA $ca__types >"$T/ca-init.out" 2>&1 || {
		cat "$T/ca-init.out" >&2
		fail "ca init failed"
	}
	CA_ROOTS=$T/ca-roots.pem
	aclm_ca ca roots >"$CA_ROOTS"
	CA_PORT=$(free_port)
	CA_HTTP_PORT=$(free_port)
	CA_TLS_PORT=$(free_port)
	start_challtestsrv "$T/ca-challtestsrv.log"
	CA_DNS=127.0.0.1:$CTS_DNS_PORT
	CA_CHALLTESTSRV=http://127.0.0.1:$CTS_MGMT_PORT
	CA_DIR=https://127.0.0.1:$CA_PORT/acme/directory
	CA_LOG=$T/ca.log
	restart_aclm_ca
}

restart_aclm_ca() {
	rm -f "$T/ca-ready"
	# shellcheck disable=SC2086 # CA_SERVE_ARGS holds several words
	ACLM_HOME=$CA_HOME "$ACLM_BIN" ca serve --listen "127.0.0.1:$CA_PORT" \
		--http01-port "$CA_HTTP_PORT" --tlsalpn01-port "$CA_TLS_PORT" --dns-server "$CA_DNS" \
		--ready-file "$T/ca-ready" -v ${CA_SERVE_ARGS:-} >>"$CA_LOG" 2>&1 &
	CA_PID=$!
	bg_track $CA_PID
	for _ in $(seq 1 100); do
		[ -s "$T/ca-ready" ] && return 0
		kill -0 "$CA_PID" 2>/dev/null || { cat "$CA_LOG" >&2; fail "ca serve exited"; }
		sleep 0.1
	done
	cat "$CA_LOG" >&2
	fail "ca serve did not become ready"
}

# ca_issue ARGS...: `aclm issue` against the CA, trusting its roots, with the http-01 listener on
# the port its VA connects to.
ca_issue() {
	aclm issue --server "$CA_DIR" --ca-bundle "$CA_ROOTS" --agree-tos \
		--http-listen "127.0.0.1:$CA_HTTP_PORT" "$@"
}

stop_aclm_ca() { # [SIGNAL]
	kill "-${1:-TERM}" "$CA_PID" 2>/dev/null || true
	wait "$CA_PID" 2>/dev/null || true
}

# Checks on what real ACME clients obtained from the CA (test_ca_certbot.sh, test_ca_lego.sh,
# test_ca_uacme.sh).
# ca_serial PEM: the serial of the certificate, lowercase hex without leading zeros.
ca_serial() {
	openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//'
}

# ca_verify LEAF CHAIN FAMILY: LEAF verifies against the CA's roots through CHAIN (intermediates,
# or a full chain with the leaf first) and was signed by the intermediate of FAMILY (P256, RSA3072...).
ca_verify() {
	openssl verify -CAfile "$CA_ROOTS" -untrusted "$2" "$1" >"$T/ca-verify.out" 2>&1 ||
		{ cat "$T/ca-verify.out" >&2; fail "$1 does not verify against the CA's roots"; }
	openssl x509 -in "$1" -noout -issuer | grep -q "TestCA Intermediate $3\$" ||
		fail "$1 is not signed by the $3 intermediate: $(openssl x509 -in "$1" -noout -issuer)"
}

# ca_crl_has LEAF CHAIN REASON: LEAF's serial is in the CRL at LEAF's CRL distribution point
# (fetched over HTTPS, signature checked against CHAIN) and in `aclm ca crl` for that key type,
# both with REASON as openssl prints it ("Key Compromise", "Superseded"...; "-" for no reason).
ca_crl_has() {
	ca__s=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
	ca__url=$(openssl x509 -in "$1" -noout -ext crlDistributionPoints | sed -n 's/^ *URI://p' | head -n 1)
	case $ca__url in https://*/acme/crl/*.crl) ;; *) fail "$1 names no CRL of the CA: '$ca__url'" ;; esac
	curl -sf --cacert "$CA_ROOTS" -o "$T/ca-fetched.crl" "$ca__url" || fail "cannot fetch $ca__url"
	openssl crl -inform DER -in "$T/ca-fetched.crl" -CAfile "$2" -noout 2>&1 | grep -q "verify OK" ||
		fail "the CRL at $ca__url does not verify against the issuer in $2"
	ca__kt=$(basename "$ca__url" .crl)
	aclm_ca ca crl --key-type "$ca__kt" --out "$T/ca-admin.crl" >/dev/null 2>"$T/ca-crl.err" ||
		{ cat "$T/ca-crl.err" >&2; fail "aclm ca crl --key-type $ca__kt"; }
	for ca__c in "-inform DER -in $T/ca-fetched.crl" "-in $T/ca-admin.crl"; do
		# shellcheck disable=SC2086 # two options
		openssl crl $ca__c -noout -text >"$T/ca-crl.txt"
		# the entry: its serial line up to the next entry or the CRL's signature
		awk -v s="Serial Number: $ca__s" '$0 ~ s "$" { f = 1; print; next }
			f && /Serial Number:|Signature Algorithm/ { exit } f { print }' "$T/ca-crl.txt" >"$T/ca-crl.entry"
		[ -s "$T/ca-crl.entry" ] || { cat "$T/ca-crl.txt" >&2; fail "serial $ca__s is not in the CRL ($ca__c)"; }
		if [ "$3" = - ]; then
			! grep -q "Reason Code" "$T/ca-crl.entry" || fail "$ca__s has a reason in the CRL"
		else
			grep -q "^ *$3\$" "$T/ca-crl.entry" ||
				{ cat "$T/ca-crl.entry" >&2; fail "$ca__s: reason '$3' not in the CRL ($ca__c)"; }
		fi
	done
}

# ca_crl_lacks LEAF: LEAF's serial is not in `aclm ca crl` of its key type.
ca_crl_lacks() {
	ca__s=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
	ca__kt=$(openssl x509 -in "$1" -noout -ext crlDistributionPoints | sed -n 's/^ *URI:.*\/\([a-z0-9]*\)\.crl$/\1/p')
	aclm_ca ca crl --key-type "$ca__kt" --out "$T/ca-admin.crl" >/dev/null 2>&1 || fail "aclm ca crl"
	! openssl crl -in "$T/ca-admin.crl" -noout -text | grep -q "Serial Number: $ca__s\$" ||
		fail "$ca__s is in the CRL"
}

# ca_cert_check PEM EXPR WHAT: in `aclm ca certs --format json`, the certificate with PEM's
# serial is listed exactly once and EXPR (Python, c = its entry) holds.
ca_cert_check() {
	aclm_ca ca certs --format json >"$T/ca-certs.json" 2>"$T/ca-certs.err" ||
		{ cat "$T/ca-certs.err" >&2; fail "aclm ca certs"; }
	ca__s=$(ca_serial "$1")
	json_check "$T/ca-certs.json" \
		"(lambda m: len(m) == 1 and (lambda c: $2)(m[0]))([c for c in d if c['serial'].lstrip('0') == '$ca__s'])" \
		"$3"
}
