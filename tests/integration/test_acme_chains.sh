# --preferred-chain (RFC 8555 §7.4.2 alternate chains) against Pebble offering two chains with
# different roots: without the option the default chain (root 0); with the CN of root 1 the
# alternate (verifies against root 1, not root 0); an unknown CN keeps the default; renew replays
# the stored choice.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

PEBBLE_ALTERNATE_ROOTS=1 start_pebble
pebble_get /roots/0 >"$T/root0.pem"
pebble_get /roots/1 >"$T/root1.pem"
pebble_get /intermediates/1 >"$T/int1.pem"
[ "$(cat "$T/root0.pem")" != "$(cat "$T/root1.pem")" ] || fail "Pebble offers one root only"

# The top of chain 1 is intermediate 1: the CN to prefer is its issuer's, root 1's subject.
ROOT1_CN=$(cn_of issuer "$T/int1.pem")
expect_eq "$ROOT1_CN" "$(cn_of subject "$T/root1.pem")" "issuer of intermediate 1"
[ -n "$ROOT1_CN" ] || fail "no CN for root 1"

issue() {
	aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos \
		--http-listen "127.0.0.1:$PEBBLE_HTTP_PORT" "$@"
}


note "no --preferred-chain: the default chain, to root 0"
expect_exit 0 issue -d default.example.test
live_verifies "$T/root0.pem" "$ACLM_HOME/live/default.example.test" || fail "default chain does not verify against root 0"
live_verifies "$T/root1.pem" "$ACLM_HOME/live/default.example.test" && fail "default chain verifies against root 1"

note "--preferred-chain 'CN of root 1': the alternate chain"
expect_exit 0 issue -d alt.example.test --preferred-chain "$ROOT1_CN" -v
expect_contains "$(err)" "using the alternate chain"
live_verifies "$T/root1.pem" "$ACLM_HOME/live/alt.example.test" || fail "preferred chain does not verify against root 1"
live_verifies "$T/root0.pem" "$ACLM_HOME/live/alt.example.test" && fail "preferred chain verifies against root 0"
expect_eq "$(cn_of issuer "$ACLM_HOME/live/alt.example.test/chain.pem")" "$ROOT1_CN" "top issuer of chain.pem"

note "--preferred-chain naming the default's own root: no alternate is fetched"
ROOT0_CN=$(cn_of subject "$T/root0.pem")
expect_exit 0 issue -d zero.example.test --preferred-chain "$ROOT0_CN" -v
expect_not_contains "$(err)" "alternate"
live_verifies "$T/root0.pem" "$ACLM_HOME/live/zero.example.test" || fail "chain does not verify against root 0"

note "--preferred-chain matching nothing: the default chain, said at info level"
expect_exit 0 issue -d none.example.test --preferred-chain "No Such Root" -v
expect_contains "$(err)" "keeping the default"
live_verifies "$T/root0.pem" "$ACLM_HOME/live/none.example.test" || fail "fallback chain does not verify against root 0"

note "renew replays the stored --preferred-chain"
old=$(openssl x509 -in "$ACLM_HOME/live/alt.example.test/cert.pem" -noout -serial)
ok renew --force alt.example.test
expect_contains "$(out)" "renewed  alt.example.test"
expect_ne "$(openssl x509 -in "$ACLM_HOME/live/alt.example.test/cert.pem" -noout -serial)" "$old" "serial after renewal"
live_verifies "$T/root1.pem" "$ACLM_HOME/live/alt.example.test" || fail "renewed chain does not verify against root 1"
live_verifies "$T/root0.pem" "$ACLM_HOME/live/alt.example.test" && fail "renewed chain verifies against root 0"
true
