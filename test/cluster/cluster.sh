#!/usr/bin/env bash
# The test cluster's front door (package.json's cluster:* and test:cluster scripts):
#   cluster.sh build          build the binaries, or find them built (build.sh), print their folder
#   cluster.sh test [ARGS]    run the cluster suite (jest ARGS) with a cluster of its own
#   cluster.sh up | down      start / stop a standing cluster for working by hand
#   cluster.sh exec CMD...    run CMD beside the standing cluster (KUBECONFIG set)
#
# The cluster lives in a network namespace of its own, whose lo also carries 10.96.0.0/24: Services
# and aggregated APIs need addresses outside 127.0.0.0/8, and this way no traffic leaves the machine
# and no port meets another run's. The suite runs jest inside a throwaway namespace (unshare), so
# the tests' own servers (webhooks, APIServices) share it with the apiserver; a standing cluster
# gets a named one (ip netns) that `down` removes. Linux only; root, or unprivileged user
# namespaces for `test`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# One name per checkout: two checkouts on one machine never share a namespace or a state folder.
ID=$(printf %s "$ROOT" | sha256sum | cut -c1-8)
NETNS=wharf-cluster-$ID
STATE=${WHARF_CLUSTER_STATE:-${TMPDIR:-/tmp}/wharf-cluster-$ID}
NODE=(node -r @swc-node/register test/cluster/cli.ts)

# Brings up lo inside the current namespace with the cluster's addresses (components.ts).
# shellcheck disable=SC2016
SETUP_LO='ip link set lo up && { ip -4 addr show dev lo | grep -q 10.96.0.1/24 || ip addr add 10.96.0.1/24 dev lo; }'

have_netns() { ip netns list | grep -qw "^$NETNS"; }

# ip (iproute2) sets up the namespace, openssl makes the certificates: install them when missing,
# as the test services do (test/services/lib.sh).
if ! command -v ip >/dev/null || ! command -v openssl >/dev/null; then
  SERVICE=cluster
  # shellcheck disable=SC1091
  . test/services/lib.sh
  apt_install iproute2 openssl
fi

case "${1:-}" in
build)
  bash test/cluster/build.sh
  ;;
test)
  shift
  BIN=$(bash test/cluster/build.sh)
  unshare_args=(--net)
  [ "$(id -u)" -eq 0 ] || unshare_args=(--user --map-root-user --net)
  export WHARF_CLUSTER_BIN=$BIN WHARF_CLUSTER_STATE=$STATE/test
  exec unshare "${unshare_args[@]}" bash -c "$SETUP_LO"' && exec "$@"' _ \
    env NODE_OPTIONS=--experimental-vm-modules node_modules/.bin/jest -c test/cluster/jest.config.js "$@"
  ;;
up)
  BIN=$(bash test/cluster/build.sh)
  have_netns || ip netns add "$NETNS"
  ip netns exec "$NETNS" bash -c "$SETUP_LO"
  ip netns exec "$NETNS" "${NODE[@]}" up "$STATE/up" "$BIN"
  ;;
down)
  # Stopping needs no namespace (it ends pids), so it also works when the namespace is gone.
  "${NODE[@]}" down "$STATE/up"
  if have_netns; then ip netns delete "$NETNS"; fi
  ;;
exec)
  shift
  have_netns || { echo "no standing cluster: npm run cluster:up first" >&2; exit 1; }
  exec ip netns exec "$NETNS" env KUBECONFIG="$STATE/up/admin.kubeconfig" "$@"
  ;;
*)
  sed -n '2,12p' "$0" >&2
  exit 2
  ;;
esac
