# Real STARTTLS servers for test_scan_starttls.sh (sourced, POSIX sh, after lib.sh): each writes a
# private configuration under $T, listens on 127.0.0.1 at the ports given, logs into its own
# directory, runs in the foreground under bg_track, and touches nothing outside $T.
# The test certificate is st_cert/st_key (set by the caller); "tls" or "plain" picks whether the
# server offers the upgrade at all. st_stop stops them all.
ST_PIDS="" # the servers' pids, for st_stop

# st_wait PORT LOG WHAT PID: waits until PORT accepts connections, failing with LOG if PID dies.
st_wait() {
	for _ in $(seq 1 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null &&
			return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.1
	done
	cat "$2" >&2 || true
	fail "$3 on $1 did not start"
}

# st_dir NAME: a fresh directory for one server, with a copy of the test certificate and key.
st_dir() {
	st_dir__d=$T/srv.$1
	mkdir -p "$st_dir__d"
	cp "$st_cert" "$st_dir__d/tls.crt"
	cp "$st_key" "$st_dir__d/tls.key"
	chmod 600 "$st_dir__d/tls.key"
	echo "$st_dir__d"
}

# dovecot_start tls|plain IMAP_PORT POP3_PORT: Dovecot with only imap and pop3, STARTTLS-style
# listeners (RFC 9051 §6.2.1, RFC 2595 §4) at the two ports, a passwd-file user database, and
# base_dir, state_dir and logs in its directory (Dovecot wants a userdb; nobody logs in). It starts
# as root and runs its login processes as dovenull, its internal ones as dovecot (the package's
# users); only the imap and pop3 listeners are on the network.
dovecot_start() {
	dc__d=$(st_dir "dovecot.$2")
	mkdir -p "$dc__d/run" "$dc__d/state" "$dc__d/mail"
	echo "probe:{CRYPT}!:$(id -u nobody):$(id -g nobody)::$dc__d/mail/probe" >"$dc__d/users"
	cat >"$dc__d/dovecot.conf" <<EOF
base_dir = $dc__d/run
state_dir = $dc__d/state
log_path = $dc__d/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
mail_location = maildir:$dc__d/mail/%u
passdb {
  driver = passwd-file
  args = $dc__d/users
}
userdb {
  driver = passwd-file
  args = $dc__d/users
}
service imap-login {
  inet_listener imap {
    port = $2
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $3
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF
	if [ "$1" = tls ]; then
		printf 'ssl = yes\nssl_cert = <%s\nssl_key = <%s\n' "$dc__d/tls.crt" "$dc__d/tls.key" \
			>>"$dc__d/dovecot.conf"
	else
		echo "ssl = no" >>"$dc__d/dovecot.conf"
	fi
	/usr/sbin/dovecot -F -c "$dc__d/dovecot.conf" >"$dc__d/stdout.log" 2>&1 &
	bg_track $!
	dc__pid=$!
	ST_PIDS="$ST_PIDS $dc__pid"
	st_wait "$2" "$dc__d/dovecot.log" dovecot "$dc__pid"
	st_wait "$3" "$dc__d/dovecot.log" dovecot "$dc__pid"
}

# vsftpd_start tls|plain PORT: vsftpd in standalone mode (listen=YES, background=NO) on
# 127.0.0.1:PORT; with tls, AUTH TLS (RFC 4217 §4) is offered, without it the command is refused.
# Anonymous logins only (vsftpd refuses to run with no login kind at all), rooted in an empty
# directory; its unprivileged child runs as nobody in secure_chroot_dir, which vsftpd wants
# root-owned and not writable: both are directories under $T.
vsftpd_start() {
	vs__d=$(st_dir "vsftpd.$2")
	mkdir -p "$vs__d/empty"
	chmod 555 "$vs__d/empty"
	vs__ssl=NO
	[ "$1" = tls ] && vs__ssl=YES
	cat >"$vs__d/vsftpd.conf" <<EOF2
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$2
background=NO
anonymous_enable=YES
anon_root=$vs__d/empty
local_enable=NO
write_enable=NO
nopriv_user=nobody
secure_chroot_dir=$vs__d/empty
xferlog_enable=NO
vsftpd_log_file=$vs__d/vsftpd.log
seccomp_sandbox=NO
ssl_enable=$vs__ssl
rsa_cert_file=$vs__d/tls.crt
rsa_private_key_file=$vs__d/tls.key
ssl_ciphers=HIGH
require_ssl_reuse=NO
EOF2
	/usr/sbin/vsftpd "$vs__d/vsftpd.conf" >"$vs__d/stdout.log" 2>&1 &
	bg_track $!
	ST_PIDS="$ST_PIDS $!"
	st_wait "$2" "$vs__d/stdout.log" vsftpd $!
}

# slapd_start tls|plain PORT: OpenLDAP's slapd from a slapd.conf with no database (the root DSE
# answers), listening on ldap://127.0.0.1:PORT/, run as nobody, in the foreground (-d 0).
# With tls, TLSCertificateFile/TLSCertificateKeyFile make the StartTLS extended operation
# (RFC 4511 §4.14, 1.3.6.1.4.1.1466.20037) succeed; without them slapd has no TLS to start.
# Debian's slapd uses GnuTLS, which ignores TLSProtocolMin and offers TLS 1.0 by default: the
# GnuTLS priority string in TLSCipherSuite keeps it to TLS 1.2 and 1.3 like the other servers.
slapd_start() {
	sl__d=$(st_dir "slapd.$2")
	cat >"$sl__d/slapd.conf" <<EOF2
pidfile $sl__d/slapd.pid
argsfile $sl__d/slapd.args
EOF2
	[ "$1" = tls ] && cat >>"$sl__d/slapd.conf" <<EOF2
TLSCertificateFile $sl__d/tls.crt
TLSCertificateKeyFile $sl__d/tls.key
TLSCipherSuite NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2
EOF2
	sl__as=""
	if [ "$(id -u)" = 0 ]; then
		chown -R nobody:nogroup "$sl__d"
		sl__as="-u nobody -g nogroup"
	fi
	# shellcheck disable=SC2086
	/usr/sbin/slapd -d 0 -f "$sl__d/slapd.conf" -h "ldap://127.0.0.1:$2/" $sl__as \
		>"$sl__d/slapd.log" 2>&1 &
	bg_track $!
	ST_PIDS="$ST_PIDS $!"
	st_wait "$2" "$sl__d/slapd.log" slapd $!
}

# prosody_start tls|plain PORT DOMAIN: Prosody with a VirtualHost DOMAIN and its c2s listener on
# 127.0.0.1:PORT (s2s off); with tls, mod_tls offers <starttls/> (RFC 6120 §5.4) with the test
# certificate, without it the stream features have none. Prosody refuses to run as root (only
# prosodyctl switches users): as root it runs as nobody through setpriv. `certificates` names an
# empty directory so that nothing is read from /etc/prosody/certs.
prosody_start() {
	pr__d=$(st_dir "prosody.$2")
	mkdir -p "$pr__d/data" "$pr__d/nocerts"
	pr__tls=""
	[ "$1" = tls ] && pr__tls='"tls";'
	cat >"$pr__d/prosody.cfg.lua" <<EOF2
pidfile = "$pr__d/prosody.pid"
data_path = "$pr__d/data"
log = { { levels = { min = "info" }, to = "file", filename = "$pr__d/prosody.log" } }
modules_enabled = { $pr__tls "saslauth"; "disco"; "ping" }
modules_disabled = { "s2s"; "offline"; "s2s_auth_certs" }
c2s_ports = { $2 }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = {}
s2s_ports = {}
certificates = "$pr__d/nocerts"
c2s_require_encryption = false
authentication = "internal_plain"
storage = "internal"
EOF2
	# after every global setting: what follows VirtualHost belongs to that host
	printf 'VirtualHost "%s"\n\tssl = { certificate = "%s"; key = "%s" }\n' "$3" "$pr__d/tls.crt" \
		"$pr__d/tls.key" >>"$pr__d/prosody.cfg.lua"
	pr__as=""
	if [ "$(id -u)" = 0 ]; then
		chown -R nobody:nogroup "$pr__d"
		pr__as="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	fi
	$pr__as prosody -F --config "$pr__d/prosody.cfg.lua" >"$pr__d/stdout.log" 2>&1 &
	bg_track $!
	ST_PIDS="$ST_PIDS $!"
	st_wait "$2" "$pr__d/prosody.log" prosody $!
}

# st_stop: stops every server started above (SIGTERM, each shuts its children down) and waits.
st_stop() {
	for st_stop__p in $ST_PIDS; do kill "$st_stop__p" 2>/dev/null || true; done
	for st_stop__p in $ST_PIDS; do wait "$st_stop__p" 2>/dev/null || true; done
	ST_PIDS=""
}
