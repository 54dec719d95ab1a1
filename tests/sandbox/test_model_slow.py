"""A slow model: each response is created at once and its first audio comes later, as a
loaded real API behaves; a response cancelled meanwhile sends no audio at all."""

from tests.sandbox.conftest import audio_of, open_reminder_call, pcmu_session


def sent_at(session, event_type):
    return next(
        logged.at
        for logged in session.log
        if logged.direction == "sent" and logged.type == event_type
    )


async def test_the_first_audio_of_a_response_comes_after_the_delay(connect, model_server):
    model_server.first_audio_delay = 0.8
    client = await connect()

    events = await open_reminder_call(client)

    session = model_server.sessions[0]
    waited = sent_at(session, "response.output_audio.delta") - sent_at(session, "response.created")
    assert waited.total_seconds() >= 0.8
    assert audio_of(events)  # the whole opening came, late
    assert events[-1]["response"]["status"] == "completed"


async def test_a_response_cancelled_before_its_first_audio_sends_none(connect, model_server):
    model_server.first_audio_delay = 5
    client = await connect()
    await client.until("session.created")
    await client.send({"type": "session.update", "session": pcmu_session()})
    await client.until("session.updated")
    await client.send({"type": "response.create"})
    await client.until("response.created")

    await client.send({"type": "response.cancel"})
    events = await client.until("response.done")

    assert events[-1]["response"]["status"] == "cancelled"
    assert not audio_of(events)
