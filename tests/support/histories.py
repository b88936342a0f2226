"""What an order's history holds once it has shipped. Its facts come on three topics at
once, so a later one may overtake an earlier one, which then comes late and is not
recorded (the ordering rule of apps/orders/model.py): a shipment can overtake its payment."""

SHIPPED_IN_STAGES = ("order.placed", "stock.reserved", "payment.succeeded", "shipment.scheduled")


def is_shipped_history(types: list[str]) -> bool:
    """Placed first, shipped last, and between them facts of later stages only, each once."""
    in_stages = set(types) <= set(SHIPPED_IN_STAGES) and types == sorted(set(types), key=SHIPPED_IN_STAGES.index)
    return in_stages and types[0] == SHIPPED_IN_STAGES[0] and types[-1] == SHIPPED_IN_STAGES[-1]
