"""One writer per process writes every call's records in one batch, and a row the database
refuses costs only its own call's records."""

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from calls.call_log import CallLog, CallLogWriter
from calls.costs import Usage
from calls.models import Call, CallEvent, Turn
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@sync_to_async
def two_calls():
    return CallFactory().pk, CallFactory().pk


@sync_to_async
def stored(call_id):
    call = Call.objects.get(pk=call_id)
    turns = list(Turn.objects.filter(call_id=call_id).values_list("text", flat=True))
    kinds = list(CallEvent.objects.filter(call_id=call_id).values_list("kind", flat=True))
    return call, turns, kinds


async def test_it_writes_every_calls_records_in_one_flush():
    first_id, second_id = await two_calls()
    writer = CallLogWriter()
    first, second = CallLog(first_id, writer=writer), CallLog(second_id, writer=writer)
    first.turn(speaker="caller", text="Yes, I will be there.", started_ms=1200, ended_ms=2400)
    first.usage(Usage(audio_output=100))
    second.event("barge_in", at=timezone.now(), item_id="item_1")

    assert await first.flush(outcome="confirmed")

    call, turns, _kinds = await stored(first_id)
    assert turns == ["Yes, I will be there."]
    assert call.outcome == "confirmed"
    assert call.audio_output_tokens == 100
    assert (await stored(second_id))[2] == ["barge_in"]  # written in the same flush
    assert first.is_empty
    assert second.is_empty


async def test_usage_adds_to_what_the_database_holds_for_every_call_at_once():
    first_id, second_id = await two_calls()
    writer = CallLogWriter()
    first, second = CallLog(first_id, writer=writer), CallLog(second_id, writer=writer)
    first.usage(Usage(audio_input=40, audio_output=100, transcription_audio_ms=1500))
    second.usage(Usage(text_input=7))
    assert await writer.write_now()
    # Something else writes the call row meanwhile (a status callback, a tool).
    await sync_to_async(Call.objects.filter(pk=first_id).update)(outcome="confirmed")
    first.usage(Usage(audio_output=60, text_output=3))
    assert await writer.write_now()

    call = (await stored(first_id))[0]
    assert call.outcome == "confirmed"
    assert (call.audio_input_tokens, call.audio_output_tokens, call.text_output_tokens) == (
        40,
        160,
        3,
    )
    assert call.transcription_audio_ms == 1500
    other = (await stored(second_id))[0]
    assert (other.text_input_tokens, other.audio_output_tokens) == (7, 0)


async def test_a_refused_row_costs_only_its_own_calls_records():
    first_id, second_id = await two_calls()
    writer = CallLogWriter()
    good, bad = CallLog(first_id, writer=writer), CallLog(second_id, writer=writer)
    good.turn(speaker="agent", text="Hello, this is the clinic.", started_ms=0)
    bad.turn(speaker="a speaker name far too long", text="never stored", started_ms=0)

    assert await writer.write_now()  # the database answered: nothing is kept for a retry

    assert (await stored(first_id))[1] == ["Hello, this is the clinic."]
    assert (await stored(second_id))[1] == []
    assert good.is_empty
    assert bad.is_empty
