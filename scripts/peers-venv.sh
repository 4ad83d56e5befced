#!/usr/bin/env bash
# Create (or reuse) the Python venv holding the peer tools used by parity checks and benchmarks.
# Prints the venv's python path on stdout. Override the location with SINUS_VENV.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${SINUS_VENV:-$root/target/peers-venv}"
req="${1:-$root/tests/peers/requirements.txt}"
stamp="$venv/.installed-$(sha256sum "$req" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  touch "$stamp"
fi
echo "$venv/bin/python"
