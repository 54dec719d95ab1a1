"""Outbound webhooks: the outbox row written with the fact, signed POSTs a receiver can
verify, retries with backoff after a refusal, and giving up after 24 hours."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from calls.models import CallStatus, WebhookDelivery, WebhookEndpoint
from calls.states import call_transition
from calls.webhooks_out import (
    GIVE_UP_AFTER,
    UnknownEvent,
    webhook_delivery_retry_now,
    webhook_delivery_send,
    webhook_event_emit,
)
from campaigns.lifecycle import campaign_cancel
from campaigns.models import Campaign, Target
from campaigns.scheduling import campaign_tick
from tests.factories import CallFactory, OrganizationFactory, TargetFactory
from tests.webhook_receiver import Receiver, verify

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


def endpoint_for(organization, url) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(organization=organization, url=url)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def test_it_posts_a_signed_event_that_the_receiver_verifies():
    organization = OrganizationFactory()
    with Receiver() as receiver:
        endpoint = endpoint_for(organization, receiver.url)
        with transaction.atomic():
            delivery = webhook_event_emit(
                organization_id=organization.pk,
                event="budget.threshold",
                payload={"budget": "campaign", "percent": 80, "spent": "40.000000"},
            )

        status = webhook_delivery_send(delivery_id=delivery.pk)

    assert status == Status.DELIVERED
    [request] = receiver.received
    assert verify(
        secret=endpoint.secret, header=request.headers["X-VoiceOps-Signature"], body=request.body
    )
    assert not verify(
        secret="whsec_other", header=request.headers["X-VoiceOps-Signature"], body=request.body
    )
    assert not verify(
        secret=endpoint.secret,
        header=request.headers["X-VoiceOps-Signature"],
        body=request.body.replace(b"80", b"81"),
    )
    document = json.loads(request.body)
    assert document["id"] == request.headers["X-VoiceOps-Event-Id"] == str(delivery.event_id)
    assert document["type"] == request.headers["X-VoiceOps-Event"] == "budget.threshold"
    assert document["data"] == {"budget": "campaign", "percent": 80, "spent": "40.000000"}
    assert request.headers["Content-Type"] == "application/json"
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.next_attempt_at) == (1, None)
    [attempt] = delivery.log.all()
    assert (attempt.status_code, attempt.error, attempt.url) == (200, "", receiver.url)


def test_it_retries_after_a_500_with_backoff_and_the_same_event():
    organization = OrganizationFactory()
    start = timezone.now()
    with Receiver(answers=[500]) as receiver:
        endpoint_for(organization, receiver.url)
        delivery = webhook_event_emit(
            organization_id=organization.pk, event="call.analyzed", payload={"call_id": 7}, at=start
        )

        first = webhook_delivery_send(delivery_id=delivery.pk, at=start)
        delivery.refresh_from_db()
        too_soon = webhook_delivery_send(delivery_id=delivery.pk, at=start + timedelta(seconds=5))
        second = webhook_delivery_send(delivery_id=delivery.pk, at=delivery.next_attempt_at)

    assert first == Status.PENDING
    assert delivery.next_attempt_at == start + timedelta(seconds=30)
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    assert too_soon == Status.PENDING
    assert second == Status.DELIVERED
    assert [request.answered for request in receiver.received] == [500, 200]
    bodies = {request.body for request in receiver.received}
    assert len(bodies) == 1  # the same document, so the receiver can deduplicate by its id
    assert [a.status_code for a in WebhookDelivery.objects.get(pk=delivery.pk).log.all()] == [
        500,
        200,
    ]


def test_it_gives_up_after_24_hours_of_refusals_and_an_operator_can_retry():
    organization = OrganizationFactory()
    start = timezone.now()
    with Receiver(answers=[503] * 100) as receiver:
        endpoint_for(organization, receiver.url)
        delivery = webhook_event_emit(
            organization_id=organization.pk, event="call.analyzed", payload={}, at=start
        )
        status, waits = Status.PENDING, []
        at = start
        while status == Status.PENDING:
            status = webhook_delivery_send(delivery_id=delivery.pk, at=at)
            delivery.refresh_from_db()
            if delivery.next_attempt_at:
                waits.append((delivery.next_attempt_at - at).total_seconds())
                at = delivery.next_attempt_at
        last_attempt = at

        assert status == Status.FAILED
        assert waits[:4] == [30, 60, 120, 240]
        assert max(waits) == 7200
        assert last_attempt <= start + GIVE_UP_AFTER
        assert delivery.attempts == len(receiver.received) == len(waits) + 1

        retried = webhook_delivery_retry_now(delivery_ids=[delivery.pk])
        delivery.refresh_from_db()
        assert (retried, delivery.status) == (1, Status.PENDING)
        receiver.answers.clear()
        assert webhook_delivery_send(delivery_id=delivery.pk) == Status.DELIVERED


def test_an_unreachable_receiver_is_logged_and_retried():
    organization = OrganizationFactory()
    endpoint_for(organization, "http://127.0.0.1:9/hooks")  # nothing listens on port 9
    delivery = webhook_event_emit(
        organization_id=organization.pk, event="call.analyzed", payload={}
    )

    assert webhook_delivery_send(delivery_id=delivery.pk) == Status.PENDING

    [attempt] = delivery.log.all()
    assert attempt.status_code is None
    assert "refused" in attempt.error.lower()


def test_it_records_nothing_for_an_organisation_without_an_active_url():
    quiet = OrganizationFactory()
    paused = OrganizationFactory()
    WebhookEndpoint.objects.create(
        organization=paused, url="https://x.example.com", is_active=False
    )

    assert webhook_event_emit(organization_id=quiet.pk, event="call.completed", payload={}) is None
    assert webhook_event_emit(organization_id=paused.pk, event="call.completed", payload={}) is None
    assert not WebhookDelivery.objects.exists()


def test_an_unknown_event_is_refused_by_name():
    organization = OrganizationFactory()
    with pytest.raises(UnknownEvent, match=r"'call\.finished' is not a webhook event"):
        webhook_event_emit(organization_id=organization.pk, event="call.finished", payload={})


@override_settings(DEBUG=False)
def test_a_webhook_url_must_be_https_unless_it_is_on_this_machine():
    organization = OrganizationFactory()
    for good in ("https://crm.example.com/hooks", "http://127.0.0.1:8080/h", "http://localhost/h"):
        WebhookEndpoint(organization=organization, url=good).full_clean()
    for bad, message in [
        ("http://crm.example.com/hooks", "is not https"),
        ("ftp://crm.example.com/hooks", r"is not an http\(s\) URL"),
        ("https://user:pw@crm.example.com/hooks", "no credentials"),
    ]:
        with pytest.raises(ValidationError, match=message):
            WebhookEndpoint(organization=organization, url=bad).full_clean()


@override_settings(DEBUG=True)
def test_plain_http_is_allowed_when_debugging():
    WebhookEndpoint(organization=OrganizationFactory(), url="http://crm.local/hooks").full_clean()


def test_a_call_reaching_a_final_status_records_call_completed_once():
    call = CallFactory(status=CallStatus.IN_PROGRESS, carrier_sid="CA900", outcome="confirmed")
    WebhookEndpoint.objects.create(organization=call.organization, url="https://crm.example.com/h")
    now = timezone.now()

    call_transition(call_id=call.pk, to=CallStatus.COMPLETED, at=now, duration_seconds=42)
    call_transition(call_id=call.pk, to=CallStatus.COMPLETED, at=now)  # a repeat callback

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event == "call.completed"
    assert delivery.organization_id == call.organization_id
    data = delivery.payload
    assert data["call_id"] == call.pk
    assert data["status"] == "completed"
    assert data["outcome"] == "confirmed"
    assert data["duration_seconds"] == 42
    assert data["campaign_id"] == call.target.campaign_id
    assert data["contact_id"] == call.target.contact_id
    assert data["ended_at"] == now.isoformat()


def test_a_live_status_records_no_event():
    call = CallFactory(status=CallStatus.INITIATED, carrier_sid="CA901")
    WebhookEndpoint.objects.create(organization=call.organization, url="https://crm.example.com/h")

    call_transition(call_id=call.pk, to=CallStatus.RINGING, at=timezone.now())

    assert not WebhookDelivery.objects.exists()


def test_a_campaign_that_completes_records_campaign_finished():
    target = TargetFactory(status=Target.Status.DONE, outcome="confirmed", attempts=1)
    campaign = target.campaign
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    WebhookEndpoint.objects.create(
        organization=campaign.organization, url="https://crm.example.com/h"
    )
    now = timezone.now()

    campaign_tick(campaign_id=campaign.pk, at=now, enqueue_dial=lambda call_id: None)
    campaign_tick(campaign_id=campaign.pk, at=now, enqueue_dial=lambda call_id: None)

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event == "campaign.finished"
    assert delivery.payload["campaign_id"] == campaign.pk
    assert delivery.payload["status"] == "completed"
    assert delivery.payload["targets_by_status"] == {"done": 1}
    assert delivery.payload["outcomes"] == {"confirmed": 1}


def test_a_cancelled_campaign_records_campaign_finished():
    target = TargetFactory()
    campaign = target.campaign
    WebhookEndpoint.objects.create(
        organization=campaign.organization, url="https://crm.example.com/h"
    )

    campaign_cancel(campaign_id=campaign.pk, at=timezone.now())

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event == "campaign.finished"
    assert delivery.payload["status"] == "cancelled"
    assert delivery.payload["targets_by_status"] == {"closed": 1}
