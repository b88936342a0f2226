"""What became of every order of a chaos run, from what the run saw and what the stores
and the broker hold at its end; and the report. Pure: the unit tests feed it by hand."""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.support.chaos.plan import Fault

FINAL = ("shipped", "cancelled")

# What each app logs when it recognises a delivery it has already applied, and absorbs it.
ABSORBED = {
    "orders": ("ignoring a late or duplicate event", "order placed before; nothing to do"),
    "inventory": (
        "order answered before; nothing to do",
        "nothing held for the order",
        "shipment heard before; nothing to do",
    ),
    "payments": ("order paid for before; nothing to do",),
    "shipping": ("shipment already scheduled; ignoring a duplicate payment",),
    "notifications": ("ignoring a redelivered event",),
}


@dataclass(frozen=True)
class Placement:
    """One order as the client saw it: its Idempotency-Key, when it first tried, how
    many tries it took, and the order id of the 202 (None: it never got one)."""

    key: str
    first_try: float  # seconds since the epoch
    tries: int
    order_id: str | None


@dataclass(frozen=True)
class FaultRecord:
    fault: Fault
    struck_at: float  # seconds since the epoch: the kill, or the black hole opening
    over_at: float  # when the process restarted answered its health check, or the hole closed


@dataclass(frozen=True)
class Snapshot:
    """The stores and the broker after the drain."""

    orders: Mapping[str, dict[str, Any]]  # order id -> the stored record (history and view)
    stock: Mapping[str, dict[str, Any]]  # SKU -> its stored level
    catalogue: Mapping[str, int]  # SKU -> the units it started with
    events: Iterable[dict[str, Any]]  # every CloudEvent on the business topics
    absorbed: int  # deliveries the apps recognised as applied before
    dead_letters: int
    pending: Mapping[str, int]  # 'stream/group' -> deliveries never acknowledged


@dataclass(frozen=True)
class Recovery:
    """How long the system took to work again. A kill counts from the kill: until the
    process restarted was healthy, and until an order placed after the kill shipped. A
    black hole counts from its end: until an order placed in it shipped, and until every
    order placed before its end had finished (caught up)."""

    fault: Fault
    over_after: float  # from the fault striking until the restart was healthy, or the hole closed
    shipping_again_after: float | None  # None: no such order shipped
    caught_up_after: float | None = None  # black holes only; None: an order never finished


@dataclass(frozen=True)
class StockLine:
    sku: str
    initial: int
    available: int
    held: int
    shipped: int

    @property
    def balanced(self) -> bool:
        return self.initial == self.available + self.held + self.shipped


@dataclass(frozen=True)
class Figures:
    placed: int  # orders the client sent
    accepted: int  # ... and got a 202 for
    client_retries: int
    completed: int  # shipped
    cancelled: Mapping[str, int]  # by reason
    lost: int  # accepted, but no order stored
    stuck: int  # accepted, stored, not shipped or cancelled after the drain
    placed_twice: int  # stored orders no client got: a retried request placed again
    charged_twice: int  # orders with two payment ids, or paid and declined
    shipped_twice: int  # orders with two shipment ids
    stock_off: int  # units by which the SKUs' invariants miss, all SKUs together
    held_for_finished: int  # units still held for orders that shipped or were cancelled
    duplicate_events: int  # facts published again for the same order
    absorbed: int
    dead_letters: int
    pending: Mapping[str, int]
    recoveries: list[Recovery]
    stock: list[StockLine] = field(default_factory=list)

    @property
    def double_effects(self) -> int:
        return self.placed_twice + self.charged_twice + self.shipped_twice + self.stock_off

    @property
    def clean(self) -> bool:
        """Nothing lost, stuck, applied twice or left unacknowledged; every SKU balanced."""
        return (
            self.accepted == self.placed and not self.lost and not self.stuck and not self.double_effects
            and not self.held_for_finished and not self.pending
        )


def audit(placements: list[Placement], faults: list[FaultRecord], snapshot: Snapshot) -> Figures:
    accepted = {p.order_id for p in placements if p.order_id is not None}
    views = {order_id: record["view"] for order_id, record in snapshot.orders.items()}
    stored = accepted & views.keys()
    status = Counter(views[order_id]["status"] for order_id in stored)
    cancelled = Counter(views[o]["reason"] for o in stored if views[o]["status"] == "cancelled")
    by_order = _facts_by_order(snapshot.events)
    stock = _stock(snapshot, views)
    return Figures(
        placed=len(placements),
        accepted=len(accepted),
        client_retries=sum(p.tries - 1 for p in placements),
        completed=status["shipped"],
        cancelled=dict(sorted(cancelled.items())),
        lost=len(accepted - views.keys()),
        stuck=sum(count for state, count in status.items() if state not in FINAL),
        placed_twice=len(views.keys() - accepted),
        charged_twice=sum(1 for facts in by_order.values() if _charged_twice(facts)),
        shipped_twice=sum(1 for facts in by_order.values() if len(_ids(facts, "shipment.scheduled", "shipment_id")) > 1),
        stock_off=sum(abs(line.initial - line.available - line.held - line.shipped) for line in stock),
        held_for_finished=_held_for_finished(snapshot.stock, views),
        duplicate_events=sum(
            count - 1 for facts in by_order.values() for count in Counter(e["type"] for e in facts).values()
        ),
        absorbed=snapshot.absorbed,
        dead_letters=snapshot.dead_letters,
        pending=dict(snapshot.pending),
        recoveries=[_recovery(record, placements, snapshot.orders) for record in faults],
        stock=stock,
    )


def _facts_by_order(events: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        data = event.get("data")
        if isinstance(data, dict) and "order_id" in data:
            found[data["order_id"]].append(event)
    return found


def _ids(facts: list[dict[str, Any]], event_type: str, id_field: str) -> set[str]:
    return {e["data"].get(id_field) for e in facts if e.get("type") == event_type}


def _charged_twice(facts: list[dict[str, Any]]) -> bool:
    paid = _ids(facts, "payment.succeeded", "payment_id")
    declined = any(e.get("type") == "payment.failed" for e in facts)
    return len(paid) > 1 or (bool(paid) and declined)


def _stock(snapshot: Snapshot, views: Mapping[str, dict[str, Any]]) -> list[StockLine]:
    shipped = Counter[str]()
    for view in views.values():
        if view["status"] == "shipped":
            for line in view["items"]:
                shipped[line["sku"]] += line["quantity"]
    lines = []
    for sku, initial in sorted(snapshot.catalogue.items()):
        level = snapshot.stock.get(sku, {"available": 0, "holds": {}})
        # A hold left for a shipped order is counted as shipped (and as held_for_finished).
        held = sum(units for order_id, units in level["holds"].items()
                   if views.get(order_id, {}).get("status") != "shipped")
        lines.append(StockLine(sku, initial, level["available"], held, shipped[sku]))
    return lines


def _held_for_finished(stock: Mapping[str, dict[str, Any]], views: Mapping[str, dict[str, Any]]) -> int:
    return sum(
        units
        for level in stock.values()
        for order_id, units in level["holds"].items()
        if views.get(order_id, {}).get("status") in FINAL
    )


def _recovery(record: FaultRecord, placements: list[Placement], orders: Mapping[str, dict[str, Any]]) -> Recovery:
    """See Recovery. The orders timed are those that met the fault or its aftermath."""
    over_after = record.over_at - record.struck_at
    stored = [(p, orders[p.order_id]) for p in placements if p.order_id in orders]
    if not record.fault.black_hole:
        after_kill = [_shipped_at(o) for p, o in stored if p.first_try >= record.struck_at]
        return Recovery(record.fault, over_after, _first_after(after_kill, record.struck_at))
    in_hole = [_shipped_at(o) for p, o in stored if record.struck_at <= p.first_try < record.over_at]
    before_end = [_finished_at(o) for p, o in stored if p.first_try < record.over_at]
    caught_up = None if None in before_end else max(before_end, default=record.over_at) - record.over_at
    return Recovery(record.fault, over_after, _first_after(in_hole, record.over_at), caught_up)


def _first_after(times: list[float | None], start: float) -> float | None:
    first = min((t for t in times if t is not None), default=None)
    return None if first is None else first - start


def _shipped_at(record: dict[str, Any]) -> float | None:
    for fact in record["history"]:
        if fact["type"] == "shipment.scheduled":
            return _seconds(fact["recorded_at"])
    return None


def _finished_at(record: dict[str, Any]) -> float | None:
    """When the fact that shipped or cancelled the order arrived: the last in its history."""
    return _seconds(record["history"][-1]["recorded_at"]) if record["view"]["status"] in FINAL else None


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def report(figures: Figures, title: str) -> str:
    """The run's report in Markdown: the figures, the faults, the stock of every SKU."""
    f = figures
    cancelled = ", ".join(f"{reason} {count:,}" for reason, count in f.cancelled.items()) or "none"
    pending = ", ".join(f"{name} {count}" for name, count in sorted(f.pending.items())) or "0"
    rows = [
        ("orders placed (accepted with 202)", f"{f.placed:,} ({f.accepted:,})", f"{f.placed:,}"),
        ("requests the client sent again (same Idempotency-Key)", f"{f.client_retries:,}", ""),
        ("completed (shipped)", f"{f.completed:,}", ""),
        ("cancelled, by reason", f"{sum(f.cancelled.values()):,}: {cancelled}", ""),
        ("**lost** (accepted, never stored)", f"{f.lost}", "0"),
        ("**stuck** (not shipped or cancelled after the drain)", f"{f.stuck}", "0"),
        ("**double effects**: placed twice / charged twice / shipped twice / stock units off",
         f"{f.double_effects} ({f.placed_twice} / {f.charged_twice} / {f.shipped_twice} / {f.stock_off})", "0"),
        ("stock still held for finished orders (units)", f"{f.held_for_finished}", "0"),
        ("facts published again for the same order", f"{f.duplicate_events:,}", ""),
        ("duplicate deliveries absorbed by the apps", f"{f.absorbed:,}", ""),
        ("dead letters", f"{f.dead_letters}", ""),
        ("deliveries never acknowledged after the drain", pending, "0"),
    ]
    lines = [f"# {title}", "", "| figure | value | must be |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {must} |" for name, value, must in rows]
    kills = [r for r in f.recoveries if not r.fault.black_hole]
    if kills:
        lines += ["", "| fault (SIGKILL, then restart) | healthy again after | an order placed after it shipped after |",
                  "|---|---|---|"]
        lines += [f"| {r.fault.name} | {r.over_after:.1f} s | {_seconds_or_dash(r.shipping_again_after)} |"
                  for r in kills]
    holes = [r for r in f.recoveries if r.fault.black_hole]
    if holes:
        header = ("| black hole (packets dropped) between | lasted | after its end: an order placed in it "
                  "shipped after | every order placed before its end finished after |")
        lines += ["", header, "|---|---|---|---|"]
        lines += [f"| {r.fault.name} | {r.over_after:.1f} s | {_seconds_or_dash(r.shipping_again_after)} "
                  f"| {_seconds_or_dash(r.caught_up_after)} |" for r in holes]
    lines += ["", "| SKU | at start | available | held | shipped | available + held + shipped = at start |",
              "|---|---|---|---|---|---|"]
    lines += [
        f"| {s.sku} | {s.initial:,} | {s.available:,} | {s.held:,} | {s.shipped:,} | {'yes' if s.balanced else '**NO**'} |"
        for s in f.stock
    ]
    lines += ["", f"Verdict: {'clean' if f.clean else '**NOT CLEAN**'}."]
    return "\n".join(lines) + "\n"


def _seconds_or_dash(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.1f} s"
