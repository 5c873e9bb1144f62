#!/usr/bin/env bash
# The one test entry point, for developers and CI alike.
#
# On a fresh Debian machine it installs and starts what the tests talk to
# (RabbitMQ with its management plugin, Debian's python3-oslo.messaging and
# python3-boto3 for the interop tests, MariaDB and PostgreSQL for the database
# tests, Keystone and Swift for the swift and S3 banks, Glance, Cinder, Nova and
# Neutron for the OpenStack plugins) and reuses whatever is already running.
# Then: gofmt, go vet, staticcheck, every test
# with -race (integration tests may not skip: CI=true), and a short run of
# every fuzz target.
#
#   ./tox-like-test.sh            everything
#   FUZZTIME=30s ./tox-like-test.sh
#   SKIP_FUZZ=1 ./tox-like-test.sh
set -euo pipefail
# A step that fails under set -e says which, so CI's log shows it.
trap 'echo "tox-like-test.sh: line $LINENO failed (status $?): $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")"

export CI=${CI:-true}
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
export KARBOR_TEST_AMQP_URL=${KARBOR_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
export KARBOR_TEST_RABBIT_API=${KARBOR_TEST_RABBIT_API:-http://guest:guest@127.0.0.1:15672}
export KARBOR_TEST_PYTHON=${KARBOR_TEST_PYTHON:-/usr/bin/python3}
export KARBOR_TEST_MYSQL_URL=${KARBOR_TEST_MYSQL_URL:-mysql+pymysql://root@127.0.0.1:3306/}
export KARBOR_TEST_POSTGRESQL_URL=${KARBOR_TEST_POSTGRESQL_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
# shellcheck source=scripts/ensure-databases.sh
source scripts/ensure-databases.sh
# shellcheck source=scripts/ensure-rabbitmq.sh
source scripts/ensure-rabbitmq.sh
# shellcheck source=scripts/ensure-swift.sh
source scripts/ensure-swift.sh
# shellcheck source=scripts/ensure-openstack.sh
source scripts/ensure-openstack.sh
FUZZTIME=${FUZZTIME:-5s}

log() { printf '\n==> %s\n' "$*"; }

ensure_python_oslo() {
	if ! "$KARBOR_TEST_PYTHON" -c 'import oslo_messaging' 2>/dev/null; then
		log "installing python3-oslo.messaging"
		apt_install python3-oslo.messaging
	fi
}

# The S3 bank's compatibility tests make karbor's calls with botocore.
ensure_python_boto3() {
	if ! "$KARBOR_TEST_PYTHON" -c 'import botocore' 2>/dev/null; then
		log "installing python3-boto3"
		apt_install python3-boto3
	fi
}

ensure_staticcheck() {
	command -v staticcheck >/dev/null && return
	log "installing staticcheck"
	(cd /tmp && GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@latest)
}

static_checks() {
	log "gofmt"
	local bad
	bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
	[ -z "$bad" ] || { echo "gofmt would change: $bad" >&2; return 1; }
	log "go vet"
	go vet ./...
	log "staticcheck"
	staticcheck ./...
}

# fuzz_one pkg target: a finding is a failure; the Go 1.26 coordinator's
# spurious "context deadline exceeded" at the end of -fuzztime (golang/go#75804,
# fixed in Go 1.27) is not. A real finding always writes a reproducer into the
# package's testdata/fuzz/<target>/ first, so that is what decides.
fuzz_one() {
	local pkg=$1 fn=$2 corpus="$1/testdata/fuzz/$2" before after out rc=0
	before=$(ls "$corpus" 2>/dev/null | sort || true)
	out=$(go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" "$pkg" 2>&1) || rc=$?
	after=$(ls "$corpus" 2>/dev/null | sort || true)
	[ "$rc" = 0 ] && return 0
	if [ "$before" = "$after" ] && grep -q 'context deadline exceeded' <<<"$out" &&
		! grep -q 'Failing input written' <<<"$out"; then
		echo "warning: $fn ended with Go's fuzz-coordinator deadline race (golang/go#75804); no finding" >&2
		return 0
	fi
	printf '%s\n' "$out" >&2
	return "$rc"
}

run_fuzz() {
	[ -n "${SKIP_FUZZ:-}" ] && return
	local file pkg fn
	# Every Fuzz target in the tree, each for $FUZZTIME; the seed corpus lives
	# in the package's testdata/fuzz/<Target>/.
	while IFS= read -r file; do
		pkg=./$(dirname "$file")
		for fn in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
			log "fuzz $pkg $fn ($FUZZTIME)"
			fuzz_one "$pkg" "$fn"
		done
	done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sed 's|^\./||' | sort)
}

ensure_rabbitmq
ensure_python_oslo
ensure_python_boto3
ensure_mariadb
ensure_postgresql
ensure_swift
ensure_openstack
ensure_staticcheck
static_checks
log "go test -race ./..."
go test -race -count=1 -timeout 20m ./...
run_fuzz
log "all green"
