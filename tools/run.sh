#!/usr/bin/env bash
# `make run`: a private Redis, then every app with its sidecar through `dapr run -f .`.
# Ctrl-C stops the apps, their sidecars and the Redis this script started.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
redis_port=${REDIS_PORT:-6380}
redis_dir="$root/.run/redis"

# The Dapr CLI counts every daprd on the machine, the sidecars in the pods of `make cluster`
# too (their ports are inside the pods, but their processes are this machine's), and
# would refuse the app-ids and ports they hold: say so rather than let it fail halfway.
running=$(dapr list -o json | python3 -c 'import json, sys; print(" ".join(sorted({i["appId"] for i in json.load(sys.stdin)})))')
if [ -n "$running" ]; then
  echo "run: Dapr sidecars already run on this machine (app-ids: $running), and the Dapr CLI would refuse" \
    "these apps' ids and ports; stop them first: 'make cluster-down' if they are the cluster's pods, 'make down' if an earlier 'make run'" >&2
  exit 1
fi

# The app API token: every sidecar sends it to its app, and every app refuses calls
# without it. The operator token opens the storefront's operator console. Each is made
# on the first start that lacks it, kept (readable by this user only) in .run/.
# No Dapr API token locally: the sidecars listen on loopback only, and the Dapr CLI's
# `dapr invoke` and `dapr publish`, which docs/running-locally.md uses, cannot send one.
secrets="$root/.run/secrets.env"
mkdir -p "$(dirname "$secrets")"
for name in APP_API_TOKEN OPERATOR_TOKEN; do
  if ! grep -qs "^$name=" "$secrets"; then
    (umask 077 && printf '%s=%s\n' "$name" "$(python3 -c 'import secrets; print(secrets.token_hex(32))')" >> "$secrets")
  fi
done
set -a
# shellcheck source=/dev/null
source "$secrets"
set +a

# Redis's password, in the file the sidecars' secret store reads (components/secretstore.yaml)
# and tools/redis.sh gives Redis: made on the first start, readable by this user only.
export SECRETS_FILE="$root/.run/secrets.json"
if [ ! -f "$SECRETS_FILE" ]; then
  (umask 077 && python3 -c 'import json, secrets; print(json.dumps({"redis": {"password": secrets.token_hex(32)}}))' > "$SECRETS_FILE")
fi

tools/redis.sh start "$redis_port" "$redis_dir"
trap 'tools/redis.sh stop "$redis_dir"' EXIT
export REDIS_HOST="127.0.0.1:$redis_port"
# The tracing backend, where dapr-config/config.yaml and the apps (dapr.yaml) send spans.
zipkin_dir="$root/.run/zipkin"
tools/zipkin.sh start 9411 "$zipkin_dir"
trap 'tools/zipkin.sh stop "$zipkin_dir"; tools/redis.sh stop "$redis_dir"' EXIT

echo "==> starting eda-shop (Ctrl-C stops everything)"
# Every app of dapr.yaml, with its port and its sidecar's.
awk '/^  - appID:/ {app = $3} /^    appPort:/ {port = $2}
  /^    daprHTTPPort:/ {printf "    %-13s http://127.0.0.1:%s   sidecar http://127.0.0.1:%s\n", app, port, $2}' dapr.yaml
cat <<INFO
    redis         127.0.0.1:$redis_port
    traces        http://127.0.0.1:9411/zipkin/   (Zipkin: one trace per order, every app)
    console       on the storefront's page, with OPERATOR_TOKEN from .run/secrets.env

    try:  dapr invoke --app-id orders --method orders --verb POST \\
            --data '{"customer_id": "c-1", "items": [{"sku": "tea-sencha", "quantity": 2}]}'
INFO
# The sidecars' lines go to their files alone (dapr.yaml); their warnings and errors come
# to this terminal too, among the apps' own lines, until the CLI stops.
started=$(date +%Y%m%d%H%M%S)
dapr run -f . &
dapr_pid=$!
SIDECARS=warnings SINCE="$started" UNTIL="$dapr_pid" tools/logs.sh &
# The CLI makes a process group of its own, so Ctrl-C at the terminal (SIGINT to this
# script's group) would not reach it: pass the signal on, then wait for it to stop.
trap 'kill -INT "$dapr_pid" 2>/dev/null || true' INT TERM
wait "$dapr_pid" || wait "$dapr_pid" || true
