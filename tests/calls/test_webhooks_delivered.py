"""Outbound webhooks through the running product: a campaign's events reach the
customer's receiver signed, and one the receiver refuses with a 500 arrives on retry."""

import json

import pytest
from django.utils import timezone

from calls.models import WebhookDelivery, WebhookEndpoint
from campaigns.lifecycle import campaign_launch
from campaigns.models import Campaign
from tests.factories import reminder_campaign
from tests.wait import wait_until
from tests.webhook_receiver import Receiver, verify

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_campaigns_events_reach_the_receiver_and_a_refused_one_is_retried(stack, lawful_clock):
    campaign = reminder_campaign(["busy", "confirm"], max_attempts=1, max_concurrent_calls=2)
    with Receiver(answers=[500]) as receiver:
        endpoint = WebhookEndpoint.objects.create(
            organization=campaign.organization, url=receiver.url
        )
        campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

        def finished_event():
            documents = [json.loads(request.body) for request in receiver.received]
            return [d for d in documents if d["type"] == "campaign.finished"]

        # Backoff after the 500 is 30 s, then the beat sweep (every 15 s) sends it again.
        [finished] = wait_until(
            finished_event, timeout=180, stack=stack, what="campaign.finished received"
        )
        wait_until(
            lambda: not WebhookDelivery.objects.exclude(status="delivered").exists(),
            timeout=120,
            stack=stack,
            what="every delivery accepted",
        )

    for request in receiver.received:
        assert verify(
            secret=endpoint.secret,
            header=request.headers["X-VoiceOps-Signature"],
            body=request.body,
        )
    assert [request.answered for request in receiver.received].count(500) == 1
    accepted = [
        json.loads(request.body) for request in receiver.received if request.answered == 200
    ]
    by_type = {}
    for document in accepted:
        by_type.setdefault(document["type"], []).append(document["data"])
    assert sorted(call["status"] for call in by_type["call.completed"]) == ["busy", "completed"]
    assert {call["campaign_id"] for call in by_type["call.completed"]} == {campaign.pk}
    confirmed = [call for call in by_type["call.completed"] if call["status"] == "completed"]
    assert confirmed[0]["outcome"] == "confirmed"
    assert finished["data"]["status"] == "completed"
    assert finished["data"]["targets"] == 2
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED

    refused = WebhookDelivery.objects.get(log__status_code=500)
    assert [attempt.status_code for attempt in refused.log.all()] == [500, 200]
    # The answered call was analysed once: its call.analyzed event arrived too.
    [analysed] = by_type["call.analyzed"]
    assert analysed["call_id"] == confirmed[0]["call_id"]
    assert analysed["summary"]
    assert len(accepted) == WebhookDelivery.objects.count() == 4
