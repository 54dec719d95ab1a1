"""Barge-in end to end, through the running stack and the sandbox's callers: one says
"Okay." while the agent's opening plays, one talks over it with a whole sentence."""

import pytest
from django.utils import timezone

from calls.models import Call, CallEvent
from campaigns.lifecycle import campaign_launch
from tests.factories import reminder_campaign
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_acknowledgement_leaves_the_agent_talking_and_a_sentence_interrupts_it(
    stack, lawful_clock
):
    campaign = reminder_campaign(["backchannel", "barge_in"], max_concurrent_calls=2)
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

    def priced_calls():
        calls = list(Call.objects.filter(target__campaign=campaign, priced_at__isnull=False))
        return calls if len(calls) == 2 else None

    calls = wait_until(priced_calls, timeout=180, stack=stack, what="both calls priced")
    by_persona = {call.target.contact.name.split()[0].lower(): call for call in calls}

    acknowledged = by_persona["backchannel"]
    opening = acknowledged.turns.filter(speaker="agent").order_by("started_ms").first()
    assert not opening.interrupted
    assert "press" in opening.text.lower()  # heard to its opt-out line, past the "okay"
    heard = list(acknowledged.turns.filter(speaker="caller").values_list("text", flat=True))
    assert heard[0] == "okay"
    assert "yes i will be there" in heard[1]
    kinds = list(CallEvent.objects.filter(call=acknowledged).values_list("kind", flat=True))
    assert "backchannel" in kinds
    assert "barge_in" not in kinds
    assert acknowledged.outcome == "confirmed"

    interrupted = by_persona["barge"]
    cut = interrupted.turns.filter(speaker="agent").order_by("started_ms").first()
    assert cut.interrupted
    assert len(cut.text) < len(opening.text)
    barge_ins = CallEvent.objects.filter(call=interrupted, kind="barge_in")
    assert [event.data["proof"] for event in barge_ins] == ["duration"]
    assert interrupted.outcome == "confirmed"
