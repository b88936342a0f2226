"""The one payload every contender carries, and how a consumer records its arrival.

A probe is 200 bytes of JSON shaped like a contract event (`order_id`, `customer_id`)
plus what the benchmark needs: its run, its number, how many the run has, and the
monotonic clock reading at which it was (or was due to be) sent. CLOCK_MONOTONIC is one
clock for every process on the machine, so a consumer in another process can subtract.
"""

import json
import os
import time
from pathlib import Path
from typing import Any, ClassVar

from contracts.events import Event

SIZE = 200


class Probe(Event):
    """The probe as eda-shop's subscriber parses it: a strict, immutable event."""

    type: ClassVar[str] = "bench.probe"  # type: ignore[assignment]  # not a contract fact

    run: str
    seq: int
    n: int
    sent_ns: int
    pad: str


def encode(run: str, seq: int, n: int, sent_ns: int) -> bytes:
    """The probe's JSON, padded to exactly SIZE bytes."""
    head = (
        f'{{"order_id":"probe-{seq}","customer_id":"bench","run":"{run}",'
        f'"seq":{seq},"n":{n},"sent_ns":{sent_ns},"pad":"'
    )
    return (head + "x" * (SIZE - len(head) - 2) + '"}').encode()


class Recorder:
    """Kept by every consumer: when each probe of a run arrived. Once all `n` have, it
    writes `<dir>/<run>.json` (atomically) for the harness and forgets the run.
    A redelivered probe is counted once."""

    def __init__(self, out_dir: Path) -> None:
        self._dir = out_dir
        self._runs: dict[str, dict[int, tuple[int, int]]] = {}

    @classmethod
    def from_env(cls) -> "Recorder":
        return cls(Path(os.environ["BENCH_RESULTS_DIR"]))

    def record(self, run: str, seq: int, n: int, sent_ns: int) -> None:
        arrived_ns = time.monotonic_ns()
        arrived = self._runs.setdefault(run, {})
        arrived.setdefault(seq, (sent_ns, arrived_ns))
        if len(arrived) == n:
            self._write(run, self._runs.pop(run))

    def record_json(self, body: bytes | str) -> None:
        """What a hand-written consumer does with a probe: json.loads, no validation."""
        probe: dict[str, Any] = json.loads(body)
        self.record(probe["run"], probe["seq"], probe["n"], probe["sent_ns"])

    def _write(self, run: str, arrived: dict[int, tuple[int, int]]) -> None:
        result = {
            "latency_ns": [done - sent for sent, done in arrived.values()],
            "first_sent_ns": min(sent for sent, _ in arrived.values()),
            "last_arrived_ns": max(done for _, done in arrived.values()),
        }
        partial = self._dir / f".{run}.partial"
        partial.write_text(json.dumps(result))
        os.replace(partial, self._dir / f"{run}.json")
