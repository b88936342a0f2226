"""Fixtures the tiers share, and the marks that tell the tiers apart."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.system import System, running
from tests.support.variants import NEEDS_CONSUMER_POSITIONS, Variant

TIERS = Path(__file__).parent
# Tiers whose tests run real sidecars; CI fails if any of them is skipped (.ci/check_tiers.py).
SIDECAR_TIERS = {"integration": pytest.mark.sidecars, "reliability": pytest.mark.sidecars, "browser": pytest.mark.browser}
# What runs on another broker or state store (make test-brokers): the saga suite.
SAGA = TIERS / "integration" / "test_saga.py"
NOT_RUN = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--variant", default="redis", type=Variant.parse,
        help="run the saga suite on components/variants/NAME (rabbitmq, mqtt, kafka, postgres, or "
             "a pub/sub and a state store joined by +, e.g. rabbitmq+postgres); default: redis",
    )


@pytest.fixture(scope="module")
def running_system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The whole system, started for one test module and stopped after it: no module sees
    another's leftovers, and none is up while the e2e tier drives `make run` with the
    Dapr CLI (which would find the apps of both by their app-ids)."""
    variant = request.config.getoption("variant")
    with running(tmp_path_factory.mktemp("logs"), tmp_path_factory.mktemp("redis"), variant) as system:
        yield system


@pytest.fixture
def system(running_system: System) -> Iterator[System]:
    """The running system, checked before and after each test for a dead process."""
    running_system.check_alive()
    yield running_system
    running_system.check_alive()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = item.path.relative_to(TIERS).parts[0]
        if tier in SIDECAR_TIERS:
            item.add_marker(SIDECAR_TIERS[tier])
    variant: Variant = config.getoption("variant")
    if not variant.default:
        _select_for(variant, config, items)


def _select_for(variant: Variant, config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a component variant, the saga suite runs; of it, the tests that watch a
    subscriber's position only where the broker shows it. What does not run is named."""
    kept, dropped, not_run = [], [], []
    for item in items:
        if item.path != SAGA:
            dropped.append(item)
        elif not variant.consumer_positions and item.name in NEEDS_CONSUMER_POSITIONS:
            dropped.append(item)
            not_run.append(f"{item.name}: {NEEDS_CONSUMER_POSITIONS[item.name]}")
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    config.stash[NOT_RUN] = not_run


def pytest_report_header(config: pytest.Config) -> str | None:
    variant: Variant = config.getoption("variant")
    if variant.default:
        return None
    return f"components: components/ with components/variants/{{{','.join(variant.folders)}}} laid over it"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    variant: Variant = config.getoption("variant")
    not_run = config.stash.get(NOT_RUN, [])
    if not_run:
        terminalreporter.section(f"saga tests NOT run on {variant.name}")
        for line in not_run:
            terminalreporter.line(f"NOT RUN on {variant.name}: {line}")
