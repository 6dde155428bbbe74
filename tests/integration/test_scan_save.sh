# aclm scan --save against real TLS servers (openssl s_server, and nginx for the port whose
# certificate changes between two scans) serving certificates made here:
# one imported before the scan (known), one never imported (unknown: a ghost), one whose renewal
# was imported but not deployed (stale), one port whose certificate changes between two scans
# (drift), and one port serving different leaves for two SNIs (inconsistent). Checks the JSON
# contract (inventory.status, the inventory.* findings), the inventory rows (source "scan") and
# the endpoints/observations tables.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh" # free_port

command -v openssl >/dev/null || fail "openssl is not installed"
command -v nginx >/dev/null || fail "nginx is not installed"

w=$T/certs
mkdir -p "$w"
leaf() { # NAME CN DAYS: a self-signed P-256 leaf (CA:FALSE) for DNS:CN
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$w/$1.key" \
		-subj "/CN=$2" -addext "subjectAltName=DNS:$2" -addext "basicConstraints=critical,CA:FALSE" \
		-days "$3" -out "$w/$1.crt" 2>/dev/null || fail "certificate $1"
}
leaf known known.test 30
leaf ghost ghost.test 30
leaf old stale.test 30
leaf new stale.test 60 # the renewal of old, imported but not deployed
leaf d1 drift.test 30
leaf d2 drift.test 40
leaf m1 multi.test 30
leaf m2 other.test 30

# ports N: N distinct free ports.
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
set -- $(ports 5)
P_KNOWN=$1 P_GHOST=$2 P_STALE=$3 P_DRIFT=$4 P_MULTI=$5

serve() { # PORT NAME [s_server args]
	serve__port=$1 serve__name=$2
	shift 2
	openssl s_server -accept "127.0.0.1:$serve__port" -cert "$w/$serve__name.crt" \
		-key "$w/$serve__name.key" -quiet "$@" </dev/null >"$T/s_server.$serve__port.log" 2>&1 &
	bg_track $!
}
wait_port() {
	for _ in $(seq 1 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing listens on $1"
}
nginx_serve() { # PORT NAME: nginx serving NAME.crt on PORT; its pid in NGINX_PID
	mkdir -p "$T/nginx"
	{
		[ "$(id -u)" = 0 ] && echo "user root;"
		printf 'worker_processes 1;\nerror_log %s/nginx-error.log;\nevents { worker_connections 64; }\n' "$T"
		printf 'http {\n\taccess_log off;\n\tclient_body_temp_path %s/nginx/body;\n\tproxy_temp_path %s/nginx/proxy;\n' "$T" "$T"
		printf '\tfastcgi_temp_path %s/nginx/fcgi;\n\tuwsgi_temp_path %s/nginx/uwsgi;\n\tscgi_temp_path %s/nginx/scgi;\n' "$T" "$T" "$T"
		printf '\tserver {\n\t\tlisten 127.0.0.1:%s ssl;\n\t\tssl_certificate %s;\n\t\tssl_certificate_key %s;\n\t}\n}\n' \
			"$1" "$w/$2.crt" "$w/$2.key"
	} >"$T/nginx.conf"
	nginx -p "$T/nginx" -c "$T/nginx.conf" -g "daemon off; master_process off; pid $T/nginx.pid;" \
		>"$T/nginx.out" 2>&1 &
	NGINX_PID=$!
	bg_track $NGINX_PID
}
serve "$P_KNOWN" known
serve "$P_GHOST" ghost
serve "$P_STALE" old
nginx_serve "$P_DRIFT" d1
# RFC 6066 §3: a second certificate for SNI other.test, the first for every other name.
serve "$P_MULTI" m1 -servername other.test -cert2 "$w/m2.crt" -key2 "$w/m2.key"
for p in $P_KNOWN $P_GHOST $P_STALE $P_DRIFT $P_MULTI; do wait_port "$p"; done

note "before: known.crt and new.crt (the undeployed renewal) are in the inventory"
ok cert import "$w/known.crt"
ok cert import "$w/new.crt"

ALL="127.0.0.1:$P_KNOWN 127.0.0.1:$P_GHOST 127.0.0.1:$P_STALE 127.0.0.1:$P_DRIFT"
scan() { # FILE ARGS...: scan --save into FILE (JSON)
	scan__f=$1
	shift
	expect_exit 0 aclm scan --checks cert --timeout 3000 --save --format json "$@"
	cp "$OUT" "$scan__f"
}
ep() { # FILE PORT EXPR [SNI]: EXPR on the endpoint e of that port (and SNI)
	json_get "$1" "(lambda e: $3)([e for e in d if e['port'] == $2 and (e['sni'] or '') == '${4:-}'][0])"
}
ids() { # FILE PORT [SNI]: the inventory.* finding ids, sorted
	ep "$1" "$2" "','.join(sorted(f['id'] for f in e['findings'] if f['id'].startswith('inventory.')))" "${3:-}"
}

note "without --save: no inventory key, no DER in the output, nothing stored"
expect_exit 0 aclm scan --checks cert --timeout 3000 --format json 127.0.0.1:$P_GHOST
cp "$OUT" "$T/nosave.json"
json_check "$T/nosave.json" "'inventory' not in d[0] and 'chain_der' not in d[0]" "plain scan keys"
expect_eq "$(list_json)" 2 "inventory size before --save"

note "first scan with --save"
scan "$T/s1.json" $ALL
json_check "$T/s1.json" "all('chain_der' not in e for e in d)" "no DER in the output"
expect_eq "$(ep "$T/s1.json" "$P_KNOWN" "e['inventory']['status']")" known "imported first: known"
expect_eq "$(ids "$T/s1.json" "$P_KNOWN")" "" "known: no inventory finding"
expect_eq "$(ep "$T/s1.json" "$P_GHOST" "e['inventory']['status']")" unknown "never imported: unknown"
expect_eq "$(ids "$T/s1.json" "$P_GHOST")" inventory.unknown "ghost: finding"
expect_eq "$(ep "$T/s1.json" "$P_GHOST" "[f['severity'] for f in e['findings'] if f['id'] == 'inventory.unknown'][0]")" medium "unknown: severity"
expect_eq "$(ep "$T/s1.json" "$P_STALE" "e['inventory']['status']")" stale "renewal imported, old served: stale"
expect_eq "$(ids "$T/s1.json" "$P_STALE")" inventory.stale,inventory.unknown "stale: findings (the old leaf was never imported)"
expect_eq "$(ep "$T/s1.json" "$P_DRIFT" "e['inventory']['status']")" unknown "drift port, first sight: unknown"

note "the inventory now holds the served leaves, with source scan"
expect_eq "$(list_json)" 5 "known, new + ghost, old, d1"
expect_eq "$(cert_field "$T/list.json" "$(pem_fp "$w/ghost.crt")" "c['source']")" scan "ghost: source"
expect_eq "$(cert_field "$T/list.json" "$(pem_fp "$w/known.crt")" "c['source']")" import "known: source stays import"
expect_eq "$(cert_field "$T/list.json" "$(pem_fp "$w/old.crt")" "c['source']")" scan "old: source"
expect_eq "$(ep "$T/s1.json" "$P_STALE" "e['inventory']['newer_cert_id']")" \
	"$(id_of_fp "$T/list.json" "$(pem_fp "$w/new.crt")")" "stale: names the renewal"

note "the certificate of one port changes (nginx restarted with d2); second scan"
kill "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null || true
nginx_serve "$P_DRIFT" d2
wait_port "$P_DRIFT"
scan "$T/s2.json" $ALL
expect_eq "$(ep "$T/s2.json" "$P_DRIFT" "e['inventory']['status']")" drift "changed certificate: drift"
expect_eq "$(ep "$T/s2.json" "$P_DRIFT" "e['inventory']['previous_fingerprint']")" "$(pem_fp "$w/d1.crt")" "drift: previous leaf"
expect_eq "$(ep "$T/s2.json" "$P_DRIFT" "e['chain'][0]['fingerprint_sha256']")" "$(pem_fp "$w/d2.crt")" "drift: leaf now"
expect_contains "$(ids "$T/s2.json" "$P_DRIFT")" inventory.drift "drift: finding"
expect_eq "$(ep "$T/s2.json" "$P_KNOWN" "e['inventory']['status']")" known "unchanged known: no drift"
expect_eq "$(ids "$T/s2.json" "$P_KNOWN")" "" "unchanged known: no finding"
expect_eq "$(ids "$T/s2.json" "$P_GHOST")" inventory.unknown "a ghost stays a ghost at the next scan"

note "ghost imported afterwards: known from then on"
ok cert import "$w/ghost.crt"
scan "$T/s3.json" 127.0.0.1:$P_GHOST
expect_eq "$(ep "$T/s3.json" "$P_GHOST" "e['inventory']['status']")" known "imported ghost: known"

note "one host and port, two SNIs, two leaves: inconsistent"
scan "$T/s4.json" 127.0.0.1:$P_MULTI --sni multi.test --sni other.test --concurrency 1
expect_eq "$(ep "$T/s4.json" "$P_MULTI" "e['chain'][0]['common_name']" multi.test)" multi.test "SNI multi.test leaf"
expect_eq "$(ep "$T/s4.json" "$P_MULTI" "e['chain'][0]['common_name']" other.test)" other.test "SNI other.test leaf"
json_check "$T/s4.json" "sum(1 for e in d for f in e['findings'] if f['id'] == 'inventory.inconsistent') == 1" \
	"exactly one endpoint (the one saved second) says inconsistent"
note "the same two SNIs on a port serving one leaf: consistent"
scan "$T/s5.json" 127.0.0.1:$P_KNOWN --sni multi.test --sni other.test
json_check "$T/s5.json" "all(f['id'] != 'inventory.inconsistent' for e in d for f in e['findings'])" "one leaf: consistent"

note "another tenant: its own inventory and endpoints (known.crt was imported into default only)"
ok tenant add other
expect_exit 0 aclm --tenant other scan --checks cert --timeout 3000 --save --format json 127.0.0.1:$P_KNOWN 127.0.0.1:$P_DRIFT
cp "$OUT" "$T/other.json"
expect_eq "$(ep "$T/other.json" "$P_KNOWN" "e['inventory']['status']")" unknown "tenant other: not known there"
expect_eq "$(ep "$T/other.json" "$P_DRIFT" "e['inventory']['status']")" unknown "tenant other: no drift from default's history"
expect_eq "$(list_json --tenant other)" 2 "tenant other: the two leaves it saw"

note "the store: endpoints and observations"
DB=$(db_path)
python3 - "$DB" "$P_DRIFT" <<'EOF' || fail "endpoints/observations rows"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
port = int(sys.argv[2])
(eid, first, last) = db.execute("SELECT id, first_seen, last_seen FROM endpoints WHERE host='127.0.0.1' AND port=? AND sni=''", (port,)).fetchone()
assert first <= last, (first, last)
obs = db.execute("SELECT cert_id, json_extract(detail, '$.ip'), scan_run_id FROM observations WHERE endpoint_id=? ORDER BY id", (eid,)).fetchall()
assert len(obs) == 2 and obs[0][0] != obs[1][0], obs
assert all(o[1] == '127.0.0.1' and o[2] is None for o in obs), obs
# every row carries the tenant of its endpoint
assert db.execute("SELECT count(*) FROM observations o JOIN endpoints e ON e.id = o.endpoint_id WHERE o.tenant_id <> e.tenant_id").fetchone()[0] == 0
# the other tenant has its own row for the drift port
assert db.execute("SELECT count(DISTINCT tenant_id) FROM endpoints WHERE port=?", (port,)).fetchone()[0] == 2
EOF
db_integrity "$DB"
