"""Each contender of the one-hop race: the processes it starts on a fresh Redis, and the
Sender the harness publishes through. All stop what they started, by PID, on the way out."""

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import aiohttp
from dapr.aio.clients import DaprClient
from dapr.conf import settings as dapr_settings

from bench.infra import DAPR_CONFIG, ROOT, Redis, http_status, one_hop_resources, sidecar
from bench.load import Sender
from bench.plan import PUBLISHER, PUBLISHER_PORTS, SUBSCRIBER, SUBSCRIBER_PORTS
from contracts.names import PUBSUB
from tests.support.credentials import REDIS_PASSWORD, redis_client
from tests.support.processes import Process

START_TIMEOUT = 30.0
SINGLE_TOPIC, BULK_TOPIC = "bench-single", "bench-bulk"  # bench/components/subscriptions.yaml
# Sends an async publisher keeps in flight: enough that the sidecar, not the client, is
# what limits a flat-out run.
WINDOW = 32
BULK_SIZE, BULK_WINDOW = 100, 4


@dataclass(frozen=True)
class Setting:
    """Where a run keeps its files, and the variants asked for on the command line."""

    run_dir: Path
    redis_port: int
    pubsub_metadata: dict[str, str] = field(default_factory=dict)
    dapr_config: Path = DAPR_CONFIG  # the one-hop sidecars' Configuration (a part-2 candidate)

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def results_dir(self) -> Path:
        return self.run_dir / "arrivals"

    @property
    def env(self) -> dict[str, str]:
        """What every consumer process is given: imports, where to record, the broker and
        its password (in the environment, not in a process's arguments)."""
        return {"PYTHONPATH": f"{ROOT}:{ROOT / 'apps'}", "BENCH_RESULTS_DIR": str(self.results_dir),
                "BENCH_REDIS_PASSWORD": REDIS_PASSWORD,
                "BENCH_CELERY_BROKER": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{self.redis_port}/0"}


@dataclass
class Running:
    sender: Sender
    processes: dict[str, int]  # name -> PID, whose memory is sampled


Start = Callable[[Setting, Redis], AbstractAsyncContextManager[Running]]


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    start: Start


# --- raw Redis Streams: redis-py, one XADD a round trip or a pipeline of them ---

class RedisStreamsSender:
    window = 1  # a blocking client

    def __init__(self, port: int, stream: str, batch: int) -> None:
        self._client = redis_client(port)
        self._stream = stream
        self.batch = batch

    async def send(self, bodies: list[bytes]) -> None:
        if len(bodies) == 1:
            self._client.xadd(self._stream, {"data": bodies[0]})
            return
        pipeline = self._client.pipeline(transaction=False)
        for body in bodies:
            pipeline.xadd(self._stream, {"data": body})
        pipeline.execute()

    async def close(self) -> None:
        self._client.close()


@asynccontextmanager
async def redis_streams(setting: Setting, redis_server: Redis, batch: int) -> AsyncIterator[Running]:
    stream = f"bench-streams-{batch}"
    consumer = Process(
        f"redis-consumer-{batch}",
        [sys.executable, "-m", "bench.onehop.redis_consumer", stream, "--count", str(batch),
         "--port", str(redis_server.port)],
        setting.log_dir, env=setting.env, cwd=ROOT,
    )
    sender = RedisStreamsSender(redis_server.port, stream, batch)
    try:
        yield Running(sender, {"consumer (python)": consumer.pid})
    finally:
        await sender.close()
        consumer.stop()


# --- Celery on the Redis broker: task.delay(), one worker ---

class CelerySender:
    batch = window = 1  # delay() sends one task and blocks until the broker has it

    def __init__(self, broker: str) -> None:
        from bench.onehop import celery_probe  # Celery is only imported when it races

        celery_probe.app.conf.broker_url = broker
        self._task = celery_probe.probe

    async def send(self, bodies: list[bytes]) -> None:
        self._task.delay(bodies[0].decode())

    async def close(self) -> None:
        return None


@asynccontextmanager
async def celery(setting: Setting, redis_server: Redis) -> AsyncIterator[Running]:
    worker = Process(
        "celery-worker",
        [sys.executable, "-m", "celery", "-A", "bench.onehop.celery_probe", "worker", "--pool", "solo",
         "--loglevel", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        setting.log_dir, env=setting.env, cwd=ROOT,
    )
    try:
        yield Running(CelerySender(setting.env["BENCH_CELERY_BROKER"]), {"celery worker": worker.pid})
    finally:
        worker.stop()


# --- eda-shop's path: publisher -> its sidecar -> Redis -> sidecar -> FastAPI subscriber ---

class DaprHttpSender:
    batch, window = 1, WINDOW

    def __init__(self, port: int) -> None:
        self._url = f"http://127.0.0.1:{port}/v1.0/publish/{PUBSUB}/{SINGLE_TOPIC}"
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=WINDOW))

    async def send(self, bodies: list[bytes]) -> None:
        headers = {"Content-Type": "application/json"}
        async with self._session.post(self._url, data=bodies[0], headers=headers) as response:
            if response.status != 204:
                raise RuntimeError(f"publish answered {response.status}: {await response.text()}")

    async def close(self) -> None:
        await self._session.close()


class DaprGrpcSender:
    """The Python SDK's aio client, as eda-shop's apps hold it: one for the app's life."""

    def __init__(self, port: int, bulk: bool) -> None:
        # The client first waits for its sidecar on the HTTP port the SDK read from
        # DAPR_HTTP_PORT; this process is the publisher app, so it is the publisher's.
        dapr_settings.DAPR_HTTP_PORT = PUBLISHER_PORTS.dapr_http
        self._client = DaprClient(address=f"127.0.0.1:{port}")
        self.batch, self.window = (BULK_SIZE, BULK_WINDOW) if bulk else (1, WINDOW)

    async def send(self, bodies: list[bytes]) -> None:
        if self.batch == 1:
            await self._client.publish_event(PUBSUB, SINGLE_TOPIC, bodies[0], data_content_type="application/json")
            return
        answer = await self._client.publish_events(PUBSUB, BULK_TOPIC, bodies, data_content_type="application/json")
        if answer.failed_entries:
            raise RuntimeError(f"bulk publish lost {len(answer.failed_entries)}: {answer.failed_entries[0].error}")

    async def close(self) -> None:
        await self._client.close()


def subscriber_command(setting: Setting) -> list[str]:
    """uvicorn as dapr.yaml runs the apps: on uvloop and httptools, which it picks up
    on its own from the apps' dependencies (requirements.in)."""
    return [sys.executable, "-m", "uvicorn", "--factory", "bench.onehop.subscriber:create_app",
            "--host", "127.0.0.1", "--port", str(SUBSCRIBER_PORTS.app), "--no-access-log",
            "--timeout-keep-alive", "120"]


@asynccontextmanager
async def dapr(setting: Setting, redis_server: Redis, make_sender: Callable[[], Sender]) -> AsyncIterator[Running]:
    resources = one_hop_resources(setting.run_dir / "components", (PUBLISHER, SUBSCRIBER), setting.pubsub_metadata)
    started: list[Process] = []
    try:
        started.append(Process(SUBSCRIBER, subscriber_command(setting), setting.log_dir, env=setting.env, cwd=ROOT))
        for app_id, ports, app_port in ((SUBSCRIBER, SUBSCRIBER_PORTS, SUBSCRIBER_PORTS.app),
                                        (PUBLISHER, PUBLISHER_PORTS, None)):
            started.append(
                sidecar(app_id, ports, resources, setting.dapr_config, setting.log_dir, redis_server.port, app_port)
            )
        for process, ports in zip(started[1:], (SUBSCRIBER_PORTS, PUBLISHER_PORTS), strict=True):
            process.wait_ready(lambda p=ports: http_status(f"http://127.0.0.1:{p.dapr_http}/v1.0/healthz") == 204,
                               START_TIMEOUT)
        sender = make_sender()
        try:
            yield Running(sender, {process.name: process.pid for process in started})
        finally:
            await sender.close()
    finally:
        for process in reversed(started):
            process.stop()


CONTENDERS = (
    Contender("redis", "Redis Streams, 1 XADD per round trip", partial(redis_streams, batch=1)),
    Contender("redis-batched", f"Redis Streams, pipelined x{BULK_SIZE}", partial(redis_streams, batch=BULK_SIZE)),
    Contender("celery", "Celery task.delay(), 1 worker", celery),
    Contender("dapr-http", "Dapr HTTP publish",
              partial(dapr, make_sender=lambda: DaprHttpSender(PUBLISHER_PORTS.dapr_http))),
    Contender("dapr-grpc", "Dapr gRPC publish (SDK aio)",
              partial(dapr, make_sender=lambda: DaprGrpcSender(PUBLISHER_PORTS.dapr_grpc, bulk=False))),
    Contender("dapr-bulk", f"Dapr bulk publish x{BULK_SIZE} + bulk subscribe",
              partial(dapr, make_sender=lambda: DaprGrpcSender(PUBLISHER_PORTS.dapr_grpc, bulk=True))),
)
