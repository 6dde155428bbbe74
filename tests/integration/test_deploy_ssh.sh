# aclm target add --type ssh / aclm deploy against a real sshd on 127.0.0.1 and a free port (temp
# host key, key authentication, this user): files arrive with their mode, the reload command runs
# remotely, a jump host works, a wrong host key is refused, and a failed verify rolls the remote
# files back.
. "$ACLM_SRC/tests/integration/lib.sh"
. "$LIB_DIR/deploy.sh"

if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null; then
	echo "SKIP: $LIB_NAME: sshd or ssh-keygen not installed"
	exit 0
fi

mk_ca
mk_leaf site
mk_leaf next
ID=$(import_leaf site)
ID2=$(import_leaf next)
FP=$(pem_fp "$T/ca/site.pem")
FP2=$(pem_fp "$T/ca/next.pem")

# --- sshd: its own host key, our key in its authorized_keys, everything in $T/sshd
S=$T/sshd
mkdir -p "$S"
for k in host_key other_key id; do
	ssh-keygen -q -t ed25519 -N '' -f "$S/$k" || fail "ssh-keygen $k"
done
cp "$S/id.pub" "$S/authorized_keys"
# sshd started by root insists on its privilege separation directory
[ "$(id -u)" -ne 0 ] || [ -d /run/sshd ] || mkdir -m 0755 /run/sshd
PORT=$(free_port)
cat >"$S/sshd_config" <<EOF
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
StrictModes no
UsePAM no
PidFile $S/sshd.pid
ListenAddress 127.0.0.1
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
Subsystem sftp internal-sftp
EOF
/usr/sbin/sshd -D -e -f "$S/sshd_config" -p "$PORT" -E "$S/sshd.log" &
bg_track $!
wait_tcp "$PORT"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$S/host_key.pub")" >"$S/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$S/other_key.pub")" >"$S/other_known_hosts"
ME=$(id -un)
R=$T/remote
mkdir -p "$R" "$T/remote2" "$T/remote3"

# --- target add: the type checks its options
expect_exit 1 aclm target add bad --type ssh --host 127.0.0.1 --cert-path "$R/c.pem"
expect_contains "$(err)" "known_hosts"
expect_exit 1 aclm target add bad --type ssh --host 127.0.0.1 --known-hosts "$S/known_hosts" \
	--cert-path relative.pem
expect_contains "$(err)" "cert_path"
expect_exit 1 aclm target add bad --type ssh --host 127.0.0.1 --known-hosts "$S/known_hosts" \
	--cert-path "$R/c.pem" --jump "user@"
expect_contains "$(err)" "jump"

ssh_target() { # NAME KNOWN_HOSTS DIR [MORE OPTIONS...]
	ssh_t__name=$1 ssh_t__kh=$2 ssh_t__dir=$3
	shift 3
	ok target add "$ssh_t__name" --type ssh --host 127.0.0.1 --port "$PORT" --user "$ME" \
		--identity "$S/id" --known-hosts "$ssh_t__kh" --fullchain-path "$ssh_t__dir/fullchain.pem" \
		--key-path "$ssh_t__dir/key.pem" --reload-cmd "echo reloaded >> '$ssh_t__dir/reloads'" "$@"
}

# --- a deploy: files with their mode, the reload ran, the host key recorded
ssh_target r1 "$S/known_hosts" "$R" --mode 0640
ok deploy "$ID" --to r1 --format json
cp "$OUT" "$T/r1.json"
expect_eq "$(result_field "$T/r1.json" r1 'r["state"]')" deployed "ssh deploy"
expect_eq "$(pem_fp "$R/fullchain.pem")" "$FP" "fullchain.pem"
expect_eq "$(pem_count "$R/fullchain.pem")" 2 "fullchain.pem certificates"
openssl pkey -in "$R/key.pem" -pubout >"$T/k1.pub" 2>/dev/null || fail "key.pem does not load"
openssl x509 -in "$T/ca/site.pem" -pubkey -noout >"$T/k2.pub"
cmp -s "$T/k1.pub" "$T/k2.pub" || fail "key.pem is not the certificate's key"
expect_eq "$(mode_of "$R/fullchain.pem")" 640 "fullchain.pem mode"
expect_eq "$(mode_of "$R/key.pem")" 640 "key.pem mode"
expect_eq "$(cat "$R/reloads")" "reloaded" "reload command ran once"
[ ! -e "$R/fullchain.pem.aclm-tmp" ] || fail "temp file left"
expect_contains "$(result_field "$T/r1.json" r1 'r["detail"]["host_key"]')" "SHA256:" "host key"
expect_not_contains "$(cat "$T/r1.json")" "PRIVATE KEY" "deploy output"

# --- through a jump host (the same sshd opens the direct-tcpip channel to itself)
ssh_target r5 "$S/known_hosts" "$T/remote3" --jump "$ME@127.0.0.1:$PORT"
ok deploy "$ID" --to r5 --format json
expect_eq "$(pem_fp "$T/remote3/fullchain.pem")" "$FP" "deploy through the jump host"
expect_eq "$(mode_of "$T/remote3/key.pem")" 600 "key.pem default mode"

# --- a known_hosts pinning another key: refused, naming the host and the key's fingerprint
ssh_target r2 "$S/other_known_hosts" "$T/remote2"
expect_exit 1 aclm deploy "$ID" --to r2 --format json
cp "$OUT" "$T/r2.json"
expect_eq "$(result_field "$T/r2.json" r2 'r["state"]')" failed "wrong host key"
HOSTFP=$(ssh-keygen -l -E sha256 -f "$S/host_key.pub" | cut -d' ' -f2)
expect_contains "$(result_field "$T/r2.json" r2 'r["error"]')" "127.0.0.1:$PORT: host key $HOSTFP refused"
if [ -e "$T/remote2/fullchain.pem" ] || [ -e "$T/remote2/fullchain.pem.aclm-tmp" ]; then
	fail "a file reached a host with the wrong key"
fi

# --- verify fails (the endpoint keeps serving the first certificate): rolled back
TLS=$(free_port)
openssl s_server -quiet -www -accept "127.0.0.1:$TLS" -cert "$R/fullchain.pem" -key "$R/key.pem" \
	>/dev/null 2>&1 &
bg_track $!
wait_tcp "$TLS"
ssh_target r4 "$S/known_hosts" "$R" --mode 0640 --verify "127.0.0.1:$TLS/site.test"
expect_exit 1 aclm deploy "$ID2" --to r4 --verify-timeout 2 --format json
cp "$OUT" "$T/r4.json"
expect_eq "$(result_field "$T/r4.json" r4 'r["state"]')" rolled_back "verify mismatch"
expect_eq "$(pem_fp "$R/fullchain.pem")" "$FP" "fullchain.pem restored"
openssl pkey -in "$R/key.pem" -pubout >"$T/k3.pub" 2>/dev/null || fail "restored key.pem"
cmp -s "$T/k3.pub" "$T/k2.pub" || fail "key.pem not restored"
expect_eq "$(mode_of "$R/fullchain.pem")" 640 "restored mode"
expect_eq "$(grep -c reloaded "$R/reloads")" 3 "reloads: deploy, deploy, rollback"
expect_ne "$FP2" "$FP" "two certificates"
