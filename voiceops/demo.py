"""`make demo`: a reminder campaign placed through the sandbox, with the admin to look at.

On a machine with no services it runs on SQLite with a filesystem broker; with
DATABASE_URL and REDIS_URL set it uses those. It starts the sandbox (Twilio and OpenAI
stand-ins), the web server (uvicorn, `voiceops.web`), a Celery worker and Celery beat; seeds an
organisation, an agent and a campaign of a dozen contacts across personas, states and time
zones; launches it; shows progress; prints each call's outcome and cost; and leaves the
admin running. Ctrl-C stops everything it started. The admin's address and login are
printed as soon as the web server answers, so it can be watched while the calls are made.

    python -m voiceops.demo            # the demo, left running (`make demo`)
    python -m voiceops.demo --exit     # run the campaigns to their report, stop, exit 0
    python -m voiceops.demo --quick    # two reminder contacts instead of thirteen

`DEMO_PORT` (default 8000) is the web server's port.

The demo runs on a simulated clock: a weekday afternoon in US time (see
`sandbox.timeshift`), so its calls are lawful whenever you run it.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import holidays

from voiceops.web import web_server_arguments

ROOT = Path(__file__).resolve().parent.parent
ADMIN_USER = "admin"
ADMIN_PASSWORD = "voiceops-demo"
SANDBOX_NUMBER = "+12025550100"


def simulated_start(now: datetime) -> datetime:
    """The next Tuesday that is no US holiday, at 13:59:20 Eastern (18:59:20 UTC in winter):
    every mainland zone is open, and Hawaii opens a minute and a half later."""
    us_holidays = holidays.country_holidays("US", years=range(now.year, now.year + 2))
    day = now.date() + timedelta(days=1)
    while day.weekday() != 1 or day in us_holidays:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 18, 59, 20, tzinfo=UTC)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Demo:
    def __init__(self, port: int):
        self.port = port
        self.offset = (simulated_start(datetime.now(UTC)) - datetime.now(UTC)).total_seconds()
        self.env = dict(os.environ)
        self.env.setdefault("DEBUG", "1")
        self.env.setdefault(
            "SECRET_KEY", "demo-only-secret-key-not-for-production-0123456789abcdef"
        )
        self.env.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
        self.env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
        self.env.setdefault("VOICEOPS_VAR_DIR", str(ROOT / "var"))
        self.env["PYTHONUNBUFFERED"] = "1"
        self.var = Path(self.env["VOICEOPS_VAR_DIR"])
        self.logs = self.var / "log"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, subprocess.Popen] = {}

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def python(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "sandbox.timeshift", str(self.offset), "-m", *args]

    def run(self, *args: str) -> str:
        done = subprocess.run(
            self.python(*args), cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"`{' '.join(args)}` failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        process = subprocess.Popen(
            self.python(*args), cwd=ROOT, env=self.env, stdout=subprocess.PIPE if name == "sandbox" else log,
            stderr=log if name == "sandbox" else subprocess.STDOUT,
        )  # fmt: skip
        self.processes[name] = process
        return process

    def start_sandbox(self) -> None:
        sandbox = self.start(
            "sandbox", "sandbox", "--json", "--calls-per-second", "5",
            "--number", f"{SANDBOX_NUMBER}={self.env['PUBLIC_BASE_URL']}/twilio/voice",
            "--recordings", str(self.var / "recordings"),
        )  # fmt: skip
        line = sandbox.stdout.readline()
        if not line:
            raise SystemExit(f"The sandbox did not start; see {self.logs}/sandbox.log")
        self.env.update({key: str(value) for key, value in json.loads(line).items()})

    def start_product(self) -> None:
        self.start("web", *web_server_arguments(host="127.0.0.1", port=self.port))
        self.start(
            "worker", "celery", "-A", "voiceops", "worker", "-Q", "default,dial,postcall",
            "--pool", "threads", "--concurrency", "8", "--loglevel", "INFO",
        )  # fmt: skip
        # Beat remembers when each job last ran; the simulated clock starts at the same
        # instant every run, so an old schedule would hold the jobs back. Start afresh.
        for old in self.var.glob("beat-schedule*"):
            old.unlink()
        self.start(
            "beat", "celery", "-A", "voiceops", "beat", "--loglevel", "INFO",
            "-s", str(self.var / "beat-schedule"),
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while port_is_free(self.port):
            self.check_alive()
            if time.monotonic() > deadline:
                raise SystemExit(f"The web server did not start; see {self.logs}/web.log")
            time.sleep(0.2)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise SystemExit(
                    f"The {name} process stopped (exit {process.returncode}); see {self.logs}/{name}.log"
                )

    def stop(self, *_) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        raise SystemExit(0)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m voiceops.demo", description=__doc__)
    parser.add_argument(
        "--exit",
        action="store_true",
        help="run the campaigns to their report, then stop everything and exit",
    )
    parser.add_argument(
        "--quick", action="store_true", help="call two reminder contacts instead of thirteen"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    options = arguments(argv)
    port = int(os.environ.get("DEMO_PORT", "8000"))
    if not port_is_free(port):
        raise SystemExit(f"Port {port} is in use; stop what uses it or set DEMO_PORT=<free port>.")
    demo = Demo(port)
    signal.signal(signal.SIGTERM, demo.stop)
    signal.signal(signal.SIGINT, demo.stop)
    print(f"Simulated clock: {demo.now():%A %d %B %Y, %H:%M} UTC (a weekday afternoon in the US).")
    print("Preparing the database…", flush=True)
    demo.run("django", "migrate", "--no-input", "-v", "0")
    demo.run(
        "django", "shell", "--no-imports", "-c",
        "from django.contrib.auth.models import User\n"
        f"user, _ = User.objects.get_or_create(username={ADMIN_USER!r}, "
        "defaults={'is_staff': True, 'is_superuser': True})\n"
        f"user.set_password({ADMIN_PASSWORD!r}); user.save()\n",
    )  # fmt: skip
    print(
        "Starting the sandbox (Twilio and OpenAI stand-ins), web server, worker and beat…",
        flush=True,
    )
    demo.start_sandbox()
    demo.start_product()
    print(
        f"\nThe admin is up: http://127.0.0.1:{port}/admin/ "
        f"(login {ADMIN_USER} / {ADMIN_PASSWORD}); the campaigns start now.\n",
        flush=True,
    )
    seed_arguments = ["voiceops.demo_seed", *(["--quick"] if options.quick else [])]
    campaign_id, survey_campaign_id = map(int, demo.run(*seed_arguments).split())

    from voiceops.demo_report import watch

    os.environ.update(demo.env)
    watch(
        campaign_ids=[campaign_id, survey_campaign_id], now=demo.now, check_alive=demo.check_alive
    )
    base = f"http://127.0.0.1:{port}/admin/campaigns"
    print(
        f"\nVoiceOps {'ran' if options.exit else 'is running'}.\n"
        f"  Admin:      http://127.0.0.1:{port}/admin/\n"
        f"  Login:      {ADMIN_USER} / {ADMIN_PASSWORD}\n"
        f"  Campaign:   {base}/campaign/{campaign_id}/change/\n"
        f"  Survey:     {base}/campaign/{survey_campaign_id}/change/\n"
        f"  Recordings: {demo.var / 'recordings'}\n"
        f"  Logs:       {demo.logs}/",
        flush=True,
    )
    if options.exit:
        demo.stop()  # exits 0 once every process has stopped
    print("Press Ctrl-C to stop.", flush=True)
    while True:
        demo.check_alive()
        time.sleep(1)


if __name__ == "__main__":
    main()
