"""The campaign progress WebSocket, through the real ASGI application."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from campaigns.selectors import campaign_group_name
from tests.factories import CampaignFactory, OrganizationFactory, TargetFactory, member_of
from voiceops.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@sync_to_async
def operator_with_campaign():
    campaign = CampaignFactory(name="November reminders")
    user = member_of("operator", "olivia", organization=campaign.organization)
    TargetFactory.create_batch(3, campaign=campaign)
    return session_cookie(user), campaign


def progress_socket(campaign, cookie: bytes | None = None) -> WebsocketCommunicator:
    """The campaign's progress socket as a browser on localhost opens it (signed in with
    `cookie`, or anonymous)."""
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, f"/ws/campaigns/{campaign.pk}/", headers=headers)


async def test_it_sends_the_progress_of_a_campaign_to_an_operator():
    cookie, campaign = await operator_with_campaign()
    communicator = progress_socket(campaign, cookie)
    try:
        connected, _ = await communicator.connect()
        assert connected
        snapshot = await communicator.receive_json_from(timeout=5)
        assert snapshot["name"] == "November reminders"
        assert snapshot["targets"]["pending"] == 3
        assert snapshot["total"] == 3

        layer = get_channel_layer()
        update = {**snapshot, "targets": {**snapshot["targets"], "pending": 2, "calling": 1}}
        await layer.group_send(
            campaign_group_name(campaign.pk), {"type": "campaign.progress", "progress": update}
        )
        pushed = await communicator.receive_json_from(timeout=5)
        assert pushed["targets"]["calling"] == 1
    finally:
        await communicator.disconnect()


async def test_it_refuses_an_anonymous_visitor():
    _, campaign = await operator_with_campaign()
    communicator = progress_socket(campaign)
    try:
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4403
    finally:
        await communicator.disconnect()


@sync_to_async
def operator_of_another_organisation():
    other = OrganizationFactory(name="Harbor Clinic")
    return session_cookie(member_of("operator", "harry", organization=other))


async def test_it_answers_4404_to_a_member_of_another_organisation():
    _, campaign = await operator_with_campaign()
    cookie = await operator_of_another_organisation()
    communicator = progress_socket(campaign, cookie)
    try:
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4404
    finally:
        await communicator.disconnect()


@sync_to_async
def a_call_ends_with_latency_measured(campaign):
    from django.utils import timezone

    from calls.models import Turn
    from campaigns.progress import campaign_progress_publish
    from tests.factories import CallFactory

    call = CallFactory(
        target=TargetFactory(campaign=campaign, status="done"),
        status="completed",
        answered_by="human",
        media_started_at=timezone.now(),
        first_audio_sent_ms=2400,
        first_audio_played_ms=2460,
        is_abandoned=True,
    )
    Turn.objects.create(
        call=call,
        speaker="agent",
        text="Thanks, see you then.",
        started_ms=4000,
        response_sent_ms=820,
        response_played_ms=860,
    )
    campaign_progress_publish(campaign_id=campaign.pk)


async def test_the_push_carries_the_campaigns_latency_and_abandonment():
    cookie, campaign = await operator_with_campaign()
    communicator = progress_socket(campaign, cookie)
    try:
        connected, _ = await communicator.connect()
        assert connected
        snapshot = await communicator.receive_json_from(timeout=5)
        assert snapshot["latency"]["turns"] == 0
        assert snapshot["abandonment"]["answered"] == 0

        await a_call_ends_with_latency_measured(campaign)

        pushed = await communicator.receive_json_from(timeout=5)
        assert pushed["latency"]["first_audio_sent_ms"]["p50"] == 2400
        assert pushed["latency"]["turn_sent_ms"]["p50"] == 820
        assert pushed["latency"]["turn_played_ms"]["max"] == 860
        assert pushed["abandonment"]["abandoned"] == 1
        assert pushed["abandonment"]["is_dialing_stopped"] is True
    finally:
        await communicator.disconnect()
