#!/usr/bin/env bash
# A throwaway RabbitMQ node for the tests (Debian's rabbitmq-server, installed if missing), run as
# the calling user from a folder of its own: its own node name, Erlang cookie, AMQP port and
# distribution port, so it never meets the machine's own node (or another run's).
#
#   rabbitmq.sh start DIR   start (or find running) on free loopback ports; print the AMQP URL
#   rabbitmq.sh stop DIR    stop the node, keep DIR (its queues survive a later start)
#   rabbitmq.sh down DIR    stop the node and remove DIR
set -euo pipefail
SERVICE=rabbitmq
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command=${1:-}
DIR=$(data_dir "${2:?usage: rabbitmq.sh start|stop|down DIR}")
RABBIT_BIN=/usr/lib/rabbitmq/bin

# Everything the node and rabbitmqctl read comes from DIR: the cookie lives in HOME.
node_env() {
  export HOME=$DIR/home
  export RABBITMQ_NODENAME=$(cat "$DIR/nodename")
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$(cat "$DIR/port")
  export RABBITMQ_DIST_PORT=$(cat "$DIR/dist-port")
  export RABBITMQ_CONFIG_FILE=$DIR/rabbitmq
  export RABBITMQ_ADVANCED_CONFIG_FILE=$DIR/advanced.config
  export RABBITMQ_MNESIA_BASE=$DIR/mnesia
  export RABBITMQ_LOG_BASE=$DIR/log
  export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins
  export RABBITMQ_PID_FILE=$DIR/pid
  export RABBITMQ_CONF_ENV_FILE=$DIR/rabbitmq-env.conf
}

url() { echo "amqp://guest:guest@127.0.0.1:$(cat "$DIR/port")"; }

node_runs() { [ -f "$DIR/pid" ] && pid_runs "$(cat "$DIR/pid")" beam; }

start_node() {
  node_env
  # Detached: the node outlives this script; its pid lands in $DIR/pid.
  setsid "$RABBIT_BIN/rabbitmq-server" >"$DIR/log/console.log" 2>&1 </dev/null &
  # The AMQP listener opens last, once the node has booted; rabbitmqctl (an Erlang VM of its own)
  # is too costly to poll with.
  if wait_for_port "$RABBITMQ_NODE_PORT" 180; then return 0; fi
  tail -n 30 "$DIR/log/console.log" >&2
  die "RabbitMQ did not come up on $(cat "$DIR/port")"
}

case $command in
  start)
    if node_runs; then url; exit 0; fi
    apt_install rabbitmq-server
    if [ ! -f "$DIR/nodename" ]; then
      rm -rf "$DIR"
      mkdir -p "$DIR/home" "$DIR/mnesia" "$DIR/log"
      free_port >"$DIR/port"
      free_port >"$DIR/dist-port"
      echo "wharf-test-$(cat "$DIR/port")@localhost" >"$DIR/nodename"
      python3 -c 'import secrets; print(secrets.token_hex(20))' >"$DIR/home/.erlang.cookie"
      chmod 400 "$DIR/home/.erlang.cookie"
      echo "[]." >"$DIR/enabled_plugins"
      : >"$DIR/rabbitmq-env.conf"
      echo "[]." >"$DIR/advanced.config"
      cat >"$DIR/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$(cat "$DIR/port")
loopback_users = none
log.console = false
log.file.level = warning
disk_free_limit.absolute = 50MB
vm_memory_high_watermark.absolute = 1GB
CONF
    fi
    # A port taken by someone else while we were stopped: the node cannot bind it, say so.
    port_open "$(cat "$DIR/port")" && die "port $(cat "$DIR/port") is taken by another process"
    start_node
    log "ready on 127.0.0.1:$(cat "$DIR/port") (node $(cat "$DIR/nodename"))"
    url
    ;;
  stop | down)
    if [ -f "$DIR/nodename" ] && node_runs; then
      pid=$(cat "$DIR/pid")
      (node_env && "$RABBIT_BIN/rabbitmqctl" -q stop >/dev/null 2>&1) || true
      pid_runs "$pid" beam && stop_pid "$pid" beam
    fi
    [ "$command" = down ] && rm -rf "$DIR"
    log "stopped"
    ;;
  *) die "usage: rabbitmq.sh start|stop|down DIR" ;;
esac
