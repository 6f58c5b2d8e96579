"""A real ``sift serve`` process on loopback, for crash-safety and concurrency tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import REPO
from tests.test_cli import _free_port


class ServerProcess:
    """``python -m api.cli serve`` on a free loopback port, with the embedded store in ``data_dir``."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "SIFT_DATA_DIR": str(data_dir),
                    "SIFT_PORT": str(self.port), "SIFT_LOG_LEVEL": "warning", "SIFT_RERANK_ENGINE": "none",
                    **env}
        self.env.pop("SIFT_QDRANT_URL", None)
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120) -> ServerProcess:
        """Start it and wait until ``/readyz`` answers 200."""
        self.process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], env=self.env, cwd=REPO,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"sift serve exited with {self.process.returncode} while starting")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise AssertionError("sift serve did not become ready")

    def wait_for_exit(self, timeout_s: float = 60) -> int:
        """The exit status (negative: the signal that ended it)."""
        assert self.process is not None
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    def __enter__(self) -> ServerProcess:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.kill()
