"""The k8s tier: the images, the kustomize deployment and the Dapr resources, checked
with the real tools (kustomize, the Kubernetes OpenAPI schemas, the Dapr CRDs, hadolint,
checkov, and a private kube-apiserver)."""

import pytest

from tests.k8s.manifests import OVERLAYS, Object, render
from tests.k8s.tools import ROOT


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Object]]:
    """Every overlay, rendered once for the session."""
    return {overlay: render(ROOT / "k8s" / "overlays" / overlay) for overlay in OVERLAYS}
