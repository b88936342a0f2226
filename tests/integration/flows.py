"""What the integration tests do to the system: place orders, read what came of them."""

from typing import Any
from uuid import uuid4

import requests

from contracts.names import PUBSUB, Topic
from tests.integration.conftest import System
from tests.support.waiting import wait_until

TIMEOUT = 10
SETTLED = {"shipped", "cancelled"}


def place_order(system: System, *lines: tuple[str, int], customer_id: str | None = None, **headers: str) -> str:
    """POST /orders through the orders sidecar's service invocation API."""
    body = {
        "customer_id": customer_id or f"c-{uuid4().hex[:8]}",
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
    }
    response = requests.post(
        f"{system['orders'].dapr_url}/v1.0/invoke/orders/method/orders", json=body, headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == 202, response.text
    return response.json()["order_id"]


def get(url: str) -> Any:
    response = requests.get(url, timeout=TIMEOUT)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
    return response.json()


def order(system: System, order_id: str) -> dict[str, Any]:
    return get(f"{system['orders'].url}/orders/{order_id}")


def stock(system: System, sku: str) -> dict[str, Any]:
    return get(f"{system['inventory'].url}/stock/{sku}")


def settled(system: System, order_id: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The order once the saga is done with it (shipped or cancelled)."""
    return wait_until(lambda: (o := order(system, order_id))["status"] in SETTLED and o, timeout)


def publish(system: System, topic: Topic, data: Any, event_type: str, event_id: str) -> None:
    """Publish as an app would, through a sidecar's HTTP API."""
    response = requests.post(
        f"{system['orders'].dapr_url}/v1.0/publish/{PUBSUB}/{topic}",
        json=data,
        params={"metadata.cloudevent.type": event_type, "metadata.cloudevent.id": event_id},
        timeout=TIMEOUT,
    )
    assert response.status_code == 204, response.text


def dead_letters(system: System) -> list[dict[str, Any]]:
    return get(f"{system['storefront'].url}/deadletters")
