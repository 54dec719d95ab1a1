"""`POST /api/calls/{id}/analyze/`: re-running a call's post-call analysis through the API."""

import pytest
from django.utils import timezone

from calls.models import Call, CallStatus
from tests.api_world import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours():
    return world("Bayview Dental", phone_prefix="+1305555")


@pytest.fixture
def theirs():
    return world("Harbor Clinic", phone_prefix="+1786555")


def answered(call) -> Call:
    Call.objects.filter(pk=call.pk).update(
        status=CallStatus.COMPLETED, answered_at=timezone.now(), ended_at=timezone.now()
    )
    return call


def test_an_operator_queues_the_analysis_of_an_answered_call(
    ours, django_capture_on_commit_callbacks
):
    call = answered(ours.call)

    with django_capture_on_commit_callbacks() as queued:
        response = ours.api("operator").post(f"/api/calls/{call.pk}/analyze/")

    assert response.status_code == 202
    assert response.json() == {"call": call.pk, "status": "queued", "analysed_at": None}
    assert len(queued) == 1


def test_finance_may_not_rerun_an_analysis(ours, django_capture_on_commit_callbacks):
    call = answered(ours.call)

    with django_capture_on_commit_callbacks() as queued:
        response = ours.api("finance").post(f"/api/calls/{call.pk}/analyze/")

    assert response.status_code == 403
    assert "operator or admin" in response.json()["errors"][0]["message"]
    assert queued == []


def test_another_organisations_call_is_not_found(ours, theirs, django_capture_on_commit_callbacks):
    call = answered(theirs.call)

    with django_capture_on_commit_callbacks() as queued:
        response = ours.api("operator").post(f"/api/calls/{call.pk}/analyze/")

    assert response.status_code == 404
    assert queued == []


def test_a_call_nobody_answered_has_nothing_to_analyse(ours):
    Call.objects.filter(pk=ours.call.pk).update(status=CallStatus.NO_ANSWER, answered_at=None)

    response = ours.api("operator").post(f"/api/calls/{ours.call.pk}/analyze/")

    assert response.status_code == 409
    assert response.json()["errors"][0]["message"] == (
        "Only a completed, answered call has a conversation to analyse."
    )
