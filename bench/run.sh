#!/usr/bin/env bash
# `make bench`: the benchmark's own environment (bench/.venv, exactly what
# bench/requirements.lock says, made anew whenever the lock changes), then the harness.
# Arguments go to `python -m bench` (try --help).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/bench/.venv"
lock="$root/bench/requirements.lock"
stamp="$venv/.requirements.lock"

if ! { [ -f "$stamp" ] && cmp -s "$lock" "$stamp"; }; then
  echo "==> creating bench/.venv with the benchmark's locked dependencies"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
  cp "$lock" "$stamp"
fi
cd "$root"
# The harness imports eda-shop's contracts, common code and test support as the apps do.
PYTHONPATH="$root:$root/apps" exec "$venv/bin/python" -m bench "$@"
