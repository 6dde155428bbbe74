# tls-alpn-01 (RFC 8737) against Pebble: aclm's built-in TLS listener answers Pebble's validation
# for a DNS name and an IP address (RFC 8738), and the lineage renews through it.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

start_pebble

note "a DNS name and an IP address through tls-alpn-01"
expect_exit 0 aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos \
	-d alpn.example.test --ip 127.0.0.1 --challenge tls-alpn-01 \
	--tls-alpn-listen "127.0.0.1:$PEBBLE_TLS_PORT" -v
expect_contains "$(err)" "alpn.example.test: tls-alpn-01 validated"
expect_contains "$(err)" "127.0.0.1: tls-alpn-01 validated"
d=$ACLM_HOME/live/alpn.example.test
openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$d/chain.pem" "$d/cert.pem" >/dev/null 2>&1 ||
	fail "the certificate does not verify"
openssl x509 -in "$d/cert.pem" -noout -ext subjectAltName >"$T/san"
expect_file_contains "$T/san" "DNS:alpn.example.test" "SAN"
expect_file_contains "$T/san" "IP Address:127.0.0.1" "SAN"

note "renew replays the challenge"
ok renew --force alpn.example.test
expect_contains "$(out)" "renewed  alpn.example.test"

note "nothing listening on Pebble's TLS port: the authorization fails with Pebble's reason"
expect_exit 1 aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos \
	-d alpn2.example.test --challenge tls-alpn-01 --tls-alpn-listen "127.0.0.1:$(free_port)"
expect_contains "$(err)" "authorization of alpn2.example.test"
