"""Who answers, end to end through the real stack and the sandbox carrier's personas: an
answering machine records a message that names the business and its callback number, a fax
is hung up on and never dialed again, a call screener is answered then either the person
picks up or nobody does, and a machine verdict after a person spoke changes nothing."""

import pytest
from django.utils import timezone

from agents.models import Agent
from calls.models import Call
from campaigns.lifecycle import campaign_launch
from campaigns.models import Target
from sandbox import speech
from tests.factories import reminder_campaign
from tests.stack import finished_calls
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PERSONAS = ["voicemail", "fax", "screener_person", "screener_nobody", "late_machine"]
OPERATOR_TEXT = "We look forward to seeing you."


def persona_of(call: Call) -> str:
    return call.target.contact.name.removesuffix(" Doe").lower().replace(" ", "_")


def events_of(call: Call) -> list[str]:
    return list(call.events.order_by("at", "pk").values_list("kind", flat=True))


def run_campaign(stack):
    campaign = reminder_campaign(PERSONAS, max_concurrent_calls=len(PERSONAS), calls_per_second=5)
    # The operator's text names neither the business nor a number to call back.
    Agent.objects.filter(pk=campaign.agent_id).update(voicemail_message=OPERATOR_TEXT)
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

    def all_priced_and_analysed():
        if finished_calls(campaign, len(PERSONAS), analysed=True) is None:
            return None
        return list(Call.objects.filter(target__campaign=campaign).select_related("target"))

    calls = wait_until(
        all_priced_and_analysed, timeout=300, stack=stack, what="every persona's call priced"
    )
    return {persona_of(call): call for call in calls}


def test_voicemail_fax_screeners_and_a_late_machine_verdict(stack, carrier, lawful_clock):
    calls = run_campaign(stack)

    the_machine_recorded_the_business_name_and_callback_number(calls["voicemail"], carrier)
    a_fax_is_hung_up_on_and_closed(calls["fax"], carrier)
    a_screened_call_goes_on_when_the_person_picks_up(calls["screener_person"])
    a_screened_call_nobody_picks_up_is_recorded_as_screening(calls["screener_nobody"])
    a_machine_verdict_after_the_person_spoke_is_recorded_and_ignored(calls["late_machine"])


def the_machine_recorded_the_business_name_and_callback_number(call, carrier):
    assert (call.outcome, call.hangup_reason) == ("voicemail", "voicemail")
    recorded = bytes(carrier.calls[call.carrier_sid].voicemail_audio)
    # The callback number +12025550143 is read out as "(202) 555-0143".
    vocabulary = ["bayview", "dental", "202", "555", "0143", "look", "forward", "seeing"]
    words = [word for word, _ in speech.recognize(recorded, vocabulary)]
    assert words.count("bayview") >= 2  # who is calling, and whom to call back
    assert [w for w in words if w in ("look", "forward", "seeing")] == ["look", "forward", "seeing"]
    assert "202 555 0143" in " ".join(words)
    assert Target.objects.get(pk=call.target_id).status == Target.Status.PENDING


def a_fax_is_hung_up_on_and_closed(call, carrier):
    assert (call.outcome, call.hangup_reason, call.answered_by) == ("fax", "fax", "fax")
    assert call.get_answered_by_display() == "Fax machine"
    assert not call.turns.filter(speaker="agent", text__contains=OPERATOR_TEXT).exists()
    target = Target.objects.get(pk=call.target_id)
    assert (target.status, target.last_reason, target.outcome) == (
        Target.Status.CLOSED,
        "fax",
        "fax",
    )
    assert len([c for c in carrier.calls.values() if c.to == call.to_number]) == 1


def a_screened_call_goes_on_when_the_person_picks_up(call):
    kinds = events_of(call)
    assert kinds.count("call_screening") == 1
    assert kinds.index("call_screening") < kinds.index("call_screening_passed")
    assert "machine_detection_screener" in kinds
    assert call.outcome == "confirmed"
    agent_lines = list(call.turns.filter(speaker="agent").values_list("text", flat=True))
    assert any("on behalf of Bayview Dental with a reminder" in line for line in agent_lines)
    assert not any(OPERATOR_TEXT in line for line in agent_lines)
    assert Target.objects.get(pk=call.target_id).status == Target.Status.DONE


def a_screened_call_nobody_picks_up_is_recorded_as_screening(call):
    kinds = events_of(call)
    assert "call_screening" in kinds
    assert "call_screening_passed" not in kinds
    assert call.outcome == "call_screening"
    assert not call.turns.filter(speaker="agent", text__contains=OPERATOR_TEXT).exists()
    assert Target.objects.get(pk=call.target_id).status == Target.Status.PENDING


def a_machine_verdict_after_the_person_spoke_is_recorded_and_ignored(call):
    late = call.events.get(kind="machine_detection_late")
    assert late.data == {"answered_by": "machine_end_beep"}
    assert call.answered_by == "human"
    assert call.outcome == "confirmed"
    assert not call.turns.filter(speaker="agent", text__contains=OPERATOR_TEXT).exists()
