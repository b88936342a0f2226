import pytest

from contracts.events import OrderLine, StockRejected, StockReserved
from orders import handlers
from orders.model import Order, OrderStatus, PlaceOrder, can_move

S = OrderStatus


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.PENDING, S.RESERVED, True),
        (S.RESERVED, S.PAID, True),
        (S.PAID, S.SHIPPED, True),
        (S.PENDING, S.CANCELLED, True),
        (S.PAID, S.CANCELLED, True),
        (S.RESERVED, S.RESERVED, False),  # a duplicate
        (S.PAID, S.RESERVED, False),  # a late event
        (S.SHIPPED, S.CANCELLED, False),  # final
        (S.CANCELLED, S.RESERVED, False),  # final
    ],
)
def test_an_order_only_moves_forward(current: OrderStatus, target: OrderStatus, allowed: bool) -> None:
    assert can_move(current, target) is allowed


def an_order(status: OrderStatus = S.PENDING) -> Order:
    command = PlaceOrder(customer_id="c-1", items=[OrderLine(sku="tea", quantity=2)])
    order, _ = handlers.place_order("o-1", command)
    return order.model_copy(update={"status": status})


def test_placing_an_order_announces_what_was_ordered() -> None:
    command = PlaceOrder(customer_id="c-7", items=[OrderLine(sku="tea", quantity=3)])
    order, placed = handlers.place_order("o-9", command)
    assert order.status is S.PENDING
    assert (placed.order_id, placed.customer_id, placed.items) == ("o-9", "c-7", tuple(command.items))


def test_reserved_stock_moves_a_pending_order_on() -> None:
    moved = handlers.on_stock_reserved(an_order(), StockReserved(order_id="o-1", items=an_order().items))
    assert moved is not None and moved.status is S.RESERVED


def test_rejected_stock_cancels_with_the_reason() -> None:
    event = StockRejected(order_id="o-1", reason="out_of_stock", skus=("tea",))
    moved = handlers.on_stock_rejected(an_order(), event)
    assert moved is not None
    assert (moved.status, moved.reason) == (S.CANCELLED, "out_of_stock")


def test_a_late_rejection_does_not_undo_a_reservation() -> None:
    event = StockRejected(order_id="o-1", reason="out_of_stock", skus=("tea",))
    assert handlers.on_stock_rejected(an_order(S.SHIPPED), event) is None
