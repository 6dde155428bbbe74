# aclm account against Pebble: register, show (text and JSON, RFC 8555 §7.3.3), key rollover
# (§7.3.5) after which issue keeps the account and signs with the new key, deactivation
# (§7.3.6) after which show reports it (Pebble answers unauthorized for the account) and the
# next issue registers a new account.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/pebble.sh"

start_pebble

at() { # SUBCOMMAND ARGS...: aclm account SUBCOMMAND at Pebble
	sub=$1
	shift
	aclm account "$sub" --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" "$@"
}
issue() {
	aclm issue --server "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --agree-tos \
		--http-listen "127.0.0.1:$PEBBLE_HTTP_PORT" "$@"
}

note "register, then list shows one valid account"
expect_exit 0 at register --agree-tos --email ops@example.test
expect_contains "$(out)" "registered https://127.0.0.1" "register output"
ok account list --format json
cp "$OUT" "$T/acc.json"
json_check "$T/acc.json" "len(d) == 1 and d[0]['status'] == 'valid'" "one valid account"
URL=$(json_get "$T/acc.json" "d[0]['url']")
KEY1=$(json_get "$T/acc.json" "d[0]['key_id']")

note "show: the server's view, text and JSON"
expect_exit 0 at show
expect_contains "$(out)" "status:   valid" "show text status"
expect_contains "$(out)" "url:      $URL" "show text url"
expect_contains "$(out)" "mailto:ops@example.test" "show text contact"
expect_contains "$(out)" "key id:   $KEY1" "show text key id"
expect_exit 0 at show --format json
cp "$OUT" "$T/show.json"
json_check "$T/show.json" "d['status'] == 'valid'" "show json status"
json_check "$T/show.json" "d['url'] == '$URL'" "show json url matches list"
json_check "$T/show.json" "d['contact'] == ['mailto:ops@example.test']" "show json contact"
json_check "$T/show.json" "d['key_id'] == '$KEY1' and d['created'][:2] == '20'" "show json key and created"

note "rollover: same account URL, a new key"
expect_exit 0 at rollover
expect_contains "$(out)" "rolled over $URL" "rollover output"
ok account list --format json
cp "$OUT" "$T/acc2.json"
json_check "$T/acc2.json" "[a['url'] for a in d if a['status'] == 'valid'] == ['$URL']" "one valid row, same URL"
KEY2=$(json_get "$T/acc2.json" "[a['key_id'] for a in d if a['status'] == 'valid'][0]")
expect_ne "$KEY2" "$KEY1" "the valid row's key"
json_check "$T/acc2.json" "[a['status'] for a in d if a['key_id'] == '$KEY1'] == ['deactivated']" "old key retired"
expect_exit 0 at show --format json
cp "$OUT" "$T/show2.json"
json_check "$T/show2.json" "d['status'] == 'valid' and d['key_id'] == '$KEY2' and d['url'] == '$URL'" "show after rollover"

note "issue after the rollover signs with the new key, same account"
expect_exit 0 issue -d r.example.test --format json
ok account list --format json
cp "$OUT" "$T/acc3.json"
json_check "$T/acc3.json" "len(d) == 2 and [a['key_id'] for a in d if a['status'] == 'valid'] == ['$KEY2']" "no new account"
ok cert list --search r.example.test --format json
cp "$OUT" "$T/certs.json"
json_check "$T/certs.json" "any(c['tags'].get('acme.account') for c in d if not c['is_ca'])" "issued"

note "deactivate: the server confirms, the row is deactivated"
expect_exit 0 at deactivate
expect_contains "$(out)" "deactivated" "deactivate output"
ok account list --format json
cp "$OUT" "$T/acc4.json"
json_check "$T/acc4.json" "all(a['status'] == 'deactivated' for a in d)" "no valid row left"

note "show after deactivation: Pebble refuses the account (unauthorized), the store's row is shown"
expect_exit 0 at show --format json
cp "$OUT" "$T/show3.json"
json_check "$T/show3.json" "d['status'] == 'deactivated' and d['url'] == '$URL' and d['key_id'] == '$KEY2'" "show deactivated"
expect_contains "$(err)" "unauthorized: Account has been deactivated" "Pebble's refusal"
expect_exit 0 at show
expect_contains "$(out)" "status:   deactivated" "show text deactivated"

note "the next issue registers a new account"
expect_exit 0 issue -d n.example.test
ok account list --format json
cp "$OUT" "$T/acc5.json"
json_check "$T/acc5.json" "len(set(a['url'] for a in d)) == 2" "two accounts (URLs)"
json_check "$T/acc5.json" "[a['url'] != '$URL' for a in d if a['status'] == 'valid'] == [True]" "one valid, new"
json_check "$T/acc5.json" "all(a['status'] == 'deactivated' for a in d if a['url'] == '$URL')" "the old one deactivated"

note "usage errors"
expect_exit 2 aclm account frobnicate
expect_exit 2 at show --format yaml
