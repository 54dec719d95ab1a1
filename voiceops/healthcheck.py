"""Container health checks: `python -m voiceops.healthcheck web|worker|beat`.

Exit status 0 when the process in this container is doing its job, 1 otherwise (with the
reason on stderr), as Docker's HEALTHCHECK expects. docs/operations.md lists them.

- web: `GET /healthz` on this container's daphne answers 200. The request carries a host
  the site accepts and the proxy's `X-Forwarded-Proto`, as requests through the proxy do.
- worker: this container's Celery worker answers a ping through the broker (a worker that
  lost the broker for good, or hangs, does not).
- beat: the schedule file was written recently; beat writes it after every task it sends
  (CELERY_BEAT_SYNC_EVERY), and the campaign ticker is sent every 3 seconds.
"""

import argparse
import glob
import os
import socket
import sys
import time
import urllib.error
import urllib.request


def check_web(port: int) -> str | None:
    from django.conf import settings

    host = next((name.lstrip(".") for name in settings.ALLOWED_HOSTS if name != "*"), "localhost")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        return f"web: /healthz did not answer: {error}"
    return None if status == 200 else f"web: /healthz answered {status}"


def check_worker(node: str, timeout: float) -> str | None:
    from voiceops.celery import app

    replies = app.control.ping(destination=[node], timeout=timeout)
    return None if replies else f"worker: {node} did not answer a ping within {timeout:g} s"


def check_beat(schedule: str, max_age: float) -> str | None:
    files = glob.glob(glob.escape(schedule) + "*")
    if not files:
        return f"beat: no schedule file at {schedule}"
    age = time.time() - max(os.path.getmtime(name) for name in files)
    if age > max_age:
        return f"beat: the schedule file was last written {age:.0f} s ago (limit {max_age:g} s)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voiceops.healthcheck")
    parser.add_argument("process", choices=["web", "worker", "beat"])
    parser.add_argument("--port", type=int, default=8000, help="web: daphne's port")
    parser.add_argument("--timeout", type=float, default=10, help="worker: seconds to wait")
    parser.add_argument(
        "--node",
        default=f"celery@{socket.gethostname()}",
        help="worker: the worker's node name (Celery's default: celery@ this host's name)",
    )
    parser.add_argument(
        "--schedule", default="/tmp/beat-schedule", help="beat: the path given to beat's -s"
    )
    parser.add_argument("--max-age", type=float, default=60, help="beat: seconds")
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")
    if options.process == "beat":
        problem = check_beat(options.schedule, options.max_age)
    else:
        import django

        django.setup()
        if options.process == "web":
            problem = check_web(options.port)
        else:
            problem = check_worker(options.node, options.timeout)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
