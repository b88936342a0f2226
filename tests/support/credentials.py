"""Redis's password for the Redis servers and sidecars a test process starts.

One password per test process, in one secrets file that every sidecar's secret store
reads (components/secretstore.yaml, by SECRETS_FILE) and that no other process can
read; `make run` keeps its own in .run/secrets.json. Redis is given it on its standard
input, never in its arguments.
"""

import functools
import json
import os
import secrets
import tempfile
from pathlib import Path

import redis

REDIS_PASSWORD = secrets.token_hex(32)


@functools.cache
def secrets_file() -> Path:
    """The secrets file of this test process, made (mode 600) on first use."""
    path = Path(tempfile.mkdtemp(prefix="eda-shop-secrets-")) / "secrets.json"
    write_secrets(path, REDIS_PASSWORD)
    return path


def write_secrets(path: Path, redis_password: str) -> None:
    """A secrets file as the local secret store reads it, readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"redis": {"password": redis_password}}, file)


def read_redis_password(path: Path) -> str:
    return json.loads(path.read_text())["redis"]["password"]


def sidecar_env() -> dict[str, str]:
    """What a sidecar needs in its environment to read the secrets."""
    return {"SECRETS_FILE": str(secrets_file())}


def redis_config(port: int, password: str = REDIS_PASSWORD) -> str:
    """The start of a Redis configuration, for `redis-server -` on its standard input."""
    return f"port {port}\nbind 127.0.0.1\nrequirepass {password}\n"


def redis_client(port: int, password: str = REDIS_PASSWORD, **options: object) -> redis.Redis:
    return redis.Redis(port=port, password=password, **options)  # type: ignore[arg-type]
