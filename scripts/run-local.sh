#!/usr/bin/env bash
# Runs karbor-protection on this machine, in the foreground, with the sample
# configuration: etc/karbor.conf.sample (broker rabbit://guest:guest@127.0.0.1:5672/)
# and the noop provider of etc/providers.d, whose file-system bank is var/bank.
# karbor's tables live in var/karbor.sqlite, made with karbor's schema on the
# first run (no database server needed); the operator endpoints answer on
# http://127.0.0.1:9785 (/healthz, /readyz, /operations).
#
# It starts a local RabbitMQ first if none answers on 127.0.0.1:5672
# (installing it on a fresh Debian machine), then builds bin/karbor-protection.
# Extra arguments go to the service, e.g. ./scripts/run-local.sh --debug.
# Stop it with Ctrl-C (SIGINT): in-flight calls and operations finish first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

# shellcheck source=scripts/ensure-rabbitmq.sh
source scripts/ensure-rabbitmq.sh
ensure_rabbitmq

command -v go >/dev/null || { echo "run-local: Go is needed to build the service (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p bin var
go build -o bin/karbor-protection ./cmd/karbor-protection
exec bin/karbor-protection --config-file etc/karbor.conf.sample "$@"
