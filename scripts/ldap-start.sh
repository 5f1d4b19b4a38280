#!/usr/bin/env bash
# Start a throw-away OpenLDAP server (slapd) on ldap://127.0.0.1:3389 without
# systemd (recipe: shared/reference/ecosystem.md "Bonus: OpenLDAP"). Prints
# the URL for TAPIS_TEST_LDAP_URL; stop it with scripts/ldap-stop.sh.
# Run as root (it installs slapd + ldap-utils when missing and drops to the
# 'openldap' user the package creates). Idempotent: an instance left by an
# earlier start is stopped and its directory wiped first.
#
#   eval "$(scripts/ldap-start.sh | sed -n 's/^LDAP_URL: /export TAPIS_TEST_LDAP_URL=/p')"
#   go test ./adapters/ldapauth/
#   scripts/ldap-stop.sh
#
# Directory: base dc=tapis,dc=test, admin cn=admin,dc=tapis,dc=test / admin-pw,
# users uid=<name>,ou=tenants.dev,dc=tapis,dc=test for testuser1..testuser3 and
# testadmin (password = username, mail <name>@test.tapis.io).
set -euo pipefail
LDAP_PORT=${LDAP_PORT:-3389}
D=${LDAP_DIR:-/tmp/tapis-ldap}
BASE=${LDAP_BASE:-dc=tapis,dc=test}
ADMIN_PW=${LDAP_ADMIN_PW:-admin-pw}
URL="ldap://127.0.0.1:$LDAP_PORT"
export DEBIAN_FRONTEND=noninteractive
if ! { command -v /usr/sbin/slapd && command -v ldapadd; } >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y --no-install-recommends slapd ldap-utils >/dev/null
fi

# A server left running by an earlier start is stopped before its directory
# goes (only if that pid is still a slapd: a stale file must not kill another process).
if [ -f "$D/slapd.pid" ]; then
  pid=$(cat "$D/slapd.pid")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slapd ] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
fi

rm -rf "$D"; mkdir -p "$D/db"
cat > "$D/slapd.conf" <<CFG
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $D/slapd.pid
database mdb
maxsize 104857600
suffix "$BASE"
rootdn "cn=admin,$BASE"
rootpw $(slappasswd -s "$ADMIN_PW")
directory $D/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
CFG
chown -R openldap:openldap "$D"
/usr/sbin/slaptest -Q -u -f "$D/slapd.conf"
/usr/sbin/slapd -u openldap -g openldap -f "$D/slapd.conf" -h "$URL/"   # daemonises
ready=""
for _ in $(seq 50); do ldapwhoami -x -H "$URL" >/dev/null 2>&1 && { ready=1; break; }; sleep 0.1; done
[ -n "$ready" ] || { echo "slapd did not answer on $URL within 5 s" >&2; exit 1; }

# user NAME CN SN GIVEN UIDNUMBER: one inetOrgPerson + posixAccount entry.
user() {
  cat <<LDIF

dn: uid=$1,ou=tenants.dev,$BASE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: $1
cn: $2
sn: $3
givenName: $4
mail: $1@test.tapis.io
uidNumber: $5
gidNumber: 1000
homeDirectory: /home/$1
userPassword: $(slappasswd -s "$1")
LDIF
}

{
  cat <<LDIF
dn: $BASE
objectClass: dcObject
objectClass: organization
o: Tapis test
dc: tapis

dn: ou=tenants.dev,$BASE
objectClass: organizationalUnit
ou: tenants.dev
LDIF
  user testuser1 "Test User1" User1 Test 10001
  echo "telephoneNumber: +1 512 555 0101"
  echo "mobile: +1 512 555 0102"
  user testuser2 "Test User2" User2 Test 10002
  user testuser3 "Test User3" User3 Test 10003
  user testadmin "Test Admin" Admin Test 10000
} | ldapadd -x -H "$URL" -D "cn=admin,$BASE" -w "$ADMIN_PW" >/dev/null
echo "slapd pid $(cat "$D/slapd.pid") on $URL base $BASE"
echo "LDAP_URL: $URL"
