"""GET /metrics of the Python apps: what each delivery adds, and who may read it."""

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from common.state import Versioned
from contracts.events import StockRejected
from orders.app import create_app as create_orders
from orders.service import OrdersService
from orders.settings import Settings as OrdersSettings
from orders.store import OrderStore
from payments.app import create_app as create_payments
from payments.gateway import Gateway
from payments.service import PaymentsService
from payments.settings import Settings as PaymentsSettings
from payments.store import PaymentStore
from storefront.app import create_app as create_storefront
from storefront.service import StorefrontService
from storefront.settings import Settings as StorefrontSettings
from storefront.store import DeadLetterStore
from tests.unit.events import an_order, delivered, reserved
from tests.unit.fakes import InMemoryState

TOKEN = "a-token-of-at-least-sixteen-characters"


def sample(client: TestClient, name: str, **labels: str) -> float:
    """The value of one series of the app's /metrics (0 when it has none yet)."""
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


def payments(transient_failure_percent: int = 0) -> TestClient:
    state = InMemoryState()
    gateway = Gateway(state, 50_000, transient_failure_percent)
    return TestClient(create_payments(PaymentsSettings(), PaymentsService(PaymentStore(state), gateway)))


def test_a_failed_delivery_and_its_redelivery_are_counted_and_timed() -> None:
    event = delivered(reserved(an_order(("tea", 1))))
    with payments(transient_failure_percent=100) as client:  # every order fails once
        answers = [client.post("/events/stock-reserved", json=event).json()["status"] for _ in range(2)]

        assert answers == ["RETRY", "SUCCESS"]
        assert sample(client, "eda_events_handled_total", type="stock.reserved", outcome="retry") == 1
        assert sample(client, "eda_events_handled_total", type="stock.reserved", outcome="success") == 1
        assert sample(client, "eda_events_failed_total", type="stock.reserved") == 1
        assert sample(client, "eda_events_retried_total", type="stock.reserved") == 1
        assert sample(client, "eda_event_handler_seconds_count", type="stock.reserved") == 2
        assert sample(client, "eda_event_handler_seconds_sum", type="stock.reserved") > 0


def test_a_delivery_that_succeeds_first_time_is_no_retry() -> None:
    with payments() as client:
        client.post("/events/stock-reserved", json=delivered(reserved(an_order(("tea", 1)))))

        assert sample(client, "eda_events_handled_total", type="stock.reserved", outcome="success") == 1
        assert sample(client, "eda_events_failed_total", type="stock.reserved") == 0
        assert sample(client, "eda_events_retried_total", type="stock.reserved") == 0


def test_poison_is_counted_as_dead_lettered_under_its_type_or_as_unknown() -> None:
    with payments() as client:
        client.post("/events/stock-reserved", json=delivered(reserved(an_order(("tea", 1))), data={"not": "it"}))
        client.post("/events/unrouted", json=delivered(an_order(("tea", 1)), type="made.up.by-anyone"))
        client.post("/events/unrouted", json=delivered(an_order(("tea", 1))))

        assert sample(client, "eda_events_dead_lettered_total", type="stock.reserved") == 1
        assert sample(client, "eda_events_dead_lettered_total", type="unknown") == 1
        assert sample(client, "eda_events_handled_total", type="order.placed", outcome="success") == 1
        assert "made.up.by-anyone" not in client.get("/metrics").text


class UnreachableState(InMemoryState):
    async def read(self, key: str) -> Versioned[bytes] | None:
        raise ConnectionError("the sidecar is gone")

    read_with_pending = read


def test_a_handler_that_raises_is_counted_as_an_error_and_a_failure() -> None:
    service = OrdersService(OrderStore(UnreachableState()))
    event = delivered(StockRejected(order_id="o-1", customer_id="c-1", reason="out_of_stock", skus=("tea",)))
    with TestClient(create_orders(OrdersSettings(), service), raise_server_exceptions=False) as client:
        assert client.post("/events/stock-rejected", json=event).status_code == 500

        assert sample(client, "eda_events_handled_total", type="stock.rejected", outcome="error") == 1
        assert sample(client, "eda_events_failed_total", type="stock.rejected") == 1


def storefront(settings: StorefrontSettings) -> TestClient:
    service = StorefrontService(DeadLetterStore(InMemoryState()), None)  # type: ignore[arg-type]
    return TestClient(create_storefront(settings, service))


def test_metrics_need_the_app_api_token_even_on_the_storefront() -> None:
    with storefront(StorefrontSettings(app_api_token=SecretStr(TOKEN))) as client:
        assert client.get("/").status_code == 200  # the page stays open to browsers
        assert client.get("/metrics").status_code == 401
        answer = client.get("/metrics", headers={"dapr-api-token": TOKEN})

        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain")
        assert "process_resident_memory_bytes" in answer.text


def test_the_storefront_counts_the_saga_events_it_hears() -> None:
    with storefront(StorefrontSettings()) as client:
        client.post("/events/saga/orders", json=delivered(an_order(("tea", 1))))

        assert sample(client, "eda_events_handled_total", type="order.placed", outcome="success") == 1
