#!/usr/bin/env bash
# Stops what `up.sh DIR` started and removes DIR.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:?usage: down.sh DIR}
[ -d "$DIR" ] || exit 0
"$HERE/rabbitmq.sh" down "$DIR/rabbitmq"
"$HERE/ceph-rgw.sh" stop "$DIR/ceph-rgw"
"$HERE/redis.sh" stop "$DIR/redis"
"$HERE/postgres.sh" stop "$DIR/postgres"
rm -f "$DIR/env"
rmdir "$DIR" 2>/dev/null || true
