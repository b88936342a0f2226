"""How DaprState tells an ETag conflict in an outbox transaction from any other failure:
Dapr 1.18 on Redis answers both with INTERNAL, so it looks at the key again. (The real
sidecar's answers: tests/integration/test_patterns.py's burst runs into them.)"""

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from common.state import ConcurrencyError, DaprState
from contracts.events import OrderCancelled


class FailingTransactions:
    """A sidecar whose transactions fail, and whose key holds `etag` by then (None: gone)."""

    def __init__(self, etag: str | None) -> None:
        self._etag = etag

    async def execute_state_transaction(self, store: str, operations: Any) -> None:
        raise RuntimeError("error while executing state transaction: ERR user_script:14: failed to set key")

    async def get_state(self, store: str, key: str) -> SimpleNamespace:
        return SimpleNamespace(data=b"{}" if self._etag else b"", etag=self._etag or "")


def write(etag_now: str | None, etag_read: str | None) -> None:
    state = DaprState(FailingTransactions(etag_now), "orders-store")  # type: ignore[arg-type]
    event = OrderCancelled(order_id="o-1", customer_id="c-1", reason="payment_declined")
    asyncio.run(state.write_and_announce("order/o-1", "{}", etag_read, event))


@pytest.mark.parametrize(("etag_now", "etag_read"), [("2", "1"), ("1", None)])
def test_a_failed_transaction_on_a_key_written_since_it_was_read_is_a_conflict(
    etag_now: str, etag_read: str | None
) -> None:
    with pytest.raises(ConcurrencyError):
        write(etag_now, etag_read)


@pytest.mark.parametrize(("etag_now", "etag_read"), [("1", "1"), (None, None)])
def test_a_failed_transaction_on_a_key_nobody_wrote_is_no_conflict(etag_now: str | None, etag_read: str | None) -> None:
    with pytest.raises(RuntimeError):
        write(etag_now, etag_read)
