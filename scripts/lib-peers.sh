# shellcheck shell=bash
# What scripts/ensure-swift.sh and scripts/ensure-openstack.sh share to start
# the test peers: logging, root, probing a port or URL, waiting for a service
# with its log's tail on failure, starting a daemon with a PID file, the
# Python preamble of their Keystone steps, and running their steps under a
# lock.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib-peers.sh"
#
# Safe under set -euo pipefail; it sets no shell options and defines only
# _peers_* names. Sourcing it again redefines the same functions.

_peers_py=/usr/bin/python3 # Debian's, whose packages the services are

_peers_log() { printf '\n==> %s\n' "$*"; }

_peers_as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

_peers_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# _peers_http_ok URL: the URL answers with a status below 500 (2xx-4xx: the
# service is up, whatever it thinks of an anonymous request).
_peers_http_ok() {
	"$_peers_py" - "$1" >/dev/null 2>&1 <<'EOT'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=5)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code < 500 else 1)
EOT
}

# _peers_fail SCRIPT WHAT LOG: say (as SCRIPT) what failed and show the end
# of its log.
_peers_fail() {
	echo "$1: $2 failed; last lines of $3:" >&2
	tail -n 40 "$3" >&2 2>/dev/null || echo "(no log)" >&2
	return 1
}

# _peers_wait SCRIPT INTERVAL SECONDS URL WHAT LOG: poll URL every INTERVAL
# until it answers; after SECONDS, fail showing LOG.
_peers_wait() {
	local script=$1 interval=$2 deadline=$((SECONDS + $3))
	until _peers_http_ok "$4"; do
		if ((SECONDS >= deadline)); then
			_peers_fail "$script" "$5 (no answer on $4 within $3 s)" "$6"
			return 1
		fi
		sleep "$interval"
	done
}

# _peers_start PIDFILE LOG COMMAND...: run COMMAND in the background,
# detached from this shell and from the callers' lock (fd 9), its PID in
# PIDFILE and its output appended to LOG.
_peers_start() {
	local pidfile=$1 log=$2
	shift 2
	setsid nohup "$@" >>"$log" 2>&1 </dev/null 9>&- &
	echo $! >"$pidfile"
}

# _peers_keystone_py: Python the scripts' Keystone code starts with, piped
# in front of it:
#   { _peers_keystone_py; cat <<'EOT'; } | "$_peers_py" - ARGS...
# It defines env (os.environ); password_session(auth_url, user, password,
# project, **domains); admin_client(auth_url, user, password, project), a
# keystoneclient v3 client for a user and project of the default domain;
# and one(list, create, name, **kw), which finds a resource by name (and
# domain) or creates it.
_peers_keystone_py() {
	cat <<'EOT'
import os
from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

env = os.environ


def password_session(auth_url, user, password, project, **domains):
    return session.Session(auth=v3.Password(
        auth_url=auth_url, username=user, password=password, project_name=project, **domains))


def admin_client(auth_url, user, password, project):
    return client.Client(session=password_session(
        auth_url, user, password, project, user_domain_id='default', project_domain_id='default'))


def one(lst, create, name, **kw):
    found = lst(name=name, **{k: v for k, v in kw.items() if k == 'domain'})
    return found[0] if found else create(name=name, **kw)
EOT
}

# _peers_ensure SCRIPT START LOCK WHAT STEP...: run the STEPs in order until
# one fails, one run at a time (another test run may be starting the same
# peers: a flock on LOCK, waited for up to 900 s); when all succeed and the
# run since START (a $SECONDS) took more than a second, say WHAT is ready.
# Its status is the failed step's.
_peers_ensure() {
	local script=$1 start=$2 lock=$3 what=$4 rc=0
	shift 4
	(
		flock -w 900 9 || { echo "$script: $lock stays taken" >&2; exit 1; }
		for step in "$@"; do "$step" || exit; done
	) 9>"$lock" || rc=$?
	if [ "$rc" = 0 ] && ((SECONDS - start > 1)); then
		_peers_log "$what ready in $((SECONDS - start)) s (logs in $KARBOR_TEST_PEERS_DIR/log)"
	fi
	return "$rc"
}
