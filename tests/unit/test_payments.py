from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from contracts.events import PaymentFailed, PaymentSucceeded
from payments import decisions
from payments.app import create_app
from payments.gateway import Gateway
from payments.service import PaymentsService
from payments.settings import Settings
from payments.store import PaymentStore
from tests.unit.events import an_order, delivered, reserved
from tests.unit.fakes import InMemoryState

LIMIT = 50_000


def test_the_gateway_declines_blocked_customers_and_charges_over_the_limit() -> None:
    assert decisions.decline_reason("c-1", LIMIT, LIMIT) is None
    assert decisions.decline_reason("c-1", LIMIT + 1, LIMIT) is not None
    assert decisions.decline_reason("blocked-7", 100, LIMIT) is not None


def test_transient_failures_hit_the_configured_share_of_orders_once() -> None:
    orders = [f"o-{n}" for n in range(1000)]
    failing = [o for o in orders if decisions.fails_transiently(o, attempt=1, percent=30)]
    assert 250 < len(failing) < 350
    assert not any(decisions.fails_transiently(o, attempt=2, percent=30) for o in orders)
    assert not any(decisions.fails_transiently(o, attempt=1, percent=0) for o in orders)


def client_for(state: InMemoryState, transient_failure_percent: int = 0) -> TestClient:
    gateway = Gateway(state, LIMIT, transient_failure_percent)
    return TestClient(create_app(Settings(), PaymentsService(PaymentStore(state), gateway)))


@pytest.fixture
def state() -> InMemoryState:
    return InMemoryState()


@pytest.fixture
def client(state: InMemoryState) -> Iterator[TestClient]:
    with client_for(state) as client:
        yield client


def charge(client: TestClient, event: dict) -> str:
    return client.post("/events/stock-reserved", json=event).json()["status"]


def test_a_reserved_order_is_charged_once_and_announced_once(client: TestClient, state: InMemoryState) -> None:
    order = an_order(("tea", 2))
    event = delivered(reserved(order, amount_cents=2400))

    assert [charge(client, event), charge(client, event)] == ["SUCCESS", "SUCCESS"]

    (succeeded,) = state.announced
    assert isinstance(succeeded, PaymentSucceeded)
    assert (succeeded.amount_cents, succeeded.items) == (2400, order.items)
    assert [key for key in state.items if key.startswith("gateway-ledger/")] == [f"gateway-ledger/{order.order_id}"]
    assert client.get(f"/payments/{order.order_id}").json()["succeeded"]["payment_id"] == succeeded.payment_id


def test_a_declined_charge_is_announced_as_failed(client: TestClient, state: InMemoryState) -> None:
    order = an_order(("tea", 1), customer_id="blocked-1")

    assert charge(client, delivered(reserved(order))) == "SUCCESS"

    (failed,) = state.announced
    assert isinstance(failed, PaymentFailed) and failed.reason == "payment_declined"


def test_a_transient_gateway_failure_asks_for_a_retry_that_succeeds(state: InMemoryState) -> None:
    order = an_order(("tea", 1))
    event = delivered(reserved(order))
    with client_for(state, transient_failure_percent=100) as client:
        assert charge(client, event) == "RETRY"
        assert state.announced == []
        assert charge(client, event) == "SUCCESS"
    assert [type(e) for e in state.announced] == [PaymentSucceeded]


def test_an_unknown_payment_is_404(client: TestClient) -> None:
    assert client.get("/payments/nope").status_code == 404
