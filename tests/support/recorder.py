"""What each topic carried, on a broker the tests cannot read directly (RabbitMQ, MQTT).

On Redis Streams the tests read the topics themselves (tests/support/broker.py). Elsewhere
a recorder — a small HTTP app in the test process with a daprd of its own — subscribes to
every business topic through the same pub/sub component as the apps, with raw payloads,
and keeps each message as it arrived. Its daprd loads only a copy of that component, with
the scopes lifted: the apps' YAML stays as it is, and the recorder is no app of the shop.
"""

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from contracts.names import PUBSUB, Topic
from tests.support.broker import Broker
from tests.support.processes import Process
from tests.support.sidecars import START_TIMEOUT, Ports, daprd_command, sidecar_answers

APP_ID = "broker-recorder"
TOPICS = tuple(Topic)


class RecordedBroker(Broker):
    """The Broker the saga tests use, answering from what the recorder heard: every
    message on each topic, in the order it arrived. A stream's entry ids and consumer
    groups have no counterpart here, so what needs them fails, saying so."""

    def __init__(self, variant_name: str) -> None:  # no Redis to connect to
        self._variant_name = variant_name
        self._lock = threading.Lock()
        self._heard: dict[str, list[bytes]] = {topic: [] for topic in TOPICS}

    def record(self, topic: str, body: bytes) -> None:
        """Keep a delivery as the broker carried it. With raw payloads, daprd hands the
        app the message's bytes wrapped in a CloudEvent of its own, in `data_base64`."""
        try:
            message = base64.b64decode(json.loads(body)["data_base64"])
        except (ValueError, KeyError, TypeError):
            message = body
        with self._lock:
            self._heard.setdefault(topic, []).append(message)

    def events(self, topic: Topic) -> list[dict[str, Any]]:
        with self._lock:
            bodies = list(self._heard.get(topic, []))
        found = []
        for body in bodies:
            try:
                event = json.loads(body)
            except ValueError:
                continue
            if isinstance(event, dict):
                found.append(event)
        return found

    def last_entry_id(self, topic: Topic) -> str:
        raise self._no_streams("last_entry_id")

    def consumed(self, topic: Topic, app_id: str, up_to: str) -> bool:
        raise self._no_streams("consumed")

    def state(self, app_id: str, key: str) -> dict[str, Any] | None:
        raise self._no_streams("state")

    def _no_streams(self, name: str) -> RuntimeError:
        return RuntimeError(f"broker.{name}: events travel on {self._variant_name}, which has no stream entry ids "
                            "or consumer groups to read; list the test in tests/support/variants.py "
                            "NEEDS_CONSUMER_POSITIONS")


@contextmanager
def recording(broker: RecordedBroker, resources: Path, work: Path, ports: Ports, env: dict[str, str],
              log_dir: Path) -> Iterator[None]:
    """The recorder and its daprd, subscribed to every topic; stopped (by PID) at the end."""
    server = ThreadingHTTPServer(("127.0.0.1", ports.app), _handler(broker))
    thread = threading.Thread(target=server.serve_forever, name=APP_ID, daemon=True)
    thread.start()
    try:
        own = work / "recorder-resources"
        own.mkdir(parents=True, exist_ok=True)
        component = yaml.safe_load((resources / "pubsub.yaml").read_text())
        component.pop("scopes", None)
        (own / "pubsub.yaml").write_text(yaml.safe_dump(component))
        sidecar = Process(
            f"{APP_ID}-daprd",
            daprd_command(APP_ID, ports, own, app_port=ports.app),
            log_dir, env=env,
        )
        try:
            sidecar.wait_ready(lambda: sidecar_answers(ports.dapr_http), START_TIMEOUT)
            yield
        finally:
            sidecar.stop()
    finally:
        server.shutdown()
        server.server_close()


def _handler(broker: RecordedBroker) -> type[BaseHTTPRequestHandler]:
    subscriptions = json.dumps([
        {"pubsubname": PUBSUB, "topic": topic, "route": f"/heard/{topic}", "metadata": {"rawPayload": "true"}}
        for topic in TOPICS
    ]).encode()

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(200, subscriptions if self.path == "/dapr/subscribe" else b"{}")

        def do_OPTIONS(self) -> None:
            self._answer(200, b"")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/heard/"):
                broker.record(self.path.removeprefix("/heard/"), body)
            self._answer(200, b'{"status": "SUCCESS"}')

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # quiet: pytest shows what matters
            pass

    return Recorder
