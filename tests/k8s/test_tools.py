"""The tools of this tier are the pinned ones: tools/k8s-versions.env, the Go tool
modules that build them, and the binaries tools/setup-k8s.sh installed all agree."""

import re

import kubernetes_validate
import pytest

from tests.k8s.tools import ROOT, binary, pinned, run


def required(tool_module: str, module: str) -> str:
    text = (ROOT / "tools" / tool_module / "go.mod").read_text()
    return re.search(rf"^\s*{re.escape(module)} v(\S+)", text, re.MULTILINE).group(1)


def test_the_go_modules_build_the_pinned_versions() -> None:
    assert (
        required("kustomize", "sigs.k8s.io/kustomize/kustomize/v5") == pinned()["KUSTOMIZE_VERSION"]
    )
    assert required("kubernetes", "k8s.io/kubernetes") == pinned()["KUBERNETES_VERSION"]
    assert required("kubernetes", "go.etcd.io/etcd/server/v3") == pinned()["ETCD_VERSION"]
    # What `make cluster` runs besides them.
    assert required("helm", "helm.sh/helm/v4") == pinned()["HELM_VERSION"]
    assert required("coredns", "github.com/coredns/coredns") == pinned()["COREDNS_VERSION"]
    assert (
        required("network-policies", "github.com/cloudnativelabs/kube-router/v2")
        == pinned()["KUBE_ROUTER_VERSION"]
    )


def test_every_kubernetes_staging_module_is_the_release_of_the_pinned_kubernetes() -> None:
    """k8s.io/kubernetes v1.M.P goes with its staging modules (k8s.io/api, ...) at v0.M.P."""
    major, minor, patch = pinned()["KUBERNETES_VERSION"].split(".")
    text = (ROOT / "tools" / "kubernetes" / "go.mod").read_text()
    replaced = re.findall(r"^\s*(k8s\.io/\S+) => (\S+) (v\S+)$", text, re.MULTILINE)
    assert replaced
    for module, target, version in replaced:
        assert (target, version) == (module, f"v0.{minor}.{patch}"), module
    assert major == "1"


@pytest.mark.parametrize(
    ("tool", "args", "key"),
    [
        ("kustomize", ["version"], "KUSTOMIZE_VERSION"),
        ("kube-apiserver", ["--version"], "KUBERNETES_VERSION"),
        ("kubectl", ["version", "--client"], "KUBERNETES_VERSION"),
        ("etcd", ["--version"], "ETCD_VERSION"),
    ],
)
def test_the_installed_tools_are_the_pinned_ones(tool: str, args: list[str], key: str) -> None:
    printed = run([binary(tool), *args]).stdout
    assert re.search(r"\d+\.\d+\.\d+", printed).group(0) == pinned()[key], (
        f"run tools/setup-k8s.sh: {printed}"
    )


def test_the_openapi_schemas_are_of_the_pinned_kubernetes() -> None:
    pinned_minor = pinned()["KUBERNETES_VERSION"].rsplit(".", 1)[0]
    assert kubernetes_validate.latest_version().rsplit(".", 1)[0] == pinned_minor
