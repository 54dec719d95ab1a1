"""Fixtures shared across the suite: the sandbox (Twilio and OpenAI stand-ins) and the
running product stack for integration tests."""

import os
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings

from sandbox.carrier import Carrier, Timing
from sandbox.model import ModelServer
from tests.stack import LAWFUL_INSTANT, Stack

CALLER_ID = "+12025550100"
MODEL_API_KEY = "sk-sandbox-test"


# The fault suite stops and restarts PostgreSQL and Redis, so it runs only on private servers
# of its own (`make test-faults` loads `tests.faults.services`).
collect_ignore = [] if os.environ.get("VOICEOPS_PRIVATE_SERVICES") else ["faults"]


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing():
    """Passwords hashed with few iterations in this process (tests/hashers.py): no test is
    about the hash's cost, and at production's it was a large share of the suite's CPU."""
    with override_settings(PASSWORD_HASHERS=["tests.hashers.QuickPBKDF2PasswordHasher"]):
        yield


def pytest_collection_modifyitems(items):
    """Integration tests run last: once the stack's processes are up, their beat and worker
    act on whatever the database holds, so no other test may share the database with them."""
    items.sort(key=lambda item: item.get_closest_marker("integration") is not None)


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
def stack_processes(
    django_db_setup, django_db_blocker, carrier, model, clock_offset, tmp_path_factory
):
    with django_db_blocker.unblock():
        running = Stack(
            carrier=carrier,
            model=model,
            offset=clock_offset,
            log_dir=tmp_path_factory.mktemp("stack"),
        ).start()
    yield running
    running.stop()


@pytest.fixture
def stack(stack_processes):
    """The running product. After the test, every campaign stops and the stack is waited on
    until no call is live or unpriced, so the next test starts from an empty, idle database."""
    yield stack_processes
    stack_processes.quiesce()


class CarrierView:
    """The session's carrier, seeing only the calls placed during this test."""

    def __init__(self, carrier):
        self.carrier = carrier
        self.earlier = set(carrier.calls)

    def placed(self):
        return [call for sid, call in self.carrier.calls.items() if sid not in self.earlier]

    def calls_to(self, number):
        return [
            call
            for sid, call in self.carrier.calls.items()
            if sid not in self.earlier and call.to == number
        ]


@pytest.fixture
def carrier_settings(carrier):
    """This process dials the session's carrier; its callbacks go nowhere (nothing listens
    on port 9), as if they were lost."""
    with override_settings(
        TWILIO_ACCOUNT_SID=carrier.account_sid,
        TWILIO_AUTH_TOKEN=carrier.auth_token,
        TWILIO_API_URL=carrier.base_url,
        PUBLIC_BASE_URL="http://127.0.0.1:9",
    ):
        yield CarrierView(carrier)
