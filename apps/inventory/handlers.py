"""Pure decisions of the inventory service: an order in, the stock changes and the
fact to announce out."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from contracts.events import OrderLine, OrderPlaced, StockRejected, StockReserved
from inventory.model import StockLevel


@dataclass(frozen=True)
class ReservationPlan:
    changes: Mapping[str, StockLevel]  # the stock levels to write, by SKU
    outcome: StockReserved | StockRejected


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
            reason="unknown_sku" if unknown else "out_of_stock",
            skus=tuple(unknown or short),
        )
        releases = {
            sku: release(level, order.order_id)
            for sku, level in levels.items()
            if order.order_id in level.holds
        }
        return ReservationPlan(releases, rejected)

    holds = {
        sku: hold(levels[sku], order.order_id, quantity)
        for sku, quantity in wanted.items()
        if order.order_id not in levels[sku].holds
    }
    items = tuple(OrderLine(sku=sku, quantity=quantity) for sku, quantity in wanted.items())
    return ReservationPlan(holds, StockReserved(order_id=order.order_id, items=items))


def hold(level: StockLevel, order_id: str, quantity: int) -> StockLevel:
    return level.model_copy(
        update={"available": level.available - quantity, "holds": {**level.holds, order_id: quantity}}
    )


def release(level: StockLevel, order_id: str) -> StockLevel:
    holds = dict(level.holds)
    quantity = holds.pop(order_id)
    return level.model_copy(update={"available": level.available + quantity, "holds": holds})
