"""The deployment as the tests read it: the rendered overlays, the local Dapr resources
and the run template, with small helpers to find objects among them."""

from pathlib import Path
from typing import Any

import yaml

from tests.k8s.tools import ROOT, binary, run

OVERLAYS = ("dev", "production")
NAMESPACE = "eda-shop"
Object = dict[str, Any]


def documents(text: str) -> list[Object]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render(kustomization: Path) -> list[Object]:
    """`kustomize build` of a folder under k8s/, as objects."""
    return documents(run([binary("kustomize"), "build", kustomization]).stdout)


def local_resources(kind: str) -> list[Object]:
    """The Dapr resources `dapr run -f .` uses, of one kind."""
    paths = [*(ROOT / "components").glob("*.yaml"), *(ROOT / "dapr-config").glob("*.yaml")]
    return [doc for path in paths for doc in documents(path.read_text()) if doc["kind"] == kind]


def run_template() -> Object:
    return yaml.safe_load((ROOT / "dapr.yaml").read_text())


def apps() -> dict[str, Object]:
    """The apps of dapr.yaml by app-id."""
    return {app["appID"]: app for app in run_template()["apps"]}


def of_kind(objects: list[Object], kind: str) -> list[Object]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[Object], kind: str, name: str) -> Object:
    """The one object of that kind and name; fails if there is none or more than one."""
    found = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_spec(workload: Object) -> Object:
    return workload["spec"]["template"]["spec"]


def app_container(deployment: Object) -> Object:
    """The app's own container: the one named after the Deployment."""
    name = deployment["metadata"]["name"]
    (container,) = [c for c in pod_spec(deployment)["containers"] if c["name"] == name]
    return container


def annotations(deployment: Object) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"].get("annotations", {})
