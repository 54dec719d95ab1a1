"""A real Celery worker process consumes a task from Redis (no eager mode)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voiceops.celery import app
from voiceops.tasks import ping

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker():
    app.control.purge()  # messages an earlier test left for no worker
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "voiceops", "worker",
            "--queues", "default", "--pool", "solo", "--concurrency", "1",
            "--hostname", f"test-{os.getpid()}@%h", "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    hostname = f"test-{os.getpid()}@"
    deadline = time.monotonic() + 60
    while not any(
        name.startswith(hostname) for reply in app.control.ping(timeout=1) for name in reply
    ):
        assert process.poll() is None, process.stdout.read().decode(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "the worker did not come up within 60 s"
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_a_worker_consumes_a_task_from_redis(worker):
    assert app.conf.broker_url.startswith("redis://")
    assert not app.conf.task_always_eager

    result = ping.apply_async(queue="default")
    answer = result.get(timeout=60)

    assert answer["worker"]
    assert answer["at"].endswith("+00:00")
    assert worker.poll() is None


def test_every_task_has_a_time_limit_and_only_json_is_accepted():
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit > 0
    assert app.conf.accept_content == ["json"]
    assert {queue.name for queue in app.conf.task_queues} == {"default", "dial", "postcall"}
