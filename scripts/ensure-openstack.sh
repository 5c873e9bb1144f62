# shellcheck shell=bash
# The OpenStack services karbor's protectable and protection plugins talk to,
# for the integration tests of providers/openstack/... and
# cmd/karbor-protection, on a Debian machine (bookworm's OpenStack packages).
#
#   source scripts/ensure-openstack.sh   # exports the KARBOR_TEST_OS_* variables below
#   ensure_openstack                     # installs and starts what is missing
#
# or run it: bash scripts/ensure-openstack.sh (prints the variables).
#
# It needs Keystone on 127.0.0.1:5000 with admin/admin (project admin) and
# reuses it: it never starts a Keystone of its own. When none answers it runs
# ensure_swift (scripts/ensure-swift.sh), which starts one, or fails saying so.
# What it starts, every part reused when it already runs:
#   Glance            127.0.0.1:9292  file store
#   Cinder            127.0.0.1:8776  api, scheduler, volume (a sparse-file
#                                     driver, below), backup (posix driver)
#   Placement         127.0.0.1:8778  uwsgi
#   Nova              127.0.0.1:8774  api, conductor, scheduler, compute with
#                                     fake.FakeDriver (no hypervisor), host
#                                     host-ovs-filter-active
#   Neutron           127.0.0.1:9696  ML2 with the "test" mechanism driver, no
#                                     agents (run under python3 -O: the test
#                                     driver's asserts reject Nova's port
#                                     binding flow)
# Cinder, Nova and Neutron share the RabbitMQ virtual host openstack-peers;
# every database is in the local MariaDB (root, no password). Keystone gets
# the service users glance, cinder, nova, placement, neutron and karbor
# (password "password", roles admin and service on project service), the
# catalog entries, and the member demo/password of project demo; Nova gets
# the flavor m1.tiny.
#
# State lives under $KARBOR_TEST_PEERS_DIR (default
# /var/lib/karbor-test-peers), shared with ensure-swift.sh: configuration,
# data, PID files (os-*.pid) and logs (log/). When a part does not come up,
# ensure_openstack prints the tail of its log and fails. Safe under
# set -euo pipefail; it sets no shell options and defines only
# ensure_openstack and _eos_* names, plus scripts/lib-peers.sh's _peers_*
# ones. Runs are serialised with a lock file.

export KARBOR_TEST_PEERS_DIR=${KARBOR_TEST_PEERS_DIR:-/var/lib/karbor-test-peers}
export KARBOR_TEST_OS_AUTH_URL=${KARBOR_TEST_OS_AUTH_URL:-${KARBOR_TEST_KEYSTONE_URL:-http://127.0.0.1:5000/v3}}
# The caller the tests act as: a member (not an admin) of its project.
export KARBOR_TEST_OS_USER=${KARBOR_TEST_OS_USER:-${KARBOR_TEST_KEYSTONE_USER:-demo}}
export KARBOR_TEST_OS_PASSWORD=${KARBOR_TEST_OS_PASSWORD:-${KARBOR_TEST_KEYSTONE_PASSWORD:-password}}
export KARBOR_TEST_OS_PROJECT=${KARBOR_TEST_OS_PROJECT:-${KARBOR_TEST_KEYSTONE_PROJECT:-demo}}
export KARBOR_TEST_OS_ADMIN_USER=${KARBOR_TEST_OS_ADMIN_USER:-${KARBOR_TEST_KEYSTONE_ADMIN_USER:-admin}}
export KARBOR_TEST_OS_ADMIN_PASSWORD=${KARBOR_TEST_OS_ADMIN_PASSWORD:-${KARBOR_TEST_KEYSTONE_ADMIN_PASSWORD:-admin}}
export KARBOR_TEST_OS_ADMIN_PROJECT=${KARBOR_TEST_OS_ADMIN_PROJECT:-${KARBOR_TEST_KEYSTONE_ADMIN_PROJECT:-admin}}
# karbor's service user, as karbor.conf's [trustee] names it.
export KARBOR_TEST_OS_TRUSTEE_USER=${KARBOR_TEST_OS_TRUSTEE_USER:-karbor}
export KARBOR_TEST_OS_TRUSTEE_PASSWORD=${KARBOR_TEST_OS_TRUSTEE_PASSWORD:-password}

# shellcheck source=scripts/lib-peers.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-peers.sh"

_eos_vhost=openstack-peers

_eos_apt_install() {
	command -v apt-get >/dev/null || {
		echo "ensure-openstack: $* missing and there is no apt-get to install it" >&2
		return 1
	}
	local log=$KARBOR_TEST_PEERS_DIR/log/apt-openstack.log
	{ _peers_as_root apt-get -o DPkg::Lock::Timeout=900 update -qq &&
		_peers_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
			install -y -qq --no-install-recommends "$@"; } >>"$log" 2>&1 ||
		{ _eos_fail "apt-get install $*" "$log"; return 1; }
}

# _eos_fail WHAT LOG: say what failed and show the end of its log.
_eos_fail() { _peers_fail ensure-openstack "$@"; }

# _eos_wait SECONDS URL WHAT LOG: wait until URL answers, else fail showing LOG.
_eos_wait() { _peers_wait ensure-openstack 0.5 "$@"; }

_eos_alive() { # NAME: the process of NAME.pid runs
	local f=$KARBOR_TEST_PEERS_DIR/os-$1.pid
	[ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# _eos_start NAME LOG COMMAND...: run COMMAND detached, PID in os-NAME.pid.
_eos_start() {
	_peers_log "starting $1"
	_peers_start "$KARBOR_TEST_PEERS_DIR/os-$1.pid" "${@:2}"
}

_eos_packages() {
	local missing=()
	command -v glance-api >/dev/null || missing+=(glance-api)
	local s
	for s in api scheduler volume backup; do command -v "cinder-$s" >/dev/null || missing+=("cinder-$s"); done
	for s in api conductor scheduler; do command -v "nova-$s" >/dev/null || missing+=("nova-$s"); done
	command -v placement-api >/dev/null || missing+=(placement-api)
	command -v neutron-server >/dev/null || missing+=(neutron-server)
	# os-brick (cinder-backup's attach) runs both and dies without them.
	command -v nvme >/dev/null || missing+=(nvme-cli)
	command -v dmidecode >/dev/null || missing+=(dmidecode)
	command -v uwsgi >/dev/null || missing+=(uwsgi)
	[ -e /usr/lib/uwsgi/plugins/python3_plugin.so ] || missing+=(uwsgi-plugin-python3)
	"$_peers_py" -c 'import keystoneclient' 2>/dev/null || missing+=(python3-keystoneclient)
	if ((${#missing[@]})); then
		_peers_log "installing ${missing[*]}"
		local t=$SECONDS
		_eos_apt_install "${missing[@]}" || return 1
		_peers_log "installed in $((SECONDS - t)) s"
	fi
}

_eos_keystone() {
	_peers_http_ok http://127.0.0.1:5000/v3 && return 0
	if ! declare -F ensure_swift >/dev/null && [ -f "$(dirname "${BASH_SOURCE[0]}")/ensure-swift.sh" ]; then
		# shellcheck source=/dev/null
		source "$(dirname "${BASH_SOURCE[0]}")/ensure-swift.sh"
	fi
	if declare -F ensure_swift >/dev/null; then
		ensure_swift
		return
	fi
	echo "ensure-openstack: no Keystone on 127.0.0.1:5000 and no scripts/ensure-swift.sh to start one" >&2
	return 1
}

_eos_rabbit_vhost() {
	local log=$KARBOR_TEST_PEERS_DIR/log/rabbit-vhost.log
	"$_peers_py" - "${KARBOR_TEST_RABBIT_API:-http://guest:guest@127.0.0.1:15672}" "$_eos_vhost" >>"$log" 2>&1 <<'EOT' ||
import base64, sys, urllib.parse, urllib.request
u = urllib.parse.urlsplit(sys.argv[1]); vhost = urllib.parse.quote(sys.argv[2], safe='')
base = '%s://%s:%d' % (u.scheme, u.hostname, u.port or 15672)
auth = base64.b64encode(('%s:%s' % (u.username, u.password)).encode()).decode()
for path, body in (('/api/vhosts/' + vhost, b'{}'),
                   ('/api/permissions/%s/%s' % (vhost, urllib.parse.quote(u.username)),
                    b'{"configure": ".*", "write": ".*", "read": ".*"}')):
    req = urllib.request.Request(base + path, data=body, method='PUT',
                                 headers={'Authorization': 'Basic ' + auth, 'Content-Type': 'application/json'})
    urllib.request.urlopen(req, timeout=10)
EOT
		{ _eos_fail "creating the RabbitMQ virtual host $_eos_vhost" "$log"; return 1; }
}

_eos_databases() {
	local db
	for db in glance cinder placement nova_api nova nova_cell0 neutron; do
		mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root \
			-e "CREATE DATABASE IF NOT EXISTS $db CHARACTER SET utf8" ||
			{ echo "ensure-openstack: cannot create the $db database in MariaDB" >&2; return 1; }
	done
}

# _eos_register: service users, roles, catalog entries and the demo user,
# each made only when missing.
_eos_register() {
	local log=$KARBOR_TEST_PEERS_DIR/log/keystone-register-openstack.log
	{ _peers_keystone_py; cat <<'EOT'; } | "$_peers_py" - >>"$log" 2>&1 || { _eos_fail "registering the services in Keystone" "$log"; return 1; }
ks = admin_client(env['KARBOR_TEST_OS_AUTH_URL'], env['KARBOR_TEST_OS_ADMIN_USER'],
                  env['KARBOR_TEST_OS_ADMIN_PASSWORD'], env['KARBOR_TEST_OS_ADMIN_PROJECT'])

admin = ks.roles.list(name='admin')[0]
member = one(ks.roles.list, ks.roles.create, 'member')
# Cinder refuses Nova's attachment delete without a service token.
service_role = one(ks.roles.list, ks.roles.create, 'service')
service = one(ks.projects.list, ks.projects.create, 'service', domain='default')
project = one(ks.projects.list, ks.projects.create, env['KARBOR_TEST_OS_PROJECT'], domain='default')
user = one(ks.users.list, ks.users.create, env['KARBOR_TEST_OS_USER'], domain='default',
           password=env['KARBOR_TEST_OS_PASSWORD'])
ks.roles.grant(member, user=user, project=project)
catalog = (('glance', 'image', 'http://127.0.0.1:9292'),
           ('cinderv3', 'volumev3', 'http://127.0.0.1:8776/v3/%(project_id)s'),
           ('nova', 'compute', 'http://127.0.0.1:8774/v2.1'),
           ('placement', 'placement', 'http://127.0.0.1:8778'),
           ('neutron', 'network', 'http://127.0.0.1:9696'))
for name in ('glance', 'cinder', 'nova', 'placement', 'neutron', env['KARBOR_TEST_OS_TRUSTEE_USER']):
    # Created with its password, never updated: a password change revokes
    # every token of the user, also those of tests running meanwhile.
    pw = env['KARBOR_TEST_OS_TRUSTEE_PASSWORD'] if name == env['KARBOR_TEST_OS_TRUSTEE_USER'] else 'password'
    u = one(ks.users.list, ks.users.create, name, domain='default', password=pw)
    for role in (admin, service_role):
        ks.roles.grant(role, user=u, project=service)
for name, stype, url in catalog:
    svc = [s for s in ks.services.list(type=stype) if s.name == name]
    svc = svc[0] if svc else ks.services.create(name=name, type=stype)
    have = {e.interface for e in ks.endpoints.list(service=svc)}
    for iface in ('public', 'internal', 'admin'):
        if iface not in have:
            ks.endpoints.create(service=svc, url=url, interface=iface, region='RegionOne')
print('registered')
EOT
}

# _eos_keystone_authtoken USER: the [keystone_authtoken] section of a
# service authenticating as USER.
_eos_keystone_authtoken() {
	cat <<EOT
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000
memcached_servers = 127.0.0.1:11211
$(_eos_authtoken "$1")
EOT
}

# _eos_authtoken USER: a [keystone_authtoken]-style password auth block.
_eos_authtoken() {
	cat <<EOT
auth_url = http://127.0.0.1:5000
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = password
region_name = RegionOne
EOT
}

_eos_glance() {
	local G=$KARBOR_TEST_PEERS_DIR/glance L=$KARBOR_TEST_PEERS_DIR/log
	_eos_alive glance && return 0
	mkdir -p "$G/images" "$G/lock"
	cat >"$G/glance-api.conf" <<EOT
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
workers = 1
log_file = $L/glance-api.log
[database]
connection = mysql+pymysql://root@127.0.0.1:3306/glance
[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $G/images
$(_eos_keystone_authtoken glance)
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $G/lock
EOT
	glance-manage --config-file "$G/glance-api.conf" db_sync >>"$L/glance-manage.log" 2>&1 ||
		{ _eos_fail "glance-manage db_sync" "$L/glance-manage.log"; return 1; }
	_eos_start glance "$L/glance-api.out" glance-api --config-file "$G/glance-api.conf"
}

# The Cinder volume driver: each volume or snapshot is a sparse file, attached
# through os-brick's "local" connector, so that cinder-backup reads and
# restores real bytes without iSCSI or LVM. Copies (snapshots, volumes from
# them, clones) are made by cp, which keeps the holes: a 1 GiB test volume of
# a few written bytes copies at once, where an in-process copy wrote the whole
# GiB and, blocking cinder-volume's event loop meanwhile, held up every other
# volume request for tens of seconds.
_eos_cinder_driver() {
	cat <<'EOT'
import os
import subprocess

from oslo_config import cfg

from cinder.tests.fake_driver import FakeLoggingVolumeDriver


class FileVolumeDriver(FakeLoggingVolumeDriver):
    def _path(self, kind, obj):
        d = os.path.join(cfg.CONF.state_path, 'files')
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, '%s-%s' % (kind, obj.id))

    def _copy(self, src, dst):
        # cinder-volume's subprocess is eventlet's green one: other requests
        # go on while cp runs.
        subprocess.run(['cp', '--sparse=always', src, dst], check=True)

    def _resize(self, volume, size_gb):
        with open(self._path('volume', volume), 'r+b') as f:
            f.truncate(size_gb * 1024 ** 3)

    def local_path(self, volume, vg=None):
        return self._path('volume', volume)

    def create_volume(self, volume):
        with open(self._path('volume', volume), 'wb') as f:
            f.truncate(volume.size * 1024 ** 3)

    def delete_volume(self, volume):
        if os.path.exists(self._path('volume', volume)):
            os.unlink(self._path('volume', volume))

    def extend_volume(self, volume, new_size):
        self._resize(volume, new_size)

    def create_snapshot(self, snapshot):
        self._copy(self._path('volume', snapshot.volume), self._path('snapshot', snapshot))

    def delete_snapshot(self, snapshot):
        if os.path.exists(self._path('snapshot', snapshot)):
            os.unlink(self._path('snapshot', snapshot))

    def create_volume_from_snapshot(self, volume, snapshot):
        self._copy(self._path('snapshot', snapshot), self._path('volume', volume))
        self._resize(volume, volume.size)

    def create_cloned_volume(self, volume, src_vref):
        self._copy(self._path('volume', src_vref), self._path('volume', volume))
        self._resize(volume, volume.size)

    def initialize_connection(self, volume, connector, **kwargs):
        return {'driver_volume_type': 'local', 'data': {'device_path': self._path('volume', volume)}}

    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        return {'driver_volume_type': 'local', 'data': {'device_path': self._path('snapshot', snapshot)}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    def terminate_connection_snapshot(self, snapshot, connector, **kwargs):
        pass

    def create_export(self, context, volume, connector):
        pass

    def ensure_export(self, context, volume):
        pass

    def remove_export(self, context, volume):
        pass

    def create_export_snapshot(self, context, snapshot, connector):
        pass

    def remove_export_snapshot(self, context, snapshot):
        pass
EOT
}

_eos_cinder() {
	local C=$KARBOR_TEST_PEERS_DIR/cinder L=$KARBOR_TEST_PEERS_DIR/log s
	local todo=()
	for s in api scheduler volume backup; do _eos_alive "cinder-$s" || todo+=("$s"); done
	((${#todo[@]})) || return 0
	mkdir -p "$C/backups" "$C/lock"
	_eos_cinder_driver >"$C/karbor_test_cinder_driver.py"
	cat >"$C/cinder.conf" <<EOT
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:5672/$_eos_vhost
auth_strategy = keystone
my_ip = 127.0.0.1
host = karbor-test
state_path = $C
log_dir = $L
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 8776
osapi_volume_workers = 1
enabled_backends = file
glance_api_servers = http://127.0.0.1:9292
backup_driver = cinder.backup.drivers.posix.PosixBackupDriver
backup_posix_path = $C/backups
backup_compression_algorithm = none
# cinder-backup runs up to backup_max_operations (15) backups at once, each
# holding a backup_file_size buffer: with the default (1.9 GB) every backup
# of a 1 GiB test volume holds the whole volume, so a plan of many volumes
# needs 15 GiB of memory. With 64 MiB files it needs under 1 GiB.
backup_file_size = 67108864
rootwrap_config = /etc/cinder/rootwrap.conf
# The tests of several packages create volumes, snapshots and backups in
# project demo at the same time: Cinder's default quotas (10 each) would
# fail them with 413. The default quota class in the database would
# override these, hence use_default_quota_class.
use_default_quota_class = false
quota_volumes = -1
quota_snapshots = -1
quota_backups = -1
quota_gigabytes = -1
quota_backup_gigabytes = -1
[file]
volume_driver = karbor_test_cinder_driver.FileVolumeDriver
volume_backend_name = file
[database]
connection = mysql+pymysql://root@127.0.0.1:3306/cinder
$(_eos_keystone_authtoken cinder)
[oslo_concurrency]
lock_path = $C/lock
[oslo_messaging_notifications]
driver = noop
EOT
	cinder-manage --config-file "$C/cinder.conf" db sync >>"$L/cinder-manage.log" 2>&1 ||
		{ _eos_fail "cinder-manage db sync" "$L/cinder-manage.log"; return 1; }
	for s in "${todo[@]}"; do
		_eos_start "cinder-$s" "$L/cinder-$s.out" env PYTHONPATH="$C" "cinder-$s" --config-file "$C/cinder.conf"
	done
}

_eos_neutron() {
	local Q=$KARBOR_TEST_PEERS_DIR/neutron L=$KARBOR_TEST_PEERS_DIR/log
	_eos_alive neutron && return 0
	mkdir -p "$Q/lock"
	cat >"$Q/neutron.conf" <<EOT
[DEFAULT]
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = rabbit://guest:guest@127.0.0.1:5672/$_eos_vhost
bind_host = 127.0.0.1
bind_port = 9696
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
state_path = $Q
log_dir = $L
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
[database]
connection = mysql+pymysql://root@127.0.0.1:3306/neutron
$(_eos_keystone_authtoken neutron)
[oslo_concurrency]
lock_path = $Q/lock
[oslo_messaging_notifications]
driver = noop
EOT
	cat >"$Q/ml2_conf.ini" <<EOT
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = test
extension_drivers = port_security
[ml2_type_flat]
flat_networks = public
[ml2_type_vxlan]
vni_ranges = 1:1000
EOT
	neutron-db-manage --config-file "$Q/neutron.conf" --config-file "$Q/ml2_conf.ini" upgrade head \
		>>"$L/neutron-db-manage.log" 2>&1 || { _eos_fail "neutron-db-manage upgrade" "$L/neutron-db-manage.log"; return 1; }
	_eos_start neutron "$L/neutron-server.out" "$_peers_py" -O /usr/bin/neutron-server \
		--config-file "$Q/neutron.conf" --config-file "$Q/ml2_conf.ini"
}

_eos_placement() {
	local PL=$KARBOR_TEST_PEERS_DIR/placement L=$KARBOR_TEST_PEERS_DIR/log
	_eos_alive placement && return 0
	mkdir -p "$PL"
	cat >"$PL/placement.conf" <<EOT
[DEFAULT]
log_file = $L/placement.log
[placement_database]
connection = mysql+pymysql://root@127.0.0.1:3306/placement
[api]
auth_strategy = keystone
$(_eos_keystone_authtoken placement)
EOT
	placement-manage --config-file "$PL/placement.conf" db sync >>"$L/placement-manage.log" 2>&1 ||
		{ _eos_fail "placement-manage db sync" "$L/placement-manage.log"; return 1; }
	_eos_start placement "$L/placement-uwsgi.log" uwsgi --plugin python3 --http11-socket 127.0.0.1:8778 \
		--wsgi-file /usr/bin/placement-api --master --processes 1 --threads 4 --enable-threads \
		--lazy-apps --die-on-term --env OS_PLACEMENT_CONFIG_DIR="$PL"
}

_eos_nova() {
	local N=$KARBOR_TEST_PEERS_DIR/nova L=$KARBOR_TEST_PEERS_DIR/log s
	local todo=()
	for s in api conductor scheduler compute; do _eos_alive "nova-$s" || todo+=("$s"); done
	((${#todo[@]})) || return 0
	mkdir -p "$N/lock" "$N/instances"
	cat >"$N/nova.conf" <<EOT
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:5672/$_eos_vhost
my_ip = 127.0.0.1
# The "test" ML2 driver binds ports only for hosts of this name.
host = host-ovs-filter-active
state_path = $N
instances_path = $N/instances
log_dir = $L
compute_driver = fake.FakeDriver
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[api_database]
connection = mysql+pymysql://root@127.0.0.1:3306/nova_api
[database]
connection = mysql+pymysql://root@127.0.0.1:3306/nova
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
$(_eos_keystone_authtoken nova)
[service_user]
send_service_user_token = true
$(_eos_authtoken nova)
[placement]
$(_eos_authtoken placement)
[neutron]
$(_eos_authtoken neutron)
[cinder]
os_region_name = RegionOne
[glance]
api_servers = http://127.0.0.1:9292
[oslo_concurrency]
lock_path = $N/lock
[oslo_messaging_notifications]
driver = noop
[os_vif_linux_bridge]
use_ipv6 = false
EOT
	local nm=(nova-manage --config-file "$N/nova.conf") mlog=$L/nova-manage.log
	"${nm[@]}" api_db sync >>"$mlog" 2>&1 || { _eos_fail "nova-manage api_db sync" "$mlog"; return 1; }
	# Read the whole listing first: grep -q closing the pipe early makes
	# nova-manage die of a broken pipe, and pipefail then reads "absent".
	local cells
	cells=$("${nm[@]}" cell_v2 list_cells 2>>"$mlog") || cells=
	if ! grep -q ' cell0 ' <<<"$cells"; then
		"${nm[@]}" cell_v2 map_cell0 --database_connection mysql+pymysql://root@127.0.0.1:3306/nova_cell0 \
			>>"$mlog" 2>&1 || { _eos_fail "nova-manage cell_v2 map_cell0" "$mlog"; return 1; }
	fi
	if ! grep -q ' cell1 ' <<<"$cells"; then
		"${nm[@]}" cell_v2 create_cell --name cell1 >>"$mlog" 2>&1 ||
			{ _eos_fail "nova-manage cell_v2 create_cell" "$mlog"; return 1; }
	fi
	"${nm[@]}" db sync >>"$mlog" 2>&1 || { _eos_fail "nova-manage db sync" "$mlog"; return 1; }
	for s in "${todo[@]}"; do
		if [ "$s" = compute ]; then
			# Not the nova-compute package, which pulls in qemu and libvirt.
			_eos_start nova-compute "$L/nova-compute.out" "$_peers_py" -c \
				'import sys; from nova.cmd.compute import main; sys.argv[0] = "nova-compute"; main()' \
				--config-file "$N/nova.conf"
		else
			_eos_start "nova-$s" "$L/nova-$s.out" "nova-$s" --config-file "$N/nova.conf"
		fi
	done
}

# _eos_ready: every API answers, every Cinder and Nova service reports up,
# the compute host is mapped and the flavor exists; within a deadline.
_eos_ready() {
	local L=$KARBOR_TEST_PEERS_DIR/log
	_eos_wait 180 http://127.0.0.1:9292/ glance-api "$L/glance-api.log" || return 1
	_eos_wait 180 http://127.0.0.1:8776/ cinder-api "$L/cinder-api.log" || return 1
	_eos_wait 180 http://127.0.0.1:9696/ neutron-server "$L/neutron-server.log" || return 1
	_eos_wait 180 http://127.0.0.1:8778/ placement "$L/placement-uwsgi.log" || return 1
	_eos_wait 180 http://127.0.0.1:8774/ nova-api "$L/nova-api.log" || return 1
	local log=$L/check-openstack.log
	{ _peers_keystone_py; cat <<'EOT'; } | "$_peers_py" - "$KARBOR_TEST_PEERS_DIR/nova/nova.conf" >>"$log" 2>&1 || { _eos_fail "the OpenStack self-check" "$log"; return 1; }
import subprocess, sys, time
s = password_session(env['KARBOR_TEST_OS_AUTH_URL'], env['KARBOR_TEST_OS_ADMIN_USER'],
                     env['KARBOR_TEST_OS_ADMIN_PASSWORD'], env['KARBOR_TEST_OS_ADMIN_PROJECT'],
                     user_domain_id='default', project_domain_id='default')
cinder = s.get_endpoint(service_type='volumev3', interface='public')
nova = s.get_endpoint(service_type='compute', interface='public')
want_cinder = {'cinder-scheduler', 'cinder-volume', 'cinder-backup'}
want_nova = {'nova-conductor', 'nova-scheduler', 'nova-compute'}
deadline = time.time() + 240
while True:
    up_c = {x['binary'] for x in s.get(cinder + '/os-services').json()['services'] if x['state'] == 'up'}
    up_n = {x['binary'] for x in s.get(nova + '/os-services').json()['services'] if x['state'] == 'up'}
    hyp = s.get(nova + '/os-hypervisors').json()['hypervisors']
    if want_cinder <= up_c and want_nova <= up_n and hyp:
        break
    if time.time() > deadline:
        sys.exit('not up: cinder %s nova %s hypervisors %s' % (want_cinder - up_c, want_nova - up_n, hyp))
    time.sleep(1)
subprocess.run(['nova-manage', '--config-file', sys.argv[1], 'cell_v2', 'discover_hosts'], check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if not [f for f in s.get(nova + '/flavors').json()['flavors'] if f['name'] == 'm1.tiny']:
    s.post(nova + '/flavors', json={'flavor': {'name': 'm1.tiny', 'ram': 64, 'vcpus': 1, 'disk': 1}})
print('ok')
EOT
}

ensure_openstack() {
	local start=$SECONDS
	mkdir -p "$KARBOR_TEST_PEERS_DIR/log"
	declare -F ensure_mariadb >/dev/null ||
		source "$(dirname "${BASH_SOURCE[0]}")/ensure-databases.sh"
	_eos_keystone || return 1
	_peers_ensure ensure-openstack "$start" "$KARBOR_TEST_PEERS_DIR/lock-openstack" "OpenStack services" \
		_eos_packages ensure_mariadb _eos_databases _eos_rabbit_vhost _eos_register \
		_eos_glance _eos_cinder _eos_neutron _eos_placement _eos_nova _eos_ready
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	ensure_openstack
	env | grep '^KARBOR_TEST_OS_' | grep -v PASSWORD | sort
fi
