"""Signed, short-lived tokens that admit one call's media stream.

The answer webhook puts a token in the TwiML `<Parameter>`; Twilio hands it back in the
stream's `start.customParameters`, and the media consumer admits the socket only if the
token is genuine, fresh, and names the call SID the `start` message carries.
"""

from django.core import signing

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
