"""Waiting on state, never on sleeps: poll a condition until it holds or time runs out."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T | None], timeout: float = 10.0, every: float = 0.05) -> T:
    """The first truthy value `condition` returns; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"not true after {timeout}s; last seen: {last!r}")
