"""The container health checks, run as Docker runs them, against the running stack."""

import os
import socket
import subprocess
import sys
import time

import pytest

from tests.stack import free_port
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


STACK_WORKER = f"stack-{os.getpid()}@{socket.gethostname()}"  # as tests/stack.py names it


def healthcheck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voiceops.healthcheck", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_each_running_process_of_the_stack_is_healthy(stack):
    # As Docker's start period does, give the worker time to connect after it starts.
    worker = wait_until(
        lambda: (
            (result := healthcheck("worker", "--node", STACK_WORKER)).returncode == 0 and result
        ),
        timeout=90,
        stack=stack,
        what="the worker to answer its health check",
    )
    web = healthcheck("web", "--port", str(stack.port))
    beat = healthcheck("beat", "--schedule", str(stack.log_dir / "beat-schedule"))

    assert [web.returncode, worker.returncode, beat.returncode] == [0, 0, 0], (
        web.stderr + beat.stderr
    )


def test_a_web_process_that_does_not_answer_is_unhealthy(db):
    result = healthcheck("web", "--port", str(free_port()))

    assert result.returncode == 1
    assert "web: /healthz did not answer" in result.stderr


def test_a_worker_that_does_not_answer_is_unhealthy(db):
    result = healthcheck("worker", "--node", "nobody@nowhere", "--timeout", "1")

    assert result.returncode == 1
    assert "worker: nobody@nowhere did not answer a ping within 1 s" in result.stderr


def test_a_beat_that_stopped_writing_its_schedule_is_unhealthy(tmp_path):
    schedule = tmp_path / "beat-schedule"
    (tmp_path / "beat-schedule.dat").write_bytes(b"")
    ten_minutes_ago = time.time() - 600
    os.utime(tmp_path / "beat-schedule.dat", (ten_minutes_ago, ten_minutes_ago))

    stale = healthcheck("beat", "--schedule", str(schedule))
    missing = healthcheck("beat", "--schedule", str(tmp_path / "nothing"))

    assert stale.returncode == 1
    assert "(limit 60 s)" in stale.stderr
    assert missing.returncode == 1
    assert "no schedule file" in missing.stderr
