"""The call admin: analysis results and errors on the page, and the "Re-run analysis" action."""

import pytest
from django.urls import reverse

from calls.models import CostEntry, SurveyAnswer
from tests.calls.test_analysis import REMINDER, SURVEY_LINES, finished_call, survey_campaign
from tests.factories import member_of
from tests.pages import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return member_of("operator", "olivia")


@pytest.fixture
def tasks_run_here(monkeypatch):
    from voiceops.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


def test_re_run_analysis_replaces_the_calls_analysis(
    client, operator, model_server, tasks_run_here, django_capture_on_commit_callbacks
):
    campaign, _ = survey_campaign()
    call = finished_call(SURVEY_LINES, campaign=campaign, priced_at="2026-11-24T19:01:00Z")
    client.force_login(operator)

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("admin:calls_call_changelist"),
                {"action": "rerun_analysis", "_selected_action": [call.pk]},
                follow=True,
            )

    assert "Analysis queued for 1 call" in text_of(response)
    call.refresh_from_db()
    assert call.summary == "The caller answered the survey."
    assert SurveyAnswer.objects.filter(call=call).count() == 3
    assert CostEntry.objects.filter(call=call, component="analysis_input").count() == 1
    assert len(model_server.analysis_requests) == 2


def test_the_call_page_shows_the_analysis_its_answers_and_disagreements(
    client, operator, model_server
):
    from calls.analysis import call_analyze

    campaign, _ = survey_campaign()
    call = finished_call(SURVEY_LINES, campaign=campaign, outcome="declined")
    call_analyze(call_id=call.pk)
    client.force_login(operator)

    listing = text_of(client.get(reverse("admin:calls_call_changelist")))
    page = text_of(client.get(reverse("admin:calls_call_change", args=[call.pk])))

    assert "Declined" in listing
    assert "Outcome it read Survey completed (differs from the call's)" in page
    assert "The caller answered the survey." in page
    assert "Would you recommend us to a friend?" in page
    assert "Post-call analysis" in page


def test_an_analysis_error_is_shown_on_the_call(client, operator, model_server):
    from calls.analysis import AnalysisRejected, call_analyze

    call = finished_call(REMINDER)
    model_server.fail_analysis("refusal")
    with pytest.raises(AnalysisRejected):
        call_analyze(call_id=call.pk)
    client.force_login(operator)

    listing = text_of(client.get(reverse("admin:calls_call_changelist")))
    page = text_of(client.get(reverse("admin:calls_call_change", args=[call.pk])))

    assert f"#{call.pk} " in listing
    assert (
        "The analysis failed: The analysis model refused: I'm sorry, but I can't help with "
        "that request." in page
    )
