"""The integration tier: orders and inventory on real daprd sidecars and a real Redis,
started once for the session and stopped by PID at its end."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.broker import Broker
from tests.support.sidecars import AppWithSidecar, Ports, start_redis

REDIS_PORT = 6390
PORTS = {
    "orders": Ports(app=8101, dapr_http=3601, dapr_grpc=50101, metrics=9191),
    "inventory": Ports(app=8102, dapr_http=3602, dapr_grpc=50102, metrics=9192),
}


@dataclass(frozen=True)
class System:
    orders: AppWithSidecar
    inventory: AppWithSidecar
    broker: Broker


@pytest.fixture(scope="session")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    logs = tmp_path_factory.mktemp("logs")
    redis = start_redis(REDIS_PORT, tmp_path_factory.mktemp("redis"), logs)
    apps = {app_id: AppWithSidecar(app_id, ports, REDIS_PORT, logs) for app_id, ports in PORTS.items()}
    try:
        for app in apps.values():
            app.wait_ready()
        yield System(apps["orders"], apps["inventory"], Broker(REDIS_PORT))
    finally:
        for app in apps.values():
            app.stop()
        redis.stop()


@pytest.fixture
def system(running_system: System) -> Iterator[System]:
    """The running system, checked before and after each test for a dead process."""
    running_system.orders.check_alive()
    running_system.inventory.check_alive()
    yield running_system
    running_system.orders.check_alive()
    running_system.inventory.check_alive()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.sidecars)
