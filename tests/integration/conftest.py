"""The integration tier: every app on a real daprd sidecar and a real Redis, started
once for the session and stopped by PID at its end."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.broker import Broker
from tests.support.processes import Process
from tests.support.sidecars import AppWithSidecar, Ports, start_redis

REDIS_PORT = 6390
PORTS = {
    "storefront": Ports(app=8100, dapr_http=3600, dapr_grpc=4600, metrics=9190),
    "orders": Ports(app=8101, dapr_http=3601, dapr_grpc=4601, metrics=9191),
    "inventory": Ports(app=8102, dapr_http=3602, dapr_grpc=4602, metrics=9192),
    "payments": Ports(app=8103, dapr_http=3603, dapr_grpc=4603, metrics=9193),
    "shipping": Ports(app=8104, dapr_http=3604, dapr_grpc=4604, metrics=9194),
    "notifications": Ports(app=8105, dapr_http=3605, dapr_grpc=4605, metrics=9195),
}
# One order in five fails its first charge: every test runs through gateway retries.
TRANSIENT_FAILURE_PERCENT = 20
ENV = {
    "payments": {"TRANSIENT_FAILURE_PERCENT": str(TRANSIENT_FAILURE_PERCENT)},
    # Stock enough that no test runs another out of it (but for the one SKU that is short).
    "inventory": {"CATALOGUE_PATH": str(Path(__file__).with_name("catalogue.json"))},
}


@dataclass
class System:
    apps: dict[str, AppWithSidecar]
    broker: Broker
    redis: Process
    redis_dir: Path
    log_dir: Path
    extra: list[AppWithSidecar] = field(default_factory=list)  # replicas a test added

    def __getitem__(self, app_id: str) -> AppWithSidecar:
        return self.apps[app_id]

    def restart_redis(self) -> None:
        """Stop Redis (it writes its AOF on the way) and start it on the same data."""
        self.redis.stop()
        self.redis = start_redis(REDIS_PORT, self.redis_dir, self.log_dir)

    def check_alive(self) -> None:
        for app in (*self.apps.values(), *self.extra):
            app.check_alive()


@pytest.fixture(scope="session")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    logs, redis_dir = tmp_path_factory.mktemp("logs"), tmp_path_factory.mktemp("redis")
    system = System({}, Broker(REDIS_PORT), start_redis(REDIS_PORT, redis_dir, logs), redis_dir, logs)
    try:
        for app_id, ports in PORTS.items():
            system.apps[app_id] = AppWithSidecar(app_id, ports, REDIS_PORT, logs, env=ENV.get(app_id))
        for app in system.apps.values():
            app.wait_ready()
        yield system
        # Everything published during the run must have kept the contract.
        assert system.broker.contract_breaches() == []
    finally:
        for app in (*system.extra, *system.apps.values()):
            app.stop()
        system.redis.stop()


@pytest.fixture
def system(running_system: System) -> Iterator[System]:
    """The running system, checked before and after each test for a dead process."""
    running_system.check_alive()
    yield running_system
    running_system.check_alive()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.sidecars)
