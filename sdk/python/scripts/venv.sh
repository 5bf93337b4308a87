#!/usr/bin/env bash
# Makes (once) and prints the path of the virtualenv the SDK's tests and bench run in. It lives
# outside the checkout, one per pinned requirements file and Python version
# (~/.cache/wharf-python/venv-<hash>; WHARF_PYTHON_VENV moves it), so a warm run installs nothing
# but the SDK of this checkout (editable, no dependencies). pip caches downloads in ~/.cache/pip.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"

PYTHON="${WHARF_PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "the Python SDK needs Python >= 3.11 with venv (set WHARF_PYTHON to its path)" >&2
  exit 1
fi

LOCK="$HERE/requirements-test.txt"
HASH="$( (cat "$LOCK"; "$PYTHON" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
VENV="${WHARF_PYTHON_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/wharf-python/venv-$HASH}"
mkdir -p "$(dirname "$VENV")"
# Two runs at once (a test and a bench) must not build one venv twice.
exec 9>"$VENV.lock"
flock 9
if [ ! -f "$VENV/.installed" ]; then
  echo "python venv: creating $VENV" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip 'setuptools>=77' >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$LOCK" >&2
  touch "$VENV/.installed"
fi
# The SDK of this checkout, editable; skipped when the venv already points here.
if ! (cd /tmp && "$VENV/bin/python" -c 'import sys, wharf; sys.exit(not wharf.__file__.startswith(sys.argv[1]))' "$HERE/src/") 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$HERE" >/dev/null 2>&1 \
    || "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$HERE" >&2
fi
echo "$VENV"
