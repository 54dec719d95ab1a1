"""The media socket admits a stream only with a genuine, fresh token for its own call."""

import time

import pytest
from asgiref.sync import sync_to_async
from django.core import signing

from calls.media_tokens import SALT, media_token_issue
from calls.models import Call, CallEvent, Turn
from sandbox.carrier.callbacks import twilio_signature
from tests.calls.conftest import AUTH_TOKEN, reminder_call, signed_upgrade_headers

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class _SignerFromThePast(signing.TimestampSigner):
    def timestamp(self):
        return signing.b62_encode(int(time.time()) - 3600)


def expired_token(call_id, call_sid):
    return _SignerFromThePast(salt=SALT).sign_object({"call": call_id, "sid": call_sid})


@sync_to_async
def nothing_stored(call_id):
    call = Call.objects.get(pk=call_id)
    return (
        call.media_ended_at is None
        and not Turn.objects.filter(call_id=call_id).exists()
        and not CallEvent.objects.filter(call_id=call_id).exists()
    )


@pytest.mark.parametrize("token_kind", ["forged", "expired", "other_call", "missing"])
async def test_it_refuses_a_stream_without_a_valid_token_for_its_call(
    model_server, twilio, token_kind
):
    reminder = await reminder_call()
    other = await reminder_call()
    token = {
        "forged": reminder.token()[:-4] + "AAAA",
        "expired": expired_token(reminder.call.pk, reminder.sid),
        "other_call": media_token_issue(call_id=other.call.pk, call_sid=other.sid),
        "missing": None,
    }[token_kind]
    side = twilio()
    await side.open(call_sid=reminder.sid, token=token)

    assert await side.until_closed(within=10) == 4401
    assert not side.events("media")
    assert model_server.sessions == []
    assert await nothing_stored(reminder.call.pk)


async def test_it_closes_a_socket_that_sends_media_before_start(model_server, twilio):
    side = twilio()
    connected, _ = await side.communicator.connect()
    assert connected
    await side.communicator.send_json_to(
        {"event": "media", "streamSid": "MZ1", "media": {"track": "inbound", "payload": "/w=="}}
    )
    output = await side.communicator.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4400}
    assert model_server.sessions == []


@pytest.mark.parametrize("signature", ["missing", "wrong_key", "other_url"])
async def test_it_refuses_an_upgrade_that_twilio_did_not_sign(model_server, twilio, signature):
    reminder = await reminder_call()
    headers = {
        "missing": [],
        "wrong_key": signed_upgrade_headers("not-our-auth-token"),
        "other_url": [
            (
                b"x-twilio-signature",
                twilio_signature(AUTH_TOKEN, "wss://elsewhere/ws/media/").encode(),
            )
        ],
    }[signature]
    side = twilio(headers=headers)

    connected, code = await side.communicator.connect()

    assert (connected, code) == (False, 4403)
    assert model_server.sessions == []
    assert await nothing_stored(reminder.call.pk)
    assert (await call_row(reminder.call.pk)).media_started_at is None


@sync_to_async
def call_row(call_id):
    return Call.objects.get(pk=call_id)


@sync_to_async
def event_kinds(call_id):
    return list(CallEvent.objects.filter(call_id=call_id).values_list("kind", flat=True))


@pytest.mark.parametrize("token_source", ["same_token", "replayed_answer"])
async def test_a_second_socket_for_a_live_call_is_refused_and_changes_nothing(
    model_server, twilio, token_source
):
    reminder = await reminder_call()
    first = twilio()
    token = reminder.token()
    await first.open(call_sid=reminder.sid, token=token)
    await first.until(lambda: first.audio)  # the agent is speaking on the first socket
    started_at = (await call_row(reminder.call.pk)).media_started_at
    assert started_at is not None  # the token was consumed in the database

    second = twilio()
    second_token = token if token_source == "same_token" else reminder.token()
    await second.open(call_sid=reminder.sid, token=second_token)

    assert await second.until_closed(within=10) == 4409
    assert not second.events("media")
    assert not second.events("mark")
    assert len(model_server.sessions) == 1  # no second paid model session
    assert (await call_row(reminder.call.pk)).media_started_at == started_at
    assert (await event_kinds(reminder.call.pk)).count("media_start") <= 1
    assert not first.is_closed  # the live call goes on
