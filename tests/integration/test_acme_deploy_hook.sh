# --deploy-hook against Pebble: after issuance the hook runs (no shell, its words as argv) with
# certbot's RENEWED_LINEAGE and RENEWED_DOMAINS plus ACLM_CERT_ID, never ACLM_MASTER_KEY; renew
# replays it from the lineage; a failing hook exits 1 with its message, the certificate stays;
# with several key types a hook failing for the first lineage does not stop the next one.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

start_pebble
cat >"$T/hook.sh" <<HOOK
#!/bin/sh
n=\$(ls "$T" | grep -c '^hook-env\.' || true)
env >"$T/hook-env.\$n"
printf '%s\n' "\$@" >"$T/hook-args.\$n"
HOOK
cat >"$T/bad-hook.sh" <<'HOOK'
#!/bin/sh
echo "some progress"
echo "reload failed: nginx is not running" >&2
echo "second line" >&2
exit 3
HOOK
chmod +x "$T/hook.sh" "$T/bad-hook.sh"
export ACLM_MASTER_KEY=$(openssl rand -base64 32)
issue() { # EXIT ARGS...: aclm issue against Pebble, http-01 through the built-in listener
	issue__want=$1
	shift
	expect_exit "$issue__want" aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos \
		--http-listen "127.0.0.1:$PEBBLE_HTTP_PORT" "$@"
}
# env_of N VAR: VAR's value in the environment the hook's Nth run saw.
env_of() {
	sed -n "s/^$2=//p" "$T/hook-env.$1"
}

note "issue runs the hook with RENEWED_LINEAGE, RENEWED_DOMAINS, ACLM_CERT_ID and its arguments"
issue 0 -d hook.example.test -d www.hook.example.test \
	--deploy-hook "$T/hook.sh arg1 'two words'"
d=$ACLM_HOME/live/hook.example.test
[ -f "$T/hook-env.0" ] || fail "the deploy hook did not run"
[ ! -f "$T/hook-env.1" ] || fail "the deploy hook ran more than once"
expect_eq "$(env_of 0 RENEWED_LINEAGE)" "$d" "RENEWED_LINEAGE"
expect_eq "$(env_of 0 RENEWED_DOMAINS)" "hook.example.test www.hook.example.test" "RENEWED_DOMAINS"
expect_eq "$(cat "$T/hook-args.0")" "arg1
two words" "hook arguments"
list_json >/dev/null
id=$(id_of_fp "$T/list.json" "$(pem_fp "$d/cert.pem")")
expect_eq "$(env_of 0 ACLM_CERT_ID)" "$id" "ACLM_CERT_ID"
grep -q '^ACLM_MASTER_KEY=' "$T/hook-env.0" && fail "the deploy hook saw ACLM_MASTER_KEY"
expect_eq "$(grep -c '^ACLM_' "$T/hook-env.0")" 1 "ACLM_* variables the hook saw"

note "renew replays the stored hook for the new certificate"
ok renew --force hook.example.test
expect_contains "$(out)" "renewed  hook.example.test"
[ -f "$T/hook-env.1" ] || fail "renew did not run the deploy hook"
list_json >/dev/null
id2=$(id_of_fp "$T/list.json" "$(pem_fp "$d/cert.pem")")
expect_ne "$id2" "$id" "renewed certificate id"
expect_eq "$(env_of 1 ACLM_CERT_ID)" "$id2" "ACLM_CERT_ID after renew"
expect_eq "$(env_of 1 RENEWED_LINEAGE)" "$d" "RENEWED_LINEAGE after renew"
grep -q '^ACLM_MASTER_KEY=' "$T/hook-env.1" && fail "the deploy hook saw ACLM_MASTER_KEY on renew"

note "a failing hook: exit 1 with its first stderr line; the certificate is issued and stored"
issue 1 -d bad.example.test --deploy-hook "$T/bad-hook.sh"
expect_contains "$(err)" "deploy hook \`$T/bad-hook.sh\` exited 3: reload failed: nginx is not running"
expect_contains "$(err)" "issued and stored"
expect_contains "$(out)" "issued   bad.example.test"
b=$ACLM_HOME/live/bad.example.test
[ -f "$b/cert.pem" ] || fail "the lineage files are missing after a failing hook"
list_json >/dev/null
id_of_fp "$T/list.json" "$(pem_fp "$b/cert.pem")" >/dev/null

note "renew reports the failing hook and exits 1"
expect_exit 1 aclm renew --force bad.example.test
expect_contains "$(out)" "failed   bad.example.test: deploy hook"

note "a hook command that cannot be split fails before any order"
n=$(list_json)
issue "1|2" -d never.example.test --deploy-hook "$T/hook.sh 'unterminated"
expect_contains "$(err)" "deploy hook: command"
expect_contains "$(err)" "unterminated single quote"
expect_eq "$(list_json)" "$n" "inventory size after a bad hook command"
[ ! -e "$ACLM_HOME/live/never.example.test" ] || fail "a lineage was written for a bad hook command"

note "--batch runs the hook after each line's issuance"
echo "batch.example.test" >"$T/batch.txt"
issue 0 --batch "$T/batch.txt" --deploy-hook "$T/hook.sh"
[ -f "$T/hook-env.2" ] || fail "--batch did not run the deploy hook"
expect_eq "$(env_of 2 RENEWED_LINEAGE)" "$ACLM_HOME/live/batch.example.test" "RENEWED_LINEAGE (batch)"
expect_eq "$(env_of 2 RENEWED_DOMAINS)" "batch.example.test" "RENEWED_DOMAINS (batch)"

note "--key-type p256,rsa2048: the hook fails for the first lineage, the second is still issued"
cat >"$T/first-fails.sh" <<HOOK
#!/bin/sh
# Fails for the first lineage only; records each run.
echo "\$RENEWED_LINEAGE" >>"$T/first-fails.runs"
case \$RENEWED_LINEAGE in
*/multi.example.test) echo "cannot deploy \$RENEWED_LINEAGE" >&2; exit 4 ;;
esac
exit 0
HOOK
chmod +x "$T/first-fails.sh"
issue 1 -d multi.example.test --key-type p256,rsa2048 --deploy-hook "$T/first-fails.sh"
m=$ACLM_HOME/live/multi.example.test
expect_contains "$(out)" "issued   multi.example.test: certificate" "first lineage issued"
expect_contains "$(out)" "issued   multi.example.test-rsa2048: certificate" "second lineage issued"
[ -f "$m/cert.pem" ] && [ -f "$m-rsa2048/cert.pem" ] || fail "both lineages' files must exist"
openssl x509 -in "$m-rsa2048/cert.pem" -noout -text | grep -q "rsaEncryption" ||
	fail "the second lineage's certificate is not RSA"
expect_eq "$(cat "$T/first-fails.runs")" "$m
$m-rsa2048" "the hook ran once per lineage, in order"
expect_contains "$(err)" "multi.example.test: deploy hook \`$T/first-fails.sh\` exited 4: cannot deploy $m" \
	"the first lineage's hook failure"
expect_contains "$(err)" "the deploy hook failed for 1 of 2 lineages: multi.example.test (" \
	"the summary names the lineage whose hook failed"
expect_not_contains "$(err)" "lineages: multi.example.test-rsa2048" "the summary names only the failed lineage"
list_json >/dev/null
id_of_fp "$T/list.json" "$(pem_fp "$m/cert.pem")" >/dev/null
id_of_fp "$T/list.json" "$(pem_fp "$m-rsa2048/cert.pem")" >/dev/null
