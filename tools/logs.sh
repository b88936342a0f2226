#!/usr/bin/env bash
# `make logs`: follow the log lines of every app that `make run` runs, interleaved as
# they come, each after its app's name. SIDECARS=1 adds each app's sidecar.
# The Dapr CLI writes them to apps/<app>/.dapr/logs/<app>_{app,daprd}_<time>.log
# (dapr.yaml); the newest file of each is followed. Ctrl-C stops.
# `make run` itself runs this with SIDECARS=warnings (the sidecars' warnings and errors
# alone), SINCE=<its start, as the CLI writes times> (waits for the files of that run)
# and UNTIL=<the CLI's pid> (stops with it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
source "$root/tools/lib.sh"
mapfile -t apps < <(app_ids)
case "${SIDECARS:-0}" in
  1) kinds=(app daprd) ;;
  warnings) kinds=(daprd) ;;
  *) kinds=(app) ;;
esac
since=${SINCE:-0}
# By hand: wait for no file, and show the last 20 lines of each. For `make run`, which
# starts this as the CLI starts the apps: wait a little for their files, and show all of
# this run's lines.
patience=0 lines=20
if [ "$since" != 0 ]; then
  patience=60 lines=+1
fi

# The names end in a timestamp: the last in name order is the newest.
newest() {
  compgen -G "$root/apps/$1/.dapr/logs/${1}_${2}_*.log" | sort | tail -n 1 || true
}
of_this_run() {
  local stamp=${1##*_}
  [ -n "$1" ] && [ "${stamp%.log}" -ge "$since" ]
}

files=()
for app in "${apps[@]}"; do
  for kind in "${kinds[@]}"; do
    file=$(newest "$app" "$kind")
    for _ in $(seq "$patience"); do
      of_this_run "$file" && break
      sleep 1
      file=$(newest "$app" "$kind")
    done
    if of_this_run "$file"; then
      files+=("$file")
    else
      echo "no $kind log of $app yet: start the apps with \`make run\`" >&2
    fi
  done
done
if [ "${#files[@]}" = 0 ]; then
  exit 1
fi

follow=(tail -n "$lines" -F)
[ -n "${UNTIL:-}" ] && follow+=(--pid="$UNTIL")
wanted=.
[ "${SIDECARS:-0}" = warnings ] && wanted=' level=(warning|error|fatal) '

# tail names the file before each run of lines from it ("==> path <=="); sed keeps that
# name as a label (orders, orders-daprd), padded, and puts it before every line.
"${follow[@]}" "${files[@]}" | sed -u -n '
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
' | grep --line-buffered -E "$wanted"
