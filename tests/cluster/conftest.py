"""The live-cluster tier: eda-shop on the cluster `make cluster` runs, deployed by the
Kubernetes steps of docs/kubernetes.md and driven as its step 5 says. `make test-cluster` starts that
cluster afresh first, so no test meets what a user did on it. Without a cluster every test
fails with the command that starts one: nothing here skips."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.shop import KUBECONFIG, Shop, kubectl, shop


@pytest.fixture(scope="session", autouse=True)
def cluster() -> None:
    if not KUBECONFIG.is_file():
        pytest.fail(f"no cluster ({KUBECONFIG} is missing): run `make cluster`, or `make test-cluster`")
    kubectl("get", "--raw", "/readyz")


@pytest.fixture(scope="module")
def forwards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("forwards")


@pytest.fixture(scope="module")
def eda_shop(forwards: Path) -> Iterator[Shop]:
    with shop(forwards) as opened:
        yield opened
