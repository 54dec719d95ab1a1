"""Twilio: REST calls, TwiML and webhook signatures. The only module that imports `twilio`.

The REST origin comes from settings (`TWILIO_API_URL`), so the same code talks to Twilio or
to the sandbox. Every request has an explicit timeout, and every failure is classified:
permanent (the same request can never succeed) or worth retrying.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import requests
import urllib3
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Connect, Dial, Start, VoiceResponse

REQUEST_TIMEOUT_SECONDS = 10

# Twilio error codes that no retry can fix.
PERMANENT_CODES = {
    13223,  # invalid phone number format
    13224,  # invalid or unreachable number
    13225,  # forbidden destination
    13226,  # invalid country code
    21210,  # caller ID is not a verified number of this account
    21211,  # invalid 'To' number
    21214,  # 'To' number cannot be reached
    21215,  # geographic permission for the destination is off
    21216,  # number is blacklisted
    21217,  # 'To' is not a valid phone number
    21401,  # invalid phone number
    21610,  # recipient opted out at the carrier
    20003,  # authentication failed: a configuration error, not a transient one
    20404,  # no such resource
}
# Twilio's CallStatus values (callbacks and REST) -> our call statuses.
STATUS_FROM_CARRIER = {
    "queued": "initiated",
    "initiated": "initiated",
    "ringing": "ringing",
    "in-progress": "in_progress",
    "completed": "completed",
    "busy": "busy",
    "no-answer": "no_answer",
    "failed": "failed",
    "canceled": "canceled",
}
CALL_GONE_CODES = {20404, 21220}  # the call does not exist, or is not in progress any more


class CarrierError(Exception):
    """`permanent`: the same request can never succeed. `maybe_placed`: the request may have
    reached the carrier (a read timeout), so repeating it could place a second call."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None,
        status: int | None,
        permanent: bool,
        maybe_placed: bool = False,
    ):
        self.code = code
        self.status = status
        self.permanent = permanent
        self.maybe_placed = maybe_placed
        super().__init__(message)


class CallGone(CarrierError):
    """The call has already ended at the carrier; the update is moot."""


@dataclass(frozen=True)
class CarrierCall:
    sid: str
    status: str
    answered_by: str | None
    duration: int | None
    created_at: datetime | None = None


def _classify(error: TwilioRestException) -> CarrierError:
    code = error.code if isinstance(error.code, int) else None
    message = f"Twilio refused the request ({error.status}, code {code}): {error.msg}"
    if code in CALL_GONE_CODES:
        return CallGone(message, code=code, status=error.status, permanent=True)
    permanent = code in PERMANENT_CODES or (
        400 <= (error.status or 0) < 500 and error.status not in (408, 409, 429)
    )
    return CarrierError(message, code=code, status=error.status, permanent=permanent)


@lru_cache(maxsize=4)
def _client(account_sid: str, auth_token: str, api_url: str) -> Client:
    http = TwilioHttpClient(timeout=REQUEST_TIMEOUT_SECONDS, max_retries=0)
    client = Client(account_sid, auth_token, http_client=http)
    # The SDK has no base-URL setting; the Api domain's base URL is the supported seam.
    client.api.base_url = api_url
    return client


def client() -> Client:
    if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
        raise CarrierError(
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to place calls.",
            code=None,
            status=None,
            permanent=True,
        )
    return _client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_URL)


def _request(operation):
    try:
        return operation()
    except TwilioRestException as error:
        raise _classify(error) from error
    except requests.exceptions.ConnectionError as error:
        if _connection_dropped(error):
            raise CarrierError(
                f"Twilio dropped the connection before answering: {error}",
                code=None,
                status=None,
                permanent=False,
                maybe_placed=True,
            ) from error
        raise CarrierError(  # refused, unreachable or no connection in time: never sent
            f"Twilio could not be reached: {error}", code=None, status=None, permanent=False
        ) from error
    except requests.exceptions.Timeout as error:
        raise _timed_out(error) from error


def _connection_dropped(error: requests.exceptions.ConnectionError) -> bool:
    """Whether the connection was made and then lost, so that the request may have reached
    Twilio; a connection that was never made (refused, no such host, connect timeout) is
    not."""
    reason = error.args[0] if error.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return not isinstance(
        reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
    )


def _timed_out(error: Exception) -> CarrierError:
    return CarrierError(
        f"Twilio did not answer in {REQUEST_TIMEOUT_SECONDS} s: {error}",
        code=None,
        status=None,
        permanent=False,
        maybe_placed=True,
    )


def _carrier_call(instance) -> CarrierCall:
    duration = int(instance.duration) if instance.duration not in (None, "") else None
    return CarrierCall(
        sid=instance.sid,
        status=instance.status,
        answered_by=instance.answered_by,
        duration=duration,
        created_at=instance.date_created,
    )


def calls_api_load() -> None:
    """Load the SDK's Calls API ahead of a paced request: the SDK imports it on first use,
    which can take a good part of a second, and a request should leave right after its
    pacing token is taken. Does nothing when Twilio is not configured (the request then
    fails with that reason)."""
    if settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN:
        client().calls  # noqa: B018 - the attribute access is the load


def create_call(
    *,
    to: str,
    from_: str,
    answer_url: str,
    status_callback: str,
    amd_callback: str,
    ring_timeout: int,
    time_limit: int,
    recording_callback: str | None = None,
) -> CarrierCall:
    """Ask the carrier to place a call; with `recording_callback`, recorded on two channels
    (caller and agent apart), the recording described to that URL when it is ready. Raises
    CarrierError (see `permanent`)."""
    recording = (
        {
            "record": True,
            "recording_channels": "dual",
            "recording_status_callback": recording_callback,
            "recording_status_callback_method": "POST",
            "recording_status_callback_event": ["completed", "absent"],
        }
        if recording_callback
        else {}
    )
    return _request(
        lambda: _carrier_call(
            client().calls.create(
                **recording,
                to=to,
                from_=from_,
                url=answer_url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                machine_detection="DetectMessageEnd",
                async_amd="true",
                async_amd_status_callback=amd_callback,
                async_amd_status_callback_method="POST",
                timeout=ring_timeout,
                time_limit=time_limit,
            )
        )
    )


def fetch_call(sid: str) -> CarrierCall:
    return _request(lambda: _carrier_call(client().calls(sid).fetch()))


def calls_between(*, to: str, from_: str, limit: int = 20) -> list[CarrierCall]:
    """The carrier's newest calls from `from_` to `to`, newest first: how to learn whether a
    request whose answer was lost placed a call. Raises CarrierError."""
    return _request(
        lambda: [
            _carrier_call(instance)
            for instance in client().calls.list(to=to, from_=from_, limit=limit)
        ]
    )


@dataclass(frozen=True)
class CarrierPrice:
    """What the carrier charged for a call, as a positive amount; `amount` is None until the
    carrier has priced the call (Twilio fills it in minutes after the call ends)."""

    amount: Decimal | None
    unit: str


def fetch_call_price(sid: str) -> CarrierPrice:
    """The carrier's price for the call. Raises CarrierError (CallGone if unknown)."""
    instance = _request(lambda: client().calls(sid).fetch())
    price = instance.price
    try:
        # Twilio writes charges as negative amounts ("-0.02800").
        amount = None if price in (None, "") else abs(Decimal(str(price)))
    except InvalidOperation as error:
        raise CarrierError(
            f"Twilio returned an unreadable price {price!r} for call {sid}.",
            code=None,
            status=None,
            permanent=True,
        ) from error
    return CarrierPrice(amount=amount, unit=(instance.price_unit or "").upper())


def hang_up(sid: str) -> None:
    """End the call; an already-ended call is not an error."""
    try:
        _request(lambda: client().calls(sid).update(status="completed"))
    except CallGone:
        return


def replace_twiml(sid: str, twiml: str) -> None:
    """Replace the call's running TwiML (this ends its media stream)."""
    _request(lambda: client().calls(sid).update(twiml=twiml))


def recording_media_url(recording_sid: str, *, extension: str = "wav") -> str:
    """Where the carrier serves a recording's audio. Built from our own API origin and
    account, never from a URL a callback named, so our credentials go only to the carrier."""
    return (
        f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}"
        f"/Recordings/{recording_sid}.{extension}"
    )


# What a recording's audio may answer: all of it, the byte range asked for, or "that range
# is not in the file" (416, with the file's size in Content-Range).
RECORDING_AUDIO_STATUSES = (200, 206, 416)


def recording_audio(recording_sid: str, *, byte_range: str | None = None) -> requests.Response:
    """Open the recording's WAV audio at the carrier (with our account's basic auth), as a
    stream the caller must close; `byte_range` is an HTTP `Range` value to pass on (a player
    seeking). Raises CarrierError (CallGone when the carrier has none)."""
    client()  # the same configuration error as every other request when unset
    try:
        response = requests.get(
            recording_media_url(recording_sid),
            auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
            headers={"Range": byte_range} if byte_range else {},
            timeout=REQUEST_TIMEOUT_SECONDS,
            stream=True,
        )
    except requests.exceptions.ConnectionError as error:
        raise CarrierError(
            f"Twilio could not be reached: {error}", code=None, status=None, permanent=False
        ) from error
    except requests.exceptions.Timeout as error:
        raise CarrierError(
            f"Twilio did not answer in {REQUEST_TIMEOUT_SECONDS} s: {error}",
            code=None,
            status=None,
            permanent=False,
        ) from error
    if response.status_code == 404:
        response.close()
        raise CallGone(
            f"Twilio has no recording {recording_sid}.", code=20404, status=404, permanent=True
        )
    if response.status_code not in RECORDING_AUDIO_STATUSES:
        response.close()
        raise CarrierError(
            f"Twilio answered {response.status_code} for recording {recording_sid}.",
            code=None,
            status=response.status_code,
            permanent=400 <= response.status_code < 500,
        )
    return response


def delete_recording(recording_sid: str) -> None:
    """Delete the recording at the carrier; one already gone is not an error."""
    try:
        _request(lambda: client().recordings(recording_sid).delete())
    except CallGone:
        return


def stream_twiml(
    *, stream_url: str, parameters: dict[str, str], recording_callback: str | None = None
) -> str:
    """Answer TwiML: connect the call's audio to our media socket, hang up when it closes.
    With `recording_callback`, first start a two-channel recording of the call (inbound
    calls; outbound ones are recorded from the dial)."""
    response = VoiceResponse()
    if recording_callback:
        start = Start()
        start.recording(
            recording_channels="dual",
            recording_track="both",
            recording_status_callback=recording_callback,
            recording_status_callback_method="POST",
            recording_status_callback_event="completed absent",
        )
        response.append(start)
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    response.hangup()
    return str(response)


def transfer_twiml(number: str, *, caller_id: str) -> str:
    response = VoiceResponse()
    dial = Dial(caller_id=caller_id)
    dial.number(number)
    response.append(dial)
    return str(response)


def say_and_hang_up_twiml(text: str) -> str:
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)


def signature_is_valid(*, url: str, params: dict[str, str], signature: str) -> bool:
    """Check X-Twilio-Signature over the public URL Twilio requested and the POSTed form."""
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)
