"""The live saga: every business event the storefront hears, fanned out to the pages
that watch it (server-sent events): every order's to the operator, a customer's own
orders' to the customer."""

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

# A page that stops reading loses its oldest events rather than holding memory forever.
QUEUE_LIMIT = 1000
# The newest events kept for a page that comes to watch its orders: a saga can end in the
# milliseconds between a page placing an order and its stream opening.
RECENT_LIMIT = 5000
# A comment line now and then keeps proxies and browsers from closing a quiet stream.
KEEPALIVE_SECONDS = 15.0


def summary(event: dict[str, Any]) -> dict[str, Any]:
    """What a page needs of a CloudEvent to draw it on an order's timeline."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    return {
        "id": event.get("id"),
        "type": event.get("type"),
        "time": event.get("time"),
        "order_id": data.get("order_id"),
        "customer_id": data.get("customer_id"),
        "reason": data.get("reason"),
    }


class SagaFeed:
    def __init__(self) -> None:
        # Each watcher's queue, and the orders it watches (None: every order).
        self._watchers: dict[asyncio.Queue[dict[str, Any]], frozenset[str] | None] = {}
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT_LIMIT)

    def publish(self, event: dict[str, Any]) -> None:
        self._recent.append(event)
        for queue, orders in self._watchers.items():
            if orders is not None and event["order_id"] not in orders:
                continue
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    async def watch(self, orders: frozenset[str] | None = None) -> AsyncIterator[str]:
        """The stream one page reads, as server-sent event lines: the events of `orders`
        (those heard already first), or of every order from now on."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        if orders is not None:
            for event in self._recent:
                if event["order_id"] in orders and not queue.full():
                    queue.put_nowait(event)
        self._watchers[queue] = orders
        try:
            yield ": watching the saga\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: saga\ndata: {json.dumps(event)}\n\n"
        finally:
            del self._watchers[queue]
