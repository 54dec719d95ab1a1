"""Webhook deliveries in the admin: the list filtered by status and event, each delivery
with its attempts, and "retry now" for operators."""

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories import OrganizationFactory, member_of

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


def failed_delivery(organization, event="call.completed") -> WebhookDelivery:
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        organization=organization,
        event=event,
        payload={"call_id": 1},
        created_at=now,
        status=Status.FAILED,
        attempts=1,
        last_error="HTTP 503 Service Unavailable",
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=now,
        url="https://crm.example.com/hooks",
        status_code=503,
        error="HTTP 503 Service Unavailable",
        duration_ms=87,
    )
    return delivery


def test_an_operator_sees_deliveries_by_status_and_event_with_their_attempts(client):
    organization = OrganizationFactory()
    WebhookEndpoint.objects.create(organization=organization, url="https://crm.example.com/hooks")
    failed = failed_delivery(organization)
    failed_delivery(organization, event="campaign.finished")
    client.force_login(member_of("operator", organization=organization))
    changelist = reverse("admin:calls_webhookdelivery_changelist")

    filtered = client.get(changelist, {"status__exact": "failed", "event__exact": "call.completed"})
    page = client.get(reverse("admin:calls_webhookdelivery_change", args=[failed.pk]))

    assert filtered.status_code == 200
    assert filtered.context["cl"].result_count == 1
    assert page.status_code == 200
    assert b"HTTP 503 Service Unavailable" in page.content
    assert b"87" in page.content
    assert client.get(reverse("admin:calls_webhookendpoint_changelist")).status_code == 403


def test_retry_now_makes_failed_deliveries_due_again(client):
    organization = OrganizationFactory()
    WebhookEndpoint.objects.create(organization=organization, url="https://crm.example.com/hooks")
    failed = failed_delivery(organization)
    client.force_login(member_of("operator", organization=organization))

    response = client.post(
        reverse("admin:calls_webhookdelivery_changelist"),
        {"action": "retry_now", "_selected_action": [failed.pk]},
        follow=True,
    )

    assert b"1 delivery will be sent again now" in response.content
    failed.refresh_from_db()
    assert failed.status == Status.PENDING
    assert failed.next_attempt_at <= timezone.now()


def test_finance_reads_the_daily_costs_but_not_webhooks(client):
    client.force_login(member_of("finance"))

    assert client.get(reverse("admin:calls_campaigndailycost_changelist")).status_code == 200
    assert client.get(reverse("admin:calls_webhookdelivery_changelist")).status_code == 403
