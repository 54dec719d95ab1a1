"""A recording made through the sandbox plays in the call page: an organisation that records
calls gets a two-channel recording from the carrier, stored from the signed callback, and
its audio streams through the console's proxy to a member, never to another organisation."""

import io
import re
import wave

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import Recording
from campaigns.lifecycle import campaign_launch
from campaigns.models import Organization
from tests.factories import OrganizationFactory, member_of, reminder_campaign
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_sandbox_recording_plays_in_the_call_page_for_its_organisation_only(
    stack, lawful_clock, carrier_settings, client
):
    campaign = reminder_campaign(["confirm"])
    Organization.objects.filter(pk=campaign.organization_id).update(record_calls=True)
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=timezone.now())

    recording = wait_until(
        lambda: Recording.objects.filter(
            call__target__campaign=campaign, status=Recording.Status.COMPLETED
        ).first(),
        timeout=120,
        stack=stack,
        what="the call's recording stored from the carrier's callback",
    )
    call = recording.call
    assert recording.sid in carrier_settings.carrier.recordings
    assert recording.channels == 2
    assert recording.duration_seconds >= 1
    opening = call.turns.filter(speaker="agent").first().text
    assert "This call is recorded and transcribed." in opening

    client.force_login(member_of("finance", "fiona", organization=campaign.organization))
    page = client.get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()
    [src] = re.findall(r'<audio controls preload="none" src="([^"]+)"', page)
    audio = client.get(src)

    assert audio.status_code == 200
    assert audio["Content-Type"] == "audio/wav"
    body = b"".join(audio.streaming_content)
    assert (body[:4], body[8:12]) == (b"RIFF", b"WAVE")
    with wave.open(io.BytesIO(body)) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (2, 8000)
        assert wav.getnframes() >= 8000  # at least a second of the call

    stranger = member_of("finance", "harbor", organization=OrganizationFactory(name="Harbor"))
    client.force_login(stranger)
    assert client.get(src).status_code == 404
