"""Memory and CPU time of the processes under test, taken while they work."""

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from bench.infra import cpu_seconds, rss_mb

EVERY = 0.25  # seconds


def rss_now(processes: Mapping[str, int], field: str = "VmRSS") -> dict[str, float]:
    """Each process's resident memory now (MB); a process that has gone is left out."""
    found = {name: rss_mb(pid, field) for name, pid in processes.items()}
    return {name: mb for name, mb in found.items() if mb is not None}


@contextmanager
def peak_rss(processes: Mapping[str, int], field: str = "VmRSS") -> Iterator[dict[str, float]]:
    """The highest resident memory (MB) each process reached while the block ran (`field`
    of /proc/<pid>/status: RssAnon for its private part). Sampled from a thread: a
    blocking publisher never lets an event loop task run."""
    peaks: dict[str, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for name, mb in rss_now(processes, field).items():
                peaks[name] = max(mb, peaks.get(name, 0.0))
            stop.wait(EVERY)

    sampler = threading.Thread(target=sample, name="rss", daemon=True)
    sampler.start()
    try:
        yield peaks
    finally:
        stop.set()
        sampler.join()


@contextmanager
def cpu_used(processes: Mapping[str, int]) -> Iterator[dict[str, float]]:
    """The CPU seconds each process used while the block ran."""
    before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    used: dict[str, float] = {}
    yield used
    for name, pid in processes.items():
        start, end = before[name], cpu_seconds(pid)
        if start is not None and end is not None:
            used[name] = end - start
