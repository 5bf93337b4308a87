#!/usr/bin/env bash
# npm run bench:python: the Python SDK vs the TypeScript CLI (sdk/python/bench/bench_transfers.py;
# --size MiB, --repeat N, --explore pass through).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$(bash "$HERE/scripts/venv.sh")"
exec "$VENV/bin/python" "$HERE/bench/bench_transfers.py" "$@"
