"""The order saga through real sidecars and a real broker."""

from uuid import uuid4

import requests

from contracts.names import Topic
from orders.decisions import rebuild
from orders.model import Fact
from tests.integration.flows import (
    AS_OPERATOR,
    TIMEOUT,
    TO_SIDECAR,
    dead_letters,
    get,
    place_order,
    publish,
    settled,
    stock,
)
from tests.support.histories import is_shipped_history
from tests.support.system import System
from tests.support.waiting import wait_until


def test_an_order_in_stock_is_reserved_paid_and_shipped(system: System) -> None:
    before = stock(system, "tea-sencha")
    customer_id = f"c-{uuid4().hex[:8]}"

    order_id = place_order(system, ("tea-sencha", 3), customer_id=customer_id)

    shipped = settled(system, order_id)
    assert (shipped["status"], shipped["amount_cents"]) == ("shipped", 3 * before["price_cents"])
    assert shipped["shipment_id"]
    # Shipped stock has left the shop: no longer held, and not available again.
    wait_until(lambda: stock(system, "tea-sencha")["reserved"] == before["reserved"], TIMEOUT)
    assert stock(system, "tea-sencha")["available"] == before["available"] - 3
    payment = get(f"{system['payments'].url}/payments/{order_id}")
    # Unless the shipment overtook the payment, which then came late and was not recorded.
    assert shipped["payment_id"] in (payment["succeeded"]["payment_id"], None)
    # The Node.js notifications app heard every fact about the order, in its customer's feed.
    feed = f"{system['notifications'].url}/customers/{customer_id}/notifications"
    feed_types = lambda: [n["type"] for n in get(feed)["notifications"]]
    wait_until(lambda: {"order.placed", "payment.succeeded", "shipment.scheduled"} <= set(feed_types()), TIMEOUT)


def test_an_order_beyond_the_stock_is_cancelled_out_of_stock(system: System) -> None:
    before = stock(system, "kettle-gooseneck")

    order_id = place_order(system, ("tea-earl-grey", 1), ("kettle-gooseneck", before["available"] + 1))

    cancelled = settled(system, order_id)
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "out_of_stock")
    assert stock(system, "kettle-gooseneck") == before


def test_a_declined_payment_cancels_the_order_and_releases_its_stock(system: System) -> None:
    before = stock(system, "mug-stoneware")

    order_id = place_order(system, ("mug-stoneware", 2), customer_id=f"blocked-{uuid4().hex[:8]}")

    cancelled = settled(system, order_id)
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "payment_declined")
    wait_until(lambda: system.broker.about(order_id, Topic.INVENTORY)[-1]["type"] == "stock.released", TIMEOUT)
    assert stock(system, "mug-stoneware") == before


def test_an_order_over_the_gateway_limit_is_declined(system: System) -> None:
    order_id = place_order(system, ("espresso-machine", 1))
    assert settled(system, order_id)["reason"] == "payment_declined"


def test_the_history_of_an_order_rebuilds_its_view(system: System) -> None:
    order_id = place_order(system, ("tea-sencha", 1))
    view = settled(system, order_id)

    history = get(f"{system['orders'].url}/orders/{order_id}/events")

    assert is_shipped_history([fact["type"] for fact in history]), history
    assert rebuild(tuple(Fact.model_validate(fact) for fact in history)).model_dump(mode="json") == view


def test_a_repeated_idempotency_key_places_one_order(system: System) -> None:
    key = uuid4().hex
    first = place_order(system, ("mug-stoneware", 1), **{"Idempotency-Key": key})
    assert place_order(system, ("mug-stoneware", 1), **{"Idempotency-Key": key}) == first
    settled(system, first)
    # Each fact once, by its id; the second command may publish order.placed again with
    # the same id (its relay), which every consumer takes as the duplicate it is.
    announced = lambda: {(e["type"], e["id"]) for e in system.broker.about(first, Topic.ORDERS)}
    wait_until(lambda: announced() == {("order.placed", f"{first}/order.placed"),
                                       ("order.confirmed", f"{first}/order.confirmed")}, TIMEOUT)


def test_an_event_published_twice_with_one_id_has_one_effect(system: System) -> None:
    order_id = place_order(system, ("tea-earl-grey", 2))
    settled(system, order_id)
    # Inventory turns the hold into a sale when it hears shipment.scheduled, as orders does.
    shipped = system.broker.last_entry_id(Topic.SHIPPING)
    wait_until(lambda: system.broker.consumed(Topic.SHIPPING, "inventory", up_to=shipped), TIMEOUT)
    before = stock(system, "tea-earl-grey")
    # Published once, or again under its id by a relay.
    placed, *again = [e for e in system.broker.about(order_id, Topic.ORDERS) if e["type"] == "order.placed"]
    assert all(e["id"] == placed["id"] for e in again)

    # The very same CloudEvent again, as a redelivery would bring it.
    publish(system, Topic.ORDERS, placed["data"], placed["type"], placed["id"])
    published = system.broker.last_entry_id(Topic.ORDERS)

    wait_until(lambda: system.broker.consumed(Topic.ORDERS, "inventory", up_to=published), TIMEOUT)
    assert stock(system, "tea-earl-grey") == before
    assert [e["type"] for e in system.broker.about(order_id, Topic.INVENTORY)] == ["stock.reserved"]
    assert [e["type"] for e in system.broker.about(order_id, Topic.PAYMENTS)] == ["payment.succeeded"]


def test_poison_is_dead_lettered_kept_and_replayed_after_a_fix_while_traffic_flows(system: System) -> None:
    poison_id, order_id = f"poison-{uuid4().hex}", uuid4().hex
    broken = {"order_id": order_id, "customer_id": "c-1", "items": [{"sku": "tea-sencha", "quantity": "2"}]}

    publish(system, Topic.ORDERS, broken, "order.placed", poison_id)
    other = place_order(system, ("tea-sencha", 1))

    letter = wait_until(lambda: [d for d in dead_letters(system) if d["id"] == poison_id], TIMEOUT)[0]
    assert (letter["topic"], letter["type"], letter["message"]["data"]) == ("orders", "order.placed", broken)
    assert system.broker.about(order_id, Topic.INVENTORY) == []
    assert settled(system, other)["status"] == "shipped"  # valid traffic kept flowing

    # The fix: the operator corrects the data and replays it to where it came from.
    fixed = {**broken, "items": [{"sku": "tea-sencha", "quantity": 2}]}
    response = requests.post(
        f"{system['storefront'].url}/deadletters/{poison_id}/replay",
        json={"data": fixed}, headers=AS_OPERATOR, timeout=TIMEOUT,
    )
    assert (response.status_code, response.json()["replays"]) == (202, 1)
    wait_until(lambda: [e["type"] for e in system.broker.about(order_id, Topic.INVENTORY)] == ["stock.reserved"], TIMEOUT)


def test_events_of_unknown_type_or_no_cloudevent_at_all_are_dead_lettered(system: System) -> None:
    stray_id = f"poison-{uuid4().hex}"
    publish(system, Topic.ORDERS, {"order_id": "o-1"}, "coupon.redeemed", stray_id)
    response = requests.post(
        f"{system['orders'].dapr_url}/v1.0/publish/pubsub/{Topic.ORDERS}?metadata.rawPayload=true",
        data=b"\x00not json at all", headers=TO_SIDECAR, timeout=TIMEOUT,
    )
    assert response.status_code == 204, response.text

    wait_until(lambda: any(d["id"] == stray_id for d in dead_letters(system)), TIMEOUT)
    wait_until(lambda: any(d["message"] == "\x00not json at all" for d in dead_letters(system)), TIMEOUT)


def test_only_the_sidecar_may_call_an_app_and_only_the_app_its_sidecar(system: System) -> None:
    for app_id in ("orders", "inventory", "payments"):
        assert requests.get(f"{system[app_id].url}/openapi.json", timeout=TIMEOUT).status_code == 401, app_id
    assert requests.post(f"{system['storefront'].url}/events/saga/orders", json={}, timeout=TIMEOUT).status_code == 401
    refused = requests.post(f"{system['orders'].dapr_url}/v1.0/invoke/orders/method/orders", json={}, timeout=TIMEOUT)
    assert refused.status_code == 401
