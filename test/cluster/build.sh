#!/usr/bin/env bash
# Builds the test cluster's programs (kube-apiserver, kube-controller-manager, kube-scheduler, etcd,
# kwok) from the versions pinned in go.mod, into a cache folder outside the repository named after
# the pin, and prints that folder. A second run with the same pin finds the binaries and builds
# nothing; changing the pin (pin.sh) names a new folder. A cold build takes long (see README), so
# two runs at once wait for each other through a lock instead of building twice.
#   WHARF_CLUSTER_CACHE  where the folders go (default ~/.cache/wharf-cluster)
set -euo pipefail
cd "$(dirname "$0")"
PROGRAMS=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok)

command -v go >/dev/null || { echo "build.sh: the test cluster is built with Go (1.26 or newer), which is not installed" >&2; exit 1; }
version_of() { awk -v m="$1" '$1 == m { print $2; exit }' go.mod; }
K8S=$(version_of k8s.io/kubernetes)
KWOK=$(version_of sigs.k8s.io/kwok)
# The pin is go.mod and go.sum; raise FORMAT when a change here changes what is built.
FORMAT=1
KEY=$( (echo "$FORMAT" && cat go.mod go.sum) | sha256sum | cut -c1-12)
CACHE=${WHARF_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wharf-cluster}
OUT="$CACHE/$K8S-$KEY"

complete() { [ -f "$OUT/.complete" ]; }
if complete; then echo "$OUT"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9
if complete; then echo "$OUT"; exit 0; fi

# What `--version` reports, set the way Kubernetes' own hack/lib/version.sh does; the build date
# is the release's tag time from the module proxy, so two builds of one pin are alike.
[[ $K8S =~ ^v([0-9]+)\.([0-9]+)\. ]] || { echo "build.sh: unexpected Kubernetes version $K8S" >&2; exit 1; }
MAJOR=${BASH_REMATCH[1]} MINOR=${BASH_REMATCH[2]}
RELEASED=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/^\t"Info": "\(.*\)",$/\1/p' | xargs cat |
  sed -n 's/.*"Time":"\([^"]*\)".*/\1/p')
LDFLAGS="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$K8S -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
  LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=${RELEASED:-1970-01-01T00:00:00Z}"
done
LDFLAGS+=" -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${K8S#v}"

echo "build.sh: building ${PROGRAMS[*]} ($K8S, kwok $KWOK) into $OUT; a cold build takes many minutes" >&2
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
# One go build for all five shares the compilation of the packages they have in common.
go build -mod=readonly -ldflags "$LDFLAGS" -o "$OUT.tmp/" \
  go.etcd.io/etcd/server/v3 \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  sigs.k8s.io/kwok/cmd/kwok
# etcd's main package is its server module's root, go.etcd.io/etcd/server/v3: go names it "server".
mv "$OUT.tmp/server" "$OUT.tmp/etcd"
# kwok does nothing without stages; these are the ones kwokctl gives a cluster by default (nodes
# become Ready and keep a lease, pods become Running and go when deleted), from kwok's own module.
KWOK_DIR=$(go mod download -json "sigs.k8s.io/kwok@$KWOK" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
  pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  echo "---" && cat "$KWOK_DIR/kustomize/stage/$f.yaml"
done >"$OUT.tmp/kwok-stages.yaml"
for p in "${PROGRAMS[@]}"; do [ -x "$OUT.tmp/$p" ] || { echo "build.sh: $p was not built" >&2; exit 1; }; done
touch "$OUT.tmp/.complete"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
