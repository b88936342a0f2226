"""Pure decisions of the inventory service: an event and the stock levels in; the
stock levels to write and the fact to announce out."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from contracts.events import OrderLine, OrderPlaced, StockRejected, StockReleased, StockReserved
from inventory.model import Reservation, StockLevel

Changes = Mapping[str, StockLevel]  # the stock levels to write, by SKU


@dataclass(frozen=True)
class ReservationPlan:
    changes: Changes
    outcome: StockReserved | StockRejected

    @property
    def answer(self) -> Reservation:
        if isinstance(self.outcome, StockReserved):
            return Reservation(reserved=self.outcome)
        return Reservation(rejected=self.outcome)


def plan_reservation(order: OrderPlaced, levels: Mapping[str, StockLevel]) -> ReservationPlan:
    """Reserve every line of `order` or none: all-or-nothing over its SKUs.

    `levels` are the current levels of the order's SKUs (missing = unknown SKU). Holds
    this order already has (from an earlier, interrupted attempt) count as reserved; a
    rejection releases them.
    """
    wanted = Counter[str]()
    for line in order.items:
        wanted[line.sku] += line.quantity

    unknown = sorted(sku for sku in wanted if sku not in levels)
    short = sorted(
        sku
        for sku, quantity in wanted.items()
        if sku in levels
        and order.order_id not in levels[sku].holds
        and levels[sku].available < quantity
    )
    if unknown or short:
        rejected = StockRejected(
            order_id=order.order_id,
            customer_id=order.customer_id,
            reason="unknown_sku" if unknown else "out_of_stock",
            skus=tuple(unknown or short),
        )
        return ReservationPlan(release_holds(order.order_id, levels), rejected)

    holds = {
        sku: hold(levels[sku], order.order_id, quantity)
        for sku, quantity in wanted.items()
        if order.order_id not in levels[sku].holds
    }
    reserved = StockReserved(
        order_id=order.order_id,
        customer_id=order.customer_id,
        items=tuple(OrderLine(sku=sku, quantity=quantity) for sku, quantity in wanted.items()),
        amount_cents=sum(levels[sku].price_cents * quantity for sku, quantity in wanted.items()),
    )
    return ReservationPlan(holds, reserved)


def plan_release(reserved: StockReserved, levels: Mapping[str, StockLevel]) -> tuple[Changes, StockReleased]:
    """Compensation: give back what `reserved` holds (what is already given back stays so)."""
    released = StockReleased(order_id=reserved.order_id, customer_id=reserved.customer_id, items=reserved.items)
    return release_holds(reserved.order_id, levels), released


def plan_shipment(order_id: str, levels: Mapping[str, StockLevel]) -> Changes:
    """Shipped stock leaves the shop: the order's holds go, and nothing returns to available."""
    return {
        sku: level.model_copy(update={"holds": _without(level.holds, order_id)})
        for sku, level in levels.items()
        if order_id in level.holds
    }


def release_holds(order_id: str, levels: Mapping[str, StockLevel]) -> Changes:
    return {sku: release(level, order_id) for sku, level in levels.items() if order_id in level.holds}


def hold(level: StockLevel, order_id: str, quantity: int) -> StockLevel:
    return level.model_copy(
        update={"available": level.available - quantity, "holds": {**level.holds, order_id: quantity}}
    )


def release(level: StockLevel, order_id: str) -> StockLevel:
    return level.model_copy(
        update={"available": level.available + level.holds[order_id], "holds": _without(level.holds, order_id)}
    )


def _without(holds: dict[str, int], order_id: str) -> dict[str, int]:
    return {held_for: units for held_for, units in holds.items() if held_for != order_id}
