"""Processes the tests start: each logs to its own file, is watched for an early death,
and is stopped by its own PID, never by name."""

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

STOP_TIMEOUT = 10.0


class Process:
    def __init__(
        self, name: str, argv: Sequence[str], log_dir: Path,
        env: Mapping[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None,
    ) -> None:
        """`stdin`, when given, is written to the process's standard input, which is then
        closed: a way to hand it a secret that must not show in its arguments."""
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")  # a restarted process keeps its earlier log
        # Every signal at its default, as from a terminal: a shell starts a background job
        # (pytest among them) with SIGINT ignored, an ignored signal stays ignored across
        # exec, and a script cannot trap what it inherited ignored (Ctrl-C on `make run`).
        self._popen = subprocess.Popen(
            ["env", "--default-signal", *argv], stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True,
        )
        if stdin is not None:
            assert self._popen.stdin is not None
            self._popen.stdin.write(stdin.encode())
            self._popen.stdin.close()

    @property
    def pid(self) -> int:
        return self._popen.pid

    def alive(self) -> bool:
        return self._popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, ready: Callable[[], bool], timeout: float) -> None:
        """Wait until `ready()`; fail at once, with the log, if the process has died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self._popen.returncode}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL, as a crash: no chance to clean up; only this process, by its PID."""
        if self.alive():
            self._popen.kill()
            self._popen.wait()
        self._log.close()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; only this process, by its PID."""
        if self.alive():
            self._popen.send_signal(signal.SIGTERM)
            try:
                self._popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
        self._log.close()
