"""make soak: python -m tests.support.soak [--minutes M] [--every S] [--burst N] [--out DIR]"""

import argparse
import shutil
import sys
import time
from pathlib import Path

from tests.support.soak.report import plot, report
from tests.support.soak.run import Options, run

ROOT = Path(__file__).resolve().parents[3]
WORK = ROOT / ".run" / "soak"


def main(argv: list[str] | None = None) -> int:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="make soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=defaults.minutes,
                        help="minutes of orders at half the measured capacity (%(default)s)")
    parser.add_argument("--every", type=float, default=defaults.every, help="seconds between samples (%(default)s)")
    parser.add_argument("--burst", type=int, default=defaults.burst,
                        help="orders sent flat out to measure the capacity (%(default)s)")
    parser.add_argument("--out", type=Path, default=WORK,
                        help="where latest.md, latest.svg, the logs and Redis's data go (.run/soak)")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.every <= 0 or args.burst < 10:
        parser.error("--minutes and --every must be positive, --burst at least 10")
    for leftover in ("logs", "redis"):  # every run starts from an empty Redis
        shutil.rmtree(args.out / leftover, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    soak = run(Options(minutes=args.minutes, every=args.every, burst=args.burst), args.out)
    title = (f"make soak: {args.minutes:g} min at half the capacity, "
             f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, {time.time() - started:.0f} s")
    (args.out / "latest.svg").write_text(plot(soak))
    text = report(soak, title, "latest.svg")
    (args.out / "latest.md").write_text(text)
    print(text)
    print(f"written to {args.out / 'latest.md'} and latest.svg; the logs are in {args.out / 'logs'}")
    return 1 if soak.error else 0


if __name__ == "__main__":
    sys.exit(main())
