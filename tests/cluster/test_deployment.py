"""What steps 2-4 of docs/kubernetes.md made on the live cluster: every app with the daprd the pinned
chart's injector added, and the tokens that keep the app and its sidecar to each other."""

import json
from pathlib import Path

import pytest
import requests

from tests.cluster.shop import APPS, NAMESPACE, Forward, kubectl, pods, secret
from tests.k8s.manifests import apps
from tests.k8s.tools import env_file

SIDECAR_IMAGE = f"localhost/dapr/daprd:{env_file('versions.env')['DAPR_RUNTIME_VERSION']}"
SIDECAR_HTTP_PORT = 3500  # the injector's, whatever the pod asks


def pod(name: str) -> dict:
    return json.loads(kubectl("-n", NAMESPACE, "get", "pod", name, "-o", "json"))


@pytest.mark.parametrize("app_id", APPS)
def test_every_app_is_available_with_its_injected_sidecar(app_id: str) -> None:
    deployment = json.loads(kubectl("-n", NAMESPACE, "get", "deployment", app_id, "-o", "json"))
    conditions = {c["type"]: c["status"] for c in deployment["status"]["conditions"]}
    assert conditions["Available"] == "True"
    for name in pods(app_id):
        spec, status = pod(name)["spec"], pod(name)["status"]
        assert [c["name"] for c in spec["containers"]] == [app_id, "daprd"]
        assert {c["name"]: c["ready"] for c in status["containerStatuses"]} == {app_id: True, "daprd": True}
        (sidecar,) = [c for c in spec["containers"] if c["name"] == "daprd"]
        assert sidecar["image"] == SIDECAR_IMAGE


@pytest.mark.parametrize("app_id", APPS)
def test_only_the_app_may_call_its_sidecar_and_only_the_sidecar_the_app(app_id: str, forwards: Path) -> None:
    """From inside the pod's network (a port-forward), without the tokens: 401 from both."""
    name = pods(app_id)[0]
    sidecar = Forward(f"pod/{name}", SIDECAR_HTTP_PORT, forwards)
    app = Forward(f"pod/{name}", apps()[app_id]["appPort"], forwards)
    try:
        metadata = f"{sidecar.url}/v1.0/metadata"
        assert requests.get(metadata, timeout=10).status_code == 401
        token = {"dapr-api-token": secret(f"{app_id}-dapr-api-token")}
        assert requests.get(metadata, headers=token, timeout=10).json()["id"] == app_id

        assert requests.post(f"{app.url}/events/anything", json={}, timeout=10).status_code == 401
    finally:
        sidecar.close()
        app.close()
