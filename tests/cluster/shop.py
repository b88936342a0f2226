"""eda-shop on the live cluster of `make cluster`, reached as step 5 of docs/kubernetes.md reaches
it: `kubectl port-forward`, then plain HTTP on loopback.

The apps listen on loopback inside their pods, so a port-forward is the only way in from
the machine. A forward ends with the pod it was bound to; `Forward.url` starts a new one
when that happened (a test that deletes pods keeps working)."""

import base64
import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import requests

from tests.k8s.tools import TOOLS_DIR
from tests.support.processes import Process
from tests.support.sidecars import APP_IDS
from tests.support.waiting import wait_until

NAMESPACE = "eda-shop"
KUBECONFIG = TOOLS_DIR / "cluster" / "state" / "admin.kubeconfig"
KUBECTL = TOOLS_DIR / "bin" / "kubectl"
APPS = APP_IDS  # every app of dapr.yaml
SETTLED = {"shipped", "cancelled"}
# A sidecar's warnings and errors, in the JSON log it writes on the cluster (dapr.io/log-as-json).
SIDECAR_TROUBLE = re.compile(r'"level":"(warning|error|fatal)"')
TIMEOUT = 30
FORWARDED = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+)")


def run_kubectl(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """kubectl against the cluster of `make cluster`."""
    return subprocess.run(
        [str(KUBECTL), *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "KUBECONFIG": str(KUBECONFIG)},
    )


def kubectl(*args: str, stdin: str | None = None, timeout: float = 300) -> str:
    """kubectl against the cluster of `make cluster`; a non-zero exit fails the test."""
    done = run_kubectl(*args, stdin=stdin, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def secret(name: str, key: str = "token") -> str:
    encoded = kubectl("-n", NAMESPACE, "get", "secret", name, "-o", f"jsonpath={{.data.{key}}}")
    return base64.b64decode(encoded).decode()


def listed_pods(app_id: str) -> list[dict[str, Any]]:
    """The app's pods, as the API server has them."""
    return json.loads(kubectl("-n", NAMESPACE, "get", "pods", "-l", f"app.kubernetes.io/name={app_id}", "-o", "json"))["items"]


def pods(app_id: str) -> list[str]:
    """The names of the app's pods that are not on their way out."""
    return [pod["metadata"]["name"] for pod in listed_pods(app_id) if "deletionTimestamp" not in pod["metadata"]]


def rolled_out(kind: str, name: str, timeout: int = 240) -> None:
    """Wait for the rollout; if it never ends, fail with what its pods went through."""
    args = ("-n", NAMESPACE, "rollout", "status", f"{kind}/{name}", f"--timeout={timeout}s")
    done = run_kubectl(*args, timeout=timeout + 30)
    if done.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}\n{unready_pods(name)}")


def unready_pods(app: str) -> str:
    """The events and the last words of every container of the app's pods that are not ready."""
    told = []
    for pod in listed_pods(app):
        statuses = pod["status"].get("containerStatuses", [])
        if statuses and all(status["ready"] for status in statuses):
            continue
        name = pod["metadata"]["name"]
        told.append(run_kubectl("-n", NAMESPACE, "describe", "pod", name).stdout)
        for status in statuses:
            told.append(last_words(name, status["name"]))
            if status["restartCount"]:
                told.append(last_words(name, status["name"], "--previous"))
    return "\n".join(told)


def told_about(order_id: str) -> str:
    """What every pod of the apps said of an order (its app's lines naming it), and its
    sidecar's last warnings and errors: where a saga stopped on the cluster."""
    told = []
    for app_id in APPS:
        for name in pods(app_id):
            said = run_kubectl("-n", NAMESPACE, "logs", name, "-c", app_id).stdout.splitlines()
            told += [f"{name}: {line}" for line in said if order_id in line]
            warned = run_kubectl("-n", NAMESPACE, "logs", name, "-c", "daprd", "--since=10m").stdout.splitlines()
            told += [f"{name} daprd: {line}" for line in warned if SIDECAR_TROUBLE.search(line)][-10:]
    return "\n".join(told)


def last_words(pod: str, container: str, *which: str) -> str:
    logs = run_kubectl("-n", NAMESPACE, "logs", pod, "-c", container, "--tail=40", *which)
    return f"--- {pod} {container} {' '.join(which)}:\n{logs.stdout}{logs.stderr}"


class Forward:
    """`kubectl port-forward TARGET :PORT` to a free port on loopback."""

    def __init__(self, target: str, port: int, logs: Path) -> None:
        self._target, self._port, self._logs = target, port, logs
        self._process: Process | None = None
        self._url = ""

    @property
    def url(self) -> str:
        if self._process is None or not self._process.alive():
            self._start()
        return self._url

    def _start(self) -> None:
        self.close()
        name = f"forward-{self._target.replace('/', '-')}-{uuid4().hex[:6]}"
        self._process = Process(
            name, [str(KUBECTL), "-n", NAMESPACE, "port-forward", self._target, f":{self._port}"],
            self._logs, env={"KUBECONFIG": str(KUBECONFIG)},
        )
        log = self._process.log_path
        self._process.wait_ready(lambda: bool(FORWARDED.search(log.read_text())), TIMEOUT)
        self._url = f"http://127.0.0.1:{FORWARDED.search(log.read_text()).group(1)}"

    def close(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None


class Shop:
    """The storefront as a customer reaches it (and its operator console, with the operator
    token), and orders and inventory as their sidecar does: with the app token from the
    app's Secret. A question that finds no pod to answer it (one is being replaced) gets
    None, so a test can wait for the answer."""

    def __init__(self, logs: Path) -> None:
        self.storefront = Forward("service/storefront", 80, logs)
        self._orders = Forward("service/orders", 80, logs)
        self._inventory = Forward("service/inventory", 80, logs)
        self._tokens = {app_id: secret(f"{app_id}-app-api-token") for app_id in ("orders", "inventory")}
        self._operator = {"authorization": f"Bearer {secret('storefront-operator-token')}"}

    @staticmethod
    def _get(forward: Forward, path: str, headers: dict[str, str] | None = None, may_be_missing: bool = False) -> Any:
        try:
            response = requests.get(f"{forward.url}{path}", headers=headers, timeout=TIMEOUT)
        except requests.RequestException:
            forward.close()  # its pod is gone: the next question forwards to another
            return None
        if response.status_code >= 500 or (may_be_missing and response.status_code == 404):
            return None
        assert response.status_code == 200, response.text
        return response.json()

    def _answer(self, forward: Forward, path: str, headers: dict[str, str] | None = None) -> Any:
        """The answer, waiting while no pod is there to give it."""
        (answer,) = wait_until(lambda: (a := self._get(forward, path, headers)) is not None and (a,), TIMEOUT)
        return answer

    def place_order(self, customer_id: str, *lines: tuple[str, int]) -> requests.Response:
        """POST /api/orders on the storefront, as its page does."""
        body = {"customer_id": customer_id, "items": [{"sku": sku, "quantity": n} for sku, n in lines]}
        return requests.post(f"{self.storefront.url}/api/orders", json=body, timeout=TIMEOUT)

    def placed(self, *lines: tuple[str, int], customer_id: str | None = None) -> str:
        response = self.place_order(customer_id or f"c-{uuid4().hex[:8]}", *lines)
        assert response.status_code == 202, response.text
        return response.json()["order_id"]

    def order(self, order_id: str) -> dict[str, Any] | None:
        """The order; None while no pod answers, or until the orders app has heard its command."""
        return self._get(self._orders, f"/orders/{order_id}", {"dapr-api-token": self._tokens["orders"]}, True)

    def settled(self, order_id: str, timeout: float = 60) -> dict[str, Any]:
        """The order once the saga is done with it (shipped or cancelled); if it never is,
        the failure tells where it stopped, what the pods said of it and what the dead
        letters hold."""
        try:
            return wait_until(lambda: (o := self.order(order_id)) and o["status"] in SETTLED and o, timeout, every=0.5)
        except AssertionError:
            letters = [(letter["type"], letter["topic"], letter["id"]) for letter in self.dead_letters()]
            pytest.fail(
                f"order {order_id} did not end in {timeout}s: {self.order(order_id)}; "
                f"history {self.history(order_id)}; dead letters {letters}; the pods said:\n{told_about(order_id)}"
            )

    def history(self, order_id: str) -> list[str]:
        """The types of the order's events, oldest first, as the storefront shows them."""
        return [event["type"] for event in self._answer(self.storefront, f"/api/orders/{order_id}/events")]

    def stock(self, sku: str) -> dict[str, Any]:
        return self._answer(self._inventory, f"/stock/{sku}", {"dapr-api-token": self._tokens["inventory"]})

    def dead_letters(self) -> list[dict[str, Any]]:
        return self._answer(self.storefront, "/deadletters", self._operator)

    def close(self) -> None:
        for forward in (self.storefront, self._orders, self._inventory):
            forward.close()


@contextmanager
def shop(logs: Path) -> Iterator[Shop]:
    opened = Shop(logs)
    try:
        yield opened
    finally:
        opened.close()
