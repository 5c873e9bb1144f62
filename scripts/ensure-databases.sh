# shellcheck shell=bash
# Database servers for pkg/db's integration tests, on a Debian machine.
#
# Source this file, then call the functions:
#
#   source scripts/ensure-databases.sh
#   ensure_mariadb      # MariaDB on 127.0.0.1:3306, user root, empty password,
#                       # and mariadbd + mariadb-install-db for private servers
#   ensure_postgresql   # PostgreSQL on 127.0.0.1:5432, trust auth for 127.0.0.1
#
# or run it: bash scripts/ensure-databases.sh (does both).
#
# Each function first checks whether the server already answers as the tests
# need and then does nothing; otherwise it installs the server (apt-get) if it
# is missing, starts it if its port is closed, opens the test access, and
# waits for it with a deadline. It changes a running server's access rules
# only when the tests cannot log in. Safe under set -euo pipefail; it sets no
# shell options of its own and defines only ensure_* and _edb_* names.

_edb_log() { printf '\n==> %s\n' "$*"; }

_edb_as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

_edb_apt_updated=
_edb_apt_install() {
	command -v apt-get >/dev/null || {
		echo "ensure-databases: $* missing and there is no apt-get to install it" >&2
		return 1
	}
	if [ -z "$_edb_apt_updated" ]; then
		_edb_as_root apt-get update -qq
		_edb_apt_updated=1
	fi
	_edb_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

_edb_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# _edb_wait PORT SECONDS WHAT: wait until PORT accepts connections.
_edb_wait() {
	local deadline=$((SECONDS + $2))
	until _edb_port_open "$1"; do
		if ((SECONDS >= deadline)); then
			echo "ensure-databases: $3 did not open port $1 within $2 s" >&2
			return 1
		fi
		sleep 0.25
	done
}

# _edb_until SECONDS WHAT COMMAND...: retry COMMAND until it succeeds.
_edb_until() {
	local deadline=$((SECONDS + $1)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "ensure-databases: $what did not succeed within the deadline" >&2
			return 1
		fi
		sleep 0.5
	done
}

_edb_mariadb_tcp_ok() {
	mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root --connect-timeout=5 -e 'SELECT 1' >/dev/null 2>&1
}

# What the server's own root (over its socket, as the OS root user) runs to
# let root in over TCP from 127.0.0.1 without a password.
_edb_mariadb_sql() {
	_edb_as_root mariadb --protocol=socket -u root -e "$1"
}

ensure_mariadb() {
	_edb_mariadb_up || return 1
	# The OpenStack peers share this server: each Cinder, Nova and Neutron
	# worker keeps a pool of connections, and a plan of 50 volumes polled at
	# once went past MariaDB's default of 151 ("Too many connections" as
	# Cinder's 500s). Raised at run time, so a server already running gets it.
	mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root --connect-timeout=5 \
		-e 'SET GLOBAL max_connections = GREATEST(@@max_connections, 1000)'
}

_edb_mariadb_up() {
	if ! command -v mariadb >/dev/null; then
		_edb_log "installing mariadb-client"
		_edb_apt_install mariadb-client
	fi
	# cmd/karbor-protection's outage test runs a private server of its own
	# (it kills and restarts it), whichever server the other tests share.
	if [ ! -x /usr/sbin/mariadbd ] || ! command -v mariadb-install-db >/dev/null; then
		_edb_log "installing mariadb-server-core"
		_edb_apt_install mariadb-server-core
	fi
	if _edb_port_open 3306 && _edb_mariadb_tcp_ok; then
		return 0
	fi
	# mariadb-server-core has the programs; mariadb-server adds the mysql
	# user and the system service's files.
	if ! id mysql >/dev/null 2>&1; then
		_edb_log "installing mariadb-server"
		_edb_apt_install mariadb-server
	fi
	if ! _edb_port_open 3306; then
		if [ ! -d /var/lib/mysql/mysql ]; then
			_edb_log "initialising the MariaDB data directory"
			_edb_as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
		fi
		_edb_log "starting MariaDB"
		_edb_as_root install -d -o mysql -g mysql -m 0755 /run/mysqld
		_edb_as_root start-stop-daemon --start --oknodo --background \
			--exec /usr/sbin/mariadbd -- --user=mysql
		_edb_wait 3306 60 MariaDB
	fi
	if _edb_mariadb_tcp_ok; then
		return 0
	fi
	_edb_log "letting root in over TCP from 127.0.0.1 without a password (test server)"
	_edb_until 30 "MariaDB's socket" _edb_mariadb_sql 'SELECT 1'
	_edb_mariadb_sql "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
		ALTER USER 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
	if ! _edb_mariadb_tcp_ok; then
		# Without skip-name-resolve, 127.0.0.1 may be taken for localhost.
		_edb_mariadb_sql "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');"
	fi
	_edb_mariadb_tcp_ok || {
		echo "ensure-databases: MariaDB runs but root cannot log in over TCP" >&2
		return 1
	}
}

_edb_psql_ok() {
	PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p 5432 -U postgres -w -d postgres -Atc 'SELECT 1' >/dev/null 2>&1
}

# _edb_pg_version: the newest cluster version under /etc/postgresql.
_edb_pg_version() {
	local v
	v=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
	[ -n "$v" ] || {
		echo "ensure-databases: no PostgreSQL cluster under /etc/postgresql" >&2
		return 1
	}
	echo "$v"
}

ensure_postgresql() {
	if ! command -v psql >/dev/null; then
		_edb_log "installing postgresql-client"
		_edb_apt_install postgresql-client
	fi
	if _edb_port_open 5432 && _edb_psql_ok; then
		return 0
	fi
	if ! command -v pg_ctlcluster >/dev/null || [ ! -d /etc/postgresql ]; then
		_edb_log "installing postgresql"
		_edb_apt_install postgresql
	fi
	local version hba
	version=$(_edb_pg_version)
	hba=/etc/postgresql/$version/main/pg_hba.conf
	if ! _edb_as_root grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
		_edb_log "PostgreSQL $version: trust for 127.0.0.1 (test server)"
		# The first matching line wins, so the rule goes first.
		_edb_as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
		if _edb_port_open 5432; then
			_edb_as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
		fi
	fi
	if ! _edb_port_open 5432; then
		_edb_log "starting PostgreSQL $version"
		_edb_as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
		_edb_wait 5432 60 PostgreSQL
	fi
	_edb_until 30 "logging in to PostgreSQL as postgres" _edb_psql_ok
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	ensure_mariadb
	ensure_postgresql
	echo "MariaDB on 127.0.0.1:3306 and PostgreSQL on 127.0.0.1:5432 are ready"
fi
