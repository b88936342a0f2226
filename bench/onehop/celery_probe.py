"""The Celery baseline: one task on the Redis broker, run by one worker (solo pool: one
process, no prefork hand-off), results ignored, as a fire-and-forget `task.delay()` is.

The worker: celery -A bench.onehop.celery_probe worker --pool solo -Q bench-celery
"""

import functools
import os

from celery import Celery

from bench.probe import Recorder

QUEUE = "bench-celery"

# The worker is given its broker (the bench's private Redis) in its environment; the
# harness, which imports this module to send, sets app.conf.broker_url itself.
app = Celery("bench", broker=os.environ.get("BENCH_CELERY_BROKER"))
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.probe")
def probe(body: str) -> None:
    _recorder().record_json(body)


@functools.cache
def _recorder() -> Recorder:
    # Made on first use, in the worker: the publisher imports this module too.
    return Recorder.from_env()
