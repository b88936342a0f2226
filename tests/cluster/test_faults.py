"""Pods deleted while orders flow, as a node drain or a crash would: each app's, then
Redis's. Every order the storefront accepted ends, none is applied twice, stock adds up."""

from collections import Counter
from uuid import uuid4

import requests

from tests.cluster.shop import APPS, NAMESPACE, Shop, kubectl, rolled_out
from tests.support.waiting import wait_until

SKU = "tea-earl-grey"
ORDERS_PER_FAULT = 3
SETTLE_TIMEOUT = 240  # an event a deleted sidecar held returns after processingTimeout (120 s)


def place(eda_shop: Shop, accepted: list[str]) -> None:
    """Place orders; one refused or unanswered while a pod is replaced is not accepted."""
    for _ in range(ORDERS_PER_FAULT):
        try:
            response = eda_shop.place_order(f"c-{uuid4().hex[:8]}", (SKU, 1))
        except requests.RequestException:
            eda_shop.storefront.close()
            continue
        if response.status_code == 202:
            accepted.append(response.json()["order_id"])


def test_every_accepted_order_ends_once_while_each_pod_is_deleted(eda_shop: Shop) -> None:
    before = eda_shop.stock(SKU)
    accepted: list[str] = []
    for app_id in (*APPS, "redis"):
        place(eda_shop, accepted)
        kubectl("-n", NAMESPACE, "delete", "pod", "-l", f"app.kubernetes.io/name={app_id}", "--wait=false")
        place(eda_shop, accepted)
        rolled_out("statefulset" if app_id == "redis" else "deployment", app_id)
    place(eda_shop, accepted)

    assert len(accepted) >= 2 * ORDERS_PER_FAULT
    ended = {order_id: eda_shop.settled(order_id, SETTLE_TIMEOUT) for order_id in accepted}
    for order_id in accepted:
        repeated = [kind for kind, count in Counter(eda_shop.history(order_id)).items() if count > 1]
        assert repeated == [], f"{order_id} applied {repeated} more than once"
    shipped = sum(1 for order in ended.values() if order["status"] == "shipped")
    expected = (before["available"] - shipped, before["reserved"])
    wait_until(lambda: ((s := eda_shop.stock(SKU))["available"], s["reserved"]) == expected, 60)
