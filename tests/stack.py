"""The running product for integration tests: the web process (uvicorn), a Celery worker and beat, as separate
processes against the test database and Redis, talking to the sandbox."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

from voiceops.celery import app as celery_app
from voiceops.web import web_server_arguments

ROOT = Path(__file__).resolve().parent.parent

# A Tuesday afternoon in every mainland US zone: 14:00 ET, 11:00 PT.
LAWFUL_INSTANT = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)


def finished_calls(campaign, count: int, *, analysed: bool = False) -> list | None:
    """The campaign's calls once `count` of them are priced and have settled their targets
    (the worker prices a call and settles its target in two tasks, in either order) and, with
    `analysed`, none of those still awaits its analysis; None until then (for `wait_until`)."""
    from calls.analysis import calls_awaiting_analysis
    from calls.models import Call

    calls = list(
        Call.objects.filter(
            target__campaign=campaign, priced_at__isnull=False, settled_at__isnull=False
        )
    )
    if len(calls) < count:
        return None
    if analysed and calls_awaiting_analysis().filter(pk__in=[call.pk for call in calls]).exists():
        return None
    return calls


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Stack:
    def __init__(
        self, *, carrier, model, offset: float, log_dir: Path, worker_pool: str = "threads"
    ):
        self.worker_pool = worker_pool
        self.port = free_port()
        self.public_base_url = f"http://127.0.0.1:{self.port}"
        self.offset = offset
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "PUBLIC_BASE_URL": self.public_base_url,
            "TWILIO_ACCOUNT_SID": carrier.account_sid,
            "TWILIO_AUTH_TOKEN": carrier.auth_token,
            "TWILIO_API_URL": carrier.base_url,
            "OPENAI_API_KEY": model.api_key,
            "OPENAI_BASE_URL": model.openai_base_url,
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        }

    def _start(self, name: str, module_args: list[str]) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "sandbox.timeshift", str(self.offset), "-m", *module_args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches its pool's children
        )

    def start(self, *, beat: bool = True, worker: bool = True) -> "Stack":
        """Start the web process, and unless told otherwise the worker and beat (a web
        process alone serves browser tests that need WebSockets, and acts on nothing)."""
        celery_app.control.purge()  # no task left over from an earlier test or run
        self._start("web", web_server_arguments(host="127.0.0.1", port=self.port))
        if worker:
            self.start_worker()
        if beat and worker:
            self._start(
                "beat",
                ["celery", "-A", "voiceops", "beat", "--loglevel", "INFO",
                 "-s", str(self.log_dir / "beat-schedule")],
            )  # fmt: skip
        self._wait_for_web(seconds=60)
        return self

    def start_worker(self) -> None:
        self._start(
            "worker",
            ["celery", "-A", "voiceops", "worker", "-Q", "default,dial,postcall",
             "--pool", self.worker_pool, "--concurrency", "8", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--hostname", f"stack-{os.getpid()}@%h"],
        )  # fmt: skip

    def restart_worker(self, *, pool: str) -> None:
        """Stop the worker gracefully and start it again with the given pool."""
        worker = self.processes.pop("worker")
        worker.terminate()
        worker.wait(timeout=60)
        self.worker_pool = pool
        self.start_worker()

    def kill_worker(self) -> None:
        """kill -9 the worker and its pool, as when its machine or container dies."""
        worker = self.processes.pop("worker")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()

    def log_count(self, name: str, text: str) -> int:
        """How many lines of a process's log (across its restarts) contain `text`."""
        log = self.log_dir / f"{name}.log"
        return sum(text in line for line in log.read_text(errors="replace").splitlines())

    def _wait_for_web(self, *, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            self.check_alive()
            time.sleep(0.2)
        raise RuntimeError(
            f"the web process did not listen on {self.port}; see {self.log_dir}/web.log"
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"The {name} process exited ({process.returncode}):\n{log}")

    def quiesce(self, *, seconds: float = 120) -> None:
        """Stop every campaign and wait until no call is live and every ended call is priced
        and, if answered, analysed (or its analysis error recorded)."""
        from calls.analysis import calls_awaiting_analysis
        from calls.models import Call, CallStatus
        from campaigns.models import Campaign
        from campaigns.scheduling import ACTIVE_CALL_STATUSES

        Campaign.objects.filter(status=Campaign.Status.RUNNING).update(
            status=Campaign.Status.PAUSED
        )
        Call.objects.filter(status=CallStatus.QUEUED).update(status=CallStatus.CANCELED)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            busy = (
                Call.objects.filter(status__in=ACTIVE_CALL_STATUSES).exists()
                or Call.objects.filter(ended_at__isnull=False, priced_at__isnull=True).exists()
                or calls_awaiting_analysis().exists()
            )
            if not busy:
                time.sleep(1)  # the worker's last writes (target settled) land
                return
            time.sleep(0.5)
        raise RuntimeError("The stack did not go quiet after the test.")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
