# aclm scan against nginx serving a zoo made by this test: a valid chain from a test CA, an expired
# leaf, a self-signed leaf, a leaf for another name, RSA-1024 signed with SHA-1, an incomplete
# chain and a TLS 1.2-only server, each on its own loopback port; plus a closed port. One scan run
# sees them all; the JSON of each endpoint carries the chain, versions, PQ groups and findings.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh" # start_challtestsrv: a DNS server for --dns-server

command -v nginx >/dev/null || fail "nginx is not installed"

# ports N: N distinct free TCP ports on 127.0.0.1, one per line (free_port of pebble.sh: below
# the kernel's ephemeral range, which outgoing connections of parallel tests draw from).
ports() {
	ports__seen=" "
	ports__n=0
	while [ "$ports__n" -lt "$1" ]; do
		ports__p=$(free_port)
		case $ports__seen in *" $ports__p "*) continue ;; esac
		ports__seen="$ports__seen$ports__p "
		ports__n=$((ports__n + 1))
		echo "$ports__p"
	done
}

note "the zoo: root -> intermediate -> leaves, and the odd ones"
w=$T/zoo
ZOO_SAN=DNS:unused
export ZOO_SAN
mkdir -p "$w/ca/new"
: >"$w/ca/index.txt"
echo 1000 >"$w/ca/serial"
zoo__cnf "$w"
zoo__key "$w" rsa-root rsa2048
zoo__key "$w" rsa-int rsa2048
zoo__key "$w" leaf rsa2048
zoo__key "$w" weak rsa1024
# Root and intermediate valid since 2019, so that the expired leaf (2020) chains to them while it
# was valid: the scan judges trust apart from time. `openssl ca` sets explicit validity windows.
sed "s|/rsa-int\.|/rsa-root.|g" "$w/zoo.cnf" >"$w/root.cnf"
openssl req -new -config "$w/zoo.cnf" -key "$w/rsa-root.key" -subj "/O=Zoo/CN=Scan Test Root" -out "$w/root.csr" &&
	openssl ca -batch -notext -selfsign -config "$w/root.cnf" -extensions v3_ca -startdate 20190101000000Z \
		-enddate "$(zoo__date '+10 years')" -in "$w/root.csr" -out "$w/rsa-root.crt" 2>"$w/root.err" &&
	openssl req -new -config "$w/zoo.cnf" -key "$w/rsa-int.key" -subj "/O=Zoo/CN=Scan Test Intermediate" -out "$w/int.csr" &&
	openssl ca -batch -notext -config "$w/root.cnf" -extensions v3_int -startdate 20190101000000Z \
		-enddate "$(zoo__date '+5 years')" -in "$w/int.csr" -out "$w/rsa-int.crt" 2>>"$w/root.err" ||
	{ cat "$w/root.err" >&2; fail "test CA"; }
openssl verify -CAfile "$w/rsa-root.crt" "$w/rsa-int.crt" >/dev/null || fail "intermediate does not verify"
for n in valid incomplete tls12 wrong expired; do cp "$w/leaf.key" "$w/$n.key"; done
zoo__issue "$w" valid valid.test 90 rsa-int v3_leaf DNS:valid.test
zoo__issue "$w" incomplete valid.test 90 rsa-int v3_leaf DNS:valid.test
zoo__issue "$w" tls12 valid.test 90 rsa-int v3_leaf DNS:valid.test
zoo__issue "$w" wrong other.test 90 rsa-int v3_leaf DNS:other.test
zoo__issue "$w" weak valid.test 90 rsa-int v3_leaf DNS:valid.test -sha1
zoo__ca_issue "$w" expired valid.test DNS:valid.test 20200101000000Z 20210101000000Z
openssl req -x509 -new -key "$w/leaf.key" -subj "/CN=valid.test" -addext "subjectAltName=DNS:valid.test" \
	-days 90 -out "$w/self.crt" 2>/dev/null || fail "self-signed leaf"
cp "$w/leaf.key" "$w/self.key"
for n in valid tls12 wrong weak expired; do cat "$w/$n.crt" "$w/rsa-int.crt" >"$w/$n.chain"; done
cp "$w/incomplete.crt" "$w/incomplete.chain" # the intermediate is missing on purpose
cp "$w/self.crt" "$w/self.chain"

# Ports: one per zoo member, and one that nothing listens on.
set -- $(ports 8)
P_VALID=$1 P_EXPIRED=$2 P_SELF=$3 P_WRONG=$4 P_WEAK=$5 P_INCOMPLETE=$6 P_TLS12=$7 P_CLOSED=$8

server() { # NAME PORT [extra directives]
	printf '\tserver {\n\t\tlisten 127.0.0.1:%s ssl;\n\t\tssl_certificate %s;\n\t\tssl_certificate_key %s;\n\t\t%s\n\t}\n' \
		"$2" "$w/$1.chain" "$w/$1.key" "${3:-}"
}

mkdir -p "$T/nginx"
{
	cat <<NGINX
worker_processes 1;
error_log $T/nginx-error.log;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	ssl_protocols TLSv1.2 TLSv1.3;
NGINX
	server valid "$P_VALID"
	server expired "$P_EXPIRED"
	server self "$P_SELF"
	server wrong "$P_WRONG"
	# Debian's OpenSSL refuses a 1024-bit key at its default security level.
	server weak "$P_WEAK" "ssl_ciphers DEFAULT:@SECLEVEL=0;"
	server incomplete "$P_INCOMPLETE"
	server tls12 "$P_TLS12" "ssl_protocols TLSv1.2;"
	echo "}"
} >"$T/nginx.conf"
[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$T/nginx.conf"
nginx -p "$T/nginx" -c "$T/nginx.conf" -g "daemon off; master_process off; pid $T/nginx.pid;" \
	>"$T/nginx.out" 2>&1 &
bg_track $!
for _ in $(seq 1 100); do
	python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $P_TLS12), 0.2)" 2>/dev/null && break
	sleep 0.1
done
python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $P_TLS12), 0.2)" 2>/dev/null ||
	{ cat "$T/nginx.out" "$T/nginx-error.log" >&2; fail "nginx did not start"; }

scan() {
	aclm scan --ca-bundle "$w/rsa-root.crt" --timeout 3000 "$@"
}

note "one scan, every endpoint, JSON"
expect_exit 0 scan --sni valid.test --format json \
	127.0.0.1:$P_VALID 127.0.0.1:$P_EXPIRED 127.0.0.1:$P_SELF 127.0.0.1:$P_WEAK \
	127.0.0.1:$P_INCOMPLETE 127.0.0.1:$P_TLS12 127.0.0.1:$P_CLOSED 127.0.0.1:$P_WRONG
cp "$OUT" "$T/scan.json"
json_check "$T/scan.json" "len(d) == 8" "eight endpoints"
json_check "$T/scan.json" "sorted(e['port'] for e in d) == sorted([$P_VALID,$P_EXPIRED,$P_SELF,$P_WEAK,$P_INCOMPLETE,$P_TLS12,$P_CLOSED,$P_WRONG])" "every port once"
json_check "$T/scan.json" "all(set(e) >= {'host','ip','port','sni','reachable','error','tls_versions','cipher','group','chain','pqc','findings'} for e in d)" "the issue's keys"

ep() { # PORT EXPR: EXPR on the endpoint e of that port
	json_get "$T/scan.json" "(lambda e: $2)([e for e in d if e['port'] == $1][0])"
}
ids() { # PORT: the finding ids, sorted, comma-separated
	ep "$1" "','.join(sorted(f['id'] for f in e['findings']))"
}
has_finding() { # PORT ID
	case ",$(ids "$1")," in
	*",$2,"*) ;;
	*) fail "port $1: finding $2 missing (has: $(ids "$1"))" ;;
	esac
}
lacks_finding() { # PORT ID
	case ",$(ids "$1")," in
	*",$2,"*) fail "port $1: finding $2 must not be there (has: $(ids "$1"))" ;;
	*) ;;
	esac
}
leaf_is() { # PORT NAME: chain[0] is NAME.crt (fingerprint) and the subject's CN
	expect_eq "$(ep "$1" "e['chain'][0]['fingerprint_sha256']")" "$(pem_fp "$w/$2.crt")" "port $1 leaf fingerprint"
	expect_eq "$(ep "$1" "e['chain'][0]['common_name']")" "$3" "port $1 leaf CN"
}

for p in $P_VALID $P_EXPIRED $P_SELF $P_WEAK $P_INCOMPLETE $P_TLS12 $P_WRONG; do
	expect_eq "$(ep "$p" "e['reachable']")" true "port $p reachable"
	expect_eq "$(ep "$p" "e['error']")" null "port $p error"
	expect_eq "$(ep "$p" "e['sni']")" valid.test "port $p sni"
	expect_eq "$(ep "$p" "e['ip']")" 127.0.0.1 "port $p ip"
done

note "valid chain: trusted, complete, TLS 1.2 and 1.3, no PQ group, nothing worse than no_pqc"
leaf_is "$P_VALID" valid valid.test
expect_eq "$(ep "$P_VALID" "len(e['chain'])")" 2 "valid: leaf + intermediate served"
expect_eq "$(ep "$P_VALID" "e['chain'][1]['fingerprint_sha256']")" "$(pem_fp "$w/rsa-int.crt")" "valid: chain[1]"
expect_eq "$(ep "$P_VALID" "e['tls_versions']")" '["1.2", "1.3"]' "valid: versions"
expect_eq "$(ep "$P_VALID" "e['version']")" 1.3 "valid: negotiated version"
expect_eq "$(ep "$P_VALID" "e['cipher'].startswith('TLS_AES_') or e['cipher'].startswith('TLS_CHACHA20')")" true "valid: IANA cipher name"
expect_eq "$(ep "$P_VALID" "e['group']")" x25519 "valid: group"
expect_eq "$(ep "$P_VALID" "e['ocsp_stapled']")" false "valid: no OCSP staple"
expect_eq "$(ep "$P_VALID" "e['pqc']['groups']")" '[]' "valid: no PQ group"
expect_eq "$(ep "$P_VALID" "e['pqc']['tested']")" \
	'["X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024", "X25519Kyber768Draft00", "MLKEM512", "MLKEM768", "MLKEM1024", "curveSM2MLKEM768"]' \
	"valid: PQ groups tested"
for bad in expired self_signed hostname_mismatch weak_key weak_signature incomplete_chain untrusted_chain no_tls13 deprecated_tls; do
	lacks_finding "$P_VALID" $bad
done
has_finding "$P_VALID" no_pqc

note "the odd ones"
leaf_is "$P_EXPIRED" expired valid.test
has_finding "$P_EXPIRED" expired
lacks_finding "$P_EXPIRED" untrusted_chain # trust is judged apart from time
leaf_is "$P_SELF" self valid.test
has_finding "$P_SELF" self_signed
lacks_finding "$P_SELF" hostname_mismatch
leaf_is "$P_WRONG" wrong other.test
has_finding "$P_WRONG" hostname_mismatch
lacks_finding "$P_WRONG" expired
leaf_is "$P_WEAK" weak valid.test
expect_eq "$(ep "$P_WEAK" "e['chain'][0]['key']['bits']")" 1024 "weak: key bits"
has_finding "$P_WEAK" weak_key
has_finding "$P_WEAK" weak_signature
leaf_is "$P_INCOMPLETE" incomplete valid.test
expect_eq "$(ep "$P_INCOMPLETE" "len(e['chain'])")" 1 "incomplete: leaf only"
has_finding "$P_INCOMPLETE" incomplete_chain
lacks_finding "$P_VALID" incomplete_chain
leaf_is "$P_TLS12" tls12 valid.test
expect_eq "$(ep "$P_TLS12" "e['tls_versions']")" '["1.2"]' "tls12: versions"
expect_eq "$(ep "$P_TLS12" "e['version']")" 1.2 "tls12: negotiated version"
expect_eq "$(ep "$P_TLS12" "e['cipher'].startswith('TLS_ECDHE_RSA_WITH_')")" true "tls12: IANA cipher name"
expect_eq "$(ep "$P_TLS12" "e['pqc']['tested']")" '[]' "tls12: no PQ probe without TLS 1.3"
has_finding "$P_TLS12" no_tls13
lacks_finding "$P_TLS12" no_pqc

note "closed port: unreachable with an error, no findings"
expect_eq "$(ep "$P_CLOSED" "e['reachable']")" false "closed: reachable"
expect_contains "$(ep "$P_CLOSED" "e['error']")" "refused" "closed: error"
expect_eq "$(ep "$P_CLOSED" "e['chain']")" '[]' "closed: chain"
expect_eq "$(ep "$P_CLOSED" "e['findings']")" '[]' "closed: findings"

note "a silent server (TCP accepted, no TLS answer): reachable, the handshake times out"
set -- $(ports 1)
P_SILENT=$1
python3 -c "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', $P_SILENT)); s.listen(64); time.sleep(120)" &
bg_track $!
for _ in $(seq 1 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $P_SILENT), 0.2)" 2>/dev/null && break
	sleep 0.1
done
expect_exit 0 aclm scan --timeout 400 --format json 127.0.0.1:$P_SILENT
cp "$OUT" "$T/silent.json"
json_check "$T/silent.json" "d[0]['reachable'] and d[0]['error'] == 'handshake: timed out after 400 ms'" "silent: timeout"
json_check "$T/silent.json" "d[0]['tls_versions'] == [] and d[0]['chain'] == [] and d[0]['pqc']['tested'] == []" "silent: nothing accepted"

note "--fail-on: high findings exit 1, the valid endpoint alone exits 0"
expect_exit 1 scan --sni valid.test --format jsonl --fail-on high 127.0.0.1:$P_VALID 127.0.0.1:$P_EXPIRED
expect_exit 0 scan --sni valid.test --format jsonl --fail-on high 127.0.0.1:$P_VALID

note "jsonl: one object per line; checks limited to cert"
expect_exit 0 scan --sni valid.test --format jsonl --checks cert 127.0.0.1:$P_VALID 127.0.0.1:$P_SELF 127.0.0.1:$P_CLOSED
expect_eq "$(wc -l <"$OUT")" 3 "jsonl lines"
while IFS= read -r line; do
	printf '%s\n' "$line" >"$T/line.json"
	json_check "$T/line.json" "isinstance(d, dict) and d['tls_versions'] is None and d['pqc'] is None" "jsonl object, cert only"
done <"$OUT"

note "table: a header and one line per endpoint"
expect_exit 0 scan --sni valid.test 127.0.0.1:$P_VALID 127.0.0.1:$P_EXPIRED 127.0.0.1:$P_CLOSED
expect_eq "$(wc -l <"$OUT")" 4 "table lines"
expect_contains "$(out)" "critical:expired" "table worst finding"
expect_contains "$(out)" "unreachable" "table unreachable row"

note "a name target resolved asynchronously (localhost, hosts file) is its own SNI"
expect_exit 0 scan --format json --checks cert localhost:$P_WRONG
cp "$OUT" "$T/lh.json"
json_check "$T/lh.json" "any(e['ip'] == '127.0.0.1' and e['reachable'] and e['sni'] == 'localhost' for e in d)" "localhost scanned"
json_check "$T/lh.json" "all('hostname_mismatch' in [f['id'] for f in e['findings']] for e in d if e['reachable'])" "localhost mismatch"

note "--dns-server: a name resolved by a given server (challtestsrv: every name -> 127.0.0.1)"
start_challtestsrv "$T/challtestsrv.log"
DNS=127.0.0.1:$CTS_DNS_PORT
expect_exit 0 scan --format json --dns-server "$DNS" valid.test:$P_VALID
cp "$OUT" "$T/dns.json"
json_check "$T/dns.json" "[(e['host'], e['ip'], e['sni'], e['reachable']) for e in d if e['host'] == 'valid.test'] == [('valid.test', '127.0.0.1', 'valid.test', True)]" "valid.test resolved through --dns-server"
json_check "$T/dns.json" "[f['id'] for f in d[[e['host'] for e in d].index('valid.test')]['findings']] == ['no_pqc']" "valid.test: trusted, name matches"
expect_exit 2 aclm scan --dns-server not-an-address valid.test
expect_contains "$(err)" "--dns-server not-an-address"

note "post-quantum groups: Node.js 24 (OpenSSL 3.5) servers restricted to one group each"
NODE=/opt/aclm-node/node_modules/.bin/node
[ -x "$NODE" ] || fail "Node.js 24 is not installed at $NODE (scripts/deps)"
cat >"$T/pq-server.js" <<'JS'
const tls = require('tls'), fs = require('fs');
const [key, cert, group, port] = process.argv.slice(2);
tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert), ecdhCurve: group,
	minVersion: 'TLSv1.3' }, (s) => s.end()).listen(Number(port), '127.0.0.1');
JS
# The classic server's leaf has a comma in its CN: the csv test below needs a quoted field.
openssl req -x509 -new -key "$w/leaf.key" -subj "/CN=Zoo, Comma Test" -addext "subjectAltName=DNS:valid.test" \
	-days 90 -out "$w/comma.crt" 2>/dev/null || fail "comma leaf"
set -- $(ports 4)
P_MLKEM=$1 P_P256MLKEM=$2 P_P384MLKEM=$3 P_X25519=$4
node_server() { # PORT GROUP CERTFILE
	"$NODE" "$T/pq-server.js" "$w/leaf.key" "$w/$3" "$2" "$1" >"$T/node-$1.log" 2>&1 &
	bg_track $!
}
node_server "$P_MLKEM" X25519MLKEM768 valid.chain
node_server "$P_P256MLKEM" SecP256r1MLKEM768 valid.chain
node_server "$P_P384MLKEM" SecP384r1MLKEM1024 valid.chain
node_server "$P_X25519" X25519 comma.crt
for p in $P_MLKEM $P_P256MLKEM $P_P384MLKEM $P_X25519; do
	for _ in $(seq 1 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $p), 0.2)" 2>/dev/null && break
		sleep 0.1
	done
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $p), 0.2)" 2>/dev/null ||
		{ cat "$T/node-$p.log" >&2; fail "node on $p did not start"; }
done
expect_exit 0 scan --sni valid.test --checks cert,versions,pqc --format json \
	127.0.0.1:$P_MLKEM 127.0.0.1:$P_P256MLKEM 127.0.0.1:$P_P384MLKEM 127.0.0.1:$P_X25519
cp "$OUT" "$T/scan.json" # ep() reads this file
expect_eq "$(ep "$P_MLKEM" "e['pqc']['groups']")" '["X25519MLKEM768"]' "X25519MLKEM768 server: groups"
expect_eq "$(ep "$P_P256MLKEM" "e['pqc']['groups']")" '["SecP256r1MLKEM768"]' "SecP256r1MLKEM768 server: groups"
expect_eq "$(ep "$P_P384MLKEM" "e['pqc']['groups']")" '["SecP384r1MLKEM1024"]' "SecP384r1MLKEM1024 server: groups"
expect_eq "$(ep "$P_X25519" "e['pqc']['groups']")" '[]' "X25519 server: groups"
# OpenSSL 3.0 on our side has no ML-KEM: the full handshake with an ML-KEM-only server fails, the
# endpoint stays reachable with that error, and the raw probes still see TLS 1.3 and the group.
for p in $P_MLKEM $P_P256MLKEM $P_P384MLKEM; do
	expect_eq "$(ep "$p" "e['reachable']")" true "port $p (ML-KEM only): reachable"
	expect_contains "$(ep "$p" "e['error']")" "handshake failure" "port $p (ML-KEM only): error"
	expect_eq "$(ep "$p" "e['group']")" null "port $p (ML-KEM only): no group negotiated by OpenSSL 3.0"
	expect_eq "$(ep "$p" "e['tls_versions']")" '["1.3"]' "port $p (ML-KEM only): versions"
	lacks_finding "$p" no_pqc
	lacks_finding "$p" no_tls13
done
expect_eq "$(ep "$P_X25519" "e['error']")" null "X25519 server: error"
expect_eq "$(ep "$P_X25519" "e['group']")" x25519 "X25519 server: negotiated group"
expect_eq "$(ep "$P_X25519" "e['version']")" 1.3 "X25519 server: version"
has_finding "$P_X25519" no_pqc

note "--checks sm2 against servers that speak neither RFC 8998 nor TLCP (nginx, Node.js)"
expect_exit 0 scan --sni valid.test --checks sm2 --format json 127.0.0.1:$P_VALID 127.0.0.1:$P_MLKEM
cp "$OUT" "$T/sm2.json"
json_check "$T/sm2.json" "len(d) == 2 and all(e['reachable'] and e['sm2'] == {'rfc8998': False, 'tlcp': False, 'tlcp_sign_cert': None, 'tlcp_enc_cert': None} for e in d)" "no SM2 support"
json_check "$T/sm2.json" "all(e['pqc'] is None and e['tls_versions'] is None and e['chain'] == [] for e in d)" "sm2 only"

note "csv: a header, one line per endpoint, RFC 4180 quoting"
expect_exit 0 scan --sni valid.test --checks cert,versions,pqc --format csv \
	127.0.0.1:$P_X25519 127.0.0.1:$P_MLKEM 127.0.0.1:$P_CLOSED
cp "$OUT" "$T/scan.csv"
expect_eq "$(wc -l <"$T/scan.csv")" 4 "csv lines"
expect_contains "$(cat "$T/scan.csv")" '"Zoo, Comma Test"' "csv: the CN with a comma is quoted"
python3 - "$T/scan.csv" "$P_X25519" "$P_MLKEM" "$P_CLOSED" <<'PY' || fail "csv content"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["host", "ip", "port", "sni", "reachable", "tls_versions", "cipher", "group", "leaf_cn",
                   "leaf_not_after", "days_left", "pqc_groups", "findings"], rows[0]
assert all(len(r) == 13 for r in rows), rows
by = {r[2]: r for r in rows[1:]}
x = by[sys.argv[2]]
assert x[0] == "127.0.0.1" and x[3] == "valid.test" and x[4] == "true", x
assert x[5] == "1.3" and x[7] == "x25519" and x[8] == "Zoo, Comma Test" and x[10].isdigit(), x
assert x[12] == "self_signed;no_pqc", x
assert by[sys.argv[3]][11] == "X25519MLKEM768", by[sys.argv[3]]
assert by[sys.argv[4]][4] == "false" and by[sys.argv[4]][12] == "", by[sys.argv[4]]
PY

note "--progress: always writes the progress line to stderr, never and auto (not a terminal) do not"
expect_exit 0 scan --sni valid.test --checks cert --format jsonl --progress always 127.0.0.1:$P_VALID 127.0.0.1:$P_CLOSED
expect_contains "$(err)" "2/2 done" "progress line"
expect_contains "$(err)" "findings" "progress: findings so far"
expect_eq "$(wc -l <"$OUT")" 2 "progress does not touch stdout"
expect_exit 0 scan --sni valid.test --checks cert --format jsonl --progress never 127.0.0.1:$P_VALID
expect_not_contains "$(err)" "done" "no progress with never"
expect_exit 0 scan --sni valid.test --checks cert --format jsonl 127.0.0.1:$P_VALID
expect_not_contains "$(err)" "done" "no progress with auto when stderr is not a terminal"

note "--rate 10: the 15 connections of one endpoint (all checks) take at least 1.4 s"
rate_t0=$(date +%s%N)
expect_exit 0 scan --sni valid.test --rate 10 --format jsonl 127.0.0.1:$P_VALID
rate_ms=$((($(date +%s%N) - rate_t0) / 1000000))
cp "$OUT" "$T/rate.json"
json_check "$T/rate.json" "d['tls_versions'] == ['1.2', '1.3'] and len(d['pqc']['tested']) == 8" "every probe ran under --rate"
[ "$rate_ms" -ge 1300 ] || fail "--rate 10: 15 connections in $rate_ms ms"
rate_t0=$(date +%s%N)
expect_exit 0 scan --sni valid.test --rate 1000 --format jsonl 127.0.0.1:$P_VALID
rate_ms=$((($(date +%s%N) - rate_t0) / 1000000))
[ "$rate_ms" -lt 1300 ] || fail "--rate 1000 slowed one endpoint to $rate_ms ms"

note "usage errors"
for bad in "--starttls gopher" "--rate 0" "--rate x" "--progress sometimes" \
	"--format xml" "--fail-on severe" "--concurrency 0" "--timeout x" "--checks bogus"; do
	# shellcheck disable=SC2086 # the option and its value are two words
	expect_exit 2 aclm scan $bad 127.0.0.1:$P_VALID
done
expect_contains "$(err)" "bogus"
expect_exit 2 aclm scan --rate 0 127.0.0.1:$P_VALID
expect_contains "$(err)" "--rate 0: expected connections per second"
expect_exit 2 aclm scan
expect_exit 2 aclm scan --ports 99999 127.0.0.1
expect_exit 0 aclm scan --help
expect_contains "$(out)" "Examples:"
