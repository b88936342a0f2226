#!/usr/bin/env bash
# `make logs`: follow the log lines of every app that `make run` runs, interleaved as
# they come, each after its app's name. SIDECARS=1 adds each app's sidecar.
# The Dapr CLI writes them to apps/<app>/.dapr/logs/<app>_{app,daprd}_<time>.log
# (dapr.yaml: fileAndConsole); the newest file of each is followed. Ctrl-C stops.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
apps=(storefront orders inventory payments shipping notifications)
kinds=(app)
if [ "${SIDECARS:-0}" = 1 ]; then
  kinds+=(daprd)
fi

files=()
for app in "${apps[@]}"; do
  for kind in "${kinds[@]}"; do
    # The names end in a timestamp: the last in name order is the newest.
    newest=$(compgen -G "$root/apps/$app/.dapr/logs/${app}_${kind}_*.log" | sort | tail -n 1 || true)
    if [ -n "$newest" ]; then
      files+=("$newest")
    else
      echo "no $kind log of $app yet: start the apps with \`make run\`" >&2
    fi
  done
done
if [ "${#files[@]}" = 0 ]; then
  exit 1
fi

# tail names the file before each run of lines from it ("==> path <=="); sed keeps that
# name as a label (orders, orders-daprd), padded, and puts it before every line.
tail -n 20 -F "${files[@]}" | sed -u -n '
  /^==> .* <==$/ {
    s|^==> .*/\([^/]*\)_app_[0-9]*\.log <==$|\1|
    s|^==> .*/\([^/]*\)_daprd_[0-9]*\.log <==$|\1-daprd|
    s|$|                    |
    s|^\(.\{20\}\).*|\1|
    h
    d
  }
  /^$/ d
  G
  s|^\(.*\)\n\(.*\)$|\2 \| \1|
  p
'
