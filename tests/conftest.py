"""Fixtures the tiers share, and the marks that tell the tiers apart."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.system import System, running

TIERS = Path(__file__).parent
# Tiers whose tests run real sidecars; CI fails if any of them is skipped (.ci/check_tiers.py).
SIDECAR_TIERS = {"integration": pytest.mark.sidecars, "browser": pytest.mark.browser}


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The whole system, started for one test module and stopped after it: no module sees
    another's leftovers, and none is up while the e2e tier drives `make run` with the
    Dapr CLI (which would find the apps of both by their app-ids)."""
    with running(tmp_path_factory.mktemp("logs"), tmp_path_factory.mktemp("redis")) as system:
        yield system


@pytest.fixture
def system(running_system: System) -> Iterator[System]:
    """The running system, checked before and after each test for a dead process."""
    running_system.check_alive()
    yield running_system
    running_system.check_alive()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = item.path.relative_to(TIERS).parts[0]
        if tier in SIDECAR_TIERS:
            item.add_marker(SIDECAR_TIERS[tier])
