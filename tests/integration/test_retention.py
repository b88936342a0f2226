"""Bounded streams, nothing lost: every Redis stream keeps only its newest events
(`maxLenApprox`, components/pubsub.yaml), and a subscriber no further behind than that
loses none. Here each stream keeps 100 events instead of 100,000, so a few hundred orders
show both."""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from contracts.names import Topic
from tests.integration.flows import place_order
from tests.support.system import System, running
from tests.support.variants import COMPONENTS
from tests.support.waiting import wait_until

RETENTION = 100  # events each stream keeps
# Redis trims a stream only by whole nodes of up to 100 entries (stream-node-max-entries),
# never below the retention: a stream may hold that many more, never fewer.
BOUND = RETENTION + 100
# Orders go in a batch at a time, each handled by every subscriber before the next: no
# topic carries more than two events an order, so no subscriber is ever more than half
# the window behind, however slow this machine is.
BATCH = RETENTION // 4
ORDERS = 3 * RETENTION  # each topic carries an event or more an order
WITHIN_WINDOW = 3 * BATCH  # orders while a subscriber is away: one event each on its topic
DRAIN_TIMEOUT = 120


def with_retention(into: Path, events: int) -> Path:
    """components/ copied into `into`, every Redis Streams pub/sub keeping `events` per stream."""
    for path in COMPONENTS.glob("*.yaml"):
        documents = list(yaml.safe_load_all(path.read_text()))
        for document in documents:
            if document and document["kind"] == "Component" and document["spec"]["type"] == "pubsub.redis":
                (retention,) = [item for item in document["spec"]["metadata"] if item["name"] == "maxLenApprox"]
                retention["value"] = str(events)
        (into / path.name).write_text(yaml.safe_dump_all(documents))
    return into


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The whole system, its streams cut to RETENTION (for conftest's `system`)."""
    components = with_retention(tmp_path_factory.mktemp("components"), RETENTION)
    with running(tmp_path_factory.mktemp("logs"), tmp_path_factory.mktemp("redis"), components=components) as system:
        yield system


def place_in_batches(system: System, count: int, away: str | None = None) -> list[str]:
    """`count` orders, BATCH at a time; before each next batch, every subscriber but the
    one `away` has handled everything it was given."""
    order_ids: list[str] = []
    while len(order_ids) < count:
        order_ids += [place_order(system, ("tea-earl-grey", 1)) for _ in range(BATCH)]
        wait_until(
            lambda: not any(n for (_, group), n in system.broker.backlogs().items() if group != away),
            DRAIN_TIMEOUT, every=0.5,
        )
    return order_ids


def statuses(system: System, order_ids: list[str]) -> Counter[str]:
    records = system.broker.records("orders", [f"order/{order_id}" for order_id in order_ids])
    return Counter(record["view"]["status"] for record in records.values())


def all_reach(system: System, order_ids: list[str], status: str) -> None:
    wait_until(lambda: statuses(system, order_ids)[status] == len(order_ids), DRAIN_TIMEOUT, every=1)


def test_after_many_orders_every_stream_keeps_only_its_retention_and_every_order_ships(system: System) -> None:
    order_ids = place_in_batches(system, ORDERS)

    all_reach(system, order_ids, "shipped")
    streams = system.broker.streams()
    assert {name: kept for name, (kept, _) in streams.items() if kept > BOUND} == {}
    topics = {Topic.ORDERS, Topic.INVENTORY, Topic.PAYMENTS, Topic.SHIPPING}
    assert topics <= {name for name, (_, added) in streams.items() if added >= ORDERS}


def test_a_subscriber_away_for_a_whole_run_within_the_window_gets_every_event_when_it_returns(
    system: System,
) -> None:
    place_in_batches(system, RETENTION)  # the payments topic at its retention, at least
    kept_before, _ = system.broker.streams()[Topic.PAYMENTS]
    shipping = system["shipping"]
    shipping.stop()
    try:
        order_ids = place_in_batches(system, WITHIN_WINDOW, away="shipping")
        all_reach(system, order_ids, "paid")

        assert system.broker.backlogs()[Topic.PAYMENTS, "shipping"] == WITHIN_WINDOW
        kept_after, _ = system.broker.streams()[Topic.PAYMENTS]
        assert kept_after < kept_before + WITHIN_WINDOW  # trimmed while shipping was away
    finally:
        shipping.start()
        shipping.wait_ready()

    all_reach(system, order_ids, "shipped")
