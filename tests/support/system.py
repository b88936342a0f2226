"""The whole system on real daprd sidecars and a private Redis, as the integration and
browser tiers run it: every port pinned, apart from `make run`'s, so both can run at once."""

import secrets
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.broker import Broker
from tests.support.brokers import COMPONENT_ENV, observed_broker, running_servers
from tests.support.processes import Process
from tests.support.recorder import RecordedBroker, recording
from tests.support.sidecars import APP_IDS, DAPR_CONFIG, AppWithSidecar, Ports, start_redis
from tests.support.variants import Variant

REDIS_PORT = 6390
DEFAULT_VARIANT = Variant.parse("redis")  # components/ as they are


def numbered(app: int, dapr_http: int, dapr_grpc: int, metrics: int) -> dict[str, Ports]:
    """Every app's ports (APP_IDS, dapr.yaml's), in a row: the first app takes the numbers
    given, the next each plus one."""
    return {
        app_id: Ports(app=app + n, dapr_http=dapr_http + n, dapr_grpc=dapr_grpc + n, metrics=metrics + n)
        for n, app_id in enumerate(APP_IDS)
    }


PORTS = numbered(app=8100, dapr_http=3600, dapr_grpc=4600, metrics=9190)
# The system on another broker or state store (make test-brokers) has ports of its own,
# so it can run beside the default one.
VARIANT_REDIS_PORT = 6396
VARIANT_PORTS = numbered(app=8400, dapr_http=3900, dapr_grpc=4900, metrics=9400)
# Where events do not travel on Redis Streams, a recorder hears every topic
# (tests/support/recorder.py); its ports stay clear of the rows a new app extends.
RECORDER_PORTS = Ports(app=8499, dapr_http=3999, dapr_grpc=4999, metrics=9499)
# The hostile-input and contention modules run a system of their own, apart from the
# one the other modules start (tests/reliability/test_hostile.py, test_contention.py).
HOSTILE_REDIS_PORT = 6393
HOSTILE_PORTS = numbered(app=8600, dapr_http=3300, dapr_grpc=4300, metrics=9600)
# One order in five fails its first charge: every test runs through gateway retries.
TRANSIENT_FAILURE_PERCENT = 20
# Every sidecar sends the app token to its app and wants the Dapr token from it: the
# tests call the apps and the sidecars with these, as docs/security.md says a client must.
APP_API_TOKEN = secrets.token_hex(32)
DAPR_API_TOKEN = secrets.token_hex(32)
TOKENS = {"APP_API_TOKEN": APP_API_TOKEN, "DAPR_API_TOKEN": DAPR_API_TOKEN}
# Opens the storefront's operator console (dead letters, replay, every order's saga).
OPERATOR_TOKEN = secrets.token_hex(32)
ENV = {
    "storefront": {"OPERATOR_TOKEN": OPERATOR_TOKEN},
    "payments": {"TRANSIENT_FAILURE_PERCENT": str(TRANSIENT_FAILURE_PERCENT)},
    # Stock enough that no test runs another out of it (but for the SKUs that are short).
    "inventory": {"CATALOGUE_PATH": str(Path(__file__).with_name("catalogue.json"))},
}


@dataclass
class System:
    apps: dict[str, AppWithSidecar]
    broker: Broker  # a RecordedBroker where events do not travel on Redis Streams
    redis: Process
    redis_dir: Path
    log_dir: Path
    extra: list[AppWithSidecar] = field(default_factory=list)  # replicas a test added
    redis_port: int = REDIS_PORT

    def __getitem__(self, app_id: str) -> AppWithSidecar:
        return self.apps[app_id]

    def restart_redis(self, crash: bool = False) -> None:
        """Stop Redis (it writes its AOF on the way), or with `crash` SIGKILL it (only what
        its AOF already holds survives), and start it on the same data."""
        if crash:
            self.redis.kill()
        else:
            self.redis.stop()
        self.redis = start_redis(self.redis_port, self.redis_dir, self.log_dir)

    def check_alive(self) -> None:
        for app in (*self.apps.values(), *self.extra):
            app.check_alive()


@contextmanager
def running(
    log_dir: Path, redis_dir: Path, variant: Variant = DEFAULT_VARIANT,
    config: Path = DAPR_CONFIG, env: Mapping[str, str] | None = None,
    at: tuple[int, dict[str, Ports]] | None = None, components: Path | None = None,
) -> Iterator[System]:
    """Every app with its sidecar, healthy; at the end, all stopped by PID, and every event
    published meanwhile checked against the contract. A `variant` other than the default
    swaps components by YAML alone and runs its brokers or databases beside Redis, on ports
    of its own; where events leave Redis Streams, a recorder hears them for the tests.
    `config` is the sidecars' Dapr Configuration; `env` goes to every app and sidecar;
    `at` gives Redis's port and the apps' for a system beside the usual one (the hostile-input
    tests and make chaos run on their own); `components`, the sidecars' components folder
    in place of the variant's (a test that changes their metadata)."""
    redis_port, all_ports = (REDIS_PORT, PORTS) if variant.default else (VARIANT_REDIS_PORT, VARIANT_PORTS)
    redis_port, all_ports = at or (redis_port, all_ports)
    sidecar_env = {} if variant.default else COMPONENT_ENV
    with ExitStack() as servers:
        work = Path(tempfile.mkdtemp(prefix=f"{variant.name}-", dir=redis_dir.parent))  # this run's alone
        broker = Broker(redis_port) if variant.redis_streams else observed_broker(variant.folders, variant.name, work)
        servers.enter_context(running_servers(variant.servers, work, log_dir))
        resources = components or variant.resources(work / "resources")
        if isinstance(broker, RecordedBroker):
            servers.enter_context(recording(broker, resources, work, RECORDER_PORTS, sidecar_env, log_dir))
        system = System({}, broker, start_redis(redis_port, redis_dir, log_dir), redis_dir, log_dir,
                        redis_port=redis_port)
        try:
            for app_id, ports in all_ports.items():
                app_env = {**TOKENS, **ENV.get(app_id, {}), **(env or {})}
                system.apps[app_id] = AppWithSidecar(app_id, ports, redis_port, log_dir, env=app_env,
                                                     resources=resources, sidecar_env=sidecar_env, config=config)
            for app in system.apps.values():
                app.wait_ready()
            system.broker.wait_subscribed()
            yield system
            breaches = system.broker.contract_breaches()
            if breaches:
                raise AssertionError("events that broke the contract:\n" + "\n".join(breaches))
        finally:
            for app in (*system.extra, *system.apps.values()):
                app.stop()
            system.redis.stop()


@contextmanager
def running_apart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The whole system on the hostile-input and contention modules' own ports."""
    with running(tmp_path_factory.mktemp("logs"), tmp_path_factory.mktemp("redis"),
                 at=(HOSTILE_REDIS_PORT, HOSTILE_PORTS)) as system:
        yield system
