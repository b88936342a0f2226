"""How work is sent: flat out, or paced at a rate. A send may carry one item or a batch;
a sender may keep several sends in flight (an async client) or only one (a blocking one:
its send never yields, so the next starts when it returns)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bench.probe import encode

# A send is given the sequence numbers of its items and when each was due (monotonic ns).
Send = Callable[[range, list[int]], Awaitable[None]]


class Sender(Protocol):
    """What a one-hop contender publishes probes through."""

    batch: int  # probes per send, at most
    window: int  # sends in flight at once, at most

    async def send(self, bodies: list[bytes]) -> None: ...

    async def close(self) -> None: ...


async def flat_out(n: int, batch: int, window: int, send: Send) -> None:
    """Send `n` items as fast as `send` takes them; each is due the moment it goes."""
    batches = iter(range(0, n, batch))

    async def keep_sending() -> None:
        for start in batches:  # shared: each in-flight sender takes the next batch
            seqs = range(start, min(start + batch, n))
            now = time.monotonic_ns()
            await send(seqs, [now] * len(seqs))

    await asyncio.gather(*(keep_sending() for _ in range(window)))


async def at_rate(n: int, rate: float, batch: int, window: int, send: Send) -> None:
    """Send `n` items at `rate` a second, each due at its own time; what is due when the
    loop wakes goes in one send (up to `batch`). Items carry the time they were due, not
    the time they went: a sender that falls behind shows as latency, not as a slower
    schedule (no coordinated omission)."""
    start = time.monotonic_ns() + 10_000_000
    due = [start + round(seq * 1e9 / rate) for seq in range(n)]
    in_flight = asyncio.Semaphore(window)
    sends: list[asyncio.Task[None]] = []  # kept to the end, so a failed send is raised

    async def send_one(seqs: range) -> None:
        try:
            await send(seqs, [due[i] for i in seqs])
        finally:
            in_flight.release()

    seq = 0
    while seq < n:
        wait = (due[seq] - time.monotonic_ns()) / 1e9
        if wait > 0:
            await asyncio.sleep(wait)
        now = time.monotonic_ns()
        end = seq + 1
        while end < n and end - seq < batch and due[end] <= now:
            end += 1
        await in_flight.acquire()
        sends.append(asyncio.create_task(send_one(range(seq, end))))
        seq = end
    await asyncio.gather(*sends)


def probes(sender: Sender, run: str, n: int) -> Send:
    """A Send that publishes the run's probes through a contender's sender."""

    async def send(seqs: range, due: list[int]) -> None:
        await sender.send([encode(run, seq, n, sent) for seq, sent in zip(seqs, due, strict=True)])

    return send
