#!/usr/bin/env bash
# The other brokers and the other state store that the saga is proved on (make test-brokers):
# Debian's RabbitMQ, Mosquitto (MQTT) and PostgreSQL, and Apache Kafka from Maven Central's
# jars, each a private instance of its own — its own port, its own data folder, loopback
# only — never the system service the Debian package may set up (this script neither needs
# nor touches one).
#
#   tools/brokers.sh install
#       apt-get installs rabbitmq-server, mosquitto and postgresql when missing (root);
#       Maven copies Kafka's jars (tools/kafka/pom.xml) into ~/.eda-shop/kafka/VERSION/libs,
#       and javac compiles tools/kafka's classes beside them, when missing or changed.
#   tools/brokers.sh run epmd PORT
#   tools/brokers.sh run rabbitmq PORT DIST_PORT EPMD_PORT DIR
#   tools/brokers.sh run mosquitto PORT DIR
#   tools/brokers.sh run postgres PORT DIR
#   tools/brokers.sh run kafka PORT CONTROLLER_PORT DIR
#       runs one in the foreground: the script execs the server, so its PID is the
#       server's and stopping it is `kill PID` (SIGTERM: each shuts down cleanly).
#       RabbitMQ needs an epmd: run one on a port of its own first (epmd is shared by
#       every Erlang node on a port, so a private port keeps it ours).
#   tools/brokers.sh kafka-consumer-groups ARGS...
#       Kafka's kafka-consumer-groups tool, from the same jars.
#   tools/brokers.sh kafka-topics BOOTSTRAP TOPIC...
#       makes the topics the broker lacks (tools/kafka/CreateTopics.java), before any app
#       publishes to them.
# The tests (tests/support/brokers.py) run them this way and stop them by PID.
set -euo pipefail

packages=(rabbitmq-server mosquitto postgresql)
# Credentials of these private, loopback-only test instances; the components read their
# connection strings from the environment (tests/support/brokers.py sets it).
postgres_user=eda
postgres_password=eda-local-only
postgres_database=eda_shop
kafka_tools=$(cd "$(dirname "$0")" && pwd)/kafka
kafka_version=$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$kafka_tools/pom.xml")
kafka_home=$HOME/.eda-shop/kafka/$kafka_version
# Kafka's jars, and tools/kafka's own classes compiled against them.
kafka_classpath="$kafka_home/libs/*:$kafka_home/classes"

fail() { printf 'brokers: %s\n' "$*" >&2; exit 1; }

postgres_bin() {  # the folder of Debian's PostgreSQL server binaries (initdb, postgres)
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$bin" ] || fail "postgresql is missing: run 'tools/brokers.sh install' (as root)"
  echo "$bin"
}

install() {
  install_kafka
  install_debian
}

install_kafka() {
  # The hash of tools/kafka beside the jars: any change there (not only the version) installs anew.
  local stamp=$kafka_home/.tools-sha256 tools_hash
  tools_hash=$(cat "$kafka_tools"/pom.xml "$kafka_tools"/*.java | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" = "$tools_hash" ]; then
    echo "==> Kafka $kafka_version already in $kafka_home"
    return
  fi
  need_java
  command -v javac >/dev/null || fail "javac is missing (it compiles tools/kafka): run 'sudo apt-get install -y openjdk-17-jdk-headless'"
  command -v mvn >/dev/null || fail "mvn is missing (it fetches Kafka's jars): run 'sudo apt-get install -y maven'"
  echo "==> copying Kafka $kafka_version's jars from Maven Central into $kafka_home"
  # Made beside the target, then moved: a half-made folder is never left in place.
  local partial=$kafka_home.partial
  rm -rf "$partial"
  mvn -q -B -f "$kafka_tools/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$partial/libs"
  javac -nowarn -cp "$partial/libs/*" -d "$partial/classes" "$kafka_tools"/*.java
  echo "$tools_hash" >"$partial/.tools-sha256"
  rm -rf "$kafka_home"
  mv "$partial" "$kafka_home"
}

need_java() {
  command -v java >/dev/null || fail "java is missing (Kafka needs Java 17): run 'sudo apt-get install -y openjdk-17-jre-headless'"
}

install_debian() {
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
# The default kinds of lines, and each subscription, in a file of its own too: the tests
# wait for every subscriber's (MQTT shows no client another's subscriptions).
log_dest file $dir/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
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

need_kafka() {
  [ -f "$kafka_home/.tools-sha256" ] || fail "Kafka $kafka_version is missing: run 'tools/brokers.sh install'"
  need_java
}

run_kafka() {
  local port=$1 controller_port=$2 dir=$3
  need_kafka
  mkdir -p "$dir"
  # One node in KRaft mode, broker and its own controller, each listener on loopback.
  # Topics are made beforehand (`kafka-topics` below), not by a first use, which would come
  # too late for a first publish; so a topic left out fails loudly. Eight partitions each:
  # Dapr's Kafka consumer hands its app one event of a partition at a time, so eight let
  # eight be in flight.
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=8
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  # A new data folder is formatted first, for a cluster id of its own.
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$(java -cp "$kafka_classpath" kafka.tools.StorageTool random-uuid)
    java -cp "$kafka_classpath" kafka.tools.StorageTool format --config "$dir/server.properties" \
      --cluster-id "$cluster_id"
  fi
  # Log4j 2 without a configuration file: INFO lines to the standard output.
  exec java -cp "$kafka_classpath" -Xms128m -Xmx512m -XX:+UseSerialGC -Dlog4j2.level=INFO \
    kafka.Kafka "$dir/server.properties"
}

case "${1:-}" in
  install) install ;;
  run)
    what=${2:-}; shift 2 || true
    case "$what" in
      epmd|rabbitmq|mosquitto|postgres|kafka) "run_$what" "$@" ;;
      *) fail "usage: tools/brokers.sh run epmd|rabbitmq|mosquitto|postgres|kafka ARGS..." ;;
    esac
    ;;
  kafka-consumer-groups)
    shift
    need_kafka
    exec java -cp "$kafka_classpath" -Xmx128m -XX:+UseSerialGC \
      org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@"
    ;;
  kafka-topics)
    shift
    need_kafka
    exec java -cp "$kafka_classpath" -Xmx128m -XX:+UseSerialGC CreateTopics "$@"
    ;;
  *)
    echo "usage: tools/brokers.sh install | run epmd|rabbitmq|mosquitto|postgres|kafka ARGS... | kafka-consumer-groups|kafka-topics ARGS..." >&2
    exit 2
    ;;
esac
