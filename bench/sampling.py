"""Memory and CPU time of the processes under test, taken while they work."""

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from bench.infra import cpu_seconds, rss_mb

EVERY = 0.25  # seconds


def rss_now(processes: Mapping[str, int], field: str = "VmRSS") -> dict[str, float]:
    """Each process's resident memory now (MB); a process that has gone is left out."""
    found = {name: rss_mb(pid, field) for name, pid in processes.items()}
    return {name: mb for name, mb in found.items() if mb is not None}


@contextmanager
def every_while(take: Callable[[], None], every: float, name: str) -> Iterator[None]:
    """Call `take` at once, every `every` seconds while the block runs, and once more at
    its end; from a thread named `name`, so neither a blocking publisher nor a busy event
    loop delays it. A `take` that fails stops the sampling; the block's end raises it."""
    stop = threading.Event()
    failed: list[Exception] = []

    def keep_taking() -> None:
        try:
            while not stop.is_set():
                take()
                stop.wait(every)
            take()
        except Exception as error:  # noqa: BLE001 - raised in the caller's thread below
            failed.append(error)

    sampler = threading.Thread(target=keep_taking, name=name, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        stop.set()
        sampler.join()
    if failed:
        raise RuntimeError(f"{name} sampling failed: {failed[0]!r}")


@contextmanager
def peak_rss(processes: Mapping[str, int], field: str = "VmRSS") -> Iterator[dict[str, float]]:
    """The highest resident memory (MB) each process reached while the block ran (`field`
    of /proc/<pid>/status: RssAnon for its private part)."""
    peaks: dict[str, float] = {}

    def take() -> None:
        for name, mb in rss_now(processes, field).items():
            peaks[name] = max(mb, peaks.get(name, 0.0))

    with every_while(take, EVERY, "rss"):
        yield peaks


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
