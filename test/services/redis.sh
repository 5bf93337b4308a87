#!/usr/bin/env bash
# A throwaway Redis server for the tests (Debian's redis-server, installed if missing).
#
#   redis.sh start DIR   start on a free loopback port, nothing persisted; print the URL
#   redis.sh stop DIR    stop it and remove DIR
set -euo pipefail
SERVICE=redis
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command=${1:-}
DIR=$(data_dir "${2:?usage: redis.sh start|stop DIR}")

case $command in
  start)
    if [ -f "$DIR/pid" ] && pid_runs "$(cat "$DIR/pid")" redis-server; then
      echo "redis://127.0.0.1:$(cat "$DIR/port")"
      exit 0
    fi
    apt_install redis-server
    rm -rf "$DIR"
    mkdir -p "$DIR"
    PORT=$(free_port)
    redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --pidfile "$DIR/pid" \
      --logfile "$DIR/server.log" --save "" --appendonly no >/dev/null
    wait_for_port "$PORT" 30 || { tail -n 20 "$DIR/server.log" >&2; die "Redis did not come up on $PORT"; }
    for _ in $(seq 1 50); do [ -s "$DIR/pid" ] && break; sleep 0.1; done
    echo "$PORT" >"$DIR/port"
    log "ready on 127.0.0.1:$PORT"
    echo "redis://127.0.0.1:$PORT"
    ;;
  stop)
    [ -f "$DIR/pid" ] && stop_pid "$(cat "$DIR/pid")" redis-server
    rm -rf "$DIR"
    log "stopped"
    ;;
  *) die "usage: redis.sh start|stop DIR" ;;
esac
