"""A reminder campaign of every persona, end to end through the real stack and the sandbox:
outcomes, transcripts, targets, opt-outs and the cost ledger."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from calls.models import Call, CallStatus, CostEntry
from campaigns.lifecycle import campaign_launch
from campaigns.models import Consent, Suppression, Target
from campaigns.scheduling import campaign_tick
from tests.factories import CampaignFactory, TargetFactory, reminder_campaign
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
    # persona: (call status, call outcome, target status)
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

    def all_priced():
        calls = list(Call.objects.filter(target__campaign=campaign, priced_at__isnull=False))
        return calls if len(calls) == len(PERSONAS) else None

    calls = wait_until(all_priced, timeout=240, stack=stack, what="every persona's call priced")
    return campaign, {persona_of(call): call for call in calls}


def test_a_reminder_campaign_of_every_persona(stack, lawful_clock):
    """One run of the campaign (calls take real time), then each acceptance point on it."""
    campaign, calls = run_campaign_of_every_persona(stack)

    each_persona_has_the_right_outcome_transcript_and_ledger(calls)
    for persona in ("opt_out_spoken", "opt_out_key"):
        the_opt_out_suppressed_the_number_before_the_call_ended(campaign, calls[persona], persona)
    no_later_call_is_placed_to_an_opted_out_number(campaign, calls["opt_out_spoken"])


def each_persona_has_the_right_outcome_transcript_and_ledger(calls):
    for persona, (status, outcome, target_status) in EXPECTED.items():
        call = calls[persona]
        target = Target.objects.get(pk=call.target_id)
        assert (call.status, call.outcome, target.status) == (status, outcome, target_status), (
            persona
        )
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
    assert "recorded and transcribed" in opening
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
