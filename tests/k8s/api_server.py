"""A private Kubernetes API server: etcd and kube-apiserver, built at the pinned
release, on loopback ports of their own with their data in a temporary folder, started
for the session and stopped by PID. No controllers, scheduler or nodes run, so nothing
is ever scheduled: it is there for admission and validation, through dry runs."""

import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import yaml

from tests.k8s.tools import binary, run
from tests.support.processes import Process

STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ApiServer:
    def __init__(self, port: int, token: str, workdir: Path) -> None:
        self.url, self.token = f"https://127.0.0.1:{port}", token
        # Self-signed by the server on its first start.
        self.certificate = workdir / "certs" / "apiserver.crt"
        self.kubeconfig = workdir / "kubeconfig"
        cluster = {"server": self.url, "certificate-authority": str(self.certificate)}
        self.kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "private",
            "clusters": [{"name": "private", "cluster": cluster}],
            "users": [{"name": "admin", "user": {"token": token}}],
            "contexts": [{"name": "private", "context": {"cluster": "private", "user": "admin"}}],
        }))

    @property
    def env(self) -> dict[str, str]:
        """What a shell needs to reach this server, with the pinned kubectl first on PATH."""
        return {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "PATH": f"{binary('kubectl').parent}{os.pathsep}{os.environ['PATH']}",
        }

    def ready(self) -> bool:
        if not self.certificate.exists():
            return False
        try:
            answer = requests.get(
                f"{self.url}/readyz", headers={"Authorization": f"Bearer {self.token}"},
                verify=str(self.certificate), timeout=2,
            )
        except requests.RequestException:
            return False
        return answer.status_code == 200

    def kubectl(
        self, *args: str | Path, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """kubectl against this server; the caller judges the exit code and the output."""
        return subprocess.run(
            [str(binary("kubectl")), *map(str, args)],
            check=False, capture_output=True, text=True, input=stdin, env=self.env, timeout=120,
        )


def etcd_argv(data: Path, client: int, peer: int) -> Sequence[str | Path]:
    return [
        binary("etcd"), "--data-dir", data, "--log-level", "warn",
        "--listen-client-urls", f"http://127.0.0.1:{client}",
        "--advertise-client-urls", f"http://127.0.0.1:{client}",
        "--listen-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-cluster", f"default=http://127.0.0.1:{peer}",
        # Throwaway data: no need to wait for the disk.
        "--unsafe-no-fsync",
    ]


def apiserver_argv(workdir: Path, etcd: int, port: int) -> Sequence[str | Path]:
    key = workdir / "service-account.key"
    return [
        binary("kube-apiserver"), "--etcd-servers", f"http://127.0.0.1:{etcd}",
        "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
        "--secure-port", str(port),
        # It refuses to publish a loopback address as the `kubernetes` Service's endpoint.
        "--endpoint-reconciler-type", "none",
        "--cert-dir", workdir / "certs", "--token-auth-file", workdir / "tokens.csv",
        "--authorization-mode", "RBAC",
        "--service-account-issuer", "https://kubernetes.default.svc",
        "--service-account-key-file", key, "--service-account-signing-key-file", key,
    ]


@contextmanager
def api_server(workdir: Path, logs: Path) -> Iterator[ApiServer]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl makes the service-account key: run 'sudo apt-get install -y openssl'")
    run([openssl, "genrsa", "-out", workdir / "service-account.key", "2048"])
    token = secrets.token_hex(16)
    (workdir / "tokens.csv").write_text(f"{token},admin,admin,system:masters\n")
    etcd_client, etcd_peer, port = free_port(), free_port(), free_port()
    server = ApiServer(port, token, workdir)
    etcd = Process("etcd", etcd_argv(workdir / "etcd", etcd_client, etcd_peer), logs)
    apiserver = None
    try:
        apiserver = Process("kube-apiserver", apiserver_argv(workdir, etcd_client, port), logs)
        apiserver.wait_ready(server.ready, STARTUP_TIMEOUT)
        yield server
    finally:
        # The API server first: while it shuts down it still writes to etcd.
        if apiserver is not None:
            apiserver.stop()
        etcd.stop()


def install_crds(server: ApiServer, folder: Path) -> None:
    for args in (
        ["apply", "--server-side", "-f", folder],
        ["wait", "--for", "condition=established", "crd", "--all", "--timeout", "60s"],
    ):
        done = server.kubectl(*args)
        assert done.returncode == 0, done.stderr
