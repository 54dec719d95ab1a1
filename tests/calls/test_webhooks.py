"""Twilio's webhooks, through Django: signatures, ordering and repeats."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from calls.media_tokens import media_token_consume, media_token_verify
from calls.models import Call, CallEvent, CallStatus
from tests.factories import AgentFactory, CallFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

TOKEN = "webhook-test-token"
BASE = "https://voiceops.example.com"
settings_for_twilio = override_settings(
    TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE, ALLOWED_HOSTS=["testserver"]
)


def post_signed(client, path, form, *, signature=None):
    signed = signature or RequestValidator(TOKEN).compute_signature(BASE + path, form)
    return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signed)


def status_form(call, status, sequence, **extra):
    return {
        "CallSid": call.carrier_sid,
        "AccountSid": "AC123",
        "CallStatus": status,
        "SequenceNumber": str(sequence),
        **extra,
    }


@settings_for_twilio
def test_an_unsigned_or_tampered_webhook_gets_403_and_changes_nothing(client):
    call = CallFactory(status=CallStatus.INITIATED, carrier_sid="CA100")
    path = reverse("calls:status", args=[call.pk])
    form = status_form(call, "completed", 3, CallDuration="42")
    good = RequestValidator(TOKEN).compute_signature(BASE + path, form)

    unsigned = client.post(path, form)
    tampered = post_signed(client, path, {**form, "CallDuration": "1"}, signature=good)
    wrong_key = post_signed(
        client, path, form, signature=RequestValidator("other").compute_signature(BASE + path, form)
    )

    assert [unsigned.status_code, tampered.status_code, wrong_key.status_code] == [403, 403, 403]
    call.refresh_from_db()
    assert call.status == CallStatus.INITIATED
    assert call.duration_seconds is None
    assert not CallEvent.objects.exists()


@settings_for_twilio
def test_status_callbacks_apply_in_sequence_and_ignore_repeats_and_late_ones(client):
    call = CallFactory(status=CallStatus.INITIATED, carrier_sid="CA200")
    path = reverse("calls:status", args=[call.pk])

    post_signed(client, path, status_form(call, "ringing", 1))
    post_signed(client, path, status_form(call, "in-progress", 2))
    post_signed(client, path, status_form(call, "in-progress", 2))  # duplicate
    post_signed(client, path, status_form(call, "ringing", 1))  # late
    post_signed(client, path, status_form(call, "completed", 3, CallDuration="42"))
    post_signed(client, path, status_form(call, "completed", 3, CallDuration="42"))  # duplicate

    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED
    assert call.duration_seconds == 42
    assert call.carrier_sequence == 3
    moves = list(
        CallEvent.objects.filter(call=call, kind="status").values_list("to_status", flat=True)
    )
    assert moves == ["ringing", "in_progress", "completed"]


@settings_for_twilio
def test_a_callback_out_of_order_never_moves_a_call_backwards(client):
    call = CallFactory(status=CallStatus.INITIATED, carrier_sid="CA300")
    path = reverse("calls:status", args=[call.pk])

    post_signed(client, path, status_form(call, "completed", 3, CallDuration="7"))
    post_signed(client, path, status_form(call, "ringing", 1))
    post_signed(client, path, status_form(call, "in-progress", 2))

    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED
    assert CallEvent.objects.filter(call=call, kind="status").count() == 1


@settings_for_twilio
def test_the_answer_webhook_connects_the_stream_with_a_token_for_this_call(client):
    call = CallFactory(status=CallStatus.RINGING, carrier_sid="CA400")
    path = reverse("calls:answer", args=[call.pk])

    response = post_signed(client, path, {"CallSid": "CA400", "CallStatus": "in-progress"})

    body = response.content.decode()
    assert response["Content-Type"].startswith("text/xml")
    assert '<Stream url="wss://voiceops.example.com/ws/media/">' in body
    assert body.index("</Connect>") < body.index("<Hangup />")
    token = body.split('name="token" value="')[1].split('"')[0]
    assert media_token_verify(token, call_sid="CA400") == call.pk
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS


@settings_for_twilio
def test_a_replayed_answer_webhook_after_the_bridge_started_hands_out_no_token(client):
    call = CallFactory(status=CallStatus.RINGING, carrier_sid="CA410")
    path = reverse("calls:answer", args=[call.pk])
    form = {"CallSid": "CA410", "CallStatus": "in-progress"}
    first = post_signed(client, path, form).content.decode()
    assert 'name="token"' in first
    media_token_consume(call_id=call.pk, at=timezone.now())  # the stream started

    replayed = post_signed(client, path, form).content.decode()

    assert "token" not in replayed
    assert "<Stream" not in replayed
    assert "<Hangup />" in replayed
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS


@settings_for_twilio
def test_an_inbound_call_to_our_line_gets_an_inbound_call_for_its_agent(client):
    agent = AgentFactory()
    line = PhoneNumberFactory(organization=agent.organization, is_inbound=True, inbound_agent=agent)
    path = reverse("calls:inbound")
    form = {"CallSid": "CA500", "From": "+13055550123", "To": line.number, "CallStatus": "ringing"}

    first = post_signed(client, path, form)
    again = post_signed(client, path, form)  # a retried webhook

    call = Call.objects.get(carrier_sid="CA500")
    assert (call.direction, call.agent, call.target, call.status) == (
        Call.Direction.INBOUND, agent, None, CallStatus.IN_PROGRESS,
    )  # fmt: skip
    assert "<Connect>" in first.content.decode()
    assert "<Connect>" in again.content.decode()
    assert Call.objects.count() == 1


@settings_for_twilio
def test_a_call_to_a_number_we_do_not_serve_is_turned_away(client):
    response = post_signed(
        client,
        reverse("calls:inbound"),
        {"CallSid": "CA600", "From": "+13055550123", "To": "+12025550199"},
    )

    assert "not in service" in response.content.decode()
    assert not Call.objects.exists()


@settings_for_twilio
@pytest.mark.parametrize("sid_field", [{"CallSid": ""}, {}], ids=["empty", "missing"])
def test_a_status_callback_without_a_call_sid_never_matches_a_call_with_no_sid_yet(
    client, sid_field
):
    dialing = CallFactory(status=CallStatus.DIALING, carrier_sid=None)
    form = {"AccountSid": "AC123", "CallStatus": "completed", "CallDuration": "9", **sid_field}
    form["SequenceNumber"] = "3"

    by_line = post_signed(client, reverse("calls:inbound-status"), form)
    by_call = post_signed(client, reverse("calls:status", args=[dialing.pk]), form)

    assert [by_line.status_code, by_call.status_code] == [204, 204]
    dialing.refresh_from_db()
    assert (dialing.status, dialing.duration_seconds, dialing.carrier_sequence) == (
        CallStatus.DIALING, None, None,
    )  # fmt: skip
    assert not CallEvent.objects.filter(call=dialing).exists()


@settings_for_twilio
def test_a_machine_verdict_without_a_call_sid_never_matches_a_call_with_no_sid_yet(client):
    dialing = CallFactory(status=CallStatus.DIALING, carrier_sid=None)

    post_signed(client, reverse("calls:amd", args=[dialing.pk]), {"AnsweredBy": "machine_end_beep"})

    dialing.refresh_from_db()
    assert dialing.answered_by == ""
    assert not CallEvent.objects.filter(call=dialing).exists()


@settings_for_twilio
def test_an_inbound_call_without_a_call_sid_is_turned_away_and_stores_nothing(client):
    agent = AgentFactory()
    line = PhoneNumberFactory(organization=agent.organization, is_inbound=True, inbound_agent=agent)

    response = post_signed(
        client, reverse("calls:inbound"), {"CallSid": "", "From": "+13055550123", "To": line.number}
    )

    assert "<Connect>" not in response.content.decode()
    assert not Call.objects.exists()


@settings_for_twilio
@pytest.mark.parametrize("late", [{}, {"SequenceNumber": "3"}, {"SequenceNumber": "2"}])
def test_after_a_call_ends_a_callback_without_a_higher_sequence_changes_nothing(client, late):
    call = CallFactory(status=CallStatus.IN_PROGRESS, carrier_sid="CA700")
    path = reverse("calls:status", args=[call.pk])
    post_signed(client, path, status_form(call, "completed", 3, CallDuration="33"))
    events_after_end = CallEvent.objects.filter(call=call).count()

    form = {
        "CallSid": "CA700",
        "CallStatus": "completed",
        "CallDuration": "500",
        "AnsweredBy": "machine_start",
        **late,
    }
    response = post_signed(client, path, form)

    assert response.status_code == 204
    call.refresh_from_db()
    assert (call.status, call.duration_seconds, call.carrier_sequence, call.answered_by) == (
        CallStatus.COMPLETED, 33, 3, "",
    )  # fmt: skip
    assert CallEvent.objects.filter(call=call).count() == events_after_end


@settings_for_twilio
def test_after_a_call_ends_a_callback_with_a_higher_sequence_may_correct_its_facts(client):
    call = CallFactory(status=CallStatus.IN_PROGRESS, carrier_sid="CA800")
    path = reverse("calls:status", args=[call.pk])
    post_signed(client, path, status_form(call, "completed", 3, CallDuration="33"))

    post_signed(client, path, status_form(call, "completed", 4, CallDuration="34"))

    call.refresh_from_db()
    assert (call.status, call.duration_seconds, call.carrier_sequence) == (
        CallStatus.COMPLETED, 34, 4,
    )  # fmt: skip
