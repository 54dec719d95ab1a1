"""How calls end: opt-outs (spoken and by key), limits, voicemail, and hang-up requests."""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from calls.consumers import call_group_name
from calls.models import Call, CallEvent
from campaigns.models import Suppression
from tests.calls.conftest import consent_is_revoked, reminder_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def opt_out_state(reminder):
    return {
        "consent_revoked": consent_is_revoked(reminder.contact),
        "suppressed": Suppression.objects.filter(
            organization=reminder.agent.organization, phone=reminder.contact.phone, source="opt_out"
        ).exists(),
        "via": reminder.contact.consents.get().revoked_via,
    }


@sync_to_async
def ended_call(call_id):
    call = Call.objects.get(pk=call_id)
    wrap_ups = list(
        CallEvent.objects.filter(call_id=call_id, kind="wrap_up").values_list(
            "data__reason", flat=True
        )
    )
    return call, wrap_ups


def said_verbatim(session):
    return [
        event["response"]["instructions"]
        for event in session.events("received", "response.create")
        if "response" in event
    ]


async def test_it_opts_out_a_caller_who_asks_before_the_socket_closes(model_server, twilio):
    reminder = await reminder_call()
    side = twilio(speed=8)
    side.on_close = lambda: opt_out_state(reminder)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until_quiet()

    await side.say("Stop calling me.")

    assert await side.until_closed() == 1000
    assert side.seen_at_close == {"consent_revoked": True, "suppressed": True, "via": "call"}
    call, _ = await ended_call(reminder.call.pk)
    assert call.outcome == "opted_out"
    assert call.hangup_reason == "opted_out"
    transcript = " ".join(
        event["transcript"]
        for event in model_server.sessions[0].events(
            "sent", "response.output_audio_transcript.done"
        )
    )
    assert "We will not call you again" in transcript
    assert side.unplayed_at_close == 0


async def test_it_opts_out_a_caller_who_presses_the_opt_out_key(model_server, twilio):
    reminder = await reminder_call(opt_out_digit="7")
    side = twilio(speed=8)
    side.on_close = lambda: opt_out_state(reminder)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))

    await side.press("7")

    assert await side.until_closed() == 1000
    assert side.seen_at_close == {"consent_revoked": True, "suppressed": True, "via": "keypress"}
    assert any(
        "We will not call you again" in text for text in said_verbatim(model_server.sessions[0])
    )
    assert side.events("clear")  # the opening stopped at once
    call, _ = await ended_call(reminder.call.pk)
    assert call.outcome == "opted_out"


async def test_it_wraps_up_politely_at_the_cost_cap(model_server, twilio):
    reminder = await reminder_call(max_cost_per_call=Decimal("0.0001"))
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())

    assert await side.until_closed() == 1000
    call, wrap_ups = await ended_call(reminder.call.pk)
    assert call.hangup_reason == "cost_cap"
    assert wrap_ups == ["cost_cap"]
    assert any(
        "I have to end this call now" in text for text in said_verbatim(model_server.sessions[0])
    )
    assert side.unplayed_at_close == 0


async def test_it_wraps_up_politely_at_the_maximum_duration(model_server, twilio):
    reminder = await reminder_call(max_call_seconds=1)
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())

    assert await side.until_closed() == 1000
    call, wrap_ups = await ended_call(reminder.call.pk)
    assert call.hangup_reason == "max_duration"
    assert wrap_ups == ["max_duration"]
    assert any(
        "I have to end this call now" in text for text in said_verbatim(model_server.sessions[0])
    )


async def test_it_leaves_the_voicemail_message_when_a_machine_beeps(model_server, twilio):
    reminder = await reminder_call(voicemail_message="Please call Bayview Dental back.")
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))

    await get_channel_layer().group_send(
        call_group_name(reminder.call.pk),
        {"type": "call.machine_detected", "answered_by": "machine_end_beep"},
    )

    assert await side.until_closed() == 1000
    call, _ = await ended_call(reminder.call.pk)
    assert call.outcome == "voicemail"
    assert any(
        "Please call Bayview Dental back." in text
        for text in said_verbatim(model_server.sessions[0])
    )
    assert side.unplayed_at_close == 0


async def test_it_ignores_a_human_verdict_and_hangs_up_when_asked(model_server, twilio):
    reminder = await reminder_call()
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))
    layer = get_channel_layer()
    group = call_group_name(reminder.call.pk)

    await layer.group_send(group, {"type": "call.machine_detected", "answered_by": "human"})
    await layer.group_send(group, {"type": "call.hang_up", "reason": "operator_ended"})

    assert await side.until_closed() == 1000
    call, wrap_ups = await ended_call(reminder.call.pk)
    assert call.outcome == ""
    assert call.hangup_reason == "operator_ended"
    assert wrap_ups == ["operator_ended"]
