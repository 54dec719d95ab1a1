"""A target waiting for its retry says so, in words, on its explanation page."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from campaigns.models import Target
from tests.factories import ConsentFactory, TargetFactory, member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db

TUESDAY_AFTERNOON = datetime(2026, 11, 17, 19, 0, tzinfo=UTC)


@time_machine.travel(TUESDAY_AFTERNOON, tick=False)
def test_a_target_waiting_after_a_busy_line_shows_its_next_attempt():
    target = TargetFactory(
        status=Target.Status.PENDING,
        attempts=1,
        last_reason="busy",
        next_attempt_at=datetime(2026, 11, 17, 19, 30, tzinfo=UTC),
    )
    ConsentFactory(contact=target.contact)
    client = Client()
    client.force_login(member_of("operator", "olivia"))

    page = text_of(client.get(f"/admin/campaigns/target/{target.pk}/explanation/"))

    assert (
        "Next attempt Next attempt at Tue 2026-11-17 19:30 UTC, after line busy "
        "(1 of 3 attempts made)" in page
    )


@time_machine.travel(TUESDAY_AFTERNOON, tick=False)
def test_a_due_target_has_no_pending_retry_line():
    target = TargetFactory(status=Target.Status.PENDING, next_attempt_at=None)
    ConsentFactory(contact=target.contact)
    client = Client()
    client.force_login(member_of("operator", "olivia"))
    page = text_of(client.get(f"/admin/campaigns/target/{target.pk}/explanation/"))
    assert "Next attempt at" not in page


def test_the_target_list_reads_reasons_and_outcomes_in_words():
    TargetFactory(status=Target.Status.PENDING, last_reason="outside_hours")
    TargetFactory(status=Target.Status.DONE, outcome="reschedule_requested")
    client = Client()
    client.force_login(member_of("operator", "olivia"))
    page = text_of(client.get("/admin/campaigns/target/"))
    assert "Outside calling hours" in page
    assert "Asked to reschedule" in page
    assert "outside_hours" not in page
    assert "reschedule_requested" not in page


@time_machine.travel(TUESDAY_AFTERNOON, tick=False)
def test_the_explanation_and_the_preview_read_verdicts_and_statuses_in_words():
    target = TargetFactory(status=Target.Status.PENDING, next_attempt_at=None)
    TargetFactory(campaign=target.campaign, status=Target.Status.DONE, outcome="confirmed")
    client = Client()
    client.force_login(member_of("operator", "olivia"))

    explanation = text_of(client.get(f"/admin/campaigns/target/{target.pk}/explanation/"))
    preview = text_of(client.get(f"/admin/campaigns/campaign/{target.campaign.pk}/preview/"))

    assert re.search(r"Verdict (Allowed|Not yet: call later|Refused) ", explanation)
    assert not re.search(r"\b(allow|defer|deny)\b", explanation)
    assert "Not pending: Done 1" in preview
