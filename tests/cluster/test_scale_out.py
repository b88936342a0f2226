"""The production overlay's replicas on the live cluster (tests/cluster/scaled: production
with the dev overlay's requests, to fit one 2-core node): the replicas of each app share
its topics' work through one consumer group, and each order is handled once."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.cluster.shop import APPS, NAMESPACE, Forward, Shop, kubectl, pods, rolled_out, secret
from tests.k8s.manifests import apps
from tests.k8s.tools import ROOT

SCALED = Path(__file__).parent / "scaled"
REPLICAS = 3  # k8s/overlays/production/replicated-services.yaml
ORDERS = 24
CONSUMERS = ("orders", "inventory", "payments", "shipping", "notifications")
HANDLED = re.compile(r'^eda_events_handled_total\{[^}]*outcome="success"[^}]*\} (\S+)$', re.MULTILINE)


def rolled_out_everywhere() -> None:
    for app_id in APPS:
        rolled_out("deployment", app_id, timeout=420)


@pytest.fixture(scope="module")
def scaled_out() -> Iterator[None]:
    # Its patches are the dev overlay's, outside its own folder: kustomize may read them.
    # kubectl's own kustomize, as `kubectl apply -k` renders the objects it replaces.
    scaled = kubectl("kustomize", "--load-restrictor", "LoadRestrictionsNone", str(SCALED))
    try:
        kubectl("apply", "-f", "-", stdin=scaled)
        rolled_out_everywhere()
        yield
    finally:
        # Back to what `kubectl apply -k k8s/` gives; apply leaves the budgets and autoscalers.
        kubectl(
            "-n", NAMESPACE, "delete", "horizontalpodautoscalers,poddisruptionbudgets",
            "-l", "app.kubernetes.io/part-of=eda-shop",
        )
        kubectl("apply", "-k", str(ROOT / "k8s"))
        rolled_out_everywhere()


def handled(pod: str, app_id: str, forwards: Path) -> float:
    """Deliveries the app in this pod answered with success (its /metrics)."""
    app = Forward(f"pod/{pod}", apps()[app_id]["appPort"], forwards)
    try:
        token = {"dapr-api-token": secret(f"{app_id}-app-api-token")}
        metrics = requests.get(f"{app.url}/metrics", headers=token, timeout=10).text
    finally:
        app.close()
    return sum(float(value) for value in HANDLED.findall(metrics))


def test_the_replicas_share_each_topic_and_handle_each_order_once(scaled_out: None, eda_shop: Shop, forwards: Path) -> None:
    for app_id in APPS:
        assert len(pods(app_id)) == REPLICAS, app_id

    accepted = [eda_shop.placed(("tea-sencha", 1)) for _ in range(ORDERS)]
    for order_id in accepted:
        assert eda_shop.settled(order_id, 120)["status"] == "shipped"
        assert eda_shop.history(order_id) == ["order.placed", "stock.reserved", "payment.succeeded", "shipment.scheduled"]

    for app_id in CONSUMERS:
        counts = [handled(pod, app_id, forwards) for pod in pods(app_id)]
        assert sum(1 for count in counts if count > 0) >= 2, f"{app_id}: one replica did all the work: {counts}"
