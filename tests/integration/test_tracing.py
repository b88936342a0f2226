"""One order, one trace: placed with nothing but a POST, the order's whole saga is one
trace in Zipkin, with spans from all six apps, their sidecars' and their own; and the
log lines about the order carry that trace's id in every app.

A Zipkin of its own (port 9412) and sidecars configured to send their spans there
(tests/support/tracing.py); the apps get its address as `make run` gives them 9411's.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.names import FACT_TOPICS
from tests.integration.flows import place_order, settled
from tests.support.system import APP_IDS, System, running
from tests.support.tracing import ZIPKIN_PORT, Zipkin, dapr_config, running_zipkin
from tests.support.waiting import wait_until

# Every app and sidecar sends its spans in batches, some seconds apart.
SPANS_TIMEOUT = 30


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[System, Zipkin]]:
    work = tmp_path_factory.mktemp("tracing")
    with running_zipkin(ZIPKIN_PORT, work / "zipkin") as zipkin:
        config = dapr_config(work / "config.yaml", zipkin)
        env = {"OTEL_EXPORTER_ZIPKIN_ENDPOINT": zipkin.spans_url}
        logs, redis = tmp_path_factory.mktemp("logs"), tmp_path_factory.mktemp("redis")
        with running(logs, redis, config=config, env=env) as system:
            yield system, zipkin


@pytest.fixture
def system(traced: tuple[System, Zipkin]) -> Iterator[System]:
    traced[0].check_alive()
    yield traced[0]
    traced[0].check_alive()


@pytest.fixture
def zipkin(traced: tuple[System, Zipkin]) -> Zipkin:
    return traced[1]


# The events each app handles in a shipped order's saga: its own span around each.
HANDLED = {
    "orders": {"stock.reserved", "payment.succeeded", "shipment.scheduled"},
    "inventory": {"order.placed", "shipment.scheduled"},
    "payments": {"stock.reserved"},
    "shipping": {"payment.succeeded"},
    "notifications": {"order.placed", "stock.reserved", "payment.succeeded", "shipment.scheduled"},
}
# The instrumentation scope of the sidecars' spans; the apps' own have others, or none.
SIDECAR = "dapr-diagnostics"


def by_app(spans: list[dict[str, Any]]) -> dict[str, dict[str, set[str]]]:
    """Per app (Zipkin's service name), the names of its sidecar's spans and of its own."""
    seen: dict[str, dict[str, set[str]]] = {app: {"sidecar": set(), "own": set()} for app in APP_IDS}
    for span in spans:
        whose = "sidecar" if span.get("tags", {}).get("otel.scope.name") == SIDECAR else "own"
        app = span["localEndpoint"]["serviceName"]
        seen.setdefault(app, {"sidecar": set(), "own": set()})[whose].add(span["name"])
    return seen


def complete(seen: dict[str, dict[str, set[str]]]) -> bool:
    """Every app's sidecar and the app itself have reported, each handler of the saga too."""
    return all(seen[app_id]["sidecar"] and seen[app_id]["own"] for app_id in APP_IDS) and all(
        {f"handle {event_type}" for event_type in handled} <= seen[app_id]["own"]
        for app_id, handled in HANDLED.items()
    )


def test_an_order_is_one_trace_with_spans_from_all_six_apps(system: System, zipkin: Zipkin) -> None:
    order_id = place_order(system, ("tea-sencha", 1))
    assert settled(system, order_id)["status"] == "shipped"

    def traces_of_the_order() -> list[list[dict[str, Any]]] | None:
        # Found by the order id its apps' spans are tagged with; spans arrive in batches.
        found = zipkin.traces(annotationQuery=f"order_id={order_id}", limit=10)
        return found if complete(by_app([span for trace in found for span in trace])) else None

    traces = wait_until(traces_of_the_order, SPANS_TIMEOUT, every=1)

    assert len(traces) == 1, f"the order's spans are in {len(traces)} traces, not one"
    # The storefront's own spans: the deliveries it shows on the live saga, from every topic.
    assert by_app(traces[0])["storefront"]["own"] == {
        f"post /events/saga/{topic}" for topic in FACT_TOPICS
    }


def log_lines_about(system: System, order_id: str) -> dict[str, list[dict[str, Any]]]:
    """Per app, the JSON lines of its log about the order."""
    about: dict[str, list[dict[str, Any]]] = {}
    for app_id in APP_IDS:
        about[app_id] = []
        for line in system[app_id].app.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # uvicorn's own lines, and the like
            if isinstance(entry, dict) and entry.get("order_id") == order_id:
                about[app_id].append(entry)
    return about


def test_the_log_lines_of_an_order_carry_one_trace_id_in_every_app(system: System) -> None:
    order_id = place_order(system, ("tea-sencha", 1))
    assert settled(system, order_id)["status"] == "shipped"

    def to_the_end() -> dict[str, list[dict[str, Any]]] | None:
        # A line in every app, and one about the saga's last event in every app that hears it.
        found = log_lines_about(system, order_id)
        ended = all(
            any(line.get("event_type") == "shipment.scheduled" for line in found[app_id])
            for app_id in ("orders", "inventory", "notifications", "storefront")
        )
        return found if ended and all(found.values()) else None

    lines = wait_until(to_the_end, SPANS_TIMEOUT)

    trace_ids = {app_id: {line.get("trace_id") for line in about} for app_id, about in lines.items()}
    every_id = set().union(*trace_ids.values())
    assert len(every_id) == 1 and None not in every_id, trace_ids
