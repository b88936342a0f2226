"""What the integration tests do to the system: place orders, read what came of them."""

from typing import Any
from uuid import uuid4

import requests

from contracts.names import PUBSUB, Topic
from tests.support.system import APP_API_TOKEN, DAPR_API_TOKEN, OPERATOR_TOKEN, System
from tests.support.waiting import wait_until

TIMEOUT = 10
SETTLED = {"shipped", "cancelled"}
# What a caller must show: the sidecars want the Dapr API token; the apps want the app
# API token, which only their sidecars (and these tests) hold.
TO_SIDECAR = {"dapr-api-token": DAPR_API_TOKEN}
TO_APP = {"dapr-api-token": APP_API_TOKEN}
# What the storefront's operator console wants.
AS_OPERATOR = {"authorization": f"Bearer {OPERATOR_TOKEN}"}


def place_order(system: System, *lines: tuple[str, int], customer_id: str | None = None, **headers: str) -> str:
    """POST /orders through the orders sidecar's service invocation API."""
    body = {
        "customer_id": customer_id or f"c-{uuid4().hex[:8]}",
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
    }
    response = requests.post(
        f"{system['orders'].dapr_url}/v1.0/invoke/orders/method/orders",
        json=body, headers={**TO_SIDECAR, **headers}, timeout=TIMEOUT,
    )
    assert response.status_code == 202, response.text
    return response.json()["order_id"]


def get(url: str, headers: dict[str, str] = TO_APP) -> Any:
    """GET from an app, as its sidecar would (or with other `headers`)."""
    response = requests.get(url, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
    return response.json()


def order(system: System, order_id: str) -> dict[str, Any]:
    return get(f"{system['orders'].url}/orders/{order_id}")


def placed(system: System, order_id: str) -> dict[str, Any] | None:
    """The order once the orders app has placed it; None while its command is on the broker."""
    response = requests.get(f"{system['orders'].url}/orders/{order_id}", headers=TO_APP, timeout=TIMEOUT)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()


def stock(system: System, sku: str) -> dict[str, Any]:
    return get(f"{system['inventory'].url}/stock/{sku}")


def settled(system: System, order_id: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The order once the saga is done with it (shipped or cancelled)."""
    return wait_until(lambda: (o := placed(system, order_id)) and o["status"] in SETTLED and o, timeout)


def publish(system: System, topic: Topic, data: Any, event_type: str, event_id: str) -> None:
    """Publish as the topic's owner would, through its sidecar's HTTP API: topic scoping
    lets only the owner publish there (each business topic is named after its app)."""
    response = requests.post(
        f"{system[topic].dapr_url}/v1.0/publish/{PUBSUB}/{topic}",
        json=data,
        params={"metadata.cloudevent.type": event_type, "metadata.cloudevent.id": event_id},
        headers=TO_SIDECAR,
        timeout=TIMEOUT,
    )
    assert response.status_code == 204, response.text


def dead_letters(system: System) -> list[dict[str, Any]]:
    return get(f"{system['storefront'].url}/deadletters", AS_OPERATOR)
