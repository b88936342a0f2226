"""The saga on the live cluster: step 5 of docs/kubernetes.md as written, a declined payment, poison in
the operator console (closed to customers)."""

import json
import subprocess
from pathlib import Path
from uuid import uuid4

import requests

from tests.cluster.shop import KUBECONFIG, KUBECTL, Forward, Shop, pods, secret
from tests.k8s.api_server import free_port
from tests.k8s.readme import commands
from tests.support.histories import is_shipped_history
from tests.support.processes import Process
from tests.support.waiting import wait_until

README_PORT = "8080"


def test_readme_step_5_as_written_places_an_order_that_ships(eda_shop: Shop, forwards: Path) -> None:
    """Step 5's port-forward and curl, on a free port instead of its 8080."""
    port = str(free_port())
    (forward,) = commands("kubectl -n eda-shop port-forward")
    (place, *_) = commands("curl -si -X POST")
    argv = [str(KUBECTL), *forward.replace(README_PORT, port).split()[1:]]
    process = Process("readme-port-forward", argv, forwards, env={"KUBECONFIG": str(KUBECONFIG)})
    try:
        process.wait_ready(lambda: f"127.0.0.1:{port}" in process.log_path.read_text(), 30)
        curl = subprocess.run(
            ["bash", "-c", place.replace(README_PORT, port)], capture_output=True, text=True, timeout=30, check=True
        )
    finally:
        process.stop()
    assert curl.stdout.startswith("HTTP/1.1 202"), curl.stdout
    accepted = json.loads(curl.stdout.split("\n\n", 1)[1])  # after the headers
    assert accepted["status"] == "pending"
    order_id = accepted["order_id"]

    assert eda_shop.settled(order_id)["status"] == "shipped"
    assert is_shipped_history(history := eda_shop.history(order_id)), history


def test_a_declined_payment_cancels_the_order_and_puts_its_stock_back(eda_shop: Shop) -> None:
    before = eda_shop.stock("mug-stoneware")
    order_id = eda_shop.placed(("mug-stoneware", 2), customer_id=f"blocked-{uuid4().hex[:8]}")

    cancelled = eda_shop.settled(order_id)
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "payment_declined")
    wait_until(lambda: eda_shop.stock("mug-stoneware") == before, 30)


def test_poison_goes_to_the_dead_letters_while_orders_still_ship(eda_shop: Shop, forwards: Path) -> None:
    """A malformed order.placed, published through the storefront's sidecar as a replay
    would be, lands in the dead letters, which only the operator token shows; a valid
    order placed after it ships."""
    poison_id = f"poison-{uuid4().hex}"
    sidecar = Forward(f"pod/{pods('storefront')[0]}", 3500, forwards)
    try:
        published = requests.post(
            f"{sidecar.url}/v1.0/publish/pubsub/orders", json={"not": "an order"},
            params={"metadata.cloudevent.type": "order.placed", "metadata.cloudevent.id": poison_id},
            headers={"dapr-api-token": secret("storefront-dapr-api-token")}, timeout=10,
        )
    finally:
        sidecar.close()
    assert published.status_code == 204, published.text
    order_id = eda_shop.placed(("tea-sencha", 1))

    letter = wait_until(lambda: [d for d in eda_shop.dead_letters() if d["id"] == poison_id], 60)[0]
    assert (letter["topic"], letter["type"]) == ("orders", "order.placed")
    assert eda_shop.settled(order_id)["status"] == "shipped"
    assert requests.get(f"{eda_shop.storefront.url}/deadletters", timeout=10).status_code == 401
