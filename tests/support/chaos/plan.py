"""What a chaos run does, decided before it starts: the orders it places and the faults
it injects, and when."""

from dataclasses import dataclass
from typing import Any, Literal

# One SKU the catalogue does not have (tests/support/catalogue.json has the others).
UNKNOWN_SKU = "chaos-unknown"
EVERYDAY_SKUS = ("tea-sencha", "tea-earl-grey", "mug-stoneware")


@dataclass(frozen=True)
class Fault:
    """A SIGKILL of one process, which the run then starts again."""

    kind: Literal["app", "sidecar", "redis"]
    target: str  # the app-id, or "redis"

    @property
    def name(self) -> str:
        return "Redis" if self.kind == "redis" else f"{self.target} {self.kind}"


# An app three times, a sidecar three times and Redis once, each a different process:
# Python, Go; the sidecars of the first, middle and last hop.
FAULTS = (
    Fault("app", "orders"),
    Fault("sidecar", "inventory"),
    Fault("app", "payments"),
    Fault("redis", "redis"),
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
