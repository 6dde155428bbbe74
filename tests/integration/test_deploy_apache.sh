# apache target against a real apache2 run as an unprivileged user (nobody) with a private
# configuration (ServerRoot, PidFile, ErrorLog in the temp dir, a high port): a deploy verified by
# probe after a graceful restart; a failing configuration test -> rollback, the previous
# certificate still served; a restart that kills the server -> rollback brings it back.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$LIB_DIR/deploy.sh"
command -v apache2 >/dev/null || { echo "SKIP: no apache2"; exit 0; }
command -v runuser >/dev/null || { echo "SKIP: no runuser"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run apache2 as nobody"; exit 0; }

mk_ca
for n in old new next; do mk_leaf "$n"; done
NEW=$(import_leaf new)
NEXT=$(import_leaf next)

A=$T/apache
mkdir -p "$A/tls" "$A/www"
chmod 755 "$T" # nobody walks to its ServerRoot
cat "$T/ca/old.pem" "$T/ca/inter.pem" >"$A/tls/fullchain.pem"
cp "$T/ca/old.key" "$A/tls/key.pem"
PORT=$(free_port)
M=/usr/lib/apache2/modules
cat >"$A/httpd.conf" <<CONF
ServerRoot "$A"
ServerName localhost
Listen 127.0.0.1:$PORT
PidFile $A/httpd.pid
ErrorLog $A/error.log
LogLevel warn
DefaultRuntimeDir $A
Mutex file:$A default
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule socache_shmcb_module $M/mod_socache_shmcb.so
LoadModule ssl_module $M/mod_ssl.so
SSLSessionCache none
<VirtualHost 127.0.0.1:$PORT>
	ServerName site.test
	DocumentRoot $A/www
	SSLEngine on
	SSLCertificateFile $A/tls/fullchain.pem
	SSLCertificateKeyFile $A/tls/key.pem
</VirtualHost>
CONF
echo ok >"$A/www/index.html"
chown -R nobody:nogroup "$A"
AP="runuser -u nobody -- apache2 -f $A/httpd.conf"
$AP -k start || fail "apache2 does not start: $(cat "$A/error.log" 2>/dev/null)"
trap 'lib__rc=$?; stop_pidfile "$A/httpd.pid"; sleep 0.5; (exit $lib__rc); lib__cleanup' EXIT
wait_tcp "$PORT"
expect_eq "$(served_fp "127.0.0.1:$PORT" site.test)" "$(pem_fp "$T/ca/old.pem")" "served before"

ok target add web --type apache --fullchain-path "$A/tls/fullchain.pem" --key-path "$A/tls/key.pem" \
	--owner nobody --group nogroup --test-cmd "$AP -t" --reload-cmd "$AP -k graceful" \
	--verify "127.0.0.1:$PORT/site.test"
ok deploy "$NEW" --to web --format json
cp "$OUT" "$T/r1.json"
json_check "$T/r1.json" 'd[0]["state"] == "deployed"' "apache deploy"
json_check "$T/r1.json" 'd[0]["served_fingerprint"] == d[0]["fingerprint"]' "verified by probe"
expect_eq "$(served_fp "127.0.0.1:$PORT" site.test)" "$(pem_fp "$T/ca/new.pem")" "served after"
expect_eq "$(stat -c '%a %U' "$A/tls/key.pem")" "600 nobody" "key.pem mode and owner"

# A configuration test that fails: nothing reloaded, the files as before, still served.
cp "$A/tls/fullchain.pem" "$T/before.pem"
ok target add web-badtest --type apache --fullchain-path "$A/tls/fullchain.pem" \
	--key-path "$A/tls/key.pem" --owner nobody --reload-cmd "$AP -k graceful" \
	--test-cmd "sh -c 'echo AH00526: Syntax error >&2; exit 1'" --verify "127.0.0.1:$PORT/site.test"
expect_exit 1 aclm deploy "$NEXT" --to web-badtest --format json
cp "$OUT" "$T/r2.json"
json_check "$T/r2.json" 'd[0]["state"] == "rolled_back"' "configtest failure -> rolled back"
json_check "$T/r2.json" '"AH00526" in d[0]["error"]' "the configtest's message"
cmp -s "$T/before.pem" "$A/tls/fullchain.pem" || fail "fullchain.pem not restored"
expect_eq "$(served_fp "127.0.0.1:$PORT" site.test)" "$(pem_fp "$T/ca/new.pem")" "still served"

# The certificate without its key: apache2 -t does not load certificates, so the test passes and
# the graceful restart kills the server; the verify sees nothing served, the rollback restores
# the files and restarts it with the previous certificate.
ok target add web-certonly --type apache --fullchain-path "$A/tls/fullchain.pem" --owner nobody \
	--test-cmd "$AP -t" --reload-cmd "$AP -k graceful" --verify "127.0.0.1:$PORT/site.test"
expect_exit 1 aclm deploy "$NEXT" --to web-certonly --format json
cp "$OUT" "$T/r3.json"
json_check "$T/r3.json" 'd[0]["state"] == "rolled_back"' "dead after restart -> rolled back"
json_check "$T/r3.json" 'd[0]["detail"]["rollback"] == "ok"' "rollback verified"
cmp -s "$T/before.pem" "$A/tls/fullchain.pem" || fail "fullchain.pem not restored (2)"
expect_eq "$(served_fp "127.0.0.1:$PORT" site.test)" "$(pem_fp "$T/ca/new.pem")" "served again"
