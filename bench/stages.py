"""Where an order's time goes, read from the broker after the saga ran.

Every Redis stream entry id starts with the millisecond it was added. A fact announced
through the outbox is added twice: to the outbox's internal stream when the state
transaction commits, and to its topic when daprd publishes it. So, per order:
- the outbox hold of a fact = topic entry - internal entry;
- a hop = the next fact's internal entry - the previous fact's topic entry (delivery to
  the next app, its handling, and its state transaction).
"""

import json
from statistics import median

import redis

from contracts.names import EventType, Topic

CHAIN = (EventType.ORDER_PLACED, EventType.STOCK_RESERVED, EventType.PAYMENT_SUCCEEDED, EventType.SHIPMENT_SCHEDULED)
Times = dict[tuple[str, str], int]  # (order id, event type) -> ms


def stage_medians(client: redis.Redis, order_ids: set[str]) -> dict[str, float]:
    """The median of each stage, in ms, over the orders given, in the order they happen."""
    internal: Times = {}
    for key in client.scan_iter(match="*outbox", _type="stream"):
        internal.update(_entries(client, key, order_ids))
    published: Times = {}
    for topic in (Topic.ORDERS, Topic.INVENTORY, Topic.PAYMENTS, Topic.SHIPPING):
        published.update(_entries(client, topic, order_ids))
    stages: dict[str, float] = {}
    for i, fact in enumerate(CHAIN):
        if i:
            stages[f"{CHAIN[i - 1]} published -> {fact} committed"] = _median(published, internal, CHAIN[i - 1], fact)
        stages[f"{fact} held in the outbox"] = _median(internal, published, fact, fact)
    return stages


def _entries(client: redis.Redis, stream: str | bytes, order_ids: set[str]) -> Times:
    found: Times = {}
    for entry_id, fields in client.xrange(stream):
        try:
            event = json.loads(fields[b"data"])
            order_id = event["data"]["order_id"]
        except (KeyError, TypeError, ValueError):
            continue
        if order_id in order_ids:
            found[(order_id, event["type"])] = int(entry_id.split(b"-")[0])
    return found


def _median(start: Times, end: Times, start_type: str, end_type: str) -> float:
    spans = [end[(order_id, end_type)] - ms for (order_id, kind), ms in start.items()
             if kind == start_type and (order_id, end_type) in end]
    return median(spans) if spans else float("nan")
