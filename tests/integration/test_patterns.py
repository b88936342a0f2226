"""The patterns the system exists to teach, each proved against real sidecars and Redis:
fault isolation, scale-out, peak shaving, durable messages and retries."""

from concurrent.futures import ThreadPoolExecutor

from contracts.names import EventType, Topic
from payments.decisions import fails_transiently
from tests.integration.flows import SETTLED, TIMEOUT, order, place_order, placed, settled, stock
from tests.support.sidecars import AppWithSidecar, Ports
from tests.support.system import TRANSIENT_FAILURE_PERCENT, System
from tests.support.waiting import wait_until

DRAIN_TIMEOUT = 60


def test_with_payments_down_orders_are_still_accepted_and_finish_when_it_returns(system: System) -> None:
    payments = system["payments"]
    payments.stop()
    try:
        order_ids = [place_order(system, ("tea-sencha", 1)) for _ in range(3)]
        for order_id in order_ids:
            wait_until(lambda order_id=order_id: (o := placed(system, order_id)) and o["status"] == "reserved", TIMEOUT)
    finally:
        payments.start()
        payments.wait_ready()

    assert [settled(system, order_id, DRAIN_TIMEOUT)["status"] for order_id in order_ids] == ["shipped"] * 3


def test_two_inventory_replicas_share_one_topic_and_handle_each_order_once(system: System) -> None:
    replica = AppWithSidecar(
        "inventory", Ports(app=8112, dapr_http=3612, dapr_grpc=4612, metrics=9202),
        system.redis_port, system.log_dir, name="inventory-2",
    )
    system.extra.append(replica)
    try:
        replica.wait_ready()
        before = stock(system, "tea-sencha")

        order_ids = [place_order(system, ("tea-sencha", 1)) for _ in range(20)]
        outcomes = [settled(system, order_id, DRAIN_TIMEOUT)["status"] for order_id in order_ids]

        after = stock(system, "tea-sencha")
        assert before["available"] - after["available"] == outcomes.count("shipped") == len(order_ids)
        for each in (system["inventory"], replica):
            assert each.metric("dapr_component_pubsub_ingress_count", topic=Topic.ORDERS) > 0, each.name
    finally:
        replica.stop()
        system.extra.remove(replica)


def test_a_burst_of_2000_orders_is_accepted_at_once_and_drained_with_none_lost(system: System) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        order_ids = set(pool.map(lambda _: place_order(system, ("tea-earl-grey", 1)), range(2000)))
    assert len(order_ids) == 2000

    def announced_outcomes() -> set[str]:
        final = {EventType.ORDER_CONFIRMED, EventType.ORDER_CANCELLED}
        return {e["data"]["order_id"] for e in system.broker.events(Topic.ORDERS) if e.get("type") in final}

    wait_until(lambda: order_ids <= announced_outcomes(), timeout=600, every=1)
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda order_id: order(system, order_id)["status"], order_ids))
    assert set(statuses) <= SETTLED


def test_orders_in_flight_survive_a_redis_restart(system: System) -> None:
    order_ids = [place_order(system, ("mug-stoneware", 1)) for _ in range(3)]

    system.restart_redis()  # at once, while their events travel between the apps

    assert {settled(system, order_id, DRAIN_TIMEOUT)["status"] for order_id in order_ids} == {"shipped"}


def test_transient_gateway_failures_recover_through_retries_without_a_second_charge(system: System) -> None:
    order_ids: list[str] = []
    while sum(fails_transiently(o, 1, TRANSIENT_FAILURE_PERCENT) for o in order_ids) < 2 and len(order_ids) < 40:
        order_ids.append(place_order(system, ("tea-sencha", 1)))
    retried = [o for o in order_ids if fails_transiently(o, 1, TRANSIENT_FAILURE_PERCENT)]
    assert len(retried) >= 2

    for order_id in order_ids:
        assert settled(system, order_id, DRAIN_TIMEOUT)["status"] == "shipped"
    for order_id in retried:
        ledger = system.broker.state("payments", f"gateway-ledger/{order_id}")
        payments = [e["type"] for e in system.broker.about(order_id, Topic.PAYMENTS)]
        assert ledger is not None and ledger["order_id"] == order_id
        assert payments == ["payment.succeeded"]


def test_fifty_concurrent_orders_for_five_units_never_oversell(system: System) -> None:
    before = stock(system, "kettle-gooseneck")
    assert before["available"] == 5  # tests/support/catalogue.json: a SKU that is short

    with ThreadPoolExecutor(max_workers=50) as pool:
        order_ids = list(pool.map(lambda _: place_order(system, ("kettle-gooseneck", 1)), range(50)))
    outcomes = [settled(system, order_id, DRAIN_TIMEOUT) for order_id in order_ids]

    shipped = [o for o in outcomes if o["status"] == "shipped"]
    refused = [o for o in outcomes if (o["status"], o["reason"]) == ("cancelled", "out_of_stock")]
    assert (len(shipped), len(refused)) == (5, 45)
    wait_until(lambda: stock(system, "kettle-gooseneck") == {**before, "available": 0, "reserved": 0}, TIMEOUT)
