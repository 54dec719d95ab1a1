"""`make demo`: run VoiceOps on one machine with no services to install.

Starts the web server (daphne), a Celery worker and Celery beat, on SQLite with a
filesystem broker unless DATABASE_URL and REDIS_URL are set, and prints where the admin is
and how to log in. Ctrl-C stops everything it started.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_USER = "admin"
ADMIN_PASSWORD = "voiceops-demo"


def demo_environment(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("SECRET_KEY", "demo-only-secret-key-not-for-production-0123456789abcdef")
    env.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    env.setdefault("VOICEOPS_VAR_DIR", str(ROOT / "var"))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def ensure_admin(env: dict[str, str]) -> None:
    script = (
        "from django.contrib.auth.models import User\n"
        f"user, _ = User.objects.get_or_create(username={ADMIN_USER!r}, "
        "defaults={'is_staff': True, 'is_superuser': True})\n"
        f"user.set_password({ADMIN_PASSWORD!r}); user.save()\n"
    )
    manage(env, "shell", "--no-imports", "-c", script)


def start(env: dict[str, str], name: str, args: list[str], log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child for its lifetime
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait_for_port(port: int, processes: dict[str, subprocess.Popen], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not port_is_free(port):
            return
        for name, process in processes.items():
            if process.poll() is not None:
                raise SystemExit(
                    f"The {name} process stopped during start-up; see var/log/{name}.log"
                )
        time.sleep(0.2)
    raise SystemExit(f"The web server did not open port {port} within {seconds:.0f} s.")


def main() -> None:
    port = int(os.environ.get("DEMO_PORT", "8000"))
    if not port_is_free(port):
        raise SystemExit(f"Port {port} is in use; stop what uses it or set DEMO_PORT=<free port>.")
    env = demo_environment(port)
    var = Path(env["VOICEOPS_VAR_DIR"])
    log_dir = var / "log"
    log_dir.mkdir(parents=True, exist_ok=True)

    print("Preparing the database…", flush=True)
    manage(env, "migrate", "--no-input", "-v", "0")
    ensure_admin(env)

    processes = {
        "web": start(
            env,
            "web",
            ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "voiceops.asgi:application"],
            log_dir,
        ),
        "worker": start(
            env,
            "worker",
            [
                "-m",
                "celery",
                "-A",
                "voiceops",
                "worker",
                "-Q",
                "default,dial,postcall",
                "--loglevel",
                "INFO",
            ],
            log_dir,
        ),
        "beat": start(
            env,
            "beat",
            [
                "-m",
                "celery",
                "-A",
                "voiceops",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(var / "beat-schedule"),
            ],
            log_dir,
        ),
    }

    def stop(*_):
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    wait_for_port(port, processes, seconds=60)
    print(
        f"\nVoiceOps is running.\n"
        f"  Admin:  http://127.0.0.1:{port}/admin/\n"
        f"  Login:  {ADMIN_USER} / {ADMIN_PASSWORD}\n"
        f"  Logs:   {log_dir}/{{web,worker,beat}}.log\n"
        f"Press Ctrl-C to stop.",
        flush=True,
    )
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                print(
                    f"The {name} process stopped (exit {process.returncode}); see {log_dir}/{name}.log"
                )
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
