"""`make bench`: python -m bench [--quick] [--only KEYS] [...]; see --help.

Runs each one-hop contender in turn on a fresh private Redis, then the saga, then writes
bench/results/latest.md, latest.json and the plots. Prints progress as it goes, and
stops every process it started, also on Ctrl-C or SIGTERM.
"""

import argparse
import asyncio
import dataclasses
import datetime
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

from bench import plots, report
from bench.infra import DAPR_CONFIG, ROOT, Redis
from bench.onehop.contenders import CONTENDERS, Setting
from bench.onehop.measure import measure
from bench.plan import FULL, QUICK, REDIS_PORT, Say
from bench.saga import measure_saga
from tests.support import tracing
from tests.support.sidecars import DAPRD

KEYS = [c.key for c in CONTENDERS] + ["saga"]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="a second or two per scenario: a smoke test, not a measurement")
    parser.add_argument("--only", default=",".join(KEYS), help=f"comma-separated, of: {', '.join(KEYS)}")
    parser.add_argument("--reps", type=int, help="repetitions of each measurement (default: 3, --quick 2)")
    parser.add_argument("--pubsub", action="append", default=[], metavar="KEY=VALUE",
                        help="extra metadata for the one-hop pubsub component, e.g. concurrency=100 (repeatable)")
    parser.add_argument("--dapr-config", type=Path, default=DAPR_CONFIG,
                        help="the Dapr Configuration for the one-hop sidecars (default: eda-shop's, spans sent nowhere)")
    parser.add_argument("--sampling-rate", metavar="RATE",
                        help="the sidecars' tracing samplingRate, e.g. 0 (default: eda-shop's); the apps trace "
                             "what their sidecar samples")
    parser.add_argument("--redis-port", type=int, default=REDIS_PORT)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - set(KEYS)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}; choose from {', '.join(KEYS)}")
    return args


def main() -> int:
    args = parse()
    started = time.monotonic()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)

    try:
        return asyncio.run(run(args, say, started))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("stopped before the end: no report written; every process it started is stopped")
        return 130


async def run(args: argparse.Namespace, say: Say, started: float) -> int:
    # SIGTERM and SIGINT end the run, each `finally` stopping what it started; SIGINT too,
    # since a shell that starts the bench in the background has it ignored.
    for stop in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(stop, asyncio.current_task().cancel)
    plan = QUICK if args.quick else FULL
    if args.reps:
        plan = dataclasses.replace(plan, reps=args.reps)
    pubsub = dict(item.split("=", 1) for item in args.pubsub)
    options = {f"pubsub.{key}": value for key, value in pubsub.items()}
    if args.dapr_config != DAPR_CONFIG:
        options["dapr-config"] = str(args.dapr_config)
    if args.sampling_rate is not None:
        options["sampling-rate"] = args.sampling_rate
    run_dir = ROOT / "bench" / ".run"
    shutil.rmtree(run_dir, ignore_errors=True)
    results = report.Results(
        started=datetime.datetime.now().astimezone().isoformat(timespec="seconds"), quick=args.quick, plan=plan,
        machine=_machine(args.redis_port, run_dir), options=options,
    )
    say(f"{'quick' if args.quick else 'full'} run: {args.only}; logs in {run_dir.relative_to(ROOT)}/")
    # eda-shop's Configuration sends the sidecars' spans to make run's Zipkin. Here they
    # are made as before but sent nowhere: the bench measures what it did before tracing
    # had a backend, and sends nothing to a Zipkin that may be running.
    run_dir.mkdir(parents=True, exist_ok=True)
    eda_shop_config = tracing.dapr_config(run_dir / "config.yaml", zipkin=None, sampling_rate=args.sampling_rate)
    one_hop_config = eda_shop_config if args.dapr_config == DAPR_CONFIG else args.dapr_config.resolve()
    setting = Setting(run_dir=run_dir, redis_port=args.redis_port, pubsub_metadata=pubsub,
                      dapr_config=one_hop_config)
    for contender in CONTENDERS:
        if contender.key in args.only.split(","):
            say(f"one hop: {contender.label}")
            results.onehop[contender.key] = await measure(contender, setting, plan, say)
    if "saga" in args.only.split(","):
        say("the saga: every app and sidecar")
        results.saga = await measure_saga(plan, run_dir / "saga", args.redis_port, eda_shop_config, say)
    results.seconds = time.monotonic() - started
    args.out.mkdir(parents=True, exist_ok=True)
    path = report.write(results, args.out, plots.draw(results.onehop, results.saga, args.out, plan.paced_rate))
    say(f"wrote {path}")
    failed = [o.key for o in results.onehop.values() if o.error] + [
        f"saga ({measurement})" for measurement in (results.saga.errors if results.saga else {})]
    if failed:
        say(f"failed: {', '.join(failed)} (see the logs)")
    return 1 if failed else 0


def _machine(redis_port: int, run_dir: Path) -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    daprd = subprocess.run([str(DAPRD), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    redis_server = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=True).stdout.split()[2]
    # The durability every contender gets, read back from a Redis started as they are.
    probe = Redis(redis_port, run_dir / "redis")
    try:
        durability = probe.durability()
    finally:
        probe.stop()
    return {
        "cpu": cpu, "cores": str(os.cpu_count()), "memory": f"{memory_kb / 2**20:.0f} GiB",
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()), "durability": durability,
        "versions": f"daprd {daprd}, Dapr Python SDK {version('dapr')}, redis-server {redis_server.removeprefix('v=')}, "
                    f"Celery {version('celery')}, redis-py {version('redis')}, Python {platform.python_version()}",
    }


if __name__ == "__main__":
    sys.exit(main())
