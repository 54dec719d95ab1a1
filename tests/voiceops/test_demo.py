"""The demo: `python -m voiceops.demo --exit` runs on a machine with no services (SQLite, a
filesystem broker, the sandbox) to its report and exits 0; a re-run of its seed cancels
only the campaigns the demo made."""

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from django.conf import settings

from campaigns.models import Campaign
from tests.factories import member_of

RUN_AT = datetime(2026, 12, 8, 18, 59, 20, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_demo_exit_runs_the_campaigns_to_their_report_and_exits_0(tmp_path):
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        # The demo's zero-setup path: its own SQLite file and broker in its var directory.
        if name not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update({"DEMO_PORT": str(port), "VOICEOPS_VAR_DIR": str(tmp_path)})

    done = subprocess.run(
        [sys.executable, "-m", "voiceops.demo", "--exit", "--quick"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # a hang guard, not a measure: the run takes a minute or two
    )

    output = done.stdout
    assert done.returncode == 0, output + done.stderr[-3000:]
    up = output.index(f"The admin is up: http://127.0.0.1:{port}/admin/ (login admin / ")
    assert up < output.index("targets:")  # the address before the first progress line
    assert "== Appointment reminders" in output
    assert "== After-visit survey" in output
    assert "Maria Lopez" in output
    assert "James Carter" in output
    assert "VoiceOps ran." in output
    with socket.socket() as probe:  # the web server stopped with the demo
        assert probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.django_db
def test_a_rerun_cancels_the_demos_own_campaigns_and_leaves_the_users_alone():
    from voiceops.demo_seed import seed

    first = seed(at=RUN_AT, quick=True)
    operator = member_of("operator", "olivia", organization=first.organization)
    own = Campaign.objects.create(
        organization=first.organization,
        name="My own reminders",
        agent=first.agent,
        caller_id=first.caller_id,
        created_by=operator,
    )

    second = seed(at=RUN_AT, quick=True)

    first.refresh_from_db()
    own.refresh_from_db()
    assert (first.status, second.status, own.status) == ("cancelled", "running", "draft")
    assert first.created_by.username == second.created_by.username == "demo"
