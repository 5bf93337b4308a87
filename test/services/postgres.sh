#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, from Debian's packages (installed if missing).
#
#   postgres.sh start DIR   initdb in DIR (trust auth, loopback only), start on a free port,
#                           print the connection URL (superuser `postgres`, database `postgres`)
#   postgres.sh stop DIR    stop that server and remove DIR
#   postgres.sh stop-server DIR    stop the server as an outage would (fast shutdown: sessions are
#                           terminated with 57P01), keeping its data
#   postgres.sh start-server DIR   start it again on the same data and port (if it was stopped)
#
# Tuned for tests, not durability: fsync off (the tests kill registries, never the machine).
set -euo pipefail
SERVICE=postgres
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command=${1:-}
DIR=$(data_dir "${2:?usage: postgres.sh start|stop DIR}")

bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
  echo "$dir"
}

# initdb and postgres refuse to run as root: run them as the package's `postgres` user then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $command in
  start)
    apt_install postgresql
    BIN=$(bin_dir)
    if [ -f "$DIR/port" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      echo "postgres://postgres@127.0.0.1:$(cat "$DIR/port")/postgres"
      exit 0
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$DIR"
      # The server's user must reach DIR through its parents.
      chmod o+x "$(dirname "$DIR")"
    fi
    PORT=$(free_port)
    as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
      { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
max_connections = 400
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null ||
      { tail -n 30 "$DIR/server.log" >&2; die "the server did not start"; }
    echo "$PORT" | as_owner tee "$DIR/port" >/dev/null
    log "ready on 127.0.0.1:$PORT (data $DIR/data, log $DIR/server.log)"
    echo "postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    [ -d "$DIR/data" ] || { rm -rf "$DIR"; exit 0; }
    BIN=$(bin_dir)
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    log "stopped"
    ;;
  stop-server)
    [ -d "$DIR/data" ] || die "$DIR holds no server of this script"
    as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null
    log "server stopped (data kept)"
    ;;
  start-server)
    [ -d "$DIR/data" ] || die "$DIR holds no server of this script"
    if as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      log "the server already runs"
      exit 0
    fi
    as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null ||
      { tail -n 30 "$DIR/server.log" >&2; die "the server did not start"; }
    log "server started on 127.0.0.1:$(cat "$DIR/port")"
    ;;
  *) die "usage: postgres.sh start|stop|stop-server|start-server DIR" ;;
esac
