"""`make load`: orders at a steady rate against `make run`'s storefront, a progress bar
while they go through the saga, and a summary at the end.

Orders go in as a customer's would, `POST /api/orders` on the storefront; how each ends
is heard on the storefront's live saga of every order (`GET /api/saga`, with the operator
token `make run` keeps in .run/secrets.env): `shipment.scheduled`
(shipped) or `order.cancelled` (with its reason). A mix of three kinds of order:
in stock (one unit of a SKU on the shelf), out of stock (one more unit than the
emptiest SKU holds) and declined (a `blocked-` customer, whom the payment gateway
refuses). The stock is the shop's own and finite: once it is gone, in-stock orders end
`out_of_stock` too, and the summary says so. The summary ends with what `make run`'s Redis
holds: its memory, the longest stream, and the furthest-behind subscriber's backlog, with
an alarm past half of what a stream keeps (components/pubsub.yaml says why).

    PYTHONPATH=apps:. python tools/load.py --orders 200 --rate 20 --mix 70,20,10
"""

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis
from tqdm import tqdm

from bench.load import at_rate
from bench.stats import percentile
from bench.streams import Streams, retention
from contracts.names import EventType
from payments.decisions import BLOCKED_PREFIX
from payments.settings import Settings as PaymentsSettings

KINDS = ("in-stock", "out-of-stock", "declined")
# What the gateway declines above in `make run` (its default): in-stock orders stay below.
DECLINE_OVER_CENTS = PaymentsSettings.model_fields["decline_over_cents"].default
WINDOW = 64  # orders being placed at once, at most
STREAM_TIMEOUT = 10.0  # seconds for the saga stream to open
ROOT = Path(__file__).resolve().parents[1]
SECRETS = ROOT / ".run" / "secrets.json"  # Redis's password, made by `make run` (tools/run.sh)
TOKENS = ROOT / ".run" / "secrets.env"  # the app and operator tokens, made by `make run` too


@dataclass(frozen=True)
class Mix:
    """Shares of in-stock, out-of-stock and declined orders (weights, e.g. 70,20,10)."""

    weights: tuple[int, int, int]

    @classmethod
    def parse(cls, text: str) -> "Mix":
        try:
            weights = tuple(int(part) for part in text.split(","))
        except ValueError:
            weights = ()
        if len(weights) != 3 or min(weights) < 0 or sum(weights) == 0:
            raise argparse.ArgumentTypeError(
                f"{text!r}: want three whole numbers, in-stock,out-of-stock,declined, e.g. 70,20,10"
            )
        return cls(weights)  # type: ignore[arg-type]

    def kinds(self, n: int, rng: random.Random) -> list[str]:
        """`n` kinds in these shares (largest remainder), in a shuffled order."""
        total = sum(self.weights)
        exact = [n * w / total for w in self.weights]
        counts = [int(x) for x in exact]
        by_remainder = sorted(range(3), key=lambda i: exact[i] - counts[i], reverse=True)
        for i in by_remainder[: n - sum(counts)]:
            counts[i] += 1
        kinds = [kind for kind, count in zip(KINDS, counts, strict=True) for _ in range(count)]
        rng.shuffle(kinds)
        return kinds

    def __str__(self) -> str:
        total = sum(self.weights)
        return ", ".join(f"{kind} {100 * w / total:.0f}%" for kind, w in zip(KINDS, self.weights, strict=True))


@dataclass(frozen=True)
class Shelf:
    """What the orders ask for, chosen from the stock when the run starts."""

    in_stock: tuple[str, ...]  # SKUs with units left that the gateway charges
    emptiest: tuple[str, int]  # the SKU with the fewest units, and how many
    units: int  # units left of the in-stock SKUs

    @classmethod
    def of(cls, products: list[dict[str, Any]]) -> "Shelf":
        sellable = [p for p in products if p["available"] > 0 and p["price_cents"] <= DECLINE_OVER_CENTS]
        if not sellable:
            raise SystemExit("nothing is in stock: restock with `make down`, `rm -rf .run/redis`, `make run`")
        emptiest = min(products, key=lambda p: p["available"])
        return cls(
            tuple(p["sku"] for p in sellable),
            (emptiest["sku"], emptiest["available"]),
            sum(p["available"] for p in sellable),
        )

    def order(self, kind: str, seq: int, run: str) -> dict[str, Any]:
        """The body of `POST /api/orders` for an order of this kind."""
        sku = self.in_stock[seq % len(self.in_stock)]
        if kind == "out-of-stock":
            sku, left = self.emptiest
            return {"customer_id": f"load-{run}", "items": [{"sku": sku, "quantity": left + 1}]}
        customer = f"{BLOCKED_PREFIX}load-{run}" if kind == "declined" else f"load-{run}"
        return {"customer_id": customer, "items": [{"sku": sku, "quantity": 1}]}


@dataclass
class Tally:
    """What became of the run's orders."""

    due_ns: dict[str, int] = field(default_factory=dict)  # accepted order -> when it was due
    refused: Counter[int] = field(default_factory=Counter)  # HTTP status -> orders
    ended: dict[str, tuple[int, str]] = field(default_factory=dict)  # order -> (ns, shipped or reason)

    def accepted(self, order_id: str, due_ns: int) -> None:
        self.due_ns[order_id] = due_ns

    def heard(self, event: dict[str, Any], now_ns: int) -> bool:
        """Note an order's end from a saga event; True if it ended one of this run's."""
        order_id = event.get("order_id")
        if order_id not in self.due_ns or order_id in self.ended:
            return False
        if event.get("type") == EventType.SHIPMENT_SCHEDULED:
            self.ended[order_id] = (now_ns, "shipped")
        elif event.get("type") == EventType.ORDER_CANCELLED:
            self.ended[order_id] = (now_ns, str(event.get("reason")))
        else:
            return False
        return True

    @property
    def unfinished(self) -> int:
        return len(self.due_ns) - len(self.ended)

    def summary(self, drain_seconds: float) -> str:
        outcomes = Counter(outcome for _, outcome in self.ended.values())
        shipped = outcomes.pop("shipped", 0)
        sent = len(self.due_ns) + sum(self.refused.values())
        latency = sorted((ns - self.due_ns[o]) / 1e6 for o, (ns, _) in self.ended.items())
        lines = [
            f"accepted      {len(self.due_ns):>7,} of {sent:,}",
            f"completed     {shipped:>7,}   shipped",
            f"cancelled     {sum(outcomes.values()):>7,}   "
            + (", ".join(f"{reason} {n:,}" for reason, n in sorted(outcomes.items())) or "-"),
            f"not finished  {self.unfinished:>7,}   within {drain_seconds:g} s of the last order",
        ]
        if self.refused:
            lines.append(
                f"refused       {sum(self.refused.values()):>7,}   "
                + ", ".join(f"HTTP {status} {n:,}" for status, n in sorted(self.refused.items()))
            )
        if latency:
            lines.append(
                f"completion    p50 {percentile(latency, 50):,.0f} ms, p99 {percentile(latency, 99):,.0f} ms"
                f" (of {len(latency):,} ended orders, from when each was due)"
            )
        return "\n".join(lines)


def read_streams(port: int) -> str:
    """The summary's lines about Redis, or why they could not be read."""
    try:
        password = json.loads(SECRETS.read_text())["redis"]["password"]
        with redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True) as client:
            return Streams.read(client, retention()).summary()
    except (OSError, ValueError, KeyError, redis.RedisError) as error:
        return f"redis         not read ({error}): make load reads make run's Redis, port {port}, password in {SECRETS}"


def operator_token() -> str:
    """The token that opens the storefront's operator console, as `make run` made it."""
    for line in TOKENS.read_text().splitlines():
        name, _, value = line.partition("=")
        if name == "OPERATOR_TOKEN":
            return value
    raise KeyError(f"no OPERATOR_TOKEN in {TOKENS}")


async def watch_saga(session: aiohttp.ClientSession, args: argparse.Namespace, tally: Tally, bar: tqdm,
                     opened: asyncio.Event) -> None:
    """Follow the storefront's saga stream (server-sent events) and note each order's end."""
    operator = {"authorization": f"Bearer {args.operator_token}"}
    async with session.get(f"{args.url}/api/saga", headers=operator, timeout=aiohttp.ClientTimeout(total=None)) as response:
        response.raise_for_status()
        opened.set()
        async for raw in response.content:
            line = raw.decode().strip()
            if line.startswith("data:") and tally.heard(json.loads(line.removeprefix("data:")), time.monotonic_ns()):
                bar.update()
                bar.set_postfix_str(f"accepted {len(tally.due_ns)}, ended {len(tally.ended)}", refresh=False)


async def run(args: argparse.Namespace) -> Tally:
    tally = Tally()
    rng = random.Random(args.seed)
    run_id = f"{rng.getrandbits(32):08x}"
    kinds = args.mix.kinds(args.orders, rng)
    async with aiohttp.ClientSession(raise_for_status=False) as session:
        async with session.get(f"{args.url}/api/products") as response:
            response.raise_for_status()
            shelf = Shelf.of(await response.json())
        print(f"{args.orders:,} orders at {args.rate:g}/s against {args.url} ({args.mix})")
        wanting = kinds.count("in-stock")
        if wanting > shelf.units:
            print(f"note: {shelf.units:,} units in stock for {wanting:,} in-stock orders: the rest end "
                  "out_of_stock (restock: `make down`, `rm -rf .run/redis`, `make run`)")
        bar = tqdm(total=args.orders, desc="ended", unit="order", file=sys.stderr)
        opened = asyncio.Event()
        watcher = asyncio.create_task(watch_saga(session, args, tally, bar, opened))
        await asyncio.wait_for(opened.wait(), STREAM_TIMEOUT)

        async def place(seqs: range, due: list[int]) -> None:
            for seq, due_ns in zip(seqs, due, strict=True):
                body = shelf.order(kinds[seq], seq, run_id)
                async with session.post(f"{args.url}/api/orders", json=body) as answer:
                    if answer.status == 202:
                        tally.accepted((await answer.json())["order_id"], due_ns)
                    else:
                        tally.refused[answer.status] += 1
                        bar.update()

        try:
            await at_rate(args.orders, args.rate, 1, WINDOW, place)
            deadline = time.monotonic() + args.drain
            while tally.unfinished and time.monotonic() < deadline and not watcher.done():
                await asyncio.sleep(0.2)
        finally:
            watcher.cancel()
            bar.close()
        if watcher.done() and not watcher.cancelled() and watcher.exception():
            raise RuntimeError("the saga stream broke") from watcher.exception()
    return tally


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100, help="how many orders (default 100)")
    parser.add_argument("--rate", type=float, default=10.0, help="orders a second (default 10)")
    parser.add_argument("--mix", type=Mix.parse, default=Mix((80, 10, 10)),
                        help="shares of in-stock,out-of-stock,declined orders (default 80,10,10)")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the storefront (default: make run's)")
    parser.add_argument("--operator-token", default=None,
                        help="opens the storefront's saga of every order (default: make run's, in .run/secrets.env)")
    parser.add_argument("--drain", type=float, default=60.0,
                        help="seconds to wait after the last order for all to end (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="the same seed, the same order of kinds")
    parser.add_argument("--redis-port", type=int, default=6380,
                        help="the Redis whose memory and streams the summary shows (default: make run's)")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.rate <= 0 or args.drain < 0:
        parser.error("--orders must be at least 1, --rate above 0, --drain not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    try:
        args.operator_token = args.operator_token or operator_token()
    except (OSError, KeyError) as error:
        print(f"no operator token ({error}): start the shop once with `make run`, or pass --operator-token", file=sys.stderr)
        return 2
    try:
        tally = asyncio.run(run(args))
    except aiohttp.ClientConnectionError as error:
        print(f"cannot reach the storefront at {args.url} ({error}): start the shop with `make run`", file=sys.stderr)
        return 2
    print(tally.summary(args.drain))
    print(read_streams(args.redis_port))
    return 1 if tally.unfinished or tally.refused else 0


if __name__ == "__main__":
    sys.exit(main())
