"""make chaos: python -m tests.support.chaos [--orders N] [--rate R] [--drain S]"""

import argparse
import shutil
import sys
import time
from pathlib import Path

from tests.support.chaos.audit import report
from tests.support.chaos.run import Options, run

ROOT = Path(__file__).resolve().parents[3]
WORK = ROOT / ".run" / "chaos"


def main() -> int:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    parser.add_argument("--orders", type=int, default=defaults.orders, help="orders to place (%(default)s)")
    parser.add_argument("--rate", type=float, default=defaults.rate, help="orders a second (%(default)s)")
    parser.add_argument("--drain", type=float, default=defaults.drain,
                        help="seconds to wait for every order to finish after the last one (%(default)s)")
    args = parser.parse_args()
    if args.orders < 1 or args.rate <= 0 or args.drain < 0:
        parser.error("--orders and --rate must be positive, --drain not negative")
    for leftover in ("logs", "redis"):  # every run starts from an empty Redis
        shutil.rmtree(WORK / leftover, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.time()
    figures = run(Options(orders=args.orders, rate=args.rate, drain=args.drain), WORK)
    title = (f"make chaos: {args.orders:,} orders at {args.rate:g}/s, "
             f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, {time.time() - started:.0f} s")
    text = report(figures, title)
    (WORK / "latest.md").write_text(text)
    print(text)
    print(f"written to {(WORK / 'latest.md').relative_to(ROOT)}; the logs are in {(WORK / 'logs').relative_to(ROOT)}")
    return 0 if figures.clean else 1


if __name__ == "__main__":
    sys.exit(main())
