#!/usr/bin/env bash
# Builds the pinned kustomize from its Go module into a cache outside the repository and prints the
# binary's path. kubectl is not needed (nor assumed): `kubectl kustomize` is this same program.
# Rebuilt only when the pin below changes, since each version has a folder of its own.
#
#   scripts/kustomize.sh            build if missing, print the path
#   scripts/kustomize.sh --path     print the path it would have, build nothing
#   "$(scripts/kustomize.sh)" build deploy/overlays/dev
#
# The cache is $WHARF_TOOLS_CACHE, else $XDG_CACHE_HOME/wharf/tools, else ~/.cache/wharf/tools.
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.2
MODULE=sigs.k8s.io/kustomize/kustomize/v5

cache=${WHARF_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wharf/tools}
dir="$cache/kustomize-$KUSTOMIZE_VERSION"
binary="$dir/kustomize"

if [ "${1:-}" = "--path" ]; then
  echo "$binary"
  exit 0
fi

if [ ! -x "$binary" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "scripts/kustomize.sh: Go is needed to build kustomize $KUSTOMIZE_VERSION (https://go.dev/dl/)" >&2
    exit 1
  fi
  mkdir -p "$cache"
  # Built into a temporary folder and renamed, so an interrupted build never leaves a half binary
  # where the next run would trust it.
  staging=$(mktemp -d "$cache/.kustomize-build.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  echo "building kustomize $KUSTOMIZE_VERSION into $dir" >&2
  GOBIN="$staging/bin" CGO_ENABLED=0 go install "$MODULE@$KUSTOMIZE_VERSION" >&2
  rm -rf "$dir"
  mv "$staging/bin" "$dir"
fi
echo "$binary"
