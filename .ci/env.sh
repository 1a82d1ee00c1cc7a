#!/usr/bin/env bash
# Build (or reuse) the project's virtual environment and install the project into it.
# The venv lives outside the clone so repeated runs reuse it; it is rebuilt whenever the pins change.
# Usage: source .ci/env.sh   (exports HARMONY_VENV and puts its bin/ first on PATH)
set -euo pipefail
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${HARMONY_PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
export HARMONY_VENV="${HARMONY_VENV:-$HOME/.cache/harmony-mol/venv}"
_hash=$(cat "$_root/requirements.txt" "$_root/constraints.txt" | sha256sum | cut -c1-16)
if [ ! -x "$HARMONY_VENV/bin/python" ] || [ "$(cat "$HARMONY_VENV/.pins" 2>/dev/null)" != "$_hash" ]; then
  echo "[env] building venv at $HARMONY_VENV (pins $_hash)" >&2
  rm -rf "$HARMONY_VENV"
  mkdir -p "$(dirname "$HARMONY_VENV")"
  "$PY" -m venv "$HARMONY_VENV"
  "$HARMONY_VENV/bin/pip" install -q torch==2.13.0
  "$HARMONY_VENV/bin/pip" install -q -r "$_root/requirements.txt" -c "$_root/constraints.txt"
  echo "$_hash" > "$HARMONY_VENV/.pins"
fi
# The project itself: always reinstalled (editable, no deps) so the venv points at this checkout.
"$HARMONY_VENV/bin/pip" install -q --no-deps --no-build-isolation -e "$_root" >/dev/null
export PATH="$HARMONY_VENV/bin:$PATH"
# Keep Prefect offline and quiet (no telemetry, no ~/.prefect unless the user set PREFECT_HOME).
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="${PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS:-120}"
