"""A survey call and an inbound support call, end to end through the stack and the sandbox."""

import pytest
from django.utils import timezone

from calls.models import Call, CallStatus, PhoneNumber, SurveyAnswer
from campaigns.lifecycle import campaign_launch
from campaigns.models import Campaign, Consent, Question, Target
from tests.factories import SANDBOX_CALLER_ID, after_visit_survey, persona_number, reminder_campaign
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def survey_campaign() -> tuple[Campaign, list[Question]]:
    campaign = reminder_campaign(["survey"], tools=["end_call", "record_survey_answer", "opt_out"])
    campaign.agent.instructions = "Ask {{ contact.name }} a short survey about their visit."
    campaign.agent.greeting = ""
    campaign.agent.save()
    survey, questions = after_visit_survey(campaign.organization)
    Campaign.objects.filter(pk=campaign.pk).update(
        kind=Campaign.Kind.SURVEY, purpose="survey", survey=survey
    )
    Consent.objects.filter(contact__targets__campaign=campaign).update(purpose="survey")
    return campaign, questions


def test_a_survey_call_records_an_answer_to_every_question(stack, lawful_clock):
    campaign, questions = survey_campaign()

    campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())
    call = wait_until(
        lambda: Call.objects.filter(target__campaign=campaign, analysed_at__isnull=False).first(),
        timeout=120,
        stack=stack,
        what="the survey call priced and analysed",
    )

    answers = call.result["survey"]
    assert set(answers) == {str(question.pk) for question in questions}
    assert answers[str(questions[0].pk)] == "yes"
    assert 1 <= int(answers[str(questions[1].pk)]) <= 10
    assert answers[str(questions[2].pk)] in {"morning", "afternoon", "evening"}
    target = Target.objects.get(pk=call.target_id)
    assert (target.status, target.outcome) == (Target.Status.DONE, "survey_completed")
    # One typed row per question, recorded during the call; the analysis heard the same.
    rows = {row.question_id: row for row in SurveyAnswer.objects.filter(call=call)}
    assert set(rows) == {question.pk for question in questions}
    assert {row.source for row in rows.values()} == {"call"}
    assert rows[questions[0].pk].boolean_value is True
    assert rows[questions[1].pk].integer_value == int(answers[str(questions[1].pk)])
    assert rows[questions[2].pk].text_value == answers[str(questions[2].pk)]
    assert [row.analysis_value for row in rows.values()] == [None, None, None]
    assert call.summary
    assert call.sentiment == "positive"
    assert (call.outcome, call.analysis_error) == ("survey_completed", "")


def test_an_inbound_call_reaches_the_lines_agent_and_is_closed_and_priced(
    stack, carrier, lawful_clock
):
    campaign = reminder_campaign([])
    PhoneNumber.objects.filter(number=SANDBOX_CALLER_ID).update(
        is_inbound=True, inbound_agent=campaign.agent
    )
    carrier.add_number(SANDBOX_CALLER_ID, f"{stack.public_base_url}/twilio/voice")
    caller = persona_number("confirm", 42)

    sid = carrier.place_inbound_call(caller, SANDBOX_CALLER_ID)
    call = wait_until(
        lambda: Call.objects.filter(carrier_sid=sid, priced_at__isnull=False).first(),
        timeout=120,
        stack=stack,
        what="the inbound call closed and priced",
    )

    assert (call.direction, call.target, call.agent) == (
        Call.Direction.INBOUND, None, campaign.agent,
    )  # fmt: skip
    assert call.from_number == caller
    assert call.status == CallStatus.COMPLETED
    assert call.turns.filter(speaker="agent").exists()
    assert call.turns.filter(speaker="caller").exists()
    assert call.cost_total > 0
