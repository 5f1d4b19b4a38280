#!/usr/bin/env bash
# Start a throw-away OpenSSH sshd on 127.0.0.1:2222 without systemd (recipe:
# shared/reference/ecosystem.md "sshd on 127.0.0.1:2222"), for the real-server
# tests of adapters/sshcheck. Stop it with scripts/sshd-stop.sh.
# Run as root: it installs openssh-server when missing, creates the test user,
# and sshd needs root to switch to that user. Idempotent: an sshd left by an
# earlier start is stopped and its directory wiped first.
#
#   out=$(scripts/sshd-start.sh)
#   export TAPIS_TEST_SSH_ADDR=$(sed -n 's/^SSH_ADDR: //p' <<<"$out")
#   export TAPIS_TEST_SSH_DIR=$(sed -n 's/^SSH_DIR: //p' <<<"$out")
#   go test ./adapters/sshcheck/
#   scripts/sshd-stop.sh
#
# What it sets up (every value is also written, in the same "KEY: VALUE"
# lines it prints, to $SSH_DIR/fixture, which the tests read):
#   - user $SSH_USER with password $SSH_PASSWORD and three authorized keys:
#     id_ed25519 (OpenSSH format), id_rsa (PEM PKCS#1), id_ecdsa (PEM PKCS#8)
#   - the user's rootDir ~/tapis-root, and ~/scratch
#   - TAPIS_TEST_SCRATCH=~/scratch in the user's ~/.ssh/environment, which sshd
#     reads for every session, commands included (PermitUserEnvironment):
#     ~/.bashrc would not do, as Debian's returns early when not interactive
#   - host keys ed25519, ECDSA and RSA, so pinning any of them is tested
set -euo pipefail
SSH_PORT=${SSH_PORT:-2222}
SSH_USER=${SSH_USER:-tapistest}
SSH_PASSWORD=${SSH_PASSWORD:-TapisTest-Pass1}
D=${SSHD_DIR:-/tmp/tapis-sshd}
ADDR="127.0.0.1:$SSH_PORT"
export DEBIAN_FRONTEND=noninteractive

if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
fi

# An sshd left running by an earlier start is stopped before its directory
# goes (only if that pid is still an sshd: a stale file must not kill another process).
if [ -f "$D/sshd.pid" ]; then
  pid=$(cat "$D/sshd.pid")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
fi

rm -rf "$D"
mkdir -p "$D/authorized_keys" /run/sshd   # /run/sshd: privilege separation, normally made by the init script
chmod 711 "$D" "$D/authorized_keys"       # sshd reads the user's key file as the user
ssh-keygen -q -t ed25519 -N '' -f "$D/ssh_host_ed25519_key"
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$D/ssh_host_ecdsa_key"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$D/ssh_host_rsa_key"

# the test user, its password, rootDir and environment
id "$SSH_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$SSH_USER"
echo "$SSH_USER:$SSH_PASSWORD" | chpasswd
HOME_DIR=$(getent passwd "$SSH_USER" | cut -d: -f6)
ROOT_DIR="$HOME_DIR/tapis-root"
SCRATCH="$HOME_DIR/scratch"
mkdir -p "$ROOT_DIR" "$SCRATCH" "$HOME_DIR/.ssh"
echo "TAPIS_TEST_SCRATCH=$SCRATCH" > "$HOME_DIR/.ssh/environment"
chmod 700 "$HOME_DIR/.ssh"
chmod 600 "$HOME_DIR/.ssh/environment"
chown -R "$SSH_USER:" "$ROOT_DIR" "$SCRATCH" "$HOME_DIR/.ssh"

# client keys in the three formats Tapis credentials carry
ssh-keygen -q -t ed25519 -N '' -C "$SSH_USER-ed25519" -f "$D/id_ed25519"
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C "$SSH_USER-rsa" -f "$D/id_rsa"
ssh-keygen -q -t ecdsa -b 256 -m PKCS8 -N '' -C "$SSH_USER-ecdsa" -f "$D/id_ecdsa"
cat "$D/id_ed25519.pub" "$D/id_rsa.pub" "$D/id_ecdsa.pub" > "$D/authorized_keys/$SSH_USER"
chmod 644 "$D/authorized_keys/$SSH_USER"

cat > "$D/sshd_config" <<CFG
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $D/ssh_host_ed25519_key
HostKey $D/ssh_host_ecdsa_key
HostKey $D/ssh_host_rsa_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys/%u
# /tmp is world-writable, so StrictModes would reject a key file under it
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers $SSH_USER
PermitUserEnvironment TAPIS_*
PrintMotd no
Subsystem sftp internal-sftp
LogLevel VERBOSE
CFG

/usr/sbin/sshd -t -f "$D/sshd_config"
/usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"   # daemonises (absolute path: sshd re-execs itself)
ready=""
for _ in $(seq 50); do
  if [ -s "$D/sshd.pid" ] && ssh-keyscan -T 1 -p "$SSH_PORT" 127.0.0.1 >"$D/known_hosts" 2>/dev/null && [ -s "$D/known_hosts" ]; then
    ready=1
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "sshd did not answer on $ADDR within 5 s; see $D/sshd.log" >&2; exit 1; }

{
  echo "SSH_ADDR: $ADDR"
  echo "SSH_DIR: $D"
  echo "SSH_USER: $SSH_USER"
  echo "SSH_PASSWORD: $SSH_PASSWORD"
  echo "SSH_KEY_ED25519: $D/id_ed25519"
  echo "SSH_KEY_RSA: $D/id_rsa"
  echo "SSH_KEY_ECDSA: $D/id_ecdsa"
  echo "SSH_ROOT_DIR: $ROOT_DIR"
  echo "SSH_ENV: TAPIS_TEST_SCRATCH=$SCRATCH"
} > "$D/fixture"
echo "sshd pid $(cat "$D/sshd.pid") on $ADDR"
cat "$D/fixture"
