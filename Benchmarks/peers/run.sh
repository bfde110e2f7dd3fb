#!/usr/bin/env bash
# Runs peers.py in a private virtual environment with Loro and Yrs (pycrdt) from PyPI, installing
# them on first use. fieldsync-bench calls it with the change mix as JSON; it prints JSON.
# The environment lives in .build/peers-venv (never committed); FIELDSYNC_PEERS_VENV moves it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${FIELDSYNC_PEERS_VENV:-$here/../../.build/peers-venv}"
if ! "$venv/bin/python" -c "import loro, pycrdt" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
fi
exec "$venv/bin/python" "$here/peers.py" "$@"
