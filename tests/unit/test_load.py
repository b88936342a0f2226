"""make load's parts that decide what to send and what to report (tools/load.py)."""

import argparse
import random

import pytest

from bench.streams import Streams
from tools.load import Mix, Shelf, Tally, arguments

PRODUCTS = [
    {"sku": "tea", "available": 40, "price_cents": 1200},
    {"sku": "scale", "available": 1, "price_cents": 3900},
    {"sku": "espresso", "available": 3, "price_cents": 89000},
    {"sku": "kettle", "available": 0, "price_cents": 6500},
]


def test_a_mix_gives_its_shares_exactly_in_a_shuffled_order() -> None:
    kinds = Mix.parse("70,20,10").kinds(101, random.Random(1))

    assert (kinds.count("in-stock"), kinds.count("out-of-stock"), kinds.count("declined")) == (71, 20, 10)
    assert kinds[:71] != ["in-stock"] * 71


@pytest.mark.parametrize("text", ["70,30", "a,b,c", "-1,50,51", "0,0,0"])
def test_a_mix_that_is_not_three_shares_is_refused_by_name(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="in-stock,out-of-stock,declined"):
        Mix.parse(text)


def test_orders_ask_for_what_is_sellable_too_much_of_the_emptiest_or_as_a_blocked_customer() -> None:
    shelf = Shelf.of(PRODUCTS)

    assert shelf.in_stock == ("tea", "scale") and shelf.units == 41
    assert shelf.order("in-stock", 1, "r1") == {"customer_id": "load-r1", "items": [{"sku": "scale", "quantity": 1}]}
    assert shelf.order("out-of-stock", 1, "r1")["items"] == [{"sku": "kettle", "quantity": 1}]
    assert shelf.order("declined", 0, "r1")["customer_id"].startswith("blocked-")


def test_an_empty_shop_stops_the_run_with_how_to_restock() -> None:
    with pytest.raises(SystemExit, match="restock"):
        Shelf.of([{"sku": "tea", "available": 0, "price_cents": 1200}])


def test_the_summary_counts_each_end_once_and_only_for_the_runs_orders() -> None:
    tally = Tally()
    for n, order_id in enumerate(["o-1", "o-2", "o-3", "o-4"]):
        tally.accepted(order_id, due_ns=n * 1_000_000)
    tally.refused[422] += 1
    events = [
        ({"type": "shipment.scheduled", "order_id": "o-1"}, 11_000_000),
        ({"type": "shipment.scheduled", "order_id": "o-1"}, 99_000_000),  # heard twice
        ({"type": "order.cancelled", "order_id": "o-2", "reason": "out_of_stock"}, 21_000_000),
        ({"type": "order.cancelled", "order_id": "o-3", "reason": "payment_declined"}, 32_000_000),
        ({"type": "order.confirmed", "order_id": "o-4"}, 40_000_000),  # not an end
        ({"type": "shipment.scheduled", "order_id": "someone-elses"}, 41_000_000),
    ]

    ended = [tally.heard(event, ns) for event, ns in events]

    assert ended == [True, False, True, True, False, False]
    summary = tally.summary(drain_seconds=60)
    assert "accepted            4 of 5" in summary
    assert "completed           1   shipped" in summary
    assert "cancelled           2   out_of_stock 1, payment_declined 1" in summary
    assert "not finished        1" in summary
    assert "refused             1   HTTP 422 1" in summary
    assert "p50 20 ms, p99 30 ms (of 3 ended orders" in summary


def test_the_summary_shows_redis_memory_the_longest_stream_and_the_furthest_behind_subscriber() -> None:
    streams = Streams(
        used_memory=5 * 2**20, lengths={"orders": 1_200, "payments": 600},
        backlogs={"inventory on orders": 3, "shipping on payments": 40}, retention=100,
    )

    summary = streams.summary()

    assert "redis             5.0 MB used" in summary
    assert "streams         1,200   entries in the longest (orders); each keeps 100" in summary
    assert "backlog            40   events the furthest-behind subscriber has yet to handle (shipping on payments)" in summary
    assert "ALARM" not in summary


def test_a_subscriber_past_half_of_what_a_stream_keeps_raises_the_alarm() -> None:
    streams = Streams(used_memory=0, lengths={"payments": 100}, backlogs={"shipping on payments": 51}, retention=100)

    assert "ALARM         shipping on payments is past half of the 100 events a stream keeps" in streams.summary()


def test_arguments_that_make_no_run_are_refused() -> None:
    with pytest.raises(SystemExit):
        arguments(["--orders", "0"])
    assert arguments(["--orders", "5", "--rate", "2", "--mix", "1,0,0"]).mix == Mix((1, 0, 0))
