"""Where an order's time goes, read from the broker after the saga ran.

Every Redis stream entry id starts with the millisecond it was added, and each fact is on
its topic once its app has written it and published it. So, per order, a hop = the next
fact's entry - the previous fact's entry (delivery to the next app, its handling, its
write and its publish). The ends come from the bench's own clock: from when an order was
due to its order.requested on the broker (the POST), and from its shipment.scheduled on
the topic to the moment the orders store held it shipped.
"""

import json
from collections.abc import Callable
from itertools import pairwise
from statistics import median

import redis

from contracts.names import EventType, Topic

CHAIN = (
    EventType.ORDER_REQUESTED, EventType.ORDER_PLACED, EventType.STOCK_RESERVED,
    EventType.PAYMENT_SUCCEEDED, EventType.SHIPMENT_SCHEDULED,
)
Times = dict[tuple[str, str], float]  # (order id, event type) -> wall-clock ms
# Where the bench's own times go among the broker's: an order due, an order ended.
DUE, ENDED = "POST /orders due", "shipped written"
WallTimes = Callable[[set[str]], dict[str, tuple[float, float]]]  # order id -> (due, ended), ms


def stage_medians(client: redis.Redis, order_ids: set[str], wall_ms: WallTimes) -> dict[str, float]:
    """The median of each stage, in ms, over the orders given, in the order they happen."""
    published: Times = {}
    for topic in (Topic.ORDER_REQUESTS, Topic.ORDERS, Topic.INVENTORY, Topic.PAYMENTS, Topic.SHIPPING):
        published.update(_entries(client, topic, order_ids))
    for order_id, (due, ended) in wall_ms(order_ids).items():
        published[(order_id, DUE)], published[(order_id, ENDED)] = due, ended
    steps = (DUE, *CHAIN, ENDED)
    return {f"{before} -> {after}": _median(published, before, after) for before, after in pairwise(steps)}


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
        if order_id in order_ids:  # the first of a fact published again with its id
            found.setdefault((order_id, event["type"]), int(entry_id.split(b"-")[0]))
    return found


def _median(times: Times, start_type: str, end_type: str) -> float:
    spans = [times[(order_id, end_type)] - ms for (order_id, kind), ms in times.items()
             if kind == start_type and (order_id, end_type) in times]
    return median(spans) if spans else float("nan")
