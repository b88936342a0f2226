"""The whole system on real daprd sidecars and a private Redis, as the integration and
browser tiers run it: every port pinned, apart from `make run`'s, so both can run at once."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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
# Every sidecar sends the app token to its app and wants the Dapr token from it: the
# tests call the apps and the sidecars with these, as the README says a client must.
APP_API_TOKEN = secrets.token_hex(32)
DAPR_API_TOKEN = secrets.token_hex(32)
TOKENS = {"APP_API_TOKEN": APP_API_TOKEN, "DAPR_API_TOKEN": DAPR_API_TOKEN}
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


@contextmanager
def running(log_dir: Path, redis_dir: Path) -> Iterator[System]:
    """Every app with its sidecar, healthy; at the end, all stopped by PID, and every event
    published meanwhile checked against the contract."""
    system = System({}, Broker(REDIS_PORT), start_redis(REDIS_PORT, redis_dir, log_dir), redis_dir, log_dir)
    try:
        for app_id, ports in PORTS.items():
            env = {**TOKENS, **ENV.get(app_id, {})}
            system.apps[app_id] = AppWithSidecar(app_id, ports, REDIS_PORT, log_dir, env=env)
        for app in system.apps.values():
            app.wait_ready()
        yield system
        breaches = system.broker.contract_breaches()
        if breaches:
            raise AssertionError("events that broke the contract:\n" + "\n".join(breaches))
    finally:
        for app in (*system.extra, *system.apps.values()):
            app.stop()
        system.redis.stop()
