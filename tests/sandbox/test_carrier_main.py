"""`python -m sandbox` starts both stand-ins and prints the settings that point at them."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from twilio.rest import Client

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox_process(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--json", "--recordings", str(tmp_path)],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_it_prints_settings_that_reach_a_working_carrier(sandbox_process):
    settings = json.loads(sandbox_process.stdout.readline())

    assert set(settings) == {
        "TWILIO_API_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
    }
    assert settings["TWILIO_API_URL"].startswith("http://127.0.0.1:")
    assert settings["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
    assert settings["OPENAI_BASE_URL"].endswith("/v1")
    client = Client(settings["TWILIO_ACCOUNT_SID"], settings["TWILIO_AUTH_TOKEN"])
    client.api.base_url = settings["TWILIO_API_URL"]
    created = client.calls.create(
        to="+15551230000", from_="+15005550006", twiml="<Response><Hangup/></Response>"
    )
    assert client.calls(created.sid).fetch().sid == created.sid


def test_it_stops_cleanly_on_interrupt(sandbox_process):
    sandbox_process.stdout.readline()

    sandbox_process.send_signal(signal.SIGINT)

    assert sandbox_process.wait(timeout=20) == 0
