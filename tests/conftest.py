"""Fixtures shared across the suite: the sandbox (Twilio and OpenAI stand-ins) and the
running product stack for integration tests."""

import time
from datetime import UTC, datetime

import pytest
import time_machine

from sandbox.carrier import Carrier, Timing
from sandbox.model import ModelServer
from tests.stack import LAWFUL_INSTANT, Stack

CALLER_ID = "+12025550100"
MODEL_API_KEY = "sk-sandbox-test"


@pytest.fixture(scope="session")
def clock_offset() -> float:
    """Seconds to add to the wall clock so that the stack runs on a lawful weekday afternoon."""
    return (LAWFUL_INSTANT - datetime.now(UTC)).total_seconds()


@pytest.fixture
def lawful_clock(clock_offset):
    """Move this process's clock with the stack's (time keeps flowing)."""
    with time_machine.travel(time.time() + clock_offset, tick=True):
        yield


@pytest.fixture(scope="session")
def carrier(tmp_path_factory):
    server = Carrier(
        numbers=[CALLER_ID],
        calls_per_second=50,
        recording_dir=tmp_path_factory.mktemp("recordings"),
        timing=Timing(dial=0.2, answer=0.5, busy=0.3, failed=0.2, ring_timeout_scale=0.05),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def model():
    server = ModelServer(api_key=MODEL_API_KEY)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, carrier, model, clock_offset, tmp_path_factory):
    with django_db_blocker.unblock():
        running = Stack(
            carrier=carrier,
            model=model,
            offset=clock_offset,
            log_dir=tmp_path_factory.mktemp("stack"),
        ).start()
    yield running
    running.stop()
