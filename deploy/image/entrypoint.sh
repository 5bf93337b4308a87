#!/bin/sh
# The image's entrypoint: the first argument names the program, the rest go to it. `exec` makes
# node the process that receives SIGTERM from the container runtime (or Kubernetes), so the
# registry closes its database and the node agent its cache before the pod goes.
#
#   registry     the registry (src/main.ts), the default
#   node-agent   the node agent (node-agent/main.ts), run by deploy/base/node-agent.yaml
#   migrate      applies database migrations and exits (src/database/migrate.ts)
#   wharf        the CLI (src/cli/main.ts): `docker run … wharf ls`
#   operator     the ModelDeployment operator (operator/main.ts), run by deploy/base/operator/
#   executor     the model server sidecar (executor/main.ts, docs/executor.md)
set -eu

APP_DIR=${WHARF_APP_DIR:-/app}

program=${1:-registry}
[ "$#" -gt 0 ] && shift

run() {
  if [ ! -f "$APP_DIR/$1" ]; then
    echo "wharf-entrypoint: \"$program\" is not in this image yet ($1 is missing)" >&2
    exit 64
  fi
  script=$1
  shift
  exec node "$APP_DIR/$script" "$@"
}

case "$program" in
  registry) run dist/src/main.js "$@" ;;
  node-agent) run dist/node-agent/main.js "$@" ;;
  migrate) run dist/src/database/migrate.js "$@" ;;
  wharf) run dist/src/cli/main.js "$@" ;;
  operator) run dist/operator/main.js "$@" ;;
  executor) run dist/executor/main.js "$@" ;;
  *)
    echo "wharf-entrypoint: unknown program \"$program\"; one of: registry, node-agent, migrate, wharf, operator, executor" >&2
    exit 64
    ;;
esac
