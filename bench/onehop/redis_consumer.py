"""The raw Redis Streams baseline's consumer, as one would write it by hand with redis-py:
a consumer group (at-least-once, like Dapr's), XREADGROUP up to `--count` entries, parse,
record, XACK what was read.

    BENCH_REDIS_PASSWORD=... python -m bench.onehop.redis_consumer STREAM --count N --port P

It stops on SIGTERM, or by itself after --max-seconds.
"""

import argparse
import os
import signal
import time

import redis

from bench.probe import Recorder

GROUP = "bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stream")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-seconds", type=float, default=3600)
    args = parser.parse_args()

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    client = redis.Redis(port=args.port, password=os.environ["BENCH_REDIS_PASSWORD"])
    try:
        # From the stream's start: probes sent before this process got here are read too.
        client.xgroup_create(args.stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
    recorder = Recorder.from_env()
    deadline = time.monotonic() + args.max_seconds
    while not stopping and time.monotonic() < deadline:
        read = client.xreadgroup(GROUP, "consumer", {args.stream: ">"}, count=args.count, block=500)
        for _, entries in read:
            for _, fields in entries:
                recorder.record_json(fields[b"data"])
            client.xack(args.stream, GROUP, *(entry_id for entry_id, _ in entries))


if __name__ == "__main__":
    main()
