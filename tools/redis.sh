#!/usr/bin/env bash
# A private Redis for eda-shop: its own port, its own data folder, AOF on, loopback only,
# behind the password the components read from their secret store.
#   tools/redis.sh start PORT DIR   starts it in the background (pid in DIR/redis.pid)
#   tools/redis.sh stop DIR         stops the one started with that DIR, by its pid
# `start` reads the password from the JSON file $SECRETS_FILE names ({"redis":
# {"password": ...}}, components/secretstore.yaml) and gives it to redis-server on its
# standard input, so it is in no process's arguments and no file but that one.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

case "${1:-}" in
  start)
    port=$2 dir=$3
    : "${SECRETS_FILE:?names the secrets file with Redis password (tools/run.sh makes .run/secrets.json)}"
    REDISCLI_AUTH=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["redis"]["password"])' "$SECRETS_FILE")
    export REDISCLI_AUTH  # redis-cli reads the password from here, not from its arguments
    mkdir -p "$dir"
    if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
      echo "redis: already serving on 127.0.0.1:$port"
      exit 0
    fi
    redis-server - <<CONFIG
port $port
bind 127.0.0.1
requirepass $REDISCLI_AUTH
dir "$dir"
appendonly yes
appendfsync everysec
save ""
daemonize yes
pidfile "$dir/redis.pid"
logfile "$dir/redis.log"
CONFIG
    for _ in $(seq 50); do
      [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && { echo "redis: serving on 127.0.0.1:$port (data in $dir)"; exit 0; }
      sleep 0.1
    done
    echo "redis: did not start on port $port; see $dir/redis.log" >&2
    exit 1
    ;;
  stop)
    # It writes its AOF and lets go of its port on the way.
    stop_pid_file "$2/redis.pid"
    ;;
  *)
    echo "usage: tools/redis.sh start PORT DIR | stop DIR" >&2
    exit 2
    ;;
esac
