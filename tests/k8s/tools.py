"""The k8s tier's tools: where `tools/setup-k8s.sh` put them, at the pinned versions.

A missing tool fails the test with the command that installs it; nothing here skips.
"""

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = Path(os.environ.get("EDA_SHOP_TOOLS_DIR", Path.home() / ".eda-shop"))
SETUP = "tools/setup-k8s.sh (make test runs it)"


def env_file(name: str) -> dict[str, str]:
    """KEY=value lines of a file under tools/, comments left out."""
    lines = (ROOT / "tools" / name).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def pinned() -> dict[str, str]:
    return env_file("k8s-versions.env")


def binary(name: str) -> Path:
    path = TOOLS_DIR / "bin" / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} is missing from {path.parent}: run {SETUP}")
    return path


def checkov() -> Path:
    path = TOOLS_DIR / "checkov" / "bin" / "checkov"
    if not os.access(path, os.X_OK):
        pytest.fail(f"checkov is missing from {path.parent}: run {SETUP}")
    return path


def venv_tool(name: str) -> Path:
    """A command that a package of the dev lock installs beside this Python."""
    path = Path(sys.executable).parent / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} is missing from {path.parent}: run tools/setup.sh")
    return path


def run(
    argv: Sequence[str | Path], env: Mapping[str, str] | None = None, cwd: Path = ROOT,
    stdin: str | None = None, timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run a tool to completion; fail with its output unless it exits 0."""
    done = subprocess.run(
        [str(arg) for arg in argv], check=False, capture_output=True, text=True, cwd=cwd, timeout=timeout,
        input=stdin, env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        command = " ".join(map(str, argv))
        pytest.fail(f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def dapr_module_dir() -> Path:
    """The pinned github.com/dapr/dapr module in Go's module cache (its Helm chart, CRDs
    and injector source); tools/setup-k8s.sh downloads it."""
    listed = subprocess.run(
        ["go", "list", "-m", "-f", "{{.Dir}}", "github.com/dapr/dapr"],
        check=False, capture_output=True,
        text=True,
        cwd=ROOT / "tools" / "dapr-runtime",
    )
    directory = Path(listed.stdout.strip())
    if listed.returncode != 0 or not (directory / "charts").is_dir():
        pytest.fail(
            f"github.com/dapr/dapr is not in Go's module cache: run {SETUP}\n{listed.stderr}"
        )
    return directory
