# aclm scan --starttls against real servers, each started privately on 127.0.0.1 at free ports with
# a test certificate made here, and stopped here: SMTP with python3-aiosmtpd (RFC 3207), IMAP and
# POP3 with Dovecot, FTP with vsftpd (AUTH TLS), LDAP with OpenLDAP's slapd (StartTLS extended
# operation), XMPP with Prosody, PostgreSQL with a private cluster (configs: starttls_servers.sh).
# No stand-in is left: every server runs here (scripts/deps installs them). Per protocol: a server
# offering the upgrade -> the full handshake and every probe run through the preamble (chain,
# versions, PQ probes); the same server configured without TLS -> the endpoint's error
# "PROTO: STARTTLS not offered ..." and the finding starttls_not_offered, and no TLS judgement.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh" # free_port
. "$ACLM_SRC/tests/integration/starttls_servers.sh"

PY=/usr/bin/python3 # the system Python, which has python3-aiosmtpd
$PY -c 'import aiosmtpd' 2>/dev/null || fail "python3-aiosmtpd is not installed (scripts/deps)"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
for f in /usr/sbin/dovecot /usr/lib/dovecot/imap /usr/lib/dovecot/pop3 /usr/sbin/vsftpd \
	/usr/sbin/slapd /usr/bin/prosody "$PG_BIN/postgres"; do
	[ -x "$f" ] || fail "$f is not installed (scripts/deps)"
done
chmod 711 "$T" # the servers that run as nobody reach their directories

w=$T/certs
mkdir -p "$w"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$w/mail.key" \
	-subj "/CN=mail.test" -addext "subjectAltName=DNS:mail.test" -addext "basicConstraints=critical,CA:FALSE" \
	-days 30 -out "$w/mail.crt" 2>/dev/null || fail "test certificate"
FP=$(pem_fp "$w/mail.crt")
st_cert=$w/mail.crt
st_key=$w/mail.key

ports_seen=" "
port() { # a free port not handed out before in this test
	while :; do
		port__p=$(free_port)
		case $ports_seen in *" $port__p "*) continue ;; esac
		ports_seen="$ports_seen$port__p "
		echo "$port__p"
		return
	done
}
start() { # PORT CMD...: starts a peer printing "ready", waits for it
	start__port=$1
	shift
	"$@" >"$T/peer.$start__port.out" 2>&1 &
	bg_track $!
	for _ in $(seq 1 100); do
		grep -q ready "$T/peer.$start__port.out" 2>/dev/null &&
			python3 -c "import socket; socket.create_connection(('127.0.0.1', $start__port), 0.2)" 2>/dev/null &&
			return 0
		sleep 0.1
	done
	cat "$T/peer.$start__port.out" >&2
	fail "peer on $start__port did not start: $*"
}

check() { # PROTO PORT_OK PORT_REFUSING
	expect_exit 0 aclm scan --starttls "$1" --sni mail.test --ca-bundle "$w/mail.crt" --timeout 5000 \
		--format json "127.0.0.1:$2" "127.0.0.1:$3"
	cp "$OUT" "$T/$1.json"
	e="(lambda e: EXPR)([e for e in d if e['port'] == $2][0])"
	get() { json_get "$T/$1.json" "$(printf '%s' "$e" | sed "s|EXPR|$2|")"; }
	expect_eq "$(get "$1" "e['starttls']")" "$1" "$1: starttls key"
	expect_eq "$(get "$1" "e['reachable']")" true "$1: reachable"
	expect_eq "$(get "$1" "e['error']")" null "$1: no error"
	expect_eq "$(get "$1" "e['chain'][0]['fingerprint_sha256']")" "$FP" "$1: the served leaf, through the upgrade"
	expect_eq "$(get "$1" "e['version']")" 1.3 "$1: negotiated version"
	expect_eq "$(get "$1" "e['tls_versions']")" '["1.2", "1.3"]' "$1: raw version probes through the preamble"
	expect_eq "$(get "$1" "len(e['pqc']['tested'])")" 8 "$1: PQ probes through the preamble"
	expect_eq "$(get "$1" "sorted(f['id'] for f in e['findings'])")" '["no_pqc", "self_signed"]' "$1: findings"
	e="(lambda e: EXPR)([e for e in d if e['port'] == $3][0])"
	expect_eq "$(get "$1" "e['reachable']")" true "$1 refusing: reachable"
	expect_contains "$(get "$1" "e['error']")" "$1: STARTTLS not offered" "$1 refusing: error"
	expect_eq "$(get "$1" "[f['id'] for f in e['findings']]")" '["starttls_not_offered"]' "$1 refusing: finding"
	expect_eq "$(get "$1" "[f['severity'] for f in e['findings']]")" '["high"]' "$1 refusing: severity"
	expect_eq "$(get "$1" "(e['chain'], e['tls_versions'], e['pqc'])")" '[[], null, null]' "$1 refusing: no TLS judged"
}

note "SMTP: aiosmtpd with and without STARTTLS"
P1=$(port)
P2=$(port)
start "$P1" $PY "$ACLM_SRC/tests/integration/smtpd_starttls.py" "$P1" "$w/mail.crt" "$w/mail.key"
start "$P2" $PY "$ACLM_SRC/tests/integration/smtpd_starttls.py" "$P2" "$w/mail.crt" "$w/mail.key" --no-tls
check smtp "$P1" "$P2"

# PostgreSQL: a private cluster with ssl=on, and ssl=off for the refusal. The postmaster refuses
# to run as root: as root it runs as nobody.
PG_AS="" # a command prefix (setpriv execs the server: $! is the postmaster)
[ "$(id -u)" = 0 ] && PG_AS="setpriv --reuid=nobody --regid=nogroup --clear-groups"
PG_PIDS=""
pg_start() { # PORT ssl=on|off
	pg__dir=$T/pg.$1
	mkdir -p "$pg__dir"
	cp "$w/mail.crt" "$w/mail.key" "$pg__dir/"
	chmod 600 "$pg__dir/mail.key"
	[ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$pg__dir"
	$PG_AS "$PG_BIN/initdb" -D "$pg__dir/data" -A trust -U postgres --no-sync >"$pg__dir/initdb.log" 2>&1 ||
		{ cat "$pg__dir/initdb.log" >&2; fail "initdb"; }
	$PG_AS "$PG_BIN/postgres" -D "$pg__dir/data" -c listen_addresses=127.0.0.1 -c port="$1" \
		-c unix_socket_directories="$pg__dir" -c "$2" -c ssl_cert_file="$pg__dir/mail.crt" \
		-c ssl_key_file="$pg__dir/mail.key" -c fsync=off >"$pg__dir/server.log" 2>&1 &
	bg_track $!
	PG_PIDS="$PG_PIDS $!"
	for _ in $(seq 1 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$pg__dir/server.log" >&2
	fail "postgres on $1 did not start"
}
note "postgres: a real PostgreSQL cluster, ssl=on and ssl=off"
P1=$(port)
P2=$(port)
pg_start "$P1" ssl=on
pg_start "$P2" ssl=off
check postgres "$P1" "$P2"
for p in $PG_PIDS; do kill -INT "$p"; done # fast shutdown: the backends go with the postmaster
for p in $PG_PIDS; do wait "$p" 2>/dev/null || true; done

note "imap, pop3: Dovecot, ssl = yes and ssl = no"
P1=$(port)
P2=$(port)
P3=$(port)
P4=$(port)
dovecot_start tls "$P1" "$P2"
dovecot_start plain "$P3" "$P4"
check imap "$P1" "$P3"
check pop3 "$P2" "$P4"
st_stop

note "ftp: vsftpd, ssl_enable=YES and NO"
P1=$(port)
P2=$(port)
vsftpd_start tls "$P1"
vsftpd_start plain "$P2"
check ftp "$P1" "$P2"
st_stop

note "ldap: slapd with and without a TLS certificate"
P1=$(port)
P2=$(port)
slapd_start tls "$P1"
slapd_start plain "$P2"
check ldap "$P1" "$P2"
st_stop

note "xmpp: Prosody with and without mod_tls"
P1=$(port)
P2=$(port)
prosody_start tls "$P1" mail.test
prosody_start plain "$P2" mail.test
check xmpp "$P1" "$P2"
st_stop

note "--starttls none on an SMTP port: TLS straight away fails, no preamble"
P1=$(port)
start "$P1" $PY "$ACLM_SRC/tests/integration/smtpd_starttls.py" "$P1" "$w/mail.crt" "$w/mail.key"
expect_exit 0 aclm scan --starttls none --checks cert --timeout 3000 --format json "127.0.0.1:$P1"
cp "$OUT" "$T/none.json"
json_check "$T/none.json" "d[0]['starttls'] is None and d[0]['chain'] == [] and d[0]['error'] is not None" "no preamble"

note "a bad --starttls value is a usage error"
expect_exit 2 aclm scan --starttls gopher 127.0.0.1:1
expect_contains "$(err)" "--starttls gopher"
