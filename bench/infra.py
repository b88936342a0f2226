"""What the benchmark runs on: a private Redis, daprd sidecars for the one-hop apps, and
the size of a running process. Processes are tests/support's: logged to a file each,
stopped by their own PID."""

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

import redis
import requests
import yaml

from tests.support.credentials import redis_client, secrets_file
from tests.support.processes import Process
from tests.support.sidecars import Ports, daprd_command, sidecar_environment

ROOT = Path(__file__).resolve().parents[1]
DAPR_CONFIG = ROOT / "dapr-config" / "config.yaml"
REDIS_TOOL = ROOT / "tools" / "redis.sh"


class Redis:
    """A private Redis started afresh (its data folder emptied) by tools/redis.sh, with the
    durability and the password `make run` has: AOF on, `appendfsync everysec`, the
    password from the bench's secrets file (tests/support/credentials.py). Every
    contender gets one."""

    def __init__(self, port: int, data_dir: Path) -> None:
        self.port = port
        self._dir = data_dir = data_dir.resolve()  # redis-server --daemonize changes its directory
        if _answers(port):
            raise RuntimeError(f"something already serves 127.0.0.1:{port}: stop it, or pass another --redis-port")
        shutil.rmtree(data_dir, ignore_errors=True)
        started = subprocess.run(
            [str(REDIS_TOOL), "start", str(port), str(data_dir)], capture_output=True, text=True, check=False,
            env={**os.environ, "SECRETS_FILE": str(secrets_file())},
        )
        if started.returncode != 0:
            raise RuntimeError(f"tools/redis.sh could not start Redis on {port}: {started.stdout}{started.stderr}")
        self.client = redis_client(port)

    @property
    def pid(self) -> int:
        return int((self._dir / "redis.pid").read_text())

    def durability(self) -> str:
        config = {**self.client.config_get("appendonly"), **self.client.config_get("appendfsync")}
        return f"appendonly {config['appendonly']}, appendfsync {config['appendfsync']}"

    def stop(self) -> None:
        self.client.close()
        subprocess.run([str(REDIS_TOOL), "stop", str(self._dir)], check=True)


def _answers(port: int) -> bool:
    try:
        return bool(redis_client(port, socket_connect_timeout=0.5).ping())
    except redis.AuthenticationError:
        return True  # a Redis behind another password
    except redis.ConnectionError:
        return False


def one_hop_resources(out_dir: Path, app_ids: Iterable[str], pubsub_metadata: Mapping[str, str]) -> Path:
    """eda-shop's own pubsub, resiliency and secret store components, scoped to the bench's
    app-ids (with `pubsub_metadata` on top, to measure a setting), and the bench's
    subscriptions. The bench's topics are none of the shop's, which pubsub's publishing
    and subscription scopes leave open to app-ids they do not name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("pubsub.yaml", "resiliency.yaml", "secretstore.yaml"):
        component = yaml.safe_load((ROOT / "components" / name).read_text())
        component["scopes"] = list(app_ids)
        if name == "pubsub.yaml":
            metadata = {item["name"]: item for item in component["spec"]["metadata"]}
            metadata.update({key: {"name": key, "value": value} for key, value in pubsub_metadata.items()})
            component["spec"]["metadata"] = list(metadata.values())
        (out_dir / name).write_text(yaml.safe_dump(component, sort_keys=False))
    shutil.copy(Path(__file__).with_name("components") / "subscriptions.yaml", out_dir)
    return out_dir


def sidecar(
    app_id: str, ports: Ports, resources: Path, config: Path, log_dir: Path, redis_port: int, app_port: int | None
) -> Process:
    """A daprd as eda-shop's sidecars run (tests/support/sidecars.py), on the bench's
    resources and the given Configuration, logging warnings only; with no `app_port` it
    serves an app that only publishes."""
    return Process(
        f"{app_id}-daprd",
        daprd_command(app_id, ports, resources, config, log_level="warn", app_port=app_port),
        log_dir,
        env=sidecar_environment(redis_port),
    )


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """Resident memory of a process in MB (MiB), or None once it has gone. `RssAnon` is
    its private part: a daprd's RSS is mostly its 130 MB binary's pages, which every
    daprd on the machine shares."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return None


def http_status(url: str) -> int | None:
    """The status a GET answers, or None while nothing listens."""
    try:
        return requests.get(url, timeout=1).status_code
    except requests.ConnectionError:
        return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, or None once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    # utime and stime: fields 14 and 15 of stat(5), counted after the command's ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
