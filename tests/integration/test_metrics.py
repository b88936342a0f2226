"""Every app's GET /metrics on real sidecars: the counters move with the traffic."""

from uuid import uuid4

import requests
from prometheus_client.parser import text_string_to_metric_families

from contracts.names import Topic
from payments.decisions import fails_transiently
from tests.integration.flows import TIMEOUT, TO_APP, place_order, publish, settled
from tests.support.system import APP_IDS, TRANSIENT_FAILURE_PERCENT, System
from tests.support.waiting import wait_until

# What each app hears of an order that ships.
HEARS = {
    "storefront": "order.placed",
    "orders": "stock.reserved",
    "inventory": "order.placed",
    "payments": "stock.reserved",
    "shipping": "payment.succeeded",
    "notifications": "shipment.scheduled",
}
DRAIN_TIMEOUT = 30


def metric(system: System, app_id: str, name: str, **labels: str) -> float:
    """The sum of an app's series `name` over those that carry `labels`."""
    response = requests.get(f"{system[app_id].url}/metrics", headers=TO_APP, timeout=TIMEOUT)
    assert response.status_code == 200, f"{app_id}: {response.status_code} {response.text}"
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_metrics_are_only_for_the_sidecar(system: System) -> None:
    for app_id in APP_IDS:
        assert requests.get(f"{system[app_id].url}/metrics", timeout=TIMEOUT).status_code == 401, app_id


def test_every_app_counts_and_times_the_events_of_an_order(system: System) -> None:
    def handled() -> dict[str, float]:
        return {
            app_id: metric(system, app_id, "eda_events_handled_total", type=event_type, outcome="success")
            for app_id, event_type in HEARS.items()
        }

    timed = {app_id: metric(system, app_id, "eda_event_handler_seconds_count") for app_id in APP_IDS}
    before = handled()

    order_id = place_order(system, ("tea-sencha", 1))
    assert settled(system, order_id)["status"] == "shipped"

    wait_until(lambda: all(after > before[app] for app, after in handled().items()), TIMEOUT)
    for app_id in APP_IDS:
        assert metric(system, app_id, "eda_event_handler_seconds_count") > timed[app_id], app_id
        assert metric(system, app_id, "eda_event_handler_seconds_sum") > 0, app_id


def test_poison_is_counted_as_dead_lettered_by_those_who_drop_it(system: System) -> None:
    def dead_lettered() -> dict[str, float]:
        return {
            app_id: metric(system, app_id, "eda_events_dead_lettered_total", type="order.placed")
            for app_id in ("inventory", "notifications")
        }

    before = dead_lettered()

    publish(system, Topic.ORDERS, {"not": "an order"}, "order.placed", f"poison-{uuid4().hex}")

    wait_until(lambda: all(after == before[app] + 1 for app, after in dead_lettered().items()), TIMEOUT)


def test_a_transient_failure_is_counted_as_failed_then_retried(system: System) -> None:
    def payments(name: str) -> float:
        return metric(system, "payments", name, type="stock.reserved")

    failed, retried = payments("eda_events_failed_total"), payments("eda_events_retried_total")
    order_ids = [place_order(system, ("tea-sencha", 1))]
    while not fails_transiently(order_ids[-1], 1, TRANSIENT_FAILURE_PERCENT) and len(order_ids) < 40:
        order_ids.append(place_order(system, ("tea-sencha", 1)))
    assert fails_transiently(order_ids[-1], 1, TRANSIENT_FAILURE_PERCENT)

    for order_id in order_ids:
        assert settled(system, order_id, DRAIN_TIMEOUT)["status"] == "shipped"
    assert payments("eda_events_failed_total") >= failed + 1
    assert payments("eda_events_retried_total") >= retried + 1
