#!/usr/bin/env bash
# npm run test:python (and .ci/run): the Python SDK's tests against a real registry process
# (dist/src/main.js, built here when stale). Arguments pass through to pytest.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$(bash "$HERE/scripts/venv.sh")"
(cd "$HERE/../.." && node scripts/build.js --if-stale)
cd "$HERE"
# Type hints are part of the API (py.typed): they are checked, strictly.
"$VENV/bin/python" -m mypy --strict --cache-dir "$VENV/mypy-cache" src/wharf
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
