# Shared by the deploy tests (sourced after lib.sh): a small openssl-made CA (root ->
# intermediate -> leaves), certificates imported with their keys, and waiting helpers.
. "$LIB_DIR/pebble.sh" # free_port

# mk_ca: $T/ca/root.{key,pem}, $T/ca/inter.{key,pem} (P-256).
mk_ca() {
	mkdir -p "$T/ca"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=aclm deploy test root" -keyout "$T/ca/root.key" -out "$T/ca/root.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=aclm deploy test inter" \
		-keyout "$T/ca/inter.key" -out "$T/ca/inter.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' \
		>"$T/ca/inter.ext"
	openssl x509 -req -in "$T/ca/inter.csr" -CA "$T/ca/root.pem" -CAkey "$T/ca/root.key" \
		-CAcreateserial -days 2 -extfile "$T/ca/inter.ext" -out "$T/ca/inter.pem" 2>/dev/null
}

# mk_leaf NAME: $T/ca/NAME.{key,pem} for DNS:NAME.test, DNS:localhost, IP:127.0.0.1.
mk_leaf() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1.test" \
		-keyout "$T/ca/$1.key" -out "$T/ca/$1.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s.test,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
		"$1" >"$T/ca/$1.ext"
	openssl x509 -req -in "$T/ca/$1.csr" -CA "$T/ca/inter.pem" -CAkey "$T/ca/inter.key" \
		-CAcreateserial -days 2 -extfile "$T/ca/$1.ext" -out "$T/ca/$1.pem" 2>/dev/null
}

# import_leaf NAME: imports the leaf, its key and the intermediate; prints the leaf's inventory id.
import_leaf() {
	expect_exit 0 aclm cert import "$T/ca/inter.pem" "$T/ca/$1.pem" "$T/ca/$1.key"
	list_json >/dev/null
	id_of_fp "$T/list.json" "$(pem_fp "$T/ca/$1.pem")"
}

# served_fp HOST:PORT SNI: the SHA-256 of the leaf served there (empty when nothing answers).
served_fp() {
	echo | timeout 5 openssl s_client -connect "$1" -servername "$2" 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# wait_tcp PORT: until 127.0.0.1:PORT accepts, at most ~10 s.
wait_tcp() {
	i=0
	until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" \
		"$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "nothing listens on 127.0.0.1:$1"
		sleep 0.1
	done
}

# result_field FILE TARGET EXPR: EXPR on the deploy result r of TARGET in FILE (deploy --format json).
result_field() {
	json_get "$1" "(lambda r: $3)([r for r in d if r['target'] == '$2'][0])"
}

# stop_pidfile FILE: kills the daemon whose pid FILE holds, waiting up to ~5 s for the file (a
# daemon writes it after forking, so a test failing right after the start may be faster).
stop_pidfile() {
	i=0
	while [ ! -s "$1" ] && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ] && kill "$(cat "$1")" 2>/dev/null || true
}
