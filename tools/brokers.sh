#!/usr/bin/env bash
# The other brokers and the other state store that the saga is proved on (make test-brokers):
# Debian's RabbitMQ, Mosquitto (MQTT) and PostgreSQL, each a private instance of its own —
# its own port, its own data folder, loopback only — never the system service the Debian
# package may set up (this script neither needs nor touches one).
#
#   tools/brokers.sh install
#       apt-get installs rabbitmq-server, mosquitto and postgresql when missing (root).
#   tools/brokers.sh run epmd PORT
#   tools/brokers.sh run rabbitmq PORT DIST_PORT EPMD_PORT DIR
#   tools/brokers.sh run mosquitto PORT DIR
#   tools/brokers.sh run postgres PORT DIR
#       runs one in the foreground: the script execs the server, so its PID is the
#       server's and stopping it is `kill PID` (SIGTERM: each shuts down cleanly).
#       RabbitMQ needs an epmd: run one on a port of its own first (epmd is shared by
#       every Erlang node on a port, so a private port keeps it ours).
# The tests (tests/support/brokers.py) run them this way and stop them by PID.
set -euo pipefail

packages=(rabbitmq-server mosquitto postgresql)
# Credentials of these private, loopback-only test instances; the components read their
# connection strings from the environment (tests/support/brokers.py sets it).
postgres_user=eda
postgres_password=eda-local-only
postgres_database=eda_shop

fail() { printf 'brokers: %s\n' "$*" >&2; exit 1; }

postgres_bin() {  # the folder of Debian's PostgreSQL server binaries (initdb, postgres)
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$bin" ] || fail "postgresql is missing: run 'tools/brokers.sh install' (as root)"
  echo "$bin"
}

install() {
  local missing=()
  command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  ls -d /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  if [ ${#missing[@]} -eq 0 ]; then
    echo "==> ${packages[*]} already installed"
    return
  fi
  [ "$(id -u)" -eq 0 ] || fail "${missing[*]} missing and installing needs root: run 'sudo apt-get install -y ${missing[*]}'"
  echo "==> installing ${missing[*]} from Debian"
  apt-get update -qq
  # The packages may set up system services; nothing here uses or stops them.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

run_epmd() {
  exec epmd -address 127.0.0.1 -port "$1"
}

run_rabbitmq() {
  local port=$1 dist_port=$2 epmd_port=$3 dir=$4
  mkdir -p "$dir/mnesia" "$dir/log"
  # The Erlang cookie goes to $HOME: a home of its own keeps it out of root's.
  printf '[].\n' >"$dir/enabled_plugins"
  printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users.guest = true\n' "$port" >"$dir/rabbitmq.conf"
  export HOME=$dir
  export RABBITMQ_NODENAME="eda-brokers-$port@localhost"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$port
  export RABBITMQ_DIST_PORT=$dist_port ERL_EPMD_PORT=$epmd_port
  export RABBITMQ_BASE=$dir RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log
  export RABBITMQ_CONFIG_FILE=$dir/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
  export RABBITMQ_PID_FILE=$dir/rabbitmq.pid RABBITMQ_LOGS=-
  # The distribution port on loopback too.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  exec /usr/lib/rabbitmq/bin/rabbitmq-server
}

run_mosquitto() {
  local port=$1 dir=$2
  mkdir -p "$dir"
  # QoS 1 sessions that outlive a disconnect (cleanSession false in the component) and
  # room for many unacknowledged messages: a poison message under Dapr's retries holds one.
  cat >"$dir/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $dir/
max_inflight_messages 1000
max_queued_messages 100000
log_dest stdout
user $(id -un)
EOF
  exec mosquitto -c "$dir/mosquitto.conf"
}

run_postgres() {
  local port=$1 dir=$2 bin
  bin=$(postgres_bin)
  # PostgreSQL refuses to run as root: as root, it runs as Debian's postgres user.
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    mkdir -p "$dir" && chown postgres:postgres "$dir"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    local pwfile="$dir/pwfile"
    printf '%s\n' "$postgres_password" >"$pwfile"
    [ "$(id -u)" -ne 0 ] || chown postgres "$pwfile"
    "${as[@]}" "$bin/initdb" --pgdata="$dir/data" --username="$postgres_user" --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --no-instructions >"$dir/initdb.log"
    rm -f "$pwfile"
    # The database the components use, created by a server that listens on its socket only.
    "${as[@]}" "$bin/postgres" -D "$dir/data" -c listen_addresses= -k "$dir" -p "$port" >"$dir/create.log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do
      "${as[@]}" psql -h "$dir" -p "$port" -U "$postgres_user" -d postgres -qc "CREATE DATABASE $postgres_database" 2>/dev/null && break
      sleep 0.1
    done
    kill "$pid"; wait "$pid" || true
  fi
  exec "${as[@]}" "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1
}

case "${1:-}" in
  install) install ;;
  run)
    what=${2:-}; shift 2 || true
    case "$what" in
      epmd|rabbitmq|mosquitto|postgres) "run_$what" "$@" ;;
      *) fail "usage: tools/brokers.sh run epmd|rabbitmq|mosquitto|postgres ARGS..." ;;
    esac
    ;;
  *)
    echo "usage: tools/brokers.sh install | run epmd|rabbitmq|mosquitto|postgres ARGS..." >&2
    exit 2
    ;;
esac
