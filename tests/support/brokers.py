"""Private RabbitMQ, Mosquitto, PostgreSQL and Kafka for the component variants, run the way
`tools/brokers.sh run` runs them: each on its own port and data folder, loopback only,
stopped by its own PID (the script execs the server, so the PID is the server's)."""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import yaml

from contracts.names import Topic
from tests.support.processes import Process
from tests.support.recorder import APP_ID as RECORDER_ID
from tests.support.recorder import RecordedBroker
from tests.support.scopes import scopes
from tests.support.sidecars import ROOT, START_TIMEOUT
from tests.support.variants import COMPONENTS
from tests.support.waiting import wait_until

SCRIPT = ROOT / "tools" / "brokers.sh"
RABBITMQ_PORT, RABBITMQ_DIST_PORT, EPMD_PORT = 5673, 25673, 4370
MQTT_PORT = 1884
POSTGRES_PORT = 5433
KAFKA_PORT, KAFKA_CONTROLLER_PORT = 19092, 19093
SUBSCRIBE_TIMEOUT = 120.0  # a group joins anew for each subscription: many rounds on busy cores
# Plain credentials of private, loopback-only test instances (tools/brokers.sh creates
# the PostgreSQL user); the components read these from the sidecars' environment.
COMPONENT_ENV = {
    "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{RABBITMQ_PORT}/",
    "MQTT_URL": f"tcp://127.0.0.1:{MQTT_PORT}",
    "POSTGRES_URL": f"postgres://eda:eda-local-only@127.0.0.1:{POSTGRES_PORT}/eda_shop?sslmode=disable",
    "KAFKA_BROKERS": f"127.0.0.1:{KAFKA_PORT}",
}
INSTALL = "tools/brokers.sh install"


@contextmanager
def running_servers(names: tuple[str, ...], data_dir: Path, log_dir: Path) -> Iterator[list[Process]]:
    """Each named server (rabbitmq, mosquitto, postgres, kafka) up; all stopped by PID at the end."""
    with ExitStack() as stack:
        started = []
        for name in names:
            started += stack.enter_context(_STARTERS[name](data_dir, log_dir))
        yield started


def _run(name: str, args: list[str], log_dir: Path) -> Process:
    return Process(name, [str(SCRIPT), "run", *args], log_dir)


@contextmanager
def _stopped_at_exit(*processes: Process) -> Iterator[list[Process]]:
    try:
        yield list(processes)
    finally:
        for process in reversed(processes):
            process.stop()


@contextmanager
def _rabbitmq(data_dir: Path, log_dir: Path) -> Iterator[list[Process]]:
    _require(Path("/usr/lib/rabbitmq/bin/rabbitmq-server"), "rabbitmq-server")
    _require_free(RABBITMQ_PORT, RABBITMQ_DIST_PORT, EPMD_PORT)
    epmd = _run("epmd", ["epmd", str(EPMD_PORT)], log_dir)
    with _stopped_at_exit(epmd):
        epmd.wait_ready(lambda: _listens(EPMD_PORT), START_TIMEOUT)
        rabbitmq = _run("rabbitmq", ["rabbitmq", str(RABBITMQ_PORT), str(RABBITMQ_DIST_PORT), str(EPMD_PORT),
                                     str(data_dir / "rabbitmq")], log_dir)
        with _stopped_at_exit(rabbitmq):
            rabbitmq.wait_ready(lambda: _listens(RABBITMQ_PORT), 60.0)  # Erlang boots slowly on 2 cores
            yield [epmd, rabbitmq]


@contextmanager
def _mosquitto(data_dir: Path, log_dir: Path) -> Iterator[list[Process]]:
    _require(shutil.which("mosquitto") or Path("/usr/sbin/mosquitto"), "mosquitto")
    _require_free(MQTT_PORT)
    mosquitto = _run("mosquitto", ["mosquitto", str(MQTT_PORT), str(data_dir / "mosquitto")], log_dir)
    with _stopped_at_exit(mosquitto):
        mosquitto.wait_ready(lambda: _listens(MQTT_PORT), START_TIMEOUT)
        yield [mosquitto]


@contextmanager
def _postgres(data_dir: Path, log_dir: Path) -> Iterator[list[Process]]:
    _require_free(POSTGRES_PORT)
    # PostgreSQL runs as a user other than root, who must reach its folder: pytest's
    # folders are root's alone, so it gets one of its own, removed afterwards.
    folder = Path(tempfile.mkdtemp(prefix="eda-shop-postgres-"))
    folder.chmod(0o755)
    try:
        postgres = _run("postgres", ["postgres", str(POSTGRES_PORT), str(folder / "postgres")], log_dir)
        with _stopped_at_exit(postgres):
            postgres.wait_ready(_postgres_answers, 60.0)
            yield [postgres]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _kafka(data_dir: Path, log_dir: Path) -> Iterator[list[Process]]:
    _require_free(KAFKA_PORT, KAFKA_CONTROLLER_PORT)
    kafka = _run("kafka", ["kafka", str(KAFKA_PORT), str(KAFKA_CONTROLLER_PORT), str(data_dir / "kafka")], log_dir)
    with _stopped_at_exit(kafka):
        kafka.wait_ready(lambda: _listens(KAFKA_PORT), 90.0)  # formatting, then a JVM's start, on 2 cores
        subprocess.run([str(SCRIPT), "kafka-topics", f"127.0.0.1:{KAFKA_PORT}", *_kafka_topics()],
                       check=True, timeout=120)
        yield [kafka]


def _kafka_topics() -> list[str]:
    """Every topic the Kafka components let an app publish to."""
    return sorted({topic for topics in _scopes("pubsub", "publishingScopes").values() for topic in topics})


def _subscriptions() -> set[tuple[str, str]]:
    """Each (subscriber, topic) the system reads: every app's topics, and every topic for
    the recorder. The subscriber names the app's consumer group on Kafka and prefixes its
    queue's name on RabbitMQ."""
    heard = _scopes("pubsub", "subscriptionScopes")
    business = {(app_id, topic) for app_id, topics in heard.items() for topic in topics}
    return business | {(RECORDER_ID, str(topic)) for topic in Topic}


def _scopes(component: str, name: str) -> dict[str, set[str]]:
    """A pub/sub component's topic scopes, as components/ has them (a variant takes them from there)."""
    return scopes(yaml.safe_load((COMPONENTS / f"{component}.yaml").read_text()), name)


def _postgres_answers() -> bool:
    ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(POSTGRES_PORT), "-d", "eda_shop"],
                           check=False, capture_output=True)
    return ready.returncode == 0


class RabbitMQBroker(RecordedBroker):
    """What the topics carried, from the recorder; and, from RabbitMQ itself, whether an
    app's queue for a topic is drained: every message in it delivered and acknowledged."""

    def __init__(self, variant_name: str, data_dir: Path) -> None:
        super().__init__(variant_name)
        self._data_dir = data_dir / "rabbitmq"

    def wait_subscribed(self) -> None:
        """Return once every subscriber has its queue for each topic it hears: a message
        published before the queue is bound reaches no one, and a healthy sidecar may
        not have subscribed yet."""
        expected = {f"{app_id}-{topic}" for app_id, topic in _subscriptions()}
        wait_until(lambda: expected <= set(self._rabbitmqctl("list_queues", "--quiet", "--no-table-headers",
                                                              "name").split()), SUBSCRIBE_TIMEOUT)

    def last_entry_id(self, topic: str) -> str:
        # Publisher confirms are on: once a publish has returned, its message is in every
        # subscriber's queue. "Up to it" is then "up to everything in the queue now".
        return "everything published so far"

    def consumed(self, topic: str, app_id: str, up_to: str) -> bool:
        """True once `app_id`'s queue for `topic` holds nothing, unacknowledged or ready."""
        for line in self._rabbitmqctl("list_queues", "--quiet", "--no-table-headers",
                                      "name", "messages_ready", "messages_unacknowledged").splitlines():
            name, ready, unacknowledged = line.split()
            if name == f"{app_id}-{topic}":  # Dapr names an app's queue for a topic so
                return int(ready) == int(unacknowledged) == 0
        return False

    def _rabbitmqctl(self, *args: str) -> str:
        env = {**os.environ, "HOME": str(self._data_dir), "ERL_EPMD_PORT": str(EPMD_PORT)}
        return subprocess.run(
            ["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", f"eda-brokers-{RABBITMQ_PORT}@localhost", *args],
            env=env, capture_output=True, text=True, check=True, timeout=30,
        ).stdout


class KafkaBroker(RecordedBroker):
    """What the topics carried, from the recorder; and, from Kafka itself, whether an app's
    consumer group has read a topic to its end: committed every partition's last offset."""

    def wait_subscribed(self) -> None:
        """Return once every group holds the topics it hears (its sidecar's subscriptions):
        Dapr's Kafka consumer leaves and joins its group anew for each subscription its
        sidecar adds, so a healthy sidecar may not be reading yet, on 2 busy cores for a while."""
        expected = _subscriptions()
        wait_until(lambda: expected <= self._assigned(), SUBSCRIBE_TIMEOUT)

    def _assigned(self) -> set[tuple[str, str]]:
        """Each (group, topic) whose partitions a member of the group holds."""
        rows = [line.split() for line in self._consumer_groups("--describe", "--all-groups").splitlines()]
        # Columns: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
        return {(row[0], row[1]) for row in rows if len(row) >= 9 and row[6] not in ("-", "CONSUMER-ID")}

    def _consumer_groups(self, *args: str) -> str:
        return subprocess.run(
            [str(SCRIPT), "kafka-consumer-groups", "--bootstrap-server", f"127.0.0.1:{KAFKA_PORT}", *args],
            capture_output=True, text=True, check=False, timeout=60,
        ).stdout

    def last_entry_id(self, topic: str) -> str:
        # A publish returns once the broker has the event (acks=all): it is then below
        # every partition's end, and "up to it" is "up to the ends now".
        return "everything published so far"

    def consumed(self, topic: str, app_id: str, up_to: str) -> bool:
        """True once `app_id`'s group has committed the end of every partition of `topic`
        that holds events (the app's group is named after it: components/variants/kafka)."""
        described = self._consumer_groups("--describe", "--group", app_id)
        # Columns: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
        rows = [line.split() for line in described.splitlines() if line.split()[1:2] == [topic]]
        return bool(rows) and all(end == "0" or committed == end for _, _, _, committed, end, *_ in rows)


class MQTTBroker(RecordedBroker):
    """What the topics carried, from the recorder; and, from Mosquitto's log, whether
    every subscriber has subscribed to each topic it hears."""

    def __init__(self, variant_name: str, data_dir: Path) -> None:
        super().__init__(variant_name)
        self._log = data_dir / "mosquitto" / "mosquitto.log"  # tools/brokers.sh run mosquitto

    def wait_subscribed(self) -> None:
        """Return once every subscriber has subscribed to each topic it hears: a message
        published before its subscriber subscribes reaches no one, and a healthy sidecar
        may not have subscribed yet. MQTT shows no client another's subscriptions."""
        expected = _subscriptions()
        wait_until(lambda: expected <= self._subscribed(), SUBSCRIBE_TIMEOUT)

    def _subscribed(self) -> set[tuple[str, str]]:
        """Each (client id, topic) Mosquitto logged a subscription of, in lines of the form
        "<time>: <client id> <qos> <topic>"; a sidecar's client id is its app id."""
        lines = self._log.read_text().splitlines() if self._log.exists() else []
        return {(words[1], words[3]) for words in map(str.split, lines) if len(words) == 4 and words[2] in ("0", "1", "2")}


def observed_broker(folders: tuple[str, ...], variant_name: str, data_dir: Path) -> RecordedBroker:
    """How the tests see a broker other than Redis Streams."""
    if "rabbitmq" in folders:
        return RabbitMQBroker(variant_name, data_dir)
    if "kafka" in folders:
        return KafkaBroker(variant_name)
    if "mqtt" in folders:
        return MQTTBroker(variant_name, data_dir)
    return RecordedBroker(variant_name)


_STARTERS = {"rabbitmq": _rabbitmq, "mosquitto": _mosquitto, "postgres": _postgres, "kafka": _kafka}


def _require(path: str | Path | None, package: str) -> None:
    if path is None or not os.access(path, os.X_OK):
        raise RuntimeError(f"{package} is missing: run `{INSTALL}` (as root)")


def _require_free(*ports: int) -> None:
    """Fail at once, naming the port, rather than talk to a server someone else runs."""
    busy = [port for port in ports if _listens(port)]
    if busy:
        raise RuntimeError(f"port(s) {', '.join(map(str, busy))} on 127.0.0.1 already in use: "
                           "another run of make test-brokers, or a server not started by these tests")


def _listens(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
