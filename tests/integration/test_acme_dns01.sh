# dns-01 against Pebble: a lego-protocol hook (a shell script calling pebble-challtestsrv's API, as
# a user's DNS-provider script would) publishes the TXT record, aclm waits until it is visible
# through the resolver, Pebble validates it; a wildcard name with its base name; the hook never
# sees ACLM_* variables; a hook that fails ends the run with its message.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

start_pebble
cat >"$T/hook.sh" <<HOOK
#!/bin/sh
# lego exec protocol: \$1 = present|cleanup, \$2 = FQDN, \$3 = value
echo "\$@ master=\${ACLM_MASTER_KEY:-unset} home=\${ACLM_HOME:-unset}" >>"$T/hook.log"
case \$1 in
present) curl -sf -d "{\"host\":\"\$2\",\"value\":\"\$3\"}" $PEBBLE_CHALLTESTSRV/set-txt ;;
cleanup) curl -sf -d "{\"host\":\"\$2\"}" $PEBBLE_CHALLTESTSRV/clear-txt ;;
esac
HOOK
chmod +x "$T/hook.sh"
export ACLM_MASTER_KEY=$(openssl rand -base64 32)

note "wildcard + base name through dns-01, propagation checked at challtestsrv"
expect_exit 0 aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos \
	-d '*.w.example.test' -d w.example.test --challenge dns-01 \
	--dns-hook "$T/hook.sh" --dns-resolver "$PEBBLE_DNS"
d=$ACLM_HOME/live/w.example.test
openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$d/chain.pem" "$d/cert.pem" >/dev/null 2>&1 ||
	fail "the wildcard certificate does not verify"
openssl x509 -in "$d/cert.pem" -noout -ext subjectAltName >"$T/san"
expect_file_contains "$T/san" "DNS:*.w.example.test" "SAN"
expect_file_contains "$T/san" "DNS:w.example.test" "SAN"
expect_eq "$(grep -c '^present _acme-challenge.w.example.test. ' "$T/hook.log")" 2 "present calls"
expect_eq "$(grep -c '^cleanup _acme-challenge.w.example.test. ' "$T/hook.log")" 2 "cleanup calls"
grep -q "master=unset home=unset" "$T/hook.log" || fail "the hook saw ACLM_* variables"
grep -v "master=unset home=unset" "$T/hook.log" && fail "the hook saw ACLM_* variables"

note "the stored lineage replays dns-01 on renew"
ok renew --force w.example.test
expect_contains "$(out)" "renewed  w.example.test"

note "wildcards need dns-01; dns-01 needs a hook"
expect_exit 2 aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" -d '*.x.example.test'
expect_contains "$(err)" "dns-01"
expect_exit 2 aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" -d x.example.test --challenge dns-01
expect_contains "$(err)" "--dns-hook"

note "a failing hook ends the run with its message; nothing written"
printf '#!/bin/sh\necho "provider says no" >&2\nexit 3\n' >"$T/bad-hook.sh"
chmod +x "$T/bad-hook.sh"
expect_exit 1 aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos \
	-d f.example.test --challenge dns-01 --dns-hook "$T/bad-hook.sh" --dns-propagation off
expect_contains "$(err)" "provider says no"
[ ! -e "$ACLM_HOME/live/f.example.test/cert.pem" ] || fail "files written after a failed hook"
