"""The organisation's dashboard socket: budget alerts pushed live to finance and admins."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from campaigns.budget_alerts import budget_alert_push
from campaigns.models import BudgetAlert
from tests.factories import CampaignFactory, OrganizationFactory, member_of
from voiceops.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@sync_to_async
def member_with_alerts(role: str):
    """A member of one organisation, and an exhausted campaign budget in it and in another."""
    campaign = CampaignFactory(name="November reminders")
    user = member_of(role, role, organization=campaign.organization)
    other = CampaignFactory(organization=OrganizationFactory(), name="Elsewhere")
    alerts = [
        BudgetAlert.objects.create(
            organization=each.organization,
            campaign=each,
            scope="campaign",
            threshold=100,
            budget="5.00",
            spent="5.120000",
            created_at="2026-11-24T19:00:00Z",
        )
        for each in (campaign, other)
    ]
    for alert in alerts:
        alert.refresh_from_db()
    return session_cookie(user), alerts


def dashboard(cookie: bytes | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/organization/", headers=headers)


async def test_it_pushes_a_budget_alert_of_the_members_organisation_only():
    cookie, (ours, theirs) = await member_with_alerts("finance")
    communicator = dashboard(cookie)
    try:
        connected, _ = await communicator.connect()
        assert connected
        await sync_to_async(budget_alert_push)(theirs)
        await sync_to_async(budget_alert_push)(ours)
        pushed = await communicator.receive_json_from(timeout=5)
        assert pushed["type"] == "budget_alert"
        assert pushed["campaign"] == "November reminders"
        assert (pushed["threshold"], pushed["spent"], pushed["budget"]) == (
            100,
            "5.120000",
            "5.000000",
        )
        assert await communicator.receive_nothing(timeout=0.3)
    finally:
        await communicator.disconnect()


async def test_it_refuses_an_operator_who_may_not_read_costs():
    cookie, _ = await member_with_alerts("operator")
    communicator = dashboard(cookie)
    try:
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4403
    finally:
        await communicator.disconnect()


async def test_it_refuses_an_anonymous_visitor():
    await member_with_alerts("admin")
    communicator = dashboard(None)
    try:
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4403
    finally:
        await communicator.disconnect()
