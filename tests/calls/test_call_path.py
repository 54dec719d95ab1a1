"""A launched campaign, end to end: beat ticks, the worker dials through the sandbox carrier,
status callbacks reach the web process, targets are retried or closed, calls are priced."""

import pytest
from django.utils import timezone

from calls.models import CallStatus
from campaigns.lifecycle import campaign_launch
from campaigns.models import Campaign, Target
from tests.factories import reminder_campaign
from tests.stack import finished_calls
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_unreached_people_are_retried_under_the_campaign_policy(stack, carrier, lawful_clock):
    campaign = reminder_campaign(
        ["no_answer", "busy", "failed"],
        retry_delays={"no_answer": 3600, "busy": 600, "failed": 7200},
    )
    launched = timezone.now()

    campaign_launch(campaign_id=campaign.pk, user_id=None, at=launched)
    calls = wait_until(lambda: finished_calls(campaign, 3), stack=stack, what="3 priced calls")

    by_persona = {call.target.contact.name.split()[0].lower(): call for call in calls}
    assert by_persona["no"].status == CallStatus.NO_ANSWER
    assert by_persona["busy"].status == CallStatus.BUSY
    assert by_persona["failed"].status == CallStatus.FAILED
    for call in calls:
        assert call.carrier_sid.startswith("CA")
        assert carrier.calls[call.carrier_sid].to == call.to_number
        assert call.cost_total == 0  # nobody answered: nothing billed
        assert call.compliance_ruleset
        assert "America/New_York" in call.compliance_zones  # FL also spans Central time
        assert call.compliance_states == ["FL"]
    delays = {"no_answer": 3600, "busy": 600, "failed": 7200}
    for target in Target.objects.filter(campaign=campaign):
        assert target.status == Target.Status.PENDING
        assert target.attempts == 1
        expected = delays[target.last_reason]
        waited = (target.next_attempt_at - target.calls.get().ended_at).total_seconds()
        assert expected - 5 <= waited <= expected + 5
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.RUNNING
