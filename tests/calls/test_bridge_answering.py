"""Who answered: voicemail with its fixed parts, fax, call screeners, a machine verdict that
comes after a person spoke, and the language the agent speaks."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from calls.consumers import call_group_name
from calls.models import Call
from campaigns.models import Campaign, Contact
from sandbox import phrases
from tests.calls.conftest import model_session_events, reminder_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SCREENER = phrases.CALLER_PHRASES["screener"]


def said_verbatim(server):
    if not server.sessions:
        return []
    return [
        event["response"]["instructions"]
        for event in model_session_events(server, "response.create")
        if "response" in event and event["response"].get("instructions")
    ]


def agent_transcripts(server):
    if not server.sessions:
        return []
    return [
        event["transcript"]
        for event in model_session_events(
            server, "response.output_audio_transcript.done", direction="sent"
        )
    ]


def caller_transcripts(server):
    if not server.sessions:
        return []
    return [
        event["transcript"]
        for event in model_session_events(
            server, "conversation.item.input_audio_transcription.completed", direction="sent"
        )
    ]


@sync_to_async
def call_and_events(call_id):
    call = Call.objects.select_related("organization").get(pk=call_id)
    return call, list(call.events.order_by("at", "pk").values_list("kind", "data"))


async def machine_verdict(reminder, answered_by):
    await get_channel_layer().group_send(
        call_group_name(reminder.call.pk),
        {"type": "call.machine_detected", "answered_by": answered_by},
    )


async def test_the_voicemail_states_name_callback_and_opt_out_whatever_the_operator_typed(
    model_server, twilio
):
    reminder = await reminder_call(voicemail_message="We look forward to seeing you.")
    await sync_to_async(Campaign.objects.filter(pk=reminder.call.target.campaign_id).update)(
        purpose="telemarketing"
    )
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))

    await machine_verdict(reminder, "machine_end_beep")

    assert await side.until_closed() == 1000
    call, _ = await call_and_events(reminder.call.pk)
    name = call.organization.name
    [message] = [text for text in agent_transcripts(model_server) if "look forward" in text]
    assert f"on behalf of {name}." in message
    assert "We look forward to seeing you." in message
    assert f"Please call {name} back at (202) 555-0143." in message
    assert "To stop these calls, call (202) 555-0143 and say stop, or press 9" in message
    assert call.outcome == "voicemail"
    assert call.hangup_reason == "voicemail"


async def test_a_reminder_voicemail_without_operator_text_still_names_the_business(
    model_server, twilio
):
    reminder = await reminder_call(voicemail_message="")
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))

    await machine_verdict(reminder, "machine_end_silence")

    assert await side.until_closed() == 1000
    call, _ = await call_and_events(reminder.call.pk)
    name = call.organization.name
    assert any(
        f"on behalf of {name}. Please call {name} back at (202) 555-0143. Goodbye." in text
        for text in said_verbatim(model_server)
    )
    assert not any("say stop" in text for text in said_verbatim(model_server) if "Goodbye" in text)
    assert call.outcome == "voicemail"


async def test_a_greeting_heard_before_the_beep_does_not_count_as_a_person(model_server, twilio):
    reminder = await reminder_call(voicemail_message="See you soon.")
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))
    await side.say(phrases.CALLER_PHRASES["voicemail"])
    await side.until(lambda: caller_transcripts(model_server))

    await machine_verdict(reminder, "machine_end_beep")

    assert await side.until_closed() == 1000
    call, events = await call_and_events(reminder.call.pk)
    assert call.outcome == "voicemail"
    assert "machine_detection_late" not in [kind for kind, _ in events]
    assert any("See you soon." in text for text in said_verbatim(model_server))


async def test_a_machine_verdict_after_the_person_spoke_keeps_the_conversation(
    model_server, twilio
):
    reminder = await reminder_call(voicemail_message="See you soon.")
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until_quiet()
    await side.say("Yes, I will be there.")
    await side.until(lambda: caller_transcripts(model_server))

    await machine_verdict(reminder, "machine_end_beep")

    assert await side.until_closed() == 1000
    call, events = await call_and_events(reminder.call.pk)
    assert ("machine_detection_late", {"answered_by": "machine_end_beep"}) in events
    assert call.answered_by == "human"
    assert call.get_answered_by_display() == "Person"
    assert call.outcome == "confirmed"
    assert not any("See you soon." in text for text in said_verbatim(model_server))


async def test_a_fax_is_hung_up_on_without_a_message(model_server, twilio):
    reminder = await reminder_call(voicemail_message="See you soon.")
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))

    await machine_verdict(reminder, "fax")

    assert await side.until_closed() == 1000
    call, events = await call_and_events(reminder.call.pk)
    assert (call.outcome, call.hangup_reason) == ("fax", "fax")
    assert ("wrap_up", {"reason": "fax"}) in events
    assert not any("See you soon." in text for text in said_verbatim(model_server))


async def test_a_screener_hears_who_calls_once_and_then_the_person_picks_up(model_server, twilio):
    reminder = await reminder_call()
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))  # the screener talks over the opening
    await side.say(SCREENER)
    screening = "Please pick up if you are available."
    await side.until(lambda: any(screening in text for text in agent_transcripts(model_server)))
    await side.until_quiet()
    call, events = await call_and_events(reminder.call.pk)
    assert call.outcome == "call_screening"
    name = call.organization.name
    [line] = [text for text in agent_transcripts(model_server) if screening in text]
    assert (
        line
        == f"This is an automated AI assistant calling on behalf of {name} with a reminder. {screening}"
    )

    await side.say("Hello?")
    await side.until(
        lambda: any("confirm" in text for text in agent_transcripts(model_server)[-1:])
    )
    await side.until_quiet()
    await side.say("Yes, I will be there.")

    assert await side.until_closed() == 1000
    call, events = await call_and_events(reminder.call.pk)
    kinds = [kind for kind, _ in events]
    assert kinds.count("call_screening") == 1
    assert kinds.index("call_screening") < kinds.index("call_screening_passed")
    assert call.outcome == "confirmed"
    assert sum(screening in text for text in agent_transcripts(model_server)) == 1


async def test_a_screeners_machine_verdict_leaves_no_voicemail(model_server, twilio):
    reminder = await reminder_call(voicemail_message="See you soon.")
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))  # the screener talks over the opening
    await side.say(SCREENER)
    await side.until(lambda: caller_transcripts(model_server))

    await machine_verdict(reminder, "machine_end_other")
    await side.until(
        lambda: any("Please pick up" in text for text in agent_transcripts(model_server))
    )
    await side.until_quiet()

    call, events = await call_and_events(reminder.call.pk)
    assert call.outcome == "call_screening"
    assert ("machine_detection_screener", {"answered_by": "machine_end_other"}) in events
    assert not any("See you soon." in text for text in said_verbatim(model_server))
    await side.stop()


SPANISH = {
    "es": {
        "instructions": "Recuerde a {{ contact.name }} su cita del {{ appointment }}.",
        "voice": "coral",
        "greeting": "¿Puede confirmar su cita del {{ appointment }}?",
    }
}


@pytest.mark.parametrize(
    ("contact_language", "language", "voice", "instructions"),
    [
        ("es-MX", "es", "coral", "Recuerde a [contact data: contact.name] su cita"),
        ("de", "en", "marin", "Remind [contact data: contact.name] of the appointment"),
    ],
)
async def test_the_contacts_language_picks_the_agents_variant_or_its_default(
    model_server, twilio, contact_language, language, voice, instructions
):
    reminder = await reminder_call(language_variants=SPANISH)
    await sync_to_async(Contact.objects.filter(pk=reminder.contact.pk).update)(
        language=contact_language
    )
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))

    [update] = model_session_events(model_server, "session.update")[:1]
    session = update["session"]
    assert session["instructions"].startswith(instructions)
    assert session["audio"]["output"]["voice"] == voice
    assert session["audio"]["input"]["transcription"]["language"] == language
    call, _ = await call_and_events(reminder.call.pk)
    assert call.language == language
    await side.stop()


async def test_when_nobody_picks_up_after_the_screener_the_agent_ends_politely(
    model_server, twilio
):
    reminder = await reminder_call()
    side = twilio(speed=8)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until(lambda: side.events("media"))
    await side.say(SCREENER)

    # The screener stays on the line in silence: the agent waits, then says goodbye.
    assert await side.until_closed(within=120) == 1000
    call, events = await call_and_events(reminder.call.pk)
    assert (call.outcome, call.hangup_reason) == ("call_screening", "call_screening")
    assert ("wrap_up", {"reason": "call_screening"}) in events
    name = call.organization.name
    assert agent_transcripts(model_server)[-1] == (
        f"Sorry to have missed you. Please call {name} at (202) 555-0143. Goodbye."
    )
