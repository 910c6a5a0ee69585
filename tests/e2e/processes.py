"""Start Rose Ash apps as real processes on free ports of 127.0.0.1, for tests over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.infrastructure.devstack import free_port

APPS = ("blog", "market", "cart", "events", "federation", "account")


@dataclass
class AppProcesses:
    """A set of running apps sharing one database and one Redis; each app's log is a file in ``log_dir``."""

    database_url: str
    redis_url: str
    log_dir: Path
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ports = {name: free_port() for name in APPS}

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    def environ(self) -> dict[str, str]:
        environ = {**os.environ, "ROSE_ASH_ENV": "test", "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url}
        for name, url in self.urls.items():
            environ[f"{name.upper()}_PUBLIC_URL"] = url
            environ[f"{name.upper()}_INTERNAL_URL"] = url
        return environ

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, *names: str) -> None:
        for name in names or APPS:
            with open(self.log_path(name), "ab") as log:
                self.processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "shared.infrastructure.cli", "serve", name, "--port", str(self.ports[name])],
                    env=self.environ(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
        for name in names or APPS:
            self.wait_healthy(name)

    def wait_healthy(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log_path(name).read_text()}")
            try:
                if httpx.get(f"{self.urls[name]}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become healthy at {self.urls[name]}: {self.log_path(name).read_text()}")

    def stop(self, *names: str) -> None:
        chosen = [name for name in (names or tuple(self.processes)) if name in self.processes]
        for name in chosen:
            self.processes[name].terminate()
        for name in chosen:
            process = self.processes.pop(name)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
