"""The production overlay's replicas on the live cluster (tests/cluster/scaled: production
with the dev overlay's requests, to fit one 2-core node): the replicas of each app share
its topics' work through one consumer group, and each order is handled once."""

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tests.cluster.shop import (
    APPS,
    NAMESPACE,
    TIMEOUT,
    Forward,
    Shop,
    kubectl,
    listed_pods,
    pods,
    rolled_out,
    run_kubectl,
    secret,
    unready_pods,
)
from tests.k8s.manifests import apps
from tests.k8s.tools import ROOT
from tests.support.histories import is_shipped_history
from tests.support.waiting import wait_until

SCALED = Path(__file__).parent / "scaled"
REPLICAS = 3  # k8s/overlays/production/replicated-services.yaml
ORDERS = 24
ROLLOUT_SECONDS, ROLLOUT_STEP_SECONDS = 420, 10
CONSUMERS = ("orders", "inventory", "payments", "shipping", "notifications")
HANDLED = re.compile(r'^eda_events_handled_total\{[^}]*outcome="success"[^}]*\} (\S+)$', re.MULTILINE)


def apply_app_by_app(manifests: str) -> None:
    """Everything but the Deployments, then each Deployment once the one before it rolled
    out: eighteen pods starting at once on two cores starve the sidecar injector, whose
    webhook then lets pods in without a sidecar (the chart's failurePolicy is Ignore).
    Redis is replaced first (the overlays give it other resources) and waited for: a
    sidecar that starts while Redis is away exits, and restarts after a growing back-off."""
    objects = list(yaml.safe_load_all(manifests))
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all([o for o in objects if o["kind"] != "Deployment"]))
    rolled_out("statefulset", "redis")
    for deployment in deployments:
        kubectl("apply", "-f", "-", stdin=yaml.safe_dump(deployment))
        rolled_out_with_sidecars(deployment["metadata"]["name"])


def rolled_out_with_sidecars(app_id: str) -> None:
    """Wait for the app's rollout, deleting any pod that the injector let in without its
    sidecar, which would wait for one for good (seen in CI: a pod of inventory with no
    daprd, its app restarting until the rollout gave up). Its ReplicaSet makes it again."""
    deadline = time.monotonic() + ROLLOUT_SECONDS
    for _ in range(ROLLOUT_SECONDS // ROLLOUT_STEP_SECONDS):
        for pod in listed_pods(app_id):
            if "daprd" not in [container["name"] for container in pod["spec"]["containers"]]:
                kubectl("-n", NAMESPACE, "delete", "pod", pod["metadata"]["name"], "--wait=false", "--ignore-not-found")
        step = f"--timeout={ROLLOUT_STEP_SECONDS}s"
        if run_kubectl("-n", NAMESPACE, "rollout", "status", f"deployment/{app_id}", step, timeout=60).returncode == 0:
            return
        if time.monotonic() > deadline:
            break
    pytest.fail(f"deployment {app_id} did not roll out in {ROLLOUT_SECONDS}s:\n{unready_pods(app_id)}")


@pytest.fixture(scope="module")
def scaled_out() -> Iterator[None]:
    # Its patches are the dev overlay's, outside its own folder: kustomize may read them.
    # kubectl's own kustomize, as `kubectl apply -k` renders the objects it replaces.
    try:
        apply_app_by_app(kubectl("kustomize", "--load-restrictor", "LoadRestrictionsNone", str(SCALED)))
        yield
    finally:
        # Back to what `kubectl apply -k k8s/` gives; apply leaves the budgets and autoscalers.
        kubectl(
            "-n", NAMESPACE, "delete", "horizontalpodautoscalers,poddisruptionbudgets",
            "-l", "app.kubernetes.io/part-of=eda-shop",
        )
        apply_app_by_app(kubectl("kustomize", str(ROOT / "k8s")))


def handled(pod: str, app_id: str, forwards: Path) -> float:
    """Deliveries the app in this pod answered with success (its /metrics). A fresh
    port-forward may drop its first connection (seen in CI: the remote end closed it
    without a response), so a dropped scrape is asked again through a new one."""
    token = {"dapr-api-token": secret(f"{app_id}-app-api-token")}

    def scrape() -> str | None:
        app = Forward(f"pod/{pod}", apps()[app_id]["appPort"], forwards)
        try:
            return requests.get(f"{app.url}/metrics", headers=token, timeout=10).text
        except requests.ConnectionError:
            return None
        finally:
            app.close()

    metrics = wait_until(scrape, TIMEOUT, every=1)
    return sum(float(value) for value in HANDLED.findall(metrics))


def test_the_replicas_share_each_topic_and_handle_each_order_once(scaled_out: None, eda_shop: Shop, forwards: Path) -> None:
    for app_id in APPS:
        assert len(pods(app_id)) == REPLICAS, app_id
        for name in pods(app_id):
            containers = kubectl("-n", NAMESPACE, "get", "pod", name, "-o", "jsonpath={.spec.containers[*].name}")
            assert containers.split() == [app_id, "daprd"], f"{name} has no sidecar"

    accepted = [eda_shop.placed(("tea-sencha", 1)) for _ in range(ORDERS)]
    for order_id in accepted:
        order = eda_shop.settled(order_id, 120)
        assert order["status"] == "shipped", order
        assert is_shipped_history(history := eda_shop.history(order_id)), history

    for app_id in CONSUMERS:
        counts = [handled(pod, app_id, forwards) for pod in pods(app_id)]
        assert sum(1 for count in counts if count > 0) >= 2, (
            f"{app_id}: one replica did all the work: {counts}; restarts by pod (a restart zeroes its counts): "
            f"{restarts(app_id)}"
        )


def restarts(app_id: str) -> dict[str, dict[str, int]]:
    """How often each container of each of the app's pods has restarted."""
    return {
        pod["metadata"]["name"]: {status["name"]: status["restartCount"] for status in pod["status"].get("containerStatuses", [])}
        for pod in listed_pods(app_id)
    }
