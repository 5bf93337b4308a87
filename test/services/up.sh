#!/usr/bin/env bash
# Starts every service the full test suite uses, each in a folder of its own under DIR, and writes
# DIR/env: the TEST_* variables that point the tests at them. `down.sh DIR` stops them all.
#
#   test/services/up.sh DIR && . DIR/env && npm test
#
# `npm test` needs none of this (embedded Postgres, s3rver, tests without Redis or RabbitMQ); with
# it the suite also runs on real PostgreSQL, Ceph RGW, Redis and RabbitMQ, as CI does.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:?usage: up.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

# Started one after the other: each may apt-get install, and dpkg takes one at a time.
database_url=$("$HERE/postgres.sh" start "$DIR/postgres")
redis_url=$("$HERE/redis.sh" start "$DIR/redis")
s3_endpoint=$("$HERE/ceph-rgw.sh" start "$DIR/ceph-rgw")
amqp_url=$("$HERE/rabbitmq.sh" start "$DIR/rabbitmq")

cat >"$DIR/env" <<ENV
export TEST_DATABASE_URL=$database_url
export TEST_REDIS_URL=$redis_url
export TEST_S3_ENDPOINT=$s3_endpoint
export TEST_S3_ACCESS_KEY=rgwtest
export TEST_S3_SECRET_KEY=rgwtestsecret
export TEST_AMQP_URL=$amqp_url
ENV
cat "$DIR/env"
