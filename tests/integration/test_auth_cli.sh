# Proves: `aclm tenant add|list`, `user add|list|passwd|rm` and `token create|list|revoke` work
# end to end on a real database: tokens are printed once or written 0600 with --out and only
# their SHA-256 is stored; passwords are stored as argon2id; JSON output parses; each tenant sees
# only its own users and tokens; bad roles, scopes, durations and short passwords are refused with
# the documented exit codes; `user rm` takes the user's tokens along; every change is audited
# and the audit chain still verifies.
. "$ACLM_SRC/tests/integration/lib.sh"

DB=$(db_path)
sql() { # SQL -> first column of the first row
	python3 - "$DB" "$1" <<'EOF'
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None or r[0] is None else r[0])
EOF
}

# ---- tenants ----
ok tenant add team-a --format json
cp "$OUT" "$T/tenant.json"
json_check "$T/tenant.json" 'd["name"] == "team-a" and d["id"] > 0' "tenant add JSON"
expect_exit 1 aclm tenant add team-a
expect_contains "$(err)" "already exists"
ok tenant list --format json
cp "$OUT" "$T/tenants.json"
json_check "$T/tenants.json" '[t["name"] for t in d] == ["default", "team-a"]' "tenant list"
ok tenant list
expect_contains "$(out)" "team-a"
expect_exit 2 aclm tenant frobnicate
expect_exit 2 aclm tenant add

# ---- users ----
printf '%s\n' 'correct horse battery staple' >"$T/pw"
printf '%s\n' 'too short' >"$T/short"
ok user add alice --role operator --password-file "$T/pw" --format json
cp "$OUT" "$T/alice.json"
json_check "$T/alice.json" 'd["name"] == "alice" and d["role"] == "operator" and d["tenant"] == "default"' \
	"user add JSON"
expect_eq "$(sql "SELECT substr(password_hash, 1, 31) FROM users WHERE name = 'alice'")" \
	'$argon2id$v=19$m=65536,t=3,p=1$' "stored password hash"
expect_eq "$(sql "SELECT count(*) FROM users WHERE password_hash LIKE '%horse%'")" 0 "plain password"
printf '%s\n' 'another long passphrase' | aclm user add bob --role viewer --password-file - \
	>"$OUT" 2>"$ERR" || { lib__show; fail "user add with the password on stdin"; }
ok user add robot --role admin
expect_exit 2 aclm user add carol --role root
expect_contains "$(err)" "viewer, auditor, operator, admin"
expect_exit 2 aclm user add carol
expect_exit 1 aclm user add carol --role viewer --password-file "$T/short"
expect_contains "$(err)" "12 to 1024 characters"
expect_exit 1 aclm user add 'bad name' --role viewer
expect_exit 1 aclm user add alice --role viewer
expect_contains "$(err)" "already exists"
expect_eq "$(sql "SELECT count(*) FROM users WHERE name = 'carol'")" 0 "refused user stored"
ok user list --format json
cp "$OUT" "$T/users.json"
json_check "$T/users.json" '[[u["name"], u["role"], u["has_password"]] for u in d] == [["alice", "operator", True], ["bob", "viewer", True], ["robot", "admin", False]]' \
	"user list"
json_check "$T/users.json" 'all("password_hash" not in u for u in d)' "no hash in user list"
ok user list
expect_contains "$(out)" "robot"
ok user passwd alice --password-file "$T/pw"
expect_exit 1 aclm user passwd alice --password-file "$T/short"
expect_exit 2 aclm user passwd alice
expect_exit 1 aclm user passwd nobody --password-file "$T/pw"
expect_contains "$(err)" "not found"

# ---- tokens ----
ok token create --name ci --role operator --expires 90d
TOKEN=$(out)
case $TOKEN in
aclm_[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]_*) ;;
*) fail "token format: $TOKEN" ;;
esac
expect_eq "${#TOKEN}" 65 "token length"
ID=$(printf '%s' "$TOKEN" | cut -c6-21)
SECRET=$(printf '%s' "$TOKEN" | cut -c23-)
expect_eq "$(sql "SELECT hash FROM api_tokens WHERE id = '$ID'")" \
	"$(printf '%s' "$SECRET" | sha256sum | cut -d' ' -f1)" "stored SHA-256 of the secret"
expect_eq "$(sql "SELECT count(*) FROM api_tokens WHERE hash LIKE '%$SECRET%'")" 0 "secret stored"

ok token create --name deploy --role admin --user robot --out "$T/robot.token" --format json
cp "$OUT" "$T/robot.json"
expect_eq "$(mode_of "$T/robot.token")" 600 "--out file mode"
json_check "$T/robot.json" 'd["token_file"] and "token" not in d and d["user"] == "robot"' \
	"token create --out JSON"
RID=$(json_get "$T/robot.json" 'd["id"]')
expect_contains "$(cat "$T/robot.token")" "aclm_${RID}_"
ok token create --name scrape --role viewer --scope metrics --format json
cp "$OUT" "$T/metrics.json"
json_check "$T/metrics.json" 'd["scope"] == "metrics" and d["token"].startswith("aclm_") and d["expires_at"] is None' \
	"metrics token JSON"
expect_exit 2 aclm token create --name x --role superuser
expect_exit 2 aclm token create --name x --role viewer --scope everything
expect_exit 2 aclm token create --name x --role viewer --expires soon
expect_exit 2 aclm token create --role viewer
expect_exit 1 aclm token create --name x --role viewer --user nobody
ok token list --format json
cp "$OUT" "$T/tokens.json"
json_check "$T/tokens.json" 'sorted(t["name"] for t in d) == ["ci", "deploy", "scrape"]' "token list"
json_check "$T/tokens.json" 'all("hash" not in t and t["revoked_at"] is None for t in d)' \
	"token list fields"
json_check "$T/tokens.json" '[t["expires_at"] is not None for t in d if t["name"] == "ci"] == [True]' \
	"--expires sets expires_at"
expect_not_contains "$(cat "$T/tokens.json")" "$SECRET" "token list"
ok token list
expect_contains "$(out)" "$ID"

ok token revoke "$ID"
expect_ne "$(sql "SELECT revoked_at FROM api_tokens WHERE id = '$ID'")" "" "revoked_at"
expect_exit 1 aclm token revoke 0123456789abcdef
expect_contains "$(err)" "not found"
expect_exit 2 aclm token revoke

# ---- tenant isolation ----
ok --tenant team-a user list --format json
cp "$OUT" "$T/a-users.json"
json_check "$T/a-users.json" 'd == []' "team-a sees no users of default"
ok --tenant team-a token list --format json
cp "$OUT" "$T/a-tokens.json"
json_check "$T/a-tokens.json" 'd == []' "team-a sees no tokens of default"
expect_exit 1 aclm --tenant team-a token revoke "$RID"
expect_exit 1 aclm --tenant team-a user rm alice
expect_exit 1 aclm --tenant team-a token create --name x --role viewer --user robot
ok --tenant team-a user add alice --role admin
expect_eq "$(sql "SELECT count(*) FROM users WHERE name = 'alice'")" 2 "same name, two tenants"

# ---- user rm takes its tokens along ----
ok user rm robot
expect_eq "$(sql "SELECT count(*) FROM api_tokens WHERE id = '$RID'")" 0 "robot's token after user rm"
expect_exit 1 aclm user rm robot

# ---- audit ----
for a in tenant.add user.add user.passwd user.rm token.create token.revoke; do
	expect_ne "$(sql "SELECT count(*) FROM audit WHERE action = '$a'")" 0 "audit events $a"
done
expect_eq "$(sql "SELECT count(*) FROM audit WHERE detail LIKE '%$SECRET%' OR detail LIKE '%horse%'")" \
	0 "secrets in the audit log"
ok audit verify
db_integrity "$DB"
