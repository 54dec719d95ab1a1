import base64
import typing

import pydantic
from openai import AsyncOpenAI
from openai.types.realtime import RealtimeServerEvent

from sandbox import phrases, speech
from tests.sandbox.conftest import API_KEY, caller_frames, pcmu_session

SERVER_EVENT = pydantic.TypeAdapter(RealtimeServerEvent)


def _event_classes():
    union = typing.get_args(RealtimeServerEvent)[0]
    return {
        typing.get_args(cls.model_fields["type"].annotation)[0]: cls
        for cls in typing.get_args(union)
    }


EVENT_CLASSES = _event_classes()


async def test_it_holds_a_reminder_conversation_with_the_official_sdk(model_server):
    client = AsyncOpenAI(base_url=model_server.openai_base_url, api_key=API_KEY)
    received = []

    async def receive_until(connection, done):
        async for event in connection:
            received.append(event)
            if done(event):
                return event
        raise AssertionError("the connection ended early")

    async with client.realtime.connect(model="gpt-realtime") as connection:
        await connection.session.update(session=pcmu_session())
        await receive_until(connection, lambda event: event.type == "session.updated")
        await connection.response.create()
        await receive_until(connection, lambda event: event.type == "response.done")
        opening_audio = b"".join(
            base64.b64decode(event.delta)
            for event in received
            if event.type == "response.output_audio.delta"
        )

        for frame in caller_frames("Yes, I will be there."):
            await connection.input_audio_buffer.append(audio=base64.b64encode(frame).decode())
        outcome_call = await receive_until(
            connection, lambda event: event.type == "response.function_call_arguments.done"
        )
        await receive_until(connection, lambda event: event.type == "response.done")
        await connection.conversation.item.create(
            item={
                "type": "function_call_output",
                "call_id": outcome_call.call_id,
                "output": '{"ok": true}',
            }
        )
        await connection.response.create()
        end_call = await receive_until(
            connection, lambda event: event.type == "response.function_call_arguments.done"
        )
        closing = await receive_until(connection, lambda event: event.type == "response.done")

    assert outcome_call.name == "record_outcome"
    assert outcome_call.arguments == '{"outcome": "confirmed"}'
    assert end_call.name == "end_call"
    assert closing.response.status == "completed"
    assert [item.type for item in closing.response.output] == ["message", "function_call"]
    goodbye_audio = b"".join(
        base64.b64decode(event.delta)
        for event in received[received.index(outcome_call) :]
        if event.type == "response.output_audio.delta"
    )
    heard_goodbye = speech.recognize(goodbye_audio, phrases.AGENT_VOCABULARY)
    assert phrases.agent_cues([word for word, _ in heard_goodbye]) == {"goodbye"}
    heard_opening = [word for word, _ in speech.recognize(opening_audio, phrases.AGENT_VOCABULARY)]
    assert {"disclosure", "question", "opt_out_offer"} <= phrases.agent_cues(heard_opening)
    for event in received:
        assert isinstance(event, EVENT_CLASSES[event.type]), event.type
    for sent in model_server.sessions[0].events(direction="sent"):
        SERVER_EVENT.validate_python(sent)
