"""Where an order's time goes, read from the broker after the saga ran.

Every Redis stream entry id starts with the millisecond it was added. A fact announced
through the outbox is added twice: to the outbox's internal stream when the state
transaction commits, and to its topic when daprd publishes it. So, per order:
- the outbox hold of a fact = topic entry - internal entry;
- a hop = the next fact's internal entry - the previous fact's topic entry (delivery to
  the next app, its handling, and its state transaction).
The ends come from the bench's own clock: from when an order was due to its order.placed
committed (the POST and the orders app's transaction), and from its shipment.scheduled on
the topic to the moment the orders store held it shipped.
"""

import json
from collections.abc import Callable
from statistics import median

import redis

from contracts.names import EventType, Topic

CHAIN = (EventType.ORDER_PLACED, EventType.STOCK_RESERVED, EventType.PAYMENT_SUCCEEDED, EventType.SHIPMENT_SCHEDULED)
Times = dict[tuple[str, str], float]  # (order id, event type) -> wall-clock ms
# Where the bench's own times go among the broker's: an order due, an order ended.
DUE, ENDED = "POST /orders due", "shipped written"
WallTimes = Callable[[set[str]], dict[str, tuple[float, float]]]  # order id -> (due, ended), ms


def stage_medians(client: redis.Redis, order_ids: set[str], wall_ms: WallTimes) -> dict[str, float]:
    """The median of each stage, in ms, over the orders given, in the order they happen."""
    internal: Times = {}
    for key in client.scan_iter(match="*outbox", _type="stream"):
        internal.update(_entries(client, key, order_ids))
    published: Times = {}
    for topic in (Topic.ORDERS, Topic.INVENTORY, Topic.PAYMENTS, Topic.SHIPPING):
        published.update(_entries(client, topic, order_ids))
    for order_id, (due, ended) in wall_ms(order_ids).items():
        internal[(order_id, DUE)], published[(order_id, ENDED)] = due, ended
    stages = {f"{DUE} -> {CHAIN[0]} committed": _median(internal, internal, DUE, CHAIN[0])}
    for i, fact in enumerate(CHAIN):
        if i:
            stages[f"{CHAIN[i - 1]} published -> {fact} committed"] = _median(published, internal, CHAIN[i - 1], fact)
        stages[f"{fact} held in the outbox"] = _median(internal, published, fact, fact)
    stages[f"{CHAIN[-1]} published -> {ENDED}"] = _median(published, published, CHAIN[-1], ENDED)
    return stages


def shipped_twice(client: redis.Redis, order_ids: set[str]) -> int:
    """How many of the orders were scheduled for shipping by two different events."""
    scheduled: dict[str, set[str]] = {}
    for _, fields in client.xrange(Topic.SHIPPING):
        event = json.loads(fields[b"data"])
        if event.get("type") == EventType.SHIPMENT_SCHEDULED and event["data"]["order_id"] in order_ids:
            scheduled.setdefault(event["data"]["order_id"], set()).add(event["id"])
    return sum(len(ids) > 1 for ids in scheduled.values())


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
