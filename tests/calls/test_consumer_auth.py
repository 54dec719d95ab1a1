"""The media socket admits a stream only with a genuine, fresh token for its own call."""

import time

import pytest
from asgiref.sync import sync_to_async
from django.core import signing

from calls.media_tokens import SALT, media_token_issue
from calls.models import Call, CallEvent, Turn
from tests.calls.conftest import reminder_call

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
