"""Hostile input against the running system: requests generated from every app's OpenAPI
document, with and without the app token; a corpus of malformed deliveries published to
the real broker; bodies over the limits. No 5xx, no crash, nothing retried forever, and
valid traffic keeps flowing."""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from contracts.names import PUBSUB, Topic
from tests.integration.flows import TIMEOUT, TO_APP, TO_SIDECAR, dead_letters, place_order, settled
from tests.support.system import APP_IDS, System, running_apart
from tests.support.waiting import wait_until

# Per operation, per generation mode (valid and invalid requests): each example is sent
# twice, with the app token and without it.
EXAMPLES = 100
# Never generated: the server-sent event streams that stay open by design.
STREAMS = {("storefront", "GET /api/saga"), ("storefront", "GET /api/orders/live")}
OVER_THE_APPS = 3 * 1024 * 1024  # over every app's 2 MiB and every sidecar's 1 MiB
UNDER_THE_SIDECARS = 900 * 1024
DRAIN_TIMEOUT = 90  # a delivery that fails is retried with back-off for up to ~30 s


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """This module's own system: thousands of junk requests leave nothing for the others."""
    with running_apart(tmp_path_factory) as system:
        yield system


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    let_in_without_token: list[str] = field(default_factory=list)

    def row(self, app_id: str) -> str:
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        return (f"| {app_id} | {self.requests} | {by_class['2xx']} | {by_class['4xx']} | "
                f"{by_class['5xx']} | {', '.join(f'{s}×{n}' for s, n in sorted(self.statuses.items()))} |")


def public(app_id: str, path: str) -> bool:
    """Answered without the token: the health check, and all of the storefront but its
    event deliveries and metrics (its page and API are the shop's front door)."""
    if app_id == "storefront":
        return not path.startswith("/events/") and path != "/metrics"
    return path == "/healthz"


def generated_requests(system: System, app_id: str) -> Tally:
    """Every operation of the app's own OpenAPI document, fed with generated requests."""
    app = system[app_id]
    spec = requests.get(f"{app.url}/openapi.json", headers=TO_APP, timeout=TIMEOUT).json()
    tally = Tally()
    session = requests.Session()
    for result in schemathesis.openapi.from_dict(spec).get_all_operations():
        operation = result.ok()
        if (app_id, operation.label) in STREAMS:
            continue
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def send(case: Any) -> None:
                for token in (TO_APP, {}):
                    answer = case.call(base_url=app.url, session=session, headers=token, timeout=TIMEOUT)
                    tally.requests += 1
                    tally.statuses[answer.status_code] += 1
                    where = f"{case.method} {case.formatted_path} ({'with' if token else 'without'} token)"
                    if answer.status_code >= 500:
                        tally.server_errors.append(f"{where}: {answer.status_code} {answer.text[:200]}")
                    if not token and not public(app_id, case.formatted_path) and answer.status_code != 401:
                        tally.let_in_without_token.append(f"{where}: {answer.status_code}")

            try:
                send()
            except Unsatisfiable:
                # An operation that takes no input has no invalid request to make.
                assert mode is GenerationMode.NEGATIVE, operation.label
    return tally


def test_requests_generated_from_every_apps_openapi_get_no_server_error(
    system: System, capsys: pytest.CaptureFixture[str]
) -> None:
    tallies = {app_id: generated_requests(system, app_id) for app_id in APP_IDS}
    system.check_alive()

    table = ["| app | requests | 2xx | 4xx | 5xx | statuses |", "|---|---|---|---|---|---|"]
    table += [tally.row(app_id) for app_id, tally in tallies.items()]
    total = sum(tally.requests for tally in tallies.values())
    with capsys.disabled():
        print("\n\nschemathesis, every app's OpenAPI, with and without the token:\n" + "\n".join(table)
              + f"\n{total} requests in all\n")
    assert total >= 2000
    assert {app_id: t.server_errors for app_id, t in tallies.items() if t.server_errors} == {}
    assert {app_id: t.let_in_without_token for app_id, t in tallies.items() if t.let_in_without_token} == {}
    # Valid requests did reach past validation: the token let them in.
    assert all(tally.statuses[200] + tally.statuses[202] > 0 for tally in tallies.values())


# The malformed deliveries: one line each. The topic's owner publishes it, through its
# sidecar (or, for one, an app that may not); `how` is "raw" (bytes as they are, no CloudEvent around them), "envelope" (the
# body is the CloudEvent itself) or "data" (the sidecar wraps the body, with `type`).
# `outcome` is "dead-lettered" (a subscriber drops it; the storefront keeps it), or the
# status and the words the sidecar refuses it with at once. (Dapr 1.18 answers a publish
# over its body limit with 500 "stream too large", not 413.)
@dataclass(frozen=True)
class Poison:
    name: str
    topic: Topic
    how: str
    body: Any  # a str is sent as text, bytes as JSON as they are, anything else as JSON;
    # "{id}" in it becomes the case's own id
    event_type: str = "order.placed"
    outcome: str | tuple[int, str] = "dead-lettered"
    publisher: str | None = None  # the app whose sidecar publishes it, if not the topic's owner


NESTED = b'{"order_id": "{id}", "items": ' + b"[" * 5000 + b"]" * 5000 + b"}"  # too deep for json.dumps
CORPUS = [
    Poison("not JSON", Topic.ORDERS, "raw", "{id} is not JSON {"),
    Poison("JSON but not an object", Topic.ORDERS, "raw", ["{id}", 1, None]),
    Poison("bytes that are not UTF-8", Topic.PAYMENTS, "raw", "{id}\udcff\udcfe"),
    Poison("a CloudEvent without specversion", Topic.ORDERS, "envelope",
           {"id": "{id}", "source": "hostile", "type": "order.placed", "data": {}}),
    Poison("a CloudEvent whose type is a number", Topic.ORDERS, "envelope",
           {"id": "{id}", "source": "hostile", "specversion": "1.0", "type": 42, "data": {}}),
    Poison("a CloudEvent whose id is an object", Topic.INVENTORY, "envelope",
           {"id": {"x": "{id}"}, "source": "hostile", "specversion": "1.0", "type": "stock.reserved"}),
    Poison("an unknown event type", Topic.ORDERS, "data", {"order_id": "{id}"}, "coupon.redeemed"),
    Poison("an unknown type on the payments topic", Topic.PAYMENTS, "data", {"order_id": "{id}"}, "refund.issued"),
    Poison("data of the wrong types", Topic.ORDERS, "data", {"order_id": "{id}", "customer_id": 7, "items": "many"}),
    Poison("a quantity as a string", Topic.ORDERS, "data",
           {"order_id": "{id}", "customer_id": "c", "items": [{"sku": "tea-sencha", "quantity": "2"}]}),
    Poison("missing fields", Topic.INVENTORY, "data", {"order_id": "{id}"}, "stock.reserved"),
    Poison("a negative amount", Topic.INVENTORY, "data",
           {"order_id": "{id}", "customer_id": "c", "amount_cents": -1,
            "items": [{"sku": "tea-sencha", "quantity": 1}]}, "stock.reserved"),
    Poison("a paid order without items", Topic.PAYMENTS, "data",
           {"order_id": "{id}", "customer_id": "c", "payment_id": "p", "amount_cents": 1, "items": []},
           "payment.succeeded"),
    Poison("a shipment that is a list", Topic.SHIPPING, "data", ["{id}"], "shipment.scheduled"),
    Poison("data that is text", Topic.ORDERS, "data", "{id}: three teas, please"),
    Poison("data nested 5000 deep", Topic.ORDERS, "data", NESTED),
    Poison("a body just under the sidecar's limit", Topic.ORDERS, "data",
           {"order_id": "{id}", "customer_id": "c", "items": [], "padding": "x" * UNDER_THE_SIDECARS}),
    Poison("a body over every limit", Topic.ORDERS, "data", {"order_id": "{id}", "padding": "x" * OVER_THE_APPS},
           outcome=(500, "stream too large")),
    Poison("an order placed by an app whose scope has no orders topic", Topic.ORDERS, "data",
           {"order_id": "{id}", "customer_id": "c", "items": [{"sku": "tea-sencha", "quantity": 1}]},
           outcome=(403, "ERR_PUBSUB_FORBIDDEN"), publisher="payments"),
]


def with_id(body: Any, poison_id: str) -> Any:
    if isinstance(body, bytes):
        return body.replace(b"{id}", poison_id.encode())
    if isinstance(body, str):
        return body.replace("{id}", poison_id)
    if isinstance(body, list):
        return [with_id(item, poison_id) for item in body]
    if isinstance(body, dict):
        return {key: with_id(value, poison_id) for key, value in body.items()}
    return body


def publish(system: System, poison: Poison, poison_id: str) -> requests.Response:
    body = with_id(poison.body, poison_id)
    if isinstance(body, str):
        payload, content_type = body.encode(errors="surrogateescape"), "text/plain"
    else:
        payload, content_type = body if isinstance(body, bytes) else json.dumps(body).encode(), "application/json"
    params: dict[str, str] = {}
    if poison.how == "raw":
        params["metadata.rawPayload"] = "true"
    elif poison.how == "envelope":
        content_type = "application/cloudevents+json"
    else:
        params |= {"metadata.cloudevent.type": poison.event_type, "metadata.cloudevent.id": poison_id}
    return requests.post(
        f"{system[poison.publisher or poison.topic].dapr_url}/v1.0/publish/{PUBSUB}/{poison.topic}",
        data=payload, params=params, headers={**TO_SIDECAR, "content-type": content_type}, timeout=TIMEOUT,
    )


def not_kept(system: System, published: dict[str, str]) -> list[str]:
    """The cases whose id no dead letter holds yet."""
    letters = json.dumps(dead_letters(system))
    return [name for name, poison_id in published.items() if poison_id not in letters]


def test_malformed_deliveries_are_dead_lettered_or_refused_and_valid_traffic_flows(system: System) -> None:
    published = {}
    for poison in CORPUS:
        poison_id = f"poison-{uuid4().hex[:12]}"
        answer = publish(system, poison, poison_id)
        if poison.outcome == "dead-lettered":
            assert answer.status_code == 204, f"{poison.name}: {answer.status_code} {answer.text}"
            published[poison.name] = poison_id
        else:
            status, words = poison.outcome
            assert answer.status_code == status and words in answer.text, f"{poison.name}: {answer.text}"

    try:
        wait_until(lambda: not not_kept(system, published), DRAIN_TIMEOUT, every=0.5)
    except AssertionError:
        pytest.fail(f"not dead-lettered: {not_kept(system, published)}")
    # Nothing retried forever: every subscriber has taken and acknowledged all it was sent.
    for topic in Topic:
        last = system.broker.last_entry_id(topic)
        for group in system.broker.groups(topic):
            wait_until(lambda t=topic, g=group, last=last: system.broker.consumed(t, g, last), DRAIN_TIMEOUT,
                       every=0.5)
    system.check_alive()

    order_id = place_order(system, ("tea-sencha", 1))
    assert settled(system, order_id, DRAIN_TIMEOUT)["status"] == "shipped"


@pytest.mark.parametrize("app_id", APP_IDS)
def test_a_body_over_the_limits_gets_413_from_the_app_and_is_refused_by_its_sidecar(
    system: System, app_id: str
) -> None:
    app = system[app_id]
    path = {"notifications": "/events", "storefront": "/events/dead-letter"}.get(app_id, "/events/unrouted")
    huge = b"x" * OVER_THE_APPS

    direct = requests.post(f"{app.url}{path}", data=huge, headers=TO_APP, timeout=TIMEOUT)
    invoked = requests.post(f"{app.dapr_url}/v1.0/invoke/{app_id}/method{path}", data=huge,
                            headers=TO_SIDECAR, timeout=TIMEOUT)

    assert direct.status_code == 413
    # The sidecar streams the body on to the app and stops at its own limit: it passes on
    # the app's 413 when that comes first, or answers 500 "stream too large" (Dapr 1.18).
    assert invoked.status_code == 413 or (invoked.status_code, "stream too large" in invoked.text) == (500, True)
