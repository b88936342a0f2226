#!/usr/bin/env bash
# A private Zipkin, the tracing backend: its own port, spans in memory, loopback only.
#   tools/zipkin.sh start PORT DIR   starts it in the background (pid in DIR/zipkin.pid,
#                                    log in DIR/zipkin.log) and waits until it answers
#   tools/zipkin.sh stop DIR         stops the one started with that DIR, by its pid
# The server is the jar tools/setup.sh downloads (ZIPKIN_JAR overrides where it is).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
source "$root/tools/versions.env"
# shellcheck source=lib.sh
source "$root/tools/lib.sh"
jar=${ZIPKIN_JAR:-$HOME/.eda-shop/zipkin/zipkin-server-$ZIPKIN_VERSION.jar}
# Spans kept before the oldest are dropped: some thousand orders, within the heap below.
max_spans=${ZIPKIN_MAX_SPANS:-100000}

answers() { curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$1/health" 2>/dev/null; }

case "${1:-}" in
  start)
    port=$2 dir=$3
    mkdir -p "$dir"
    if answers "$port"; then
      echo "zipkin: already serving on http://127.0.0.1:$port"
      exit 0
    fi
    [ -f "$jar" ] || { echo "zipkin: $jar is missing: run 'make setup'" >&2; exit 1; }
    command -v java >/dev/null || { echo "zipkin: java is missing: run 'sudo apt-get install -y openjdk-17-jre-headless'" >&2; exit 1; }
    # Every listener but the HTTP one (the API, the UI, the span collector) off; that one
    # on loopback alone. The armeria.ports list is given whole: Spring replaces lists.
    STORAGE_TYPE=mem MEM_MAX_SPANS=$max_spans COLLECTOR_GRPC_ENABLED=false \
      COLLECTOR_KAFKA_ENABLED=false COLLECTOR_RABBITMQ_ENABLED=false \
      COLLECTOR_ACTIVEMQ_ENABLED=false COLLECTOR_PULSAR_ENABLED=false \
      nohup java -Xms64m -Xmx512m -XX:+UseSerialGC -jar "$jar" \
        "--armeria.ports[0].ip=127.0.0.1" "--armeria.ports[0].port=$port" \
        "--armeria.ports[0].protocols[0]=http" \
        >"$dir/zipkin.log" 2>&1 </dev/null &
    echo $! >"$dir/zipkin.pid"
    # The JVM takes some seconds to start on two cores (up to 90 s allowed).
    for _ in $(seq 900); do
      answers "$port" && { echo "zipkin: serving on http://127.0.0.1:$port (spans in memory)"; exit 0; }
      kill -0 "$(cat "$dir/zipkin.pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "zipkin: did not start on port $port; see $dir/zipkin.log" >&2
    exit 1
    ;;
  stop)
    stop_pid_file "$2/zipkin.pid" kill
    ;;
  *)
    echo "usage: tools/zipkin.sh start PORT DIR | stop DIR" >&2
    exit 2
    ;;
esac
