"""The bridge keeps what a call said while the database is unreachable, and writes it once
the database is back, even after the call has ended.

The outage is real: the test database refuses new connections and every open one is
closed by the server (the shared PostgreSQL itself keeps running)."""

import asyncio

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.db import connection, connections

from calls.models import Call, CallEvent, Turn
from tests.calls.conftest import reminder_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class DatabaseOutage:
    """Takes the test database away from every client, and gives it back."""

    def __init__(self, settings: dict):
        self.name = settings["NAME"]
        self.admin = psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        )
        self.is_down = False

    def begin(self) -> None:
        name = psycopg.sql.Identifier(self.name)
        self.admin.execute(
            psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name)
        )
        self.is_down = True
        self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.name],
        )

    def end(self) -> None:
        name = psycopg.sql.Identifier(self.name)
        self.admin.execute(psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
        self.is_down = False


@pytest.fixture
def database_outage(transactional_db):
    outage = DatabaseOutage(connection.settings_dict)
    yield outage
    if outage.is_down:
        outage.end()
    outage.admin.close()
    connections.close_all()  # this thread's connection was closed by the server


@database_sync_to_async
def stored(call_id):
    call = Call.objects.get(pk=call_id)
    turns = list(Turn.objects.filter(call_id=call_id).order_by("started_ms", "id"))
    kinds = list(CallEvent.objects.filter(call_id=call_id).values_list("kind", flat=True))
    return call, turns, kinds


async def test_it_writes_the_last_turn_and_the_end_of_the_call_once_the_database_is_back(
    model_server, twilio, database_outage
):
    reminder = await reminder_call(tools=[])
    side = twilio(speed=4)
    await side.open(call_sid=reminder.sid, token=reminder.token())
    await side.until_quiet()  # the greeting has played
    session = model_server.sessions[0]

    await asyncio.to_thread(database_outage.begin)
    await side.say("Yes, I will be there.")
    await side.until(
        lambda: session.events("sent", "conversation.item.input_audio_transcription.completed")
    )
    await side.until_quiet()  # the bridge has the caller's turn and the agent's reply
    await side.send({"event": "stop", "streamSid": side.stream_sid})
    await side.until_closed()
    await asyncio.sleep(2)  # the writer tries, and fails, at least once meanwhile
    await asyncio.to_thread(database_outage.end)

    for _ in range(100):
        call, turns, kinds = await stored(reminder.call.pk)
        if call.media_ended_at is not None:
            break
        await asyncio.sleep(0.2)
    assert call.media_ended_at is not None
    caller_turns = [turn.text.lower() for turn in turns if turn.speaker == "caller"]
    assert len(caller_turns) == 1
    assert "there" in caller_turns[0]
    assert [turn.speaker for turn in turns].count("agent") == 2  # greeting and reply
    assert kinds[0] == "media_start"
    assert kinds[-1] == "media_stop"
    assert kinds.count("media_stop") == 1
