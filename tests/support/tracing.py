"""Tracing for the tests: a private Zipkin (started by tools/zipkin.sh, as `make run`
starts its own), and Dapr configurations derived from dapr-config/config.yaml that send
the sidecars' spans to it, or nowhere."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.support.sidecars import DAPR_CONFIG, ROOT, answers

ZIPKIN_TOOL = ROOT / "tools" / "zipkin.sh"
# Beside `make run`'s Zipkin (9411).
ZIPKIN_PORT = 9412
START_TIMEOUT = 120  # a cold JVM on two busy cores


def dapr_config(path: Path, zipkin: "Zipkin | None", sampling_rate: str | None = None) -> Path:
    """dapr-config/config.yaml, written to `path`, with the spans sent to `zipkin`; with
    None, the spans are made (sampling as configured, or at `sampling_rate`) but sent
    nowhere."""
    config = yaml.safe_load(DAPR_CONFIG.read_text())
    tracing = config["spec"]["tracing"]
    if sampling_rate is not None:
        tracing["samplingRate"] = sampling_rate
    if zipkin is None:
        del tracing["zipkin"]
    else:
        tracing["zipkin"] = {"endpointAddress": zipkin.spans_url}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclass(frozen=True)
class Zipkin:
    url: str

    @property
    def spans_url(self) -> str:
        """Where spans are sent (Zipkin's v2 span API)."""
        return f"{self.url}/api/v2/spans"

    def traces(self, **query: Any) -> list[list[dict[str, Any]]]:
        """GET /api/v2/traces: the traces that match (e.g. annotationQuery="order_id=..."),
        each a list of spans."""
        response = requests.get(f"{self.url}/api/v2/traces", params=query, timeout=10)
        response.raise_for_status()
        return response.json()


@contextmanager
def running_zipkin(port: int, work_dir: Path) -> Iterator[Zipkin]:
    """A private Zipkin, spans in memory; stopped by its PID at the end."""
    if answers(f"http://127.0.0.1:{port}/health", 200):
        raise RuntimeError(f"something already serves 127.0.0.1:{port}: stop it first")
    started = subprocess.run([str(ZIPKIN_TOOL), "start", str(port), str(work_dir)],
                             check=False, capture_output=True, text=True, timeout=START_TIMEOUT)
    try:
        if started.returncode != 0:
            log = work_dir / "zipkin.log"
            raise RuntimeError(f"tools/zipkin.sh did not start Zipkin: {started.stderr}\n"
                               f"{log.read_text()[-3000:] if log.exists() else ''}")
        yield Zipkin(f"http://127.0.0.1:{port}")
    finally:
        subprocess.run([str(ZIPKIN_TOOL), "stop", str(work_dir)], check=True, timeout=30)
