"""Signed, short-lived tokens that admit one call's media stream.

The answer webhook puts a token in the TwiML `<Parameter>`; Twilio hands it back in the
stream's `start.customParameters`, and the media consumer admits the socket only if the
token is genuine, fresh, names the call SID the `start` message carries, and is the first
for its call: a token is consumed at `start`, and one call has one bridge.
"""

from datetime import datetime

from django.core import signing

from calls.models import Call

SALT = "voiceops.calls.media-stream"
MAX_AGE_SECONDS = 120


class InvalidMediaToken(Exception):
    """The token is forged, expired, malformed, or for another call."""


def media_token_issue(*, call_id: int, call_sid: str) -> str:
    return signing.dumps({"call": call_id, "sid": call_sid}, salt=SALT, compress=False)


def media_token_verify(token: str, *, call_sid: str, max_age: int = MAX_AGE_SECONDS) -> int:
    """Return the call id the token admits for `call_sid`; raise InvalidMediaToken otherwise."""
    try:
        payload = signing.loads(token or "", salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise InvalidMediaToken("the media token has expired") from None
    except signing.BadSignature:
        raise InvalidMediaToken("the media token is not genuine") from None
    if not isinstance(payload, dict) or payload.get("sid") != call_sid:
        raise InvalidMediaToken("the media token was issued for another call")
    call_id = payload.get("call")
    if not isinstance(call_id, int):
        raise InvalidMediaToken("the media token names no call")
    return call_id


class MediaStreamTaken(Exception):
    """The call's media token was already consumed: a bridge started for it before."""


def media_token_consume(*, call_id: int, at: datetime) -> None:
    """Consume the call's media token: the first stream to reach `start` wins, for good.

    Stored on the call (`media_started_at`) before any model session opens, so a second
    socket, a replayed token or a token from a replayed answer webhook finds the call taken,
    in this process or any other. Raises MediaStreamTaken."""
    claimed = Call.objects.filter(pk=call_id, media_started_at__isnull=True).update(
        media_started_at=at
    )
    if not claimed:
        raise MediaStreamTaken(f"call {call_id} already has a media stream")
