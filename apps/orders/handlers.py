"""Pure decisions of the orders service: command or event in, new order state out."""

from contracts.events import OrderPlaced, StockRejected, StockReserved
from orders.model import Order, OrderStatus, PlaceOrder, can_move


def place_order(order_id: str, command: PlaceOrder) -> tuple[Order, OrderPlaced]:
    order = Order(order_id=order_id, customer_id=command.customer_id, items=tuple(command.items))
    return order, announce_placed(order)


def announce_placed(order: Order) -> OrderPlaced:
    return OrderPlaced(order_id=order.order_id, customer_id=order.customer_id, items=order.items)


def on_stock_reserved(order: Order, _event: StockReserved) -> Order | None:
    return _move(order, OrderStatus.RESERVED)


def on_stock_rejected(order: Order, event: StockRejected) -> Order | None:
    return _move(order, OrderStatus.CANCELLED, reason=event.reason)


def _move(order: Order, status: OrderStatus, reason: str | None = None) -> Order | None:
    """The order in its new status, or None when the event is late or a duplicate."""
    if not can_move(order.status, status):
        return None
    return order.model_copy(update={"status": status, "reason": reason})
