# aclm deploy LINEAGE against a lineage issued from Pebble: the lineage's current certificate
# (with the key the ACME client generated) is deployed; after a renewal the new one; bindings
# and `deployments LINEAGE` keep to that lineage; an unknown reference fails the whole command.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

start_pebble
export ACLM_MASTER_KEY=$(openssl rand -base64 32)
issue() {
	expect_exit 0 aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos \
		--http-listen "127.0.0.1:$PEBBLE_HTTP_PORT" "$@"
}
issue -d lin.example.test
issue -d other.example.test
L=$ACLM_HOME/live/lin.example.test
mkdir -p "$T/f1" "$T/f2"
ok target add f1 --type file --fullchain-path "$T/f1/fullchain.pem" --key-path "$T/f1/key.pem"
ok target add f2 --type file --cert-path "$T/f2/cert.pem"

ok deploy lin.example.test --to f1,f2 --format json
json_check "$OUT" '[r["state"] for r in d] == ["deployed", "deployed"]' "deploy by lineage"
json_check "$OUT" 'all(r["lineage"] == "lin.example.test" for r in d)' "lineage in the results"
expect_eq "$(pem_fp "$T/f1/fullchain.pem")" "$(pem_fp "$L/cert.pem")" "the lineage's certificate"
openssl pkey -in "$T/f1/key.pem" -pubout >"$T/k1.pub" 2>/dev/null || fail "key.pem does not load"
openssl x509 -in "$L/cert.pem" -pubkey -noout >"$T/k2.pub"
cmp -s "$T/k1.pub" "$T/k2.pub" || fail "key.pem is not the lineage's key"
expect_eq "$(pem_count "$T/f1/fullchain.pem")" "$(pem_count "$L/fullchain.pem")" "fullchain length"
ok deploy other.example.test --to f2
# Per lineage: each target's last deploy of it; overall: each target's last deploy.
ok deployments lin.example.test --format json
json_check "$OUT" '[(r["target"], r["lineage"]) for r in d] == [("f1", "lin.example.test"), ("f2", "lin.example.test")]' "deployments of one lineage"
ok deployments other.example.test --format json
json_check "$OUT" '[r["target"] for r in d] == ["f2"]' "deployments of the other lineage"
ok deployments --format json
json_check "$OUT" '[r["lineage"] for r in d] == ["lin.example.test", "other.example.test"]' "all lineages"

ok renew --force lin.example.test
ok deploy lin.example.test --to f1
expect_eq "$(pem_fp "$T/f1/fullchain.pem")" "$(pem_fp "$L/cert.pem")" "the renewed certificate"
ok bind lin.example.test f1
# aclm renew deploys the new certificate to the bound targets; a failed target fails the run.
before=$(pem_fp "$T/f1/fullchain.pem")
ok renew --force lin.example.test
expect_contains "$(out)" "deploy   lin.example.test:"
expect_ne "$(pem_fp "$T/f1/fullchain.pem")" "$before" "renew deployed to the bound target"
expect_eq "$(pem_fp "$T/f1/fullchain.pem")" "$(pem_fp "$L/cert.pem")" "the certificate renew deployed"
mkdir "$T/f3"
ok target add f3 --type file --cert-path "$T/f3/cert.pem"
ok bind lin.example.test f3
rmdir "$T/f3" # f3 now fails: its directory is gone
expect_exit 1 aclm renew --force lin.example.test
expect_contains "$(out)" "failed   lin.example.test: deploy:"
expect_eq "$(pem_fp "$T/f1/fullchain.pem")" "$(pem_fp "$L/cert.pem")" "f1 deployed although f3 failed"
expect_exit 1 aclm deploy no.such.lineage --to f1
expect_contains "$(err)" "no such certificate id, fingerprint or lineage"
expect_exit 2 aclm deploy lin.example.test
expect_exit 2 aclm deploy --to f1
