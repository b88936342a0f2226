"""How big each measurement is (the full run, and --quick), and the ports the bench uses:
its own range, clear of `make run` and of the test tiers, below the ephemeral range."""

from collections.abc import Callable
from dataclasses import dataclass

from tests.support.sidecars import APP_IDS, Ports

REDIS_PORT = 6395
Say = Callable[[str], None]  # how a scenario reports its progress as it goes
# The saga: every app of dapr.yaml, in its order, on 830x / 380x / 480x / 930x.
SAGA_APPS = APP_IDS
SAGA_PORTS = {
    app_id: Ports(app=8300 + i, dapr_http=3800 + i, dapr_grpc=4800 + i, metrics=9300 + i)
    for i, app_id in enumerate(SAGA_APPS)
}
# One hop: a publisher (the harness itself, no app port) and a subscriber, each with a sidecar.
PUBLISHER, SUBSCRIBER = "bench-publisher", "bench-subscriber"
PUBLISHER_PORTS = Ports(app=0, dapr_http=3810, dapr_grpc=4810, metrics=9310)
SUBSCRIBER_PORTS = Ports(app=8311, dapr_http=3811, dapr_grpc=4811, metrics=9311)


@dataclass(frozen=True)
class Plan:
    reps: int
    # One hop. A warm-up run (not reported) proves the path and estimates the rate; each
    # flat-out run then sends about flat_seconds' worth of probes at that rate.
    warmup_probes: int
    flat_seconds: float
    max_probes: int
    paced_rate: float
    paced_seconds: float
    # The saga: flat-out bursts of orders measure its capacity; then orders at half of it
    # (the latency); then an overload, twice the capacity, followed by half of it again
    # while the backlog drains (what happens to the front door, the apps and the backlog).
    saga_orders: int
    saga_paced_seconds: float
    overload_seconds: float
    after_overload_seconds: float
    # How long to wait for the last probe or order past the expected end.
    grace_seconds: float


FULL = Plan(
    reps=3, warmup_probes=1000, flat_seconds=5, max_probes=200_000, paced_rate=500, paced_seconds=10,
    saga_orders=3000, saga_paced_seconds=30, overload_seconds=60, after_overload_seconds=60, grace_seconds=60,
)
QUICK = Plan(
    reps=2, warmup_probes=200, flat_seconds=1, max_probes=20_000, paced_rate=500, paced_seconds=1,
    saga_orders=300, saga_paced_seconds=2, overload_seconds=3, after_overload_seconds=3, grace_seconds=20,
)
# The paced rate and the overload, as shares of the capacity the flat-out runs measured.
PACED_SHARE, OVERLOAD_SHARE = 0.5, 2.0
