# dns-01 through RFC 2136 dynamic updates signed with TSIG, against BIND 9 as the authoritative
# server of example.test and Pebble resolving through that BIND: a wildcard and its base name are
# issued and their TXT records deleted afterwards; renew replays the options; a wrong secret ends
# the run with BADSIG; a CNAME at _acme-challenge.NAME sends the update to its target; a broken key
# file is refused naming its line.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

command -v named >/dev/null || fail "named is not installed (scripts/deps: bind9)"
command -v dig >/dev/null || fail "dig is not installed (scripts/deps: bind9-dnsutils)"

B=$T/bind
mkdir -p "$B"
BIND_PORT=$(free_port)
BIND=127.0.0.1:$BIND_PORT
SECRET=$(openssl rand -base64 32)
cat >"$B/tsig.key" <<KEY
# written like tsig-keygen's output
key "tsig-key" {
	algorithm hmac-sha256;
	secret "$SECRET";
};
KEY
# A key BIND knows but that the zone's update-policy does not grant.
printf 'key "ro-key" {\n\talgorithm hmac-sha512;\n\tsecret "%s";\n};\n' "$(openssl rand -base64 64 | tr -d '\n')" \
	>"$B/ro.key"
cat >"$B/example.test.zone" <<'ZONE'
$TTL 60
@	IN SOA ns.example.test. admin.example.test. 1 60 60 600 60
@	IN NS ns.example.test.
ns	IN A 127.0.0.1
r	IN A 127.0.0.1
c	IN A 127.0.0.1
_acme-challenge.c IN CNAME c.delegated.example.test.
ZONE
cat >"$B/named.conf" <<CONF
include "$B/tsig.key";
include "$B/ro.key";
options {
	directory "$B";
	pid-file "$B/named.pid";
	listen-on port $BIND_PORT { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
};
controls { };
zone "example.test" {
	type primary;
	file "$B/example.test.zone";
	journal "$B/example.test.jnl";
	update-policy { grant tsig-key zonesub TXT; };
};
CONF
# -g: foreground, log to stderr; -u root keeps running as the test's user when that is root.
if [ "$(id -u)" -eq 0 ]; then named_user="-u root"; else named_user=""; fi
# shellcheck disable=SC2086
named -g -c "$B/named.conf" $named_user >"$B/named.log" 2>&1 &
bg_track $!
for _ in $(seq 1 100); do
	dig @127.0.0.1 -p "$BIND_PORT" +norec +time=1 +tries=1 SOA example.test 2>/dev/null |
		grep -q 'status: NOERROR' && break
	sleep 0.1
done
dig @127.0.0.1 -p "$BIND_PORT" +norec SOA example.test | grep -q 'status: NOERROR' ||
	{ cat "$B/named.log" >&2; fail "named did not come up on $BIND"; }

txt_at() { # NAME: the TXT records BIND holds for NAME, one a line
	dig @127.0.0.1 -p "$BIND_PORT" +norec +short TXT "$1"
}

# log_count PATTERN N: lines of named.log matching PATTERN, once there are N or after ~10 s (named
# writes its log behind the updates it has already answered; 3 s was once too short under load).
log_count() {
	for _ in $(seq 1 100); do
		[ "$(grep -c "$1" "$B/named.log")" -ge "$2" ] && break
		sleep 0.1
	done
	grep -c "$1" "$B/named.log"
}

PEBBLE_DNS_SERVER=$BIND PEBBLE_AUTHZREUSE=0 start_pebble
export ACLM_MASTER_KEY=$(openssl rand -base64 32)
issue() { # CODE ARGS...: aclm issue against Pebble must exit with CODE
	issue__code=$1
	shift
	expect_exit "$issue__code" aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos \
		--challenge dns-01 "$@"
}

note "wildcard + base name: TSIG-signed updates to BIND, Pebble validates, the records go away"
issue 0 -d r.example.test -d '*.r.example.test' --dns-rfc2136 "$BIND" --tsig-file "$B/tsig.key"
d=$ACLM_HOME/live/r.example.test
openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$d/chain.pem" "$d/cert.pem" >/dev/null 2>&1 ||
	fail "the certificate does not verify"
openssl x509 -in "$d/cert.pem" -noout -ext subjectAltName >"$T/san"
expect_file_contains "$T/san" "DNS:*.r.example.test" "SAN"
expect_file_contains "$T/san" "DNS:r.example.test" "SAN"
expect_eq "$(log_count "adding an RR at '_acme-challenge.r.example.test' TXT" 2)" 2 \
	"TXT records added"
expect_eq "$(log_count "deleting an RR at _acme-challenge.r.example.test TXT" 2)" 2 \
	"TXT records deleted"
expect_eq "$(txt_at _acme-challenge.r.example.test)" "" "TXT left after the run"

note "the stored lineage replays the RFC 2136 options on renew"
ok renew --force r.example.test
expect_contains "$(out)" "renewed  r.example.test"
expect_eq "$(log_count "adding an RR at '_acme-challenge.r.example.test' TXT" 4)" 4 \
	"TXT records added by renew"
expect_eq "$(txt_at _acme-challenge.r.example.test)" "" "TXT left after renew"

note "a CNAME at _acme-challenge.NAME: the update goes to its target"
issue 0 -d c.example.test --dns-rfc2136 "$BIND" --tsig-file "$B/tsig.key"
grep -q "adding an RR at 'c.delegated.example.test' TXT" "$B/named.log" ||
	{ cat "$B/named.log" >&2; fail "no update at the CNAME target"; }
grep -q "at '_acme-challenge.c.example.test' TXT" "$B/named.log" &&
	fail "an update went to the CNAME's owner"
expect_eq "$(txt_at c.delegated.example.test)" "" "TXT left at the CNAME target"

note "a wrong secret: exit 1, the server's BADSIG in the message, no certificate"
sed "s|$SECRET|$(openssl rand -base64 32)|" "$B/tsig.key" >"$T/wrong.key"
issue 1 -d w.example.test --dns-rfc2136 "$BIND" --tsig-file "$T/wrong.key"
expect_contains "$(err)" "BADSIG"
expect_contains "$(err)" "NOTAUTH"
[ ! -e "$ACLM_HOME/live/w.example.test/cert.pem" ] || fail "certificate written after BADSIG"

note "a key unknown to the server: BADKEY; a known key the zone does not grant: REFUSED"
printf 'key "other-key" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$SECRET" >"$T/other.key"
issue 1 -d o.example.test --dns-rfc2136 "$BIND" --tsig-file "$T/other.key"
expect_contains "$(err)" "BADKEY"
expect_contains "$(err)" "other-key"
issue 1 -d o.example.test --dns-rfc2136 "$BIND" --tsig-file "$B/ro.key"
expect_contains "$(err)" "REFUSED"
expect_contains "$(err)" "update-policy"

note "a broken key file is refused with its name and line; usage errors"
printf 'key "tsig-key" {\n\talgorithm hmac-md5;\n\tsecret "%s";\n};\n' "$SECRET" >"$T/md5.key"
issue 1 -d m.example.test --dns-rfc2136 "$BIND" --tsig-file "$T/md5.key"
expect_contains "$(err)" "$T/md5.key:2"
expect_contains "$(err)" "hmac-sha256"
issue 2 -d m.example.test --dns-rfc2136 "$BIND"
expect_contains "$(err)" "--tsig-file"
issue 2 -d m.example.test --dns-rfc2136 "$BIND" --tsig-file "$B/tsig.key" --dns-hook /bin/true
expect_contains "$(err)" "one of them"
