"""Recordings: requested from the carrier only when the organisation records calls, the
disclosure that follows that setting, the signed recording status callback, and retention."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from agents.prompts import call_script
from calls.dialing import call_dial
from calls.models import Call, Recording
from calls.retention import retention_apply
from calls.tasks import apply_retention
from campaigns.models import ImportJob, Organization
from tests.factories import (
    TUESDAY_AFTERNOON,
    AgentFactory,
    CallFactory,
    OrganizationFactory,
    PhoneNumberFactory,
    booked_call,
    member_of,
)
from voiceops.celery import app as celery_app

pytestmark = pytest.mark.django_db

TOKEN = "recording-test-token"
BASE = "https://voiceops.example.com"
settings_for_twilio = override_settings(
    TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE, ALLOWED_HOSTS=["testserver"]
)


def post_signed(client, path, form, *, token=TOKEN):
    signature = RequestValidator(token).compute_signature(BASE + path, form)
    return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)


def recording_form(call, *, sid="RE" + "1" * 32, status="completed", duration="12"):
    return {
        "AccountSid": "AC123",
        "CallSid": call.carrier_sid,
        "RecordingSid": sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/{sid}",
        "RecordingStatus": status,
        "RecordingDuration": duration,
        "RecordingChannels": "2",
        "RecordingSource": "OutboundAPI",
        "RecordingStartTime": "Tue, 24 Nov 2026 19:00:05 +0000",
    }


@settings_for_twilio
def test_the_recording_callback_refuses_a_bad_signature_and_stores_nothing(client):
    call = CallFactory(carrier_sid="CA" + "7" * 32)
    path = reverse("calls:recording", args=[call.pk])

    unsigned = client.post(path, recording_form(call))
    forged = post_signed(client, path, recording_form(call), token="not-our-token")

    assert (unsigned.status_code, forged.status_code) == (403, 403)
    assert not Recording.objects.exists()


@settings_for_twilio
def test_the_recording_callback_stores_the_recording_once_and_never_goes_back(client):
    call = CallFactory(carrier_sid="CA" + "8" * 32)
    path = reverse("calls:recording", args=[call.pk])

    first = post_signed(client, path, recording_form(call))
    repeat = post_signed(client, path, recording_form(call))
    late = post_signed(client, path, recording_form(call, status="in-progress", duration=""))

    assert [first.status_code, repeat.status_code, late.status_code] == [204, 204, 204]
    [recording] = Recording.objects.all()
    assert (recording.call, recording.status, recording.duration_seconds, recording.channels) == (
        call,
        "completed",
        12,
        2,
    )
    assert recording.carrier_url.endswith("/Recordings/RE" + "1" * 32)
    assert recording.started_at.isoformat() == "2026-11-24T19:00:05+00:00"


@settings_for_twilio
def test_a_recording_callback_naming_another_call_is_ignored(client):
    call = CallFactory(carrier_sid="CA" + "9" * 32)
    other = CallFactory(carrier_sid="CA" + "a" * 32)
    path = reverse("calls:recording", args=[call.pk])

    response = post_signed(client, path, recording_form(other))

    assert response.status_code == 204
    assert not Recording.objects.exists()


def test_the_disclosure_claims_a_recording_only_when_the_organisation_records():
    agent = AgentFactory()
    organization = agent.organization

    silent = call_script(agent=agent, organization=organization)
    organization.record_calls = True
    recorded = call_script(agent=agent, organization=organization)

    assert "This call is transcribed." in silent.opening
    assert "recorded" not in silent.opening
    assert "recorded" not in silent.instructions.replace("Record", "").replace("record_", "")
    assert "This call is recorded and transcribed." in recorded.opening


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_the_dial_asks_the_carrier_for_a_two_channel_recording_when_recording(carrier_settings):
    call = booked_call()
    Organization.objects.filter(pk=call.organization_id).update(record_calls=True)

    call_dial(call_id=call.pk)

    [placed] = carrier_settings.calls_to(call.to_number)
    assert placed.request.record
    assert placed.request.recording_channels == "dual"
    assert placed.request.recording_status_callback == (
        f"http://127.0.0.1:9/twilio/calls/{call.pk}/recording"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@time_machine.travel(TUESDAY_AFTERNOON, tick=True)
def test_the_dial_asks_for_no_recording_by_default(carrier_settings):
    call = booked_call()

    call_dial(call_id=call.pk)

    [placed] = carrier_settings.calls_to(call.to_number)
    assert not placed.request.record
    assert placed.request.recording_status_callback is None


def carrier_recording(carrier) -> str:
    """A real recording at the sandbox carrier: a short recorded call; returns its SID."""
    client = carrier.twilio_client()
    created = client.calls.create(
        to="+15551230042",
        from_=next(iter(carrier.numbers)),
        twiml="<Response><Say>Hello.</Say><Hangup/></Response>",
        record=True,
    )
    carrier.wait_for_call(created.sid)
    [sid] = [sid for sid, r in carrier.recordings.items() if r.call_sid == created.sid]
    return sid


def test_retention_deletes_old_recordings_at_the_carrier_and_here_and_keeps_the_rest(
    carrier_settings, tmp_path, monkeypatch
):
    carrier = carrier_settings.carrier
    monkeypatch.setattr(
        ImportJob._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path)
    )
    now = timezone.now()
    keeping = OrganizationFactory(name="Keeps everything")
    thirty = OrganizationFactory(name="Thirty days", retention_days=30)
    old_sid, new_sid, kept_sid = (carrier_recording(carrier) for _ in range(3))

    def recording(organization, sid, age_days):
        call = CallFactory(target__campaign__organization=organization)
        row = Recording.objects.create(
            call=call, sid=sid, status="completed", carrier_url=f"https://x/{sid}"
        )
        Recording.objects.filter(pk=row.pk).update(created_at=now - timedelta(days=age_days))
        return row

    def import_job(organization, age_days):
        job = ImportJob(
            organization=organization, kind="contacts", status="done", file_name="a.csv"
        )
        job.file.save("a.csv", ContentFile(b"phone\n+12025550100\n"), save=False)
        job.save()
        ImportJob.objects.filter(pk=job.pk).update(created_at=now - timedelta(days=age_days))
        return job

    old = recording(thirty, old_sid, 31)
    new = recording(thirty, new_sid, 29)
    kept = recording(keeping, kept_sid, 400)
    old_job, new_job, kept_job = (
        import_job(thirty, 31),
        import_job(thirty, 29),
        import_job(keeping, 400),
    )
    old_file = old_job.file.path

    first = retention_apply(at=now)
    again = retention_apply(at=now)

    assert (first.recordings_deleted, first.import_files_deleted) == (1, 1)
    assert (again.recordings_deleted, again.import_files_deleted) == (0, 0)
    assert set(Recording.objects.values_list("pk", flat=True)) == {new.pk, kept.pk}
    assert old_sid not in carrier.recordings
    assert {new_sid, kept_sid} <= set(carrier.recordings)
    old_job.refresh_from_db()
    assert not old_job.file
    assert not (tmp_path / old_file).exists()
    assert old_job.created == 0
    assert old_job.file_name == "a.csv"
    for job in (new_job, kept_job):
        job.refresh_from_db()
        assert job.file
        assert (tmp_path / job.file.name).exists()
    assert old.pk not in Recording.objects.values_list("pk", flat=True)


def test_retention_deletes_the_row_of_a_recording_the_carrier_no_longer_has(carrier_settings):
    organization = OrganizationFactory(retention_days=1)
    call = CallFactory(target__campaign__organization=organization)
    row = Recording.objects.create(
        call=call, sid="RE" + "0" * 32, status="completed", carrier_url="https://x/RE0"
    )
    Recording.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=2))

    result = apply_retention.apply().get()  # what beat runs every hour

    assert result == {"recordings_deleted": 1, "import_files_deleted": 0, "recordings_failed": 0}
    assert not Recording.objects.exists()
    schedule = celery_app.conf.beat_schedule["apply-retention"]
    assert (schedule["task"], schedule["schedule"]) == ("calls.tasks.apply_retention", 3600.0)


@settings_for_twilio
@pytest.mark.parametrize("records", [True, False], ids=["recording", "not-recording"])
def test_an_inbound_call_starts_a_two_channel_recording_only_when_recording(client, records):
    agent = AgentFactory()
    Organization.objects.filter(pk=agent.organization_id).update(record_calls=records)
    line = PhoneNumberFactory(organization=agent.organization, is_inbound=True, inbound_agent=agent)
    form = {"CallSid": "CA" + "5" * 32, "From": "+13055550123", "To": line.number}

    body = post_signed(client, reverse("calls:inbound"), form).content.decode()

    call = Call.objects.get(carrier_sid=form["CallSid"])
    start = (
        f'<Start><Recording recordingChannels="dual" recordingStatusCallback="{BASE}'
        f'/twilio/calls/{call.pk}/recording"'
    )
    assert (start in body) is records
    assert "<Recording" in body if records else "<Recording" not in body
    assert body.index("<Connect>") > (body.index("<Start>") if records else -1)


def test_operators_listen_through_the_proxy_and_a_recording_gone_at_the_carrier_is_404(
    carrier_settings, client
):
    call = CallFactory()
    kept = Recording.objects.create(
        call=call, sid=carrier_recording(carrier_settings.carrier), status="completed",
        carrier_url="https://x/kept",
    )  # fmt: skip
    gone = Recording.objects.create(
        call=call, sid="RE" + "d" * 32, status="completed", carrier_url="https://x/gone"
    )
    client.force_login(member_of("operator", "olivia", organization=call.organization))

    def audio(recording):
        return client.get(reverse("admin:calls_call_recording_audio", args=[call.pk, recording.pk]))

    played, missing = audio(kept), audio(gone)
    assert (played.status_code, played["Content-Type"]) == (200, "audio/wav")
    whole = b"".join(played.streaming_content)
    assert whole[:4] == b"RIFF"
    assert played["Accept-Ranges"] == "bytes"
    assert missing.status_code == 404
    with override_settings(TWILIO_API_URL="http://127.0.0.1:9"):
        unreachable = audio(kept)
    assert unreachable.status_code == 502


def test_a_player_seeking_in_a_recording_gets_the_bytes_it_asked_for(carrier_settings, client):
    call = CallFactory()
    recording = Recording.objects.create(
        call=call, sid=carrier_recording(carrier_settings.carrier), status="completed",
        carrier_url="https://x/kept",
    )  # fmt: skip
    client.force_login(member_of("finance", "fiona", organization=call.organization))
    url = reverse("admin:calls_call_recording_audio", args=[call.pk, recording.pk])
    whole = b"".join(client.get(url).streaming_content)

    seek = client.get(url, headers={"Range": "bytes=100-199"})
    assert seek.status_code == 206
    assert seek["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert b"".join(seek.streaming_content) == whole[100:200]
    tail = client.get(url, headers={"Range": "bytes=-44"})
    assert b"".join(tail.streaming_content) == whole[-44:]
    beyond = client.get(url, headers={"Range": f"bytes={len(whole) + 10}-"})
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(whole)}"
    several = client.get(url, headers={"Range": "bytes=0-1,5-6"})  # not served: the whole file
    assert (several.status_code, b"".join(several.streaming_content)) == (200, whole)
