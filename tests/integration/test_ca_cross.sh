# Cross-signed intermediates (`aclm ca cross-sign`) and alternate chains from aclm's CA (RFC 8555
# §7.4.2): a second CA's root signs a copy of TestCA's P-256 intermediate (same subject and key);
# after a restart `ca serve` links it as an alternate chain. aclm's client gets the default chain
# without --preferred-chain (verifies against TestCA's root only) and the cross-signed chain with
# the other root's CN (verifies against that root only). The command's refusals: no --by, a root
# signing its own intermediate, an ambiguous key type, an offline root without or with the wrong
# --root-key; with the right file it signs.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/aclm_ca.sh"

start_aclm_ca p256
issue() { ca_issue "$@"; }
ca_cmd() { # what `aclm ca ...` in the CA's home printed goes to $T/ca.out; its status returns
	aclm_ca ca "$@" >"$T/ca.out" 2>&1
}

note "refusals"
ca_cmd cross-sign --ca TestCA && fail "cross-sign without --by succeeded"
expect_contains "$(cat "$T/ca.out")" "--by"
ca_cmd cross-sign --ca TestCA --by TestCA && fail "a root cross-signed its own intermediate"
expect_contains "$(cat "$T/ca.out")" "already signed by its own root"
ca_cmd init --name OldCA --key-type p256 --key-type rsa3072 || fail "ca init OldCA: $(cat "$T/ca.out")"
ca_cmd cross-sign --ca TestCA --by OldCA && fail "cross-sign with an ambiguous --by key type succeeded"
expect_contains "$(cat "$T/ca.out")" "several key types (p256, rsa3072)"
ca_cmd init --name Offline --key-type p256 --offline-root || fail "ca init Offline: $(cat "$T/ca.out")"
ca_cmd cross-sign --ca TestCA --by Offline && fail "an offline root signed without its key file"
expect_contains "$(cat "$T/ca.out")" "--root-key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/other.key" 2>/dev/null
ca_cmd cross-sign --ca TestCA --by Offline --root-key "$T/other.key" && fail "a wrong root key signed"
expect_contains "$(cat "$T/ca.out")" "not the key of"
ca_cmd cross-sign --ca TestCA --by Offline --root-key "$CA_HOME/ca/Offline-p256-root.key" ||
	fail "the offline root's key file did not sign: $(cat "$T/ca.out")"

note "OldCA's P-256 root cross-signs TestCA's intermediate"
ca_cmd cross-sign --ca TestCA --by OldCA --by-key-type p256 --format json ||
	fail "cross-sign: $(cat "$T/ca.out")"
CROSS_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cert_id"])' "$T/ca.out")
aclm_ca cert export "$CROSS_ID" --out "$T/cross.pem" || fail "cert export $CROSS_ID"
aclm_ca ca roots --ca OldCA >"$T/old-roots.pem"
OLD_ROOT_CN="OldCA Root P256"
expect_eq "$(cn_of issuer "$T/cross.pem")" "$OLD_ROOT_CN" "issuer of the cross-signed intermediate"
expect_eq "$(cn_of subject "$T/cross.pem")" "TestCA Intermediate P256" "its subject"
openssl verify -CAfile "$T/old-roots.pem" "$T/cross.pem" >/dev/null 2>&1 ||
	fail "the cross-signed intermediate does not verify against OldCA's root"

# ca serve loads intermediates at start; two CAs now, so it names its own.
stop_aclm_ca
CA_SERVE_ARGS="--ca TestCA"
restart_aclm_ca

note "no --preferred-chain: the default chain, to TestCA's root"
expect_exit 0 issue -d default.cross.test
live_verifies "$CA_ROOTS" "$ACLM_HOME/live/default.cross.test" || fail "default chain does not verify against TestCA's root"
live_verifies "$T/old-roots.pem" "$ACLM_HOME/live/default.cross.test" && fail "default chain verifies against OldCA's root"

note "--preferred-chain '$OLD_ROOT_CN': the alternate chain through the cross-signed intermediate"
expect_exit 0 issue -d alt.cross.test --preferred-chain "$OLD_ROOT_CN" -v
expect_contains "$(err)" "using the alternate chain"
live_verifies "$T/old-roots.pem" "$ACLM_HOME/live/alt.cross.test" || fail "alternate chain does not verify against OldCA's root"
live_verifies "$CA_ROOTS" "$ACLM_HOME/live/alt.cross.test" && fail "alternate chain verifies against TestCA's root"
expect_eq "$(cn_of issuer "$ACLM_HOME/live/alt.cross.test/chain.pem")" "$OLD_ROOT_CN" "top issuer of chain.pem"

note "--preferred-chain naming no root the CA offers: the default chain"
expect_exit 0 issue -d none.cross.test --preferred-chain "Nobody Root"
live_verifies "$CA_ROOTS" "$ACLM_HOME/live/none.cross.test" || fail "unknown preference did not keep the default chain"

stop_aclm_ca
