"""Private PostgreSQL and Redis servers for the fault suite, which stops and restarts them.

Loaded as a pytest plugin (`-p tests.faults.services`, see the Makefile's `test-faults`)
before Django reads its settings: it starts a throwaway PostgreSQL cluster and a Redis
server on free ports and points `DATABASE_URL` and `REDIS_URL` at them, so the shared
servers other test runs use are never touched.
"""

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

RUN_AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else (shutil.which(name) or name)


class PrivatePostgres:
    """A PostgreSQL cluster of its own, in a temporary directory, on a free port."""

    def __init__(self, root: Path):
        self.port = free_port()
        self.data = root / "postgres"
        self.log = root / "postgres.log"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/voiceops"

    def _run(self, *args: str) -> None:
        subprocess.run([*RUN_AS_POSTGRES, *args], check=True, capture_output=True, timeout=120)

    def create(self) -> None:
        self._run(
            _postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} "
            # Commits are durable as in production (an immediate stop loses no committed
            # row); skipping fsync only stops the machine's disk from being a bottleneck.
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            _postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop at once, cutting every client off, as a crashed or restarted server does."""
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")


class PrivateRedis:
    """A Redis server of its own on a free port. It keeps an append-only file, as a
    production broker does, so a restart loses no queued message."""

    def __init__(self, root: Path):
        self.port = free_port()
        self.dir = root / "redis"
        self.dir.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.dir), "--save", "", "--appendonly", "yes", "--appendfsync", "always",
             "--logfile", str(self.dir / "redis.log")],
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            )
            if probe.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not start; see {self.dir / 'redis.log'}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Redis writes its append-only file and exits
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()


class PrivateServices:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="voiceops-faults-"))
        self.root.chmod(0o777)  # initdb runs as the postgres user
        self.postgres = PrivatePostgres(self.root)
        self.redis = PrivateRedis(self.root)

    def start(self) -> "PrivateServices":
        self.postgres.create()
        self.redis.start()
        return self

    def stop(self) -> None:
        self.redis.stop()
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.postgres.stop()
        shutil.rmtree(self.root, ignore_errors=True)


services = PrivateServices().start()
atexit.register(services.stop)
os.environ["DATABASE_URL"] = services.postgres.url
os.environ["REDIS_URL"] = services.redis.url
os.environ["VOICEOPS_PRIVATE_SERVICES"] = "1"
