"""A private Redis and apps with real daprd sidecars, as the integration tier runs them.

Every port is pinned (and differs from `make run`'s), so the two can run side by side.
"""

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from tests.support.credentials import REDIS_PASSWORD, redis_config, sidecar_env
from tests.support.processes import Process

ROOT = Path(__file__).resolve().parents[2]
DAPRD = Path.home() / ".dapr" / "bin" / "daprd"
DAPR_CONFIG = ROOT / "dapr-config" / "config.yaml"
# Every app, as dapr.yaml lists them.
RUN = yaml.safe_load((ROOT / "dapr.yaml").read_text())
RUN_APPS = RUN["apps"]
APP_IDS = tuple(app["appID"] for app in RUN_APPS)
# The Python apps: those dapr.yaml starts under uvicorn.
PYTHON_APPS = tuple(app["appID"] for app in RUN_APPS if app["command"][0] == "uvicorn")
START_TIMEOUT = 30.0
# The sidecars' request limit, as dapr.yaml sets it (tests/unit/test_wiring.py checks).
MAX_BODY_SIZE = "1Mi"
# How often and how patiently a sidecar asks its app's /healthz, as dapr.yaml sets it.
HEALTH_PROBE_INTERVAL_S = 1
HEALTH_PROBE_TIMEOUT_MS = 900
HEALTH_THRESHOLD = 5  # failures in a row
APP_MAX_CONCURRENCY = 16  # deliveries a sidecar has its app handle at once


def require_tool(path: str | Path, install: str) -> str:
    """The tool's path; a set-up failure naming what to run when it is missing."""
    found = shutil.which(str(path))
    if found is None:
        raise RuntimeError(f"{path} is missing: run `{install}`")
    return found


def start_redis(port: int, data_dir: Path, log_dir: Path) -> Process:
    """A private Redis behind the test process's password (tests/support/credentials.py),
    which it reads from its standard input; started again on the same folder, it
    reloads its AOF."""
    server = require_tool("redis-server", "make setup")
    data_dir.mkdir(parents=True, exist_ok=True)
    redis = Process(
        "redis",
        [server, "-", "--dir", str(data_dir), "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
        log_dir,
        stdin=redis_config(port),
    )
    redis.wait_ready(lambda: _redis_answers(port), START_TIMEOUT)
    return redis


def _redis_answers(port: int) -> bool:
    ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], check=False, capture_output=True, text=True,
                          env={**os.environ, "REDISCLI_AUTH": REDIS_PASSWORD})
    return ping.stdout.strip() == "PONG"


def app_command(app_id: str, port: int) -> list[str]:
    """How an app starts, as tools/setup.sh leaves it: the Go app's binary, the Node.js
    app with its packages installed, every other app as a Python app under uvicorn."""
    if app_id == "shipping":
        return [require_tool(ROOT / "apps" / "shipping" / "bin" / "shipping", "make setup")]
    if app_id == "notifications":
        if not (ROOT / "apps" / "notifications" / "node_modules").is_dir():
            raise RuntimeError("apps/notifications has no node_modules: run `make setup`")
        return [require_tool("node", "make setup"), "--max-old-space-size=64",
                str(ROOT / "apps" / "notifications" / "src" / "main.js")]
    return [str(ROOT / ".venv" / "bin" / "uvicorn"), "--app-dir", str(ROOT / "apps"), "--factory",
            f"{app_id}.app:create_app", "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
            "--timeout-keep-alive", "120"]


@dataclass(frozen=True)
class Ports:
    app: int
    dapr_http: int
    dapr_grpc: int
    metrics: int


class AppWithSidecar:
    """One app and its daprd, started together and stopped together.

    The app starts as `dapr.yaml` starts it (see `app_command`); `env` goes to both the
    app and its sidecar (for example DAPR_API_TOKEN), `sidecar_env` to the sidecar alone
    (what its components read); `resources` is the folder of components it loads, and
    `config` its Dapr Configuration.
    """

    def __init__(
        self, app_id: str, ports: Ports, redis_port: int, log_dir: Path,
        env: Mapping[str, str] | None = None, name: str | None = None,
        resources: Path = ROOT / "components", sidecar_env: Mapping[str, str] | None = None,
        config: Path = DAPR_CONFIG,
    ) -> None:
        self.app_id = app_id
        self.name = name or app_id  # a second replica of an app needs a name of its own
        self.ports = ports
        self.url = f"http://127.0.0.1:{ports.app}"
        self.dapr_url = f"http://127.0.0.1:{ports.dapr_http}"
        self._redis_port = redis_port
        self._log_dir = log_dir
        self._env = dict(env or {})
        self._resources = resources  # another broker or state store: tests/support/variants.py
        self._sidecar_env = dict(sidecar_env or {})
        self._config = config
        self.start()

    def start(self) -> None:
        self.start_app()
        self.start_sidecar()

    def start_app(self) -> None:
        """Start the app (again, after a crash); its log goes on in the same file."""
        ports, app_id = self.ports, self.app_id
        self.app = Process(
            self.name,
            app_command(app_id, ports.app),
            self._log_dir,
            env={"DAPR_GRPC_PORT": str(ports.dapr_grpc), "DAPR_HTTP_PORT": str(ports.dapr_http),
                 "APP_PORT": str(ports.app), **self._env},
        )

    def start_sidecar(self) -> None:
        """Start the sidecar (again, after a crash); its log goes on in the same file."""
        ports, app_id = self.ports, self.app_id
        self.sidecar = Process(
            f"{self.name}-daprd",
            [*daprd_command(app_id, ports, self._resources, self._config, app_port=ports.app),
             "--enable-app-health-check", "--app-health-check-path", "/healthz",
             "--app-health-probe-interval", str(HEALTH_PROBE_INTERVAL_S),
             "--app-health-probe-timeout", str(HEALTH_PROBE_TIMEOUT_MS),
             "--app-health-threshold", str(HEALTH_THRESHOLD),
             "--app-max-concurrency", str(APP_MAX_CONCURRENCY)],
            self._log_dir,
            env={**sidecar_environment(self._redis_port), **self._sidecar_env, **self._env},
        )

    def wait_ready(self) -> None:
        self.wait_sidecar_ready()
        self.wait_app_ready()

    def wait_sidecar_ready(self) -> None:
        self.sidecar.wait_ready(lambda: sidecar_answers(self.ports.dapr_http), START_TIMEOUT)

    def wait_app_ready(self) -> None:
        self.app.wait_ready(lambda: answers(f"{self.url}/healthz", 200), START_TIMEOUT)

    def check_alive(self) -> None:
        """Fail fast, with the logs, when the app or its sidecar has died."""
        for process in (self.app, self.sidecar):
            if not process.alive():
                raise RuntimeError(f"{process.name} died:\n{process.log_tail()}")

    def stop(self) -> None:
        self.sidecar.stop()
        self.app.stop()

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a sidecar metric over the series that carry `labels`."""
        text = requests.get(f"http://127.0.0.1:{self.ports.metrics}/metrics", timeout=5).text
        wanted = [f'{key}="{value}"' for key, value in labels.items()]
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name + "{") and all(label in line for label in wanted)
        )


def sidecar_alone(
    app_id: str, ports: Ports, redis_port: int, log_dir: Path, env: Mapping[str, str] | None = None,
) -> Process:
    """A daprd with no app behind it (`ports.app` is not used), ready: it publishes as the
    app `app_id` would, within that app's publishing scopes."""
    sidecar = Process(
        f"{app_id}-daprd-alone",
        daprd_command(app_id, ports),
        log_dir,
        env={**sidecar_environment(redis_port), **(env or {})},
    )
    sidecar.wait_ready(lambda: sidecar_answers(ports.dapr_http), START_TIMEOUT)
    return sidecar


def daprd_command(
    app_id: str, ports: Ports, resources: Path = ROOT / "components", config: Path = DAPR_CONFIG,
    log_level: str = "info", app_port: int | None = None,
) -> list[str]:
    """daprd as `dapr.yaml` runs it, its metrics on loopback too, which the CLI cannot ask
    for; pointed at an app over HTTP on `app_port`, if given."""
    app = ["--app-port", str(app_port), "--app-protocol", "http"] if app_port else []
    return [require_tool(DAPRD, "make setup"), "--app-id", app_id, "--dapr-listen-addresses", "127.0.0.1",
            "--dapr-http-port", str(ports.dapr_http), "--dapr-grpc-port", str(ports.dapr_grpc),
            "--metrics-listen-address", "127.0.0.1", "--metrics-port", str(ports.metrics),
            "--resources-path", str(resources),
            "--config", str(config), "--max-body-size", MAX_BODY_SIZE,
            "--placement-host-address", "", "--scheduler-host-address", "", "--log-level", log_level, *app]


def sidecar_environment(redis_port: int) -> dict[str, str]:
    """What every sidecar's components read: where Redis is, and the secrets file."""
    return {"REDIS_HOST": f"127.0.0.1:{redis_port}", **sidecar_env()}


def sidecar_answers(dapr_http: int) -> bool:
    """True once the sidecar whose HTTP API is on `dapr_http` answers its health check."""
    return answers(f"http://127.0.0.1:{dapr_http}/v1.0/healthz", 204)


def answers(url: str, status: int) -> bool:
    """True once `url` answers with `status`; False while nothing listens there."""
    try:
        return requests.get(url, timeout=1).status_code == status
    except requests.ConnectionError:
        return False
