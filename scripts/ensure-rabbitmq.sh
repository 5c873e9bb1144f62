# shellcheck shell=bash
# A local RabbitMQ for the tests (tox-like-test.sh) and for running the
# service (scripts/run-local.sh), on a Debian machine.
#
#   source scripts/ensure-rabbitmq.sh
#   ensure_rabbitmq     # broker on 127.0.0.1:5672, management API on :15672
#
# or run it: bash scripts/ensure-rabbitmq.sh
#
# ensure_rabbitmq does nothing when the ports already answer; otherwise it
# installs rabbitmq-server (apt-get) if it is missing, starts it, enables the
# management plugin (the tests create a virtual host per test through it),
# and waits for each port with a deadline.
#
# It also defines the helpers it needs, which the sourcing script may use:
# as_root, apt_install (runs apt-get update once), port_open PORT and
# wait_port PORT SECONDS. Safe under set -euo pipefail; it sets no shell
# options of its own.

_erq_log() { printf '\n==> %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=
apt_install() {
	command -v apt-get >/dev/null || {
		echo "ensure-rabbitmq: $* missing and there is no apt-get to install it" >&2
		return 1
	}
	if [ -z "$apt_updated" ]; then
		as_root apt-get update -qq
		apt_updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds
	local i
	for ((i = 0; i < $2 * 4; i++)); do
		port_open "$1" && return 0
		sleep 0.25
	done
	echo "port $1 did not open within $2 s" >&2
	return 1
}

ensure_rabbitmq() {
	if ! port_open 5672; then
		command -v rabbitmq-server >/dev/null || { _erq_log "installing rabbitmq-server"; apt_install rabbitmq-server; }
		_erq_log "starting rabbitmq-server"
		as_root rabbitmq-server -detached || true
		wait_port 5672 120
	fi
	if ! port_open 15672; then
		_erq_log "enabling the RabbitMQ management plugin"
		as_root rabbitmq-plugins enable rabbitmq_management >/dev/null
		wait_port 15672 60
	fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	ensure_rabbitmq
	echo "RabbitMQ on 127.0.0.1:5672 (management API on :15672) is ready"
fi
