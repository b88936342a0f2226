"""What a chaos run does, decided before it starts: the orders it places and the faults
it injects, and when."""

from dataclasses import dataclass
from typing import Any, Literal

# One SKU the catalogue does not have (tests/support/catalogue.json has the others).
UNKNOWN_SKU = "chaos-unknown"
EVERYDAY_SKUS = ("tea-sencha", "tea-earl-grey", "mug-stoneware")


# How long a black hole lasts: as long as Dapr's certification tests cut the network.
BLACK_HOLE_SECONDS = 30.0


@dataclass(frozen=True)
class Fault:
    """A SIGKILL of one process, which the run then starts again; or, with `black_hole`,
    BLACK_HOLE_SECONDS of every packet dropped between Redis and the sidecars, or between
    an app and its sidecar (tests/support/network.py)."""

    kind: Literal["app", "sidecar", "redis"]
    target: str  # the app-id, or "redis"
    black_hole: bool = False

    @property
    def name(self) -> str:
        if self.black_hole:
            return "Redis and every sidecar" if self.kind == "redis" else f"{self.target} app and its sidecar"
        return "Redis" if self.kind == "redis" else f"{self.target} {self.kind}"


# Connections that hang rather than fail: to Redis from every sidecar, and between
# payments, in the middle of the saga, and its sidecar (whose health check stops its
# deliveries while the app does not answer).
BLACK_HOLES = (Fault("redis", "redis", black_hole=True), Fault("app", "payments", black_hole=True))

# An app three times, a sidecar three times and Redis once, each a different process:
# Python, Go; the sidecars of the first, middle and last hop; and each black hole.
FAULTS = (
    Fault("app", "orders"),
    Fault("sidecar", "inventory"),
    BLACK_HOLES[0],
    Fault("app", "payments"),
    Fault("redis", "redis"),
    BLACK_HOLES[1],
    Fault("sidecar", "shipping"),
    Fault("app", "shipping"),
    Fault("sidecar", "orders"),
)


def fault_times(placing_seconds: float, count: int = len(FAULTS)) -> list[float]:
    """When each fault is due, in seconds from the first order: spread evenly over the
    time the orders are placed, none at its very start or end."""
    return [placing_seconds * (k + 1) / (count + 1) for k in range(count)]


def order_command(n: int) -> dict[str, Any]:
    """The n-th order: mostly everyday stock that ships, and a share of every way an order
    is cancelled: a blocked customer and an over-limit charge (payment_declined), the
    kettle that runs out after five (out_of_stock), a SKU nobody sells (unknown_sku)."""
    customer = f"blocked-chaos-{n % 7}" if n % 20 == 7 else f"chaos-{n % 97}"
    if n % 50 == 13:
        items = [{"sku": "espresso-machine", "quantity": 1}]
    elif n % 25 == 9:
        items = [{"sku": "kettle-gooseneck", "quantity": 1}]
    elif n % 200 == 41:
        items = [{"sku": UNKNOWN_SKU, "quantity": 1}]
    else:
        items = [{"sku": EVERYDAY_SKUS[n % 3], "quantity": 1 + n % 2}]
        if n % 4 == 0:
            items.append({"sku": EVERYDAY_SKUS[(n + 1) % 3], "quantity": 1})
    return {"customer_id": customer, "items": items}
