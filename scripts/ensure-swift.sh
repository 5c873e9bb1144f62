# shellcheck shell=bash
# Keystone and a Swift all-in-one for the bank tests (bank/swift, bank/s3,
# cmd/karbor-protection), on a Debian machine.
#
#   source scripts/ensure-swift.sh     # exports the KARBOR_TEST_* variables below
#   ensure_swift                       # installs and starts what is missing
#
# or run it: bash scripts/ensure-swift.sh (prints the variables).
#
# What runs, every part reused when it already answers:
#   Keystone          127.0.0.1:5000  uwsgi, database "keystone" in the local
#                                     MariaDB, fernet tokens
#   memcached         127.0.0.1:11211 (tempauth's tokens, swift's caches)
#   Swift backends    127.0.0.1:6200-6202, one device on a plain directory
#   Swift proxy       127.0.0.1:8080  tempauth (test:tester / testing) + s3api
#   Swift proxy       127.0.0.1:8081  Keystone (authtoken + keystoneauth) +
#                                     s3api with s3token (EC2 credentials);
#                                     the object-store endpoint in the catalog
#
# Keystone holds: admin/admin (project admin); demo/password, member of
# project demo, with a fixed EC2 credential; alt/password, member of project
# alt, both in domain karbor-test (for the *_domain_name options); the
# service users swift and karbor (password "password", admin on project
# service).
#
# State lives under $KARBOR_TEST_PEERS_DIR (default /var/lib/karbor-test-peers,
# or ~/.local/state/karbor-test-peers when not run as root):
# configuration, rings, data, PID files and logs (log/). When a part does not
# come up, ensure_swift prints the tail of its log and fails.
#
# It needs MariaDB on 127.0.0.1:3306 (root, no password): it calls
# ensure_mariadb from scripts/ensure-databases.sh. Safe under set -euo
# pipefail; it sets no shell options of its own and defines only ensure_swift
# and _esw_* names, plus the _peers_* ones of scripts/lib-peers.sh. Runs are
# serialised with a lock file, so two test runs starting at once do not race.

if [ -z "${KARBOR_TEST_PEERS_DIR:-}" ]; then
	if [ "$(id -u)" = 0 ]; then
		KARBOR_TEST_PEERS_DIR=/var/lib/karbor-test-peers
	else
		KARBOR_TEST_PEERS_DIR=${XDG_STATE_HOME:-$HOME/.local/state}/karbor-test-peers
	fi
fi
export KARBOR_TEST_PEERS_DIR
# Keystone v3 (tokens, catalog) and its users.
export KARBOR_TEST_KEYSTONE_URL=${KARBOR_TEST_KEYSTONE_URL:-http://127.0.0.1:5000/v3}
export KARBOR_TEST_KEYSTONE_USER=${KARBOR_TEST_KEYSTONE_USER:-demo}
export KARBOR_TEST_KEYSTONE_PASSWORD=${KARBOR_TEST_KEYSTONE_PASSWORD:-password}
export KARBOR_TEST_KEYSTONE_PROJECT=${KARBOR_TEST_KEYSTONE_PROJECT:-demo}
export KARBOR_TEST_KEYSTONE_ADMIN_USER=${KARBOR_TEST_KEYSTONE_ADMIN_USER:-admin}
export KARBOR_TEST_KEYSTONE_ADMIN_PASSWORD=${KARBOR_TEST_KEYSTONE_ADMIN_PASSWORD:-admin}
export KARBOR_TEST_KEYSTONE_ADMIN_PROJECT=${KARBOR_TEST_KEYSTONE_ADMIN_PROJECT:-admin}
export KARBOR_TEST_KEYSTONE_ALT_DOMAIN=${KARBOR_TEST_KEYSTONE_ALT_DOMAIN:-karbor-test}
export KARBOR_TEST_KEYSTONE_ALT_USER=${KARBOR_TEST_KEYSTONE_ALT_USER:-alt}
export KARBOR_TEST_KEYSTONE_ALT_PASSWORD=${KARBOR_TEST_KEYSTONE_ALT_PASSWORD:-password}
export KARBOR_TEST_KEYSTONE_ALT_PROJECT=${KARBOR_TEST_KEYSTONE_ALT_PROJECT:-alt}
# Swift through Keystone (what karbor's swift bank uses): the proxy the
# catalog's object-store endpoint points at.
export KARBOR_TEST_SWIFT_KEYSTONE_URL=${KARBOR_TEST_SWIFT_KEYSTONE_URL:-http://127.0.0.1:8081}
# Swift v1 auth (tempauth).
export KARBOR_TEST_SWIFT_TEMPAUTH_URL=${KARBOR_TEST_SWIFT_TEMPAUTH_URL:-http://127.0.0.1:8080/auth/v1.0}
export KARBOR_TEST_SWIFT_TEMPAUTH_USER=${KARBOR_TEST_SWIFT_TEMPAUTH_USER:-test:tester}
export KARBOR_TEST_SWIFT_TEMPAUTH_KEY=${KARBOR_TEST_SWIFT_TEMPAUTH_KEY:-testing}
# S3 (path style, SigV4, region us-east-1): tempauth's account on :8080, the
# demo user's EC2 credential on :8081.
export KARBOR_TEST_S3_REGION=${KARBOR_TEST_S3_REGION:-us-east-1}
export KARBOR_TEST_S3_TEMPAUTH_ENDPOINT=${KARBOR_TEST_S3_TEMPAUTH_ENDPOINT:-http://127.0.0.1:8080}
export KARBOR_TEST_S3_TEMPAUTH_ACCESS_KEY=${KARBOR_TEST_S3_TEMPAUTH_ACCESS_KEY:-test:tester}
export KARBOR_TEST_S3_TEMPAUTH_SECRET_KEY=${KARBOR_TEST_S3_TEMPAUTH_SECRET_KEY:-testing}
export KARBOR_TEST_S3_KEYSTONE_ENDPOINT=${KARBOR_TEST_S3_KEYSTONE_ENDPOINT:-http://127.0.0.1:8081}
export KARBOR_TEST_S3_KEYSTONE_ACCESS_KEY=${KARBOR_TEST_S3_KEYSTONE_ACCESS_KEY:-karbor-test-demo-access}
export KARBOR_TEST_S3_KEYSTONE_SECRET_KEY=${KARBOR_TEST_S3_KEYSTONE_SECRET_KEY:-karbor-test-demo-secret}

# shellcheck source=scripts/lib-peers.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-peers.sh"

_esw_apt_updated=
_esw_apt_install() {
	command -v apt-get >/dev/null || {
		echo "ensure-swift: $* missing and there is no apt-get to install it" >&2
		return 1
	}
	if [ -z "$_esw_apt_updated" ]; then
		_peers_as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
		_esw_apt_updated=1
	fi
	_peers_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
		install -y -qq --no-install-recommends "$@" >/dev/null
}

# _esw_fail WHAT LOG: say what failed and show the end of its log.
_esw_fail() { _peers_fail ensure-swift "$@"; }

# _esw_wait SECONDS URL WHAT LOG: wait until URL answers, else fail showing LOG.
_esw_wait() { _peers_wait ensure-swift 0.2 "$@"; }

# _esw_start NAME LOG COMMAND...: run COMMAND detached, PID in NAME.pid.
_esw_start() { _peers_start "$KARBOR_TEST_PEERS_DIR/$1.pid" "${@:2}"; }

_esw_packages() {
	local missing=()
	command -v swift-proxy-server >/dev/null || missing+=(swift swift-proxy)
	command -v swift-object-server >/dev/null || missing+=(swift-object)
	command -v swift-container-server >/dev/null || missing+=(swift-container)
	command -v swift-account-server >/dev/null || missing+=(swift-account)
	command -v memcached >/dev/null || missing+=(memcached)
	command -v keystone-manage >/dev/null || missing+=(keystone)
	command -v uwsgi >/dev/null || missing+=(uwsgi)
	[ -e /usr/lib/uwsgi/plugins/python3_plugin.so ] || missing+=(uwsgi-plugin-python3)
	"$_peers_py" -c 'import keystonemiddleware' 2>/dev/null || missing+=(python3-keystonemiddleware)
	"$_peers_py" -c 'import keystoneclient' 2>/dev/null || missing+=(python3-keystoneclient)
	# The compatibility tests write and read objects as karbor's plugin does.
	"$_peers_py" -c 'import swiftclient' 2>/dev/null || missing+=(python3-swiftclient)
	"$_peers_py" -c 'import pymysql' 2>/dev/null || missing+=(python3-pymysql)
	if ((${#missing[@]})); then
		_peers_log "installing ${missing[*]}"
		_esw_apt_install "${missing[@]}"
	fi
}

_esw_keystone() {
	local P=$KARBOR_TEST_PEERS_DIR K=$KARBOR_TEST_PEERS_DIR/keystone L=$KARBOR_TEST_PEERS_DIR/log
	if _peers_http_ok http://127.0.0.1:5000/v3; then
		return 0
	fi
	_peers_log "starting Keystone on 127.0.0.1:5000 (state in $K)"
	mkdir -p "$K/fernet-keys" "$K/credential-keys" "$L"
	cat >"$K/keystone.conf" <<EOT
[DEFAULT]
log_file = $L/keystone.log
[database]
connection = mysql+pymysql://root@127.0.0.1:3306/keystone
[token]
provider = fernet
[fernet_tokens]
key_repository = $K/fernet-keys
[credential]
# With the token cache below, cached credentials lose their encrypted blob
# and EC2 (s3token) authentication fails.
caching = false
key_repository = $K/credential-keys
[identity]
# Cheap password hashing: every test authenticates.
password_hash_rounds = 4
[cache]
# Without a cache every token validation costs about a second.
enabled = true
backend = dogpile.cache.memory
EOT
	mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root \
		-e 'CREATE DATABASE IF NOT EXISTS keystone CHARACTER SET utf8' ||
		{ echo "ensure-swift: cannot create the keystone database in MariaDB" >&2; return 1; }
	local km=(env OS_KEYSTONE_CONFIG_DIR="$K" keystone-manage --config-file "$K/keystone.conf")
	local mlog=$L/keystone-manage.log
	# db_sync costs tens of seconds on an empty database and little on a
	# synced one; bootstrap only adds what is missing.
	"${km[@]}" db_sync >>"$mlog" 2>&1 || { _esw_fail "keystone-manage db_sync" "$mlog"; return 1; }
	if [ -z "$(ls -A "$K/fernet-keys")" ]; then
		"${km[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" >>"$mlog" 2>&1 ||
			{ _esw_fail "keystone-manage fernet_setup" "$mlog"; return 1; }
	fi
	if [ -z "$(ls -A "$K/credential-keys")" ]; then
		"${km[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" >>"$mlog" 2>&1 ||
			{ _esw_fail "keystone-manage credential_setup" "$mlog"; return 1; }
	fi
	"${km[@]}" bootstrap --bootstrap-password "$KARBOR_TEST_KEYSTONE_ADMIN_PASSWORD" \
		--bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
		--bootstrap-service-name keystone --bootstrap-region-id RegionOne \
		--bootstrap-admin-url http://127.0.0.1:5000/v3 \
		--bootstrap-internal-url http://127.0.0.1:5000/v3 \
		--bootstrap-public-url http://127.0.0.1:5000/v3 >>"$mlog" 2>&1 ||
		{ _esw_fail "keystone-manage bootstrap" "$mlog"; return 1; }
	# --http11-socket: with --http-socket, clients reusing keep-alive
	# connections get "connection reset by peer".
	_esw_start keystone "$L/keystone-uwsgi.log" uwsgi --plugin python3 \
		--http11-socket 127.0.0.1:5000 --wsgi-file /usr/bin/keystone-wsgi-public \
		--master --processes 1 --threads 4 --enable-threads --lazy-apps --die-on-term \
		--env OS_KEYSTONE_CONFIG_DIR="$K"
	_esw_wait 60 http://127.0.0.1:5000/v3 Keystone "$L/keystone-uwsgi.log"
}

# _esw_register: projects, users, roles, the object-store endpoint and the
# demo user's EC2 credential; each made only when missing.
_esw_register() {
	local log=$KARBOR_TEST_PEERS_DIR/log/keystone-register.log
	{ _peers_keystone_py; cat <<'EOT'; } | "$_peers_py" - >>"$log" 2>&1 || { _esw_fail "registering the test users in Keystone" "$log"; return 1; }
import json
ks = admin_client(env['KARBOR_TEST_KEYSTONE_URL'], env['KARBOR_TEST_KEYSTONE_ADMIN_USER'],
                  env['KARBOR_TEST_KEYSTONE_ADMIN_PASSWORD'], env['KARBOR_TEST_KEYSTONE_ADMIN_PROJECT'])

alt_domain = one(ks.domains.list, ks.domains.create, env['KARBOR_TEST_KEYSTONE_ALT_DOMAIN'])
admin_role = ks.roles.list(name='admin')[0]
member = one(ks.roles.list, ks.roles.create, 'member')
service = one(ks.projects.list, ks.projects.create, 'service', domain='default')
for name, password in (('swift', 'password'), ('karbor', 'password')):
    u = one(ks.users.list, ks.users.create, name, domain='default', password=password)
    ks.roles.grant(admin_role, user=u, project=service)
demo_project = one(ks.projects.list, ks.projects.create, env['KARBOR_TEST_KEYSTONE_PROJECT'], domain='default')
demo = one(ks.users.list, ks.users.create, env['KARBOR_TEST_KEYSTONE_USER'], domain='default',
           password=env['KARBOR_TEST_KEYSTONE_PASSWORD'])
ks.roles.grant(member, user=demo, project=demo_project)
alt_project = one(ks.projects.list, ks.projects.create, env['KARBOR_TEST_KEYSTONE_ALT_PROJECT'], domain=alt_domain)
alt = one(ks.users.list, ks.users.create, env['KARBOR_TEST_KEYSTONE_ALT_USER'], domain=alt_domain,
          password=env['KARBOR_TEST_KEYSTONE_ALT_PASSWORD'])
ks.roles.grant(member, user=alt, project=alt_project)

svc = [s for s in ks.services.list(type='object-store') if s.name == 'swift']
svc = svc[0] if svc else ks.services.create(name='swift', type='object-store')
url = env['KARBOR_TEST_SWIFT_KEYSTONE_URL'] + '/v1/AUTH_%(project_id)s'
have = {e.interface for e in ks.endpoints.list(service=svc)}
for iface in ('public', 'internal', 'admin'):
    if iface not in have:
        ks.endpoints.create(service=svc, url=url, interface=iface, region='RegionOne')

access = env['KARBOR_TEST_S3_KEYSTONE_ACCESS_KEY']
if not [c for c in ks.credentials.list(user=demo, type='ec2') if json.loads(c.blob).get('access') == access]:
    ks.credentials.create(user=demo, type='ec2', project=demo_project,
                          blob=json.dumps({'access': access, 'secret': env['KARBOR_TEST_S3_KEYSTONE_SECRET_KEY']}))
print('registered')
EOT
}

_esw_swift_conf() {
	local S=$KARBOR_TEST_PEERS_DIR/swift D=$KARBOR_TEST_PEERS_DIR/swift-data user
	user=$(id -un)
	mkdir -p "$S" "$D/d1"
	cat >"$S/swift.conf" <<EOT
[swift-hash]
swift_hash_path_suffix = karbor-test
swift_hash_path_prefix = karbor-test
[storage-policy:0]
name = Policy-0
default = yes
EOT
	if [ ! -e "$S/object.ring.gz" ]; then
		# One Python call: the swift-ring-builder CLI costs seconds a call.
		(cd "$S" && "$_peers_py" - <<'EOT') || { echo "ensure-swift: building the swift rings failed" >&2; return 1; }
from swift.common.ring import RingBuilder
for name, port in (('object', 6200), ('container', 6201), ('account', 6202)):
    b = RingBuilder(8, 1, 1)
    b.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': port, 'device': 'd1', 'weight': 1})
    b.rebalance()
    b.get_ring().save(name + '.ring.gz')
EOT
	fi
	local n port
	for n in object:6200 container:6201 account:6202; do
		port=${n#*:}
		n=${n%%:*}
		cat >"$S/$n-server.conf" <<EOT
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
workers = 0
user = $user
swift_dir = $S
devices = $D
mount_check = false
log_level = WARNING
[pipeline:main]
pipeline = $n-server
[app:$n-server]
use = egg:swift#$n
[$n-replicator]
[$n-auditor]
[$n-updater]
EOT
	done
	_esw_proxy_conf 8080 "s3api tempauth" >"$S/proxy-tempauth.conf"
	cat >>"$S/proxy-tempauth.conf" <<EOT
[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
EOT
	# authtoken must come before s3api; s3token needs service credentials
	# because Keystone refuses anonymous /v3/s3tokens.
	_esw_proxy_conf 8081 "authtoken s3api s3token keystoneauth" >"$S/proxy-keystone.conf"
	cat >>"$S/proxy-keystone.conf" <<EOT
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = http://127.0.0.1:5000
auth_url = http://127.0.0.1:5000
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = swift
password = password
delay_auth_decision = true
memcached_servers = 127.0.0.1:11211
[filter:s3token]
use = egg:swift#s3token
auth_uri = http://127.0.0.1:5000/v3
auth_url = http://127.0.0.1:5000/v3
auth_type = password
username = swift
password = password
project_name = service
user_domain_name = Default
project_domain_name = Default
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
EOT
}

# _esw_proxy_conf PORT AUTH-FILTERS: a proxy's configuration up to its
# authentication filters' sections.
_esw_proxy_conf() {
	cat <<EOT
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $(id -un)
swift_dir = $KARBOR_TEST_PEERS_DIR/swift
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats $2 copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:11211
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:s3api]
use = egg:swift#s3api
location = $KARBOR_TEST_S3_REGION
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOT
}

_esw_swift() {
	local P=$KARBOR_TEST_PEERS_DIR S=$KARBOR_TEST_PEERS_DIR/swift L=$KARBOR_TEST_PEERS_DIR/log
	if _peers_http_ok http://127.0.0.1:8080/healthcheck && _peers_http_ok http://127.0.0.1:8081/healthcheck &&
		_peers_port_open 6200 && _peers_port_open 6201 && _peers_port_open 6202; then
		return 0
	fi
	_esw_swift_conf
	if ! _peers_port_open 11211; then
		_peers_log "starting memcached on 127.0.0.1:11211"
		local mu=()
		[ "$(id -u)" = 0 ] && mu=(-u "$(id -un)")
		_esw_start memcached "$L/memcached.log" memcached "${mu[@]}" -l 127.0.0.1 -p 11211 -m 64
	fi
	local n port
	for n in object:6200 container:6201 account:6202; do
		port=${n#*:}
		n=${n%%:*}
		if ! _peers_port_open "$port"; then
			_peers_log "starting swift-$n-server on 127.0.0.1:$port"
			_esw_start "swift-$n" "$L/swift-$n.log" "swift-$n-server" "$S/$n-server.conf" -v
		fi
	done
	for n in tempauth:8080 keystone:8081; do
		port=${n#*:}
		n=${n%%:*}
		if ! _peers_port_open "$port"; then
			_peers_log "starting swift-proxy-server ($n) on 127.0.0.1:$port"
			_esw_start "swift-proxy-$n" "$L/swift-proxy-$n.log" swift-proxy-server "$S/proxy-$n.conf" -v
		fi
	done
	_esw_wait 60 http://127.0.0.1:8080/healthcheck "swift proxy (tempauth)" "$L/swift-proxy-tempauth.log" || return 1
	_esw_wait 60 http://127.0.0.1:8081/healthcheck "swift proxy (keystone)" "$L/swift-proxy-keystone.log" || return 1
	for n in object:6200 container:6201 account:6202; do
		_esw_wait 60 "http://127.0.0.1:${n#*:}/" "swift-${n%%:*}-server" "$L/swift-${n%%:*}.log" || return 1
	done
}

# _esw_check: a token from Keystone, a container round trip through both
# proxies, and an S3 listing with the EC2 credential; what the tests need.
_esw_check() {
	local log=$KARBOR_TEST_PEERS_DIR/log/check.log
	{ _peers_keystone_py; cat <<'EOT'; } | "$_peers_py" - >>"$log" 2>&1 || { _esw_fail "the Swift/Keystone self-check" "$log"; return 1; }
import swiftclient
s = password_session(env['KARBOR_TEST_KEYSTONE_URL'], env['KARBOR_TEST_KEYSTONE_USER'],
                     env['KARBOR_TEST_KEYSTONE_PASSWORD'], env['KARBOR_TEST_KEYSTONE_PROJECT'],
                     user_domain_name='default', project_domain_name='default')
for conn in (swiftclient.Connection(session=s, retries=0),
             swiftclient.Connection(authurl=env['KARBOR_TEST_SWIFT_TEMPAUTH_URL'], retries=0,
                                    user=env['KARBOR_TEST_SWIFT_TEMPAUTH_USER'], key=env['KARBOR_TEST_SWIFT_TEMPAUTH_KEY'])):
    conn.put_container('karbor-test-selfcheck')
    conn.put_object('karbor-test-selfcheck', 'o', b'x')
    assert conn.get_object('karbor-test-selfcheck', 'o')[1] == b'x'
    conn.delete_object('karbor-test-selfcheck', 'o')
print('ok')
EOT
}

ensure_swift() {
	local start=$SECONDS
	mkdir -p "$KARBOR_TEST_PEERS_DIR/log"
	declare -F ensure_mariadb >/dev/null ||
		source "$(dirname "${BASH_SOURCE[0]}")/ensure-databases.sh"
	_peers_ensure ensure-swift "$start" "$KARBOR_TEST_PEERS_DIR/lock" "Keystone and Swift" \
		_esw_packages ensure_mariadb _esw_keystone _esw_register _esw_swift _esw_check
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	ensure_swift
	env | grep '^KARBOR_TEST_' | grep -v PASSWORD | sort
fi
