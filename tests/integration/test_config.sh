# Proves: configuration precedence flag > environment > file > default (value, origin and effect)
# for [store] db and [core] tenant; refused configuration files name FILE:LINE; --config,
# ACLM_CONFIG, --home, ACLM_HOME; --version, help, --help; unknown commands exit 2; global
# options after the command; JSON log lines.
. "$ACLM_SRC/tests/integration/lib.sh"

CONF=$ACLM_HOME/aclm.conf
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj /CN=one.example.test -days 30 -out "$T/one.pem" 2>/dev/null

# cfg SECTION KEY [GLOBAL ARGS...]: "VALUE|ORIGIN" from `config show --format json`.
cfg() {
	s=$1 k=$2
	shift 2
	expect_exit 0 aclm "$@" config show --format json
	python3 - "$OUT" "$s" "$k" <<'EOF' || { lib__show; fail "config show: no [$s] $k"; }
import json, sys
d = json.load(open(sys.argv[1]))
s, k = sys.argv[2], sys.argv[3]
full = s + "." + k
def find(d):
    if isinstance(d, list):
        for o in d:
            if isinstance(o, dict) and ((o.get("section") == s and o.get("key") == k)
                                        or o.get("key") == full or o.get("name") == full):
                return o
    elif isinstance(d, dict):
        if full in d:
            return d[full]
        if isinstance(d.get(s), dict) and k in d[s]:
            return d[s][k]
        for v in d.values():
            if isinstance(v, (list, dict)):
                r = find(v)
                if r is not None:
                    return r
    return None
o = find(d)
if not isinstance(o, dict):
    sys.exit("no entry for %s in %s" % (full, json.dumps(d)[:400]))
print("%s|%s" % (o.get("value"), o.get("origin", o.get("source"))))
EOF
}

# [store] db: default, file, environment (both names), flag — and the database really used.
expect_eq "$(cfg store db)" "sqlite:aclm.db|default" "[store] db default"
printf '[store]\ndb = sqlite:file.db\n' >"$CONF"
expect_eq "$(cfg store db)" "sqlite:file.db|file" "[store] db from aclm.conf"
ok cert import "$T/one.pem"
[ -f "$ACLM_HOME/file.db" ] || fail "[store] db from the file is not the database used"
expect_eq "$(ACLM_STORE_DB=sqlite:store-env.db cfg store db)" "sqlite:store-env.db|environment" "ACLM_STORE_DB"
expect_eq "$(ACLM_DB=sqlite:env.db cfg store db)" "sqlite:env.db|environment" "ACLM_DB over the file"
ACLM_DB=sqlite:env.db ok cert import "$T/one.pem"
[ -f "$ACLM_HOME/env.db" ] || fail "ACLM_DB is not the database used"
expect_eq "$(ACLM_DB=sqlite:env.db cfg store db --db sqlite:flag.db)" "sqlite:flag.db|flag" "--db over the environment"
ACLM_DB=sqlite:env.db ok --db sqlite:flag.db cert import "$T/one.pem"
[ -f "$ACLM_HOME/flag.db" ] || fail "--db is not the database used"
[ ! -f "$ACLM_HOME/aclm.db" ] || fail "the default database was created although [store] db was set"

# [core] tenant: the same ladder, and the tenant commands act on.
expect_eq "$(cfg core tenant)" "default|default" "[core] tenant default"
printf '[core]\ntenant = filetenant\n' >"$CONF"
expect_eq "$(cfg core tenant)" "filetenant|file" "[core] tenant from aclm.conf"
expect_eq "$(ACLM_CORE_TENANT=coreenv cfg core tenant)" "coreenv|environment" "ACLM_CORE_TENANT"
expect_eq "$(ACLM_TENANT=envtenant cfg core tenant)" "envtenant|environment" "ACLM_TENANT over the file"
expect_eq "$(ACLM_TENANT=envtenant cfg core tenant --tenant flagtenant)" "flagtenant|flag" "--tenant over the environment"
for t in filetenant flagtenant other late; do ok tenant add "$t"; done
ok report summary --format json
json_check "$OUT" "d['tenant'] == 'filetenant'" "report acts on the file's tenant"
ACLM_TENANT=envtenant ok --tenant flagtenant report summary --format json
json_check "$OUT" "d['tenant'] == 'flagtenant'" "report acts on the flag's tenant"
# -v is the flag layer of [log] level.
expect_eq "$(cfg log level -v)" "info|flag" "-v sets [log] level"
expect_eq "$(cfg log level -vv)" "debug|flag" "-vv sets [log] level"

# Refused files: unknown key, unknown section, bad enum value, out-of-range integer -> FILE:LINE.
refused() { # WHAT LINE TEXT
	printf '%b' "$3" >"$CONF"
	expect_exit 1 aclm cert list
	expect_contains "$(err)" "aclm.conf:$2" "$1"
	expect_exit 1 aclm config show
	expect_contains "$(err)" "aclm.conf:$2" "$1 (config show)"
}
refused "unknown key" 3 '[core]\ntenant = x\nbogus = 1\n'
refused "key of an unknown section" 5 '# comment\n[core]\ntenant = x\n[nosuch]\nkey = 1\n'
refused "bad [log] level" 2 '[log]\nlevel = loud\n'
refused "[import] max_file_bytes below its minimum" 3 '\n[import]\nmax_file_bytes = 12\n'
refused "bad type of a [notify.NAME] section" 3 '[notify.ops]\nurl = https://h.example/x\ntype = pager\n'
rm -f "$CONF"

# Named sections: [notify.NAME] keys are shown per instance with FILE:LINE; the environment
# overrides one instance's key (ACLM_NOTIFY_OPS_URL).
printf '[notify.ops]\ntype = webhook\nurl = https://h.example/x\n' >"$CONF"
expect_eq "$(cfg notify.ops url)" "https://h.example/x|file" "[notify.ops] url"
expect_eq "$(ACLM_NOTIFY_OPS_URL=https://e.example/y cfg notify.ops url)" \
	"https://e.example/y|environment" "ACLM_NOTIFY_OPS_URL"
expect_exit 0 aclm config show
expect_contains "$(grep '^notify.ops.url' "$OUT")" "aclm.conf:3" "where [notify.ops] url comes from"
rm -f "$CONF"

# --config FILE and ACLM_CONFIG are read instead of HOME/aclm.conf; a named file must exist.
printf '[core]\ntenant = home-conf\n' >"$CONF"
printf '[core]\ntenant = other-conf\n' >"$T/other.conf"
expect_eq "$(cfg core tenant --config "$T/other.conf")" "other-conf|file" "--config FILE"
expect_eq "$(ACLM_CONFIG=$T/other.conf cfg core tenant)" "other-conf|file" "ACLM_CONFIG"
printf '[log]\nlevel = loud\n' >"$T/bad.conf"
expect_exit 1 aclm --config "$T/bad.conf" cert list
expect_contains "$(err)" "bad.conf:2" "--config FILE errors name that file"
expect_exit "1|2" aclm --config "$T/missing.conf" cert list
[ -s "$ERR" ] || fail "--config with a missing file: no message"
rm -f "$CONF"

# --home and ACLM_HOME choose where the database and master key live; the flag wins.
mkdir -p "$T/h1" "$T/h2" "$T/h3"
ok --home "$T/h1" key gen --key-type p256
[ -f "$T/h1/aclm.db" ] && [ -f "$T/h1/master.key" ] || fail "--home: no database or master key in it"
ACLM_HOME=$T/h2 ok key gen --key-type p256
[ -f "$T/h2/aclm.db" ] && [ -f "$T/h2/master.key" ] || fail "ACLM_HOME: no database or master key in it"
ACLM_HOME=$T/h2 ok --home "$T/h3" key gen --key-type p256
[ -f "$T/h3/aclm.db" ] || fail "--home over ACLM_HOME"
[ ! -f "$ACLM_HOME/master.key" ] || fail "--home elsewhere still wrote a master key into ACLM_HOME"

# Version and help.
version=$(sed -n 's/^project(aclm VERSION \([0-9.]*\).*/\1/p' "$ACLM_SRC/CMakeLists.txt")
ok --version
expect_contains "$(out)" "$version" "aclm --version"
ok help
for w in cert key csr report backup; do expect_contains "$(out)" "$w" "aclm help"; done
ok cert --help
for w in import list show export rm; do expect_contains "$(out)" "$w" "aclm cert --help"; done
ok help cert
expect_contains "$(out)" "import" "aclm help cert"
ok cert import --help
expect_contains "$(out)" "--password-file" "aclm cert import --help"
ok cert list --help
expect_contains "$(out)" "--expiring" "aclm cert list --help"
expect_exit 2 aclm nosuchcommand
[ -s "$ERR" ] || fail "unknown command: no message"
expect_exit 2 aclm --nosuchoption cert list
expect_exit 2 aclm
expect_exit 2 aclm --tenant

# Global options after the command.
ok cert import "$T/one.pem"
expect_eq "$(list_json)" 1 "one certificate in the default tenant"
ok cert list --format json --tenant other
json_check "$OUT" "d == []" "--tenant after the command"
ok report summary --format json --tenant late
json_check "$OUT" "d['tenant'] == 'late'" "--tenant after the subcommand's options"

# Logs: JSON lines on standard error; -q keeps a successful command quiet.
check_json_log() { # WHAT: every stderr line is a JSON object; at least one line
	[ -s "$ERR" ] || fail "$1: no log lines on stderr"
	python3 - "$ERR" <<'EOF' || { lib__show; fail "$1: a stderr line is not a JSON object"; }
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        assert isinstance(json.loads(line), dict), line
EOF
}
ok --log-format json -vv cert list
check_json_log "--log-format json -vv"
ok cert list --log-format json -vv
check_json_log "--log-format json -vv after the command"
ACLM_LOG_FORMAT=json ACLM_LOG_LEVEL=debug ok cert list
check_json_log "ACLM_LOG_FORMAT=json ACLM_LOG_LEVEL=debug"
expect_exit 1 aclm --log-format json cert show 99999999
check_json_log "--log-format json error"
ok -q cert list
[ ! -s "$ERR" ] || { lib__show; fail "-q: a successful command wrote to stderr"; }
expect_exit 2 aclm --log-format xml cert list
# Last, as the one most open to reading: the import summary on stderr is a log line too.
ok --log-format json -v cert import "$T/one.pem"
python3 - "$ERR" <<'EOF' || { lib__show; fail "--log-format json -v: a stderr line is not JSON"; }
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        json.loads(line)
EOF
