"""A reminder campaign of every persona, end to end through the real stack and the sandbox:
outcomes, transcripts, targets, opt-outs, post-call analysis and the cost ledger."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from calls.models import Call, CallStatus, CostEntry
from calls.tasks import analyze_call
from campaigns.lifecycle import campaign_launch
from campaigns.models import Consent, Suppression, Target
from campaigns.scheduling import campaign_tick
from tests.factories import CampaignFactory, TargetFactory, reminder_campaign
from tests.stack import finished_calls
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PERSONAS = [
    "confirm", "decline", "reschedule", "opt_out_spoken", "opt_out_key", "hang_up_mid_call",
    "silent", "voicemail", "robot_question", "no_answer", "busy", "failed",
]  # fmt: skip

EXPECTED = {
    # persona: (call status, outcome the call recorded itself, target status); an answered
    # call that recorded none gets the analysis's outcome.
    "confirm": (CallStatus.COMPLETED, "confirmed", Target.Status.DONE),
    "decline": (CallStatus.COMPLETED, "declined", Target.Status.DONE),
    "reschedule": (CallStatus.COMPLETED, "reschedule_requested", Target.Status.DONE),
    "opt_out_spoken": (CallStatus.COMPLETED, "opted_out", Target.Status.DONE),
    "opt_out_key": (CallStatus.COMPLETED, "opted_out", Target.Status.DONE),
    "hang_up_mid_call": (CallStatus.COMPLETED, "", Target.Status.PENDING),
    "silent": (CallStatus.COMPLETED, "", Target.Status.PENDING),
    "voicemail": (CallStatus.COMPLETED, "voicemail", Target.Status.PENDING),
    "robot_question": (CallStatus.COMPLETED, "confirmed", Target.Status.DONE),
    "no_answer": (CallStatus.NO_ANSWER, "", Target.Status.PENDING),
    "busy": (CallStatus.BUSY, "", Target.Status.PENDING),
    "failed": (CallStatus.FAILED, "", Target.Status.PENDING),
}


def persona_of(call: Call) -> str:
    return call.target.contact.name.removesuffix(" Doe").lower().replace(" ", "_")


def run_campaign_of_every_persona(stack):
    campaign = reminder_campaign(PERSONAS, max_concurrent_calls=len(PERSONAS), calls_per_second=5)
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

    def all_priced_and_analysed():
        if finished_calls(campaign, len(PERSONAS), analysed=True) is None:
            return None
        return list(Call.objects.filter(target__campaign=campaign))

    calls = wait_until(
        all_priced_and_analysed,
        timeout=300,
        stack=stack,
        what="every persona's call priced and analysed",
    )
    return campaign, {persona_of(call): call for call in calls}


def test_a_reminder_campaign_of_every_persona(stack, lawful_clock):
    """One run of the campaign (calls take real time), then each acceptance point on it."""
    campaign, calls = run_campaign_of_every_persona(stack)

    each_persona_has_the_right_outcome_transcript_and_ledger(calls)
    every_answered_call_is_analysed_and_its_ledger_has_analysis_and_transcription(calls)
    re_analysis_replaces_the_analysis_and_its_ledger_lines(stack, calls["decline"])
    for persona in ("opt_out_spoken", "opt_out_key"):
        the_opt_out_suppressed_the_number_before_the_call_ended(campaign, calls[persona], persona)
    no_later_call_is_placed_to_an_opted_out_number(campaign, calls["opt_out_spoken"])


def each_persona_has_the_right_outcome_transcript_and_ledger(calls):
    for persona, (status, outcome, target_status) in EXPECTED.items():
        call = calls[persona]
        target = Target.objects.get(pk=call.target_id)
        recorded = "" if call.is_outcome_from_analysis else call.outcome
        assert (call.status, recorded, target.status) == (status, outcome, target_status), persona
        ledger = CostEntry.objects.filter(call=call).aggregate(total=Sum("amount"))["total"]
        assert (ledger or Decimal(0)) == call.cost_total, persona
        assert call.cost_total == call.cost_telephony + call.cost_model + call.cost_analysis
        if status == CallStatus.COMPLETED:
            assert call.cost_total > 0, persona
            assert call.media_ended_at is not None, persona
            assert call.turns.filter(speaker="agent").exists(), persona
            assert call.audio_output_tokens > 0, persona
            components = set(
                CostEntry.objects.filter(call=call).values_list("component", flat=True)
            )
            assert {"carrier_minute", "amd", "audio_output"} <= components, persona
        else:
            assert not call.turns.exists(), persona
            assert call.cost_total == 0, persona

    confirm = calls["confirm"]
    opening = confirm.turns.filter(speaker="agent").first().text
    assert "automated AI assistant calling on behalf of Bayview Dental" in opening
    assert "This call is transcribed." in opening  # the organisation does not record
    hung_up = calls["hang_up_mid_call"].turns.filter(speaker="agent").first()
    assert hung_up.interrupted
    assert len(hung_up.text) < len(opening)  # cut to what was played before the hang-up
    assert list(confirm.turns.values_list("speaker", flat=True))[:2] == ["agent", "caller"]
    assert "yes i will be there" in confirm.turns.filter(speaker="caller").first().text
    billed_minutes = CostEntry.objects.get(call=confirm, component="carrier_minute").quantity
    assert billed_minutes == -(-confirm.duration_seconds // 60)  # rounded up
    assert "robot" in " ".join(calls["robot_question"].turns.values_list("text", flat=True)).lower()
    assert calls["voicemail"].answered_by.startswith("machine")


def the_opt_out_suppressed_the_number_before_the_call_ended(campaign, call, persona):
    suppression = Suppression.objects.get(organization=campaign.organization, phone=call.to_number)
    consent = Consent.objects.get(contact__phone=call.to_number)
    assert suppression.source == Suppression.Source.OPT_OUT
    assert suppression.added_at < call.ended_at
    assert consent.revoked_at < call.ended_at
    assert consent.revoked_via == ("keypress" if persona == "opt_out_key" else "call")


def no_later_call_is_placed_to_an_opted_out_number(campaign, opted_out):
    # Another campaign of the same organisation, targeting the same contact.
    other = CampaignFactory(
        organization=campaign.organization, agent=campaign.agent, caller_id=campaign.caller_id
    )
    TargetFactory(campaign=other, contact=opted_out.target.contact)
    campaign_launch(campaign_id=other.pk, user_id=None, at=timezone.now())
    booked = []

    report = campaign_tick(campaign_id=other.pk, at=timezone.now(), enqueue_dial=booked.append)

    target = Target.objects.get(campaign=other)
    assert booked == []
    assert report.denied == 1
    assert (target.status, target.last_reason) == (Target.Status.CLOSED, "consent_revoked")


def every_answered_call_is_analysed_and_its_ledger_has_analysis_and_transcription(calls):
    for persona, call in calls.items():
        if call.status != CallStatus.COMPLETED:
            assert (call.analysed_at, call.summary, call.analysis_input_tokens) == (None, "", 0)
            continue
        assert call.analysis_error == "", persona
        assert call.analysed_at is not None, persona
        assert call.summary, persona
        assert call.sentiment in {"positive", "neutral", "negative"}, persona
        assert -1 <= call.sentiment_score <= 1, persona
        assert call.outcome, persona
        assert call.analysis_outcome, persona
        components = set(CostEntry.objects.filter(call=call).values_list("component", flat=True))
        assert {"analysis_input", "analysis_output"} <= components, persona
        if call.turns.filter(speaker="caller").exists():
            assert call.transcription_audio_ms > 0, persona
            assert "transcription_minute" in components, persona
        ledger = CostEntry.objects.filter(call=call).aggregate(total=Sum("amount"))["total"]
        assert ledger == call.cost_total, persona
    assert calls["confirm"].sentiment == "positive"
    assert calls["opt_out_spoken"].sentiment == "negative"
    assert calls["reschedule"].is_follow_up_needed
    assert not calls["confirm"].is_follow_up_needed
    silent = calls["silent"]
    assert silent.is_outcome_from_analysis
    assert silent.outcome == silent.analysis_outcome


def re_analysis_replaces_the_analysis_and_its_ledger_lines(stack, call):
    lines_before = sorted(
        CostEntry.objects.filter(call=call).values_list("component", "quantity", "amount")
    )

    analyze_call.delay(call.pk)

    again = wait_until(
        lambda: Call.objects.filter(pk=call.pk, analysed_at__gt=call.analysed_at).first(),
        timeout=60,
        stack=stack,
        what="the call analysed again",
    )
    lines_after = sorted(
        CostEntry.objects.filter(call=call).values_list("component", "quantity", "amount")
    )
    assert lines_after == lines_before  # the same transcript: the same lines, none doubled
    assert (again.summary, again.outcome, again.cost_total) == (
        call.summary, call.outcome, call.cost_total
    )  # fmt: skip
