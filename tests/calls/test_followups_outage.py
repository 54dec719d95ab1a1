"""Nothing lost on the way: calls whose final status arrives while the broker is down are
still settled, priced and announced to the customer's webhook, through the real worker,
once the reconciler runs."""

from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from calls.followups import followups_reconcile
from calls.models import Call, CallStatus, CostEntry, WebhookDelivery, WebhookEndpoint
from campaigns.models import Target
from tests.factories import CallFactory, reminder_campaign
from tests.stack import free_port
from tests.wait import wait_until
from tests.webhook_receiver import Receiver, verify
from voiceops.celery import app as celery_app

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TOKEN = "outage-test-token"
BASE = "https://voiceops.example.com"


@contextmanager
def broker_unreachable():
    """This process's Celery publishes to a port nothing listens on, as if Redis were gone."""
    saved = celery_app.conf.broker_url

    def reconnect(url):
        celery_app.conf.broker_url = url
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reconnect(f"redis://127.0.0.1:{free_port()}/0")
    try:
        yield
    finally:
        reconnect(saved)


def answered_calls(count: int) -> list[Call]:
    """Calls in progress for a campaign's targets, their media bridge already finished."""
    campaign = reminder_campaign(["confirm"] * count)  # a draft: the ticker leaves it alone
    now = timezone.now()
    calls = []
    for index, target in enumerate(campaign.targets.order_by("pk")):
        Target.objects.filter(pk=target.pk).update(status=Target.Status.CALLING, attempts=1)
        calls.append(
            CallFactory(
                target=target,
                status=CallStatus.IN_PROGRESS,
                carrier_sid=f"CA{'0' * 30}{index:02d}",
                answered_at=now - timedelta(seconds=40),
                media_ended_at=now,
                outcome="confirmed",
                audio_input_tokens=1200,
                audio_output_tokens=800,
            )
        )
    return calls


def completed_callback(client, call: Call):
    path = reverse("calls:status", args=[call.pk])
    form = {
        "CallSid": call.carrier_sid,
        "AccountSid": "AC123",
        "CallStatus": "completed",
        "SequenceNumber": "3",
        "CallDuration": "42",
    }
    signature = RequestValidator(TOKEN).compute_signature(BASE + path, form)
    return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)


def test_follow_ups_lost_to_a_broker_outage_are_redone_and_events_still_arrive(
    stack, lawful_clock, client, caplog
):
    calls = answered_calls(3)
    organization = calls[0].organization
    with Receiver() as receiver:
        endpoint = WebhookEndpoint.objects.create(organization=organization, url=receiver.url)

        with (
            override_settings(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE),
            broker_unreachable(),
        ):
            answers = [completed_callback(client, call).status_code for call in calls]
        ended = timezone.now()

        # The callbacks were accepted and committed; nothing downstream happened.
        assert answers == [204, 204, 204]
        unsent = [r.getMessage() for r in caplog.records if "Broker unreachable" in r.message]
        assert len(unsent) == 3 * 3  # settle, price and the webhook, for each call
        lost = Call.objects.filter(pk__in=[call.pk for call in calls])
        assert set(lost.values_list("status", flat=True)) == {CallStatus.COMPLETED}
        assert not lost.filter(settled_at__isnull=False).exists()
        assert not lost.filter(priced_at__isnull=False).exists()
        targets = Target.objects.filter(calls__in=lost)
        assert set(targets.values_list("status", flat=True)) == {Target.Status.CALLING}
        assert WebhookDelivery.objects.filter(event="call.completed").count() == 3

        # Within the grace period the normal path is still trusted; after it, the
        # reconciler enqueues both steps for all three calls.
        idle = followups_reconcile(at=ended)
        found = followups_reconcile(at=ended + timedelta(minutes=10))
        assert set(idle.values()) == {0}
        # No transcript, so there is nothing to analyse: only settling and pricing are redone.
        assert found == {
            "calls.tasks.settle_target": 3,
            "calls.tasks.price_call": 3,
            "calls.tasks.analyze_call": 0,
        }

        def recovered():
            priced = lost.filter(priced_at__isnull=False, settled_at__isnull=False).count()
            done = targets.filter(status=Target.Status.DONE).count()
            return priced == done == 3

        wait_until(recovered, timeout=90, stack=stack, what="3 calls settled and priced")
        # The beat sweep sends the events recorded during the outage.
        wait_until(
            lambda: len(receiver.received) >= 3, timeout=90, stack=stack, what="3 webhook events"
        )

    for call in lost:
        ledger = CostEntry.objects.filter(call=call).aggregate(total=Sum("amount"))["total"]
        assert call.cost_total > Decimal(0)
        assert call.cost_total == ledger
    assert set(targets.values_list("outcome", flat=True)) == {"confirmed"}
    assert followups_reconcile(at=ended + timedelta(minutes=20)) == {
        "calls.tasks.settle_target": 0,
        "calls.tasks.price_call": 0,
        "calls.tasks.analyze_call": 0,
    }
    for request in receiver.received:
        assert verify(
            secret=endpoint.secret,
            header=request.headers["X-VoiceOps-Signature"],
            body=request.body,
        )
    announced = {request.headers["X-VoiceOps-Event-Id"] for request in receiver.received}
    assert announced == {
        str(event_id)
        for event_id in WebhookDelivery.objects.filter(status="delivered").values_list(
            "event_id", flat=True
        )
    }
    assert len(announced) == 3
