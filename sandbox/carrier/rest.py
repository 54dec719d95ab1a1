"""HTTP routes: Twilio's Calls API (at Twilio's paths, with basic auth) and sandbox controls.

Twilio API, authenticated with the account SID and auth token:
    POST /2010-04-01/Accounts/{AccountSid}/Calls.json            create a call (201)
    GET  /2010-04-01/Accounts/{AccountSid}/Calls.json            list calls
    GET  /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json  fetch a call
    POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json  update a call
    GET  /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.wav   a recording's audio
    GET  /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.json  its resource
    DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.json  delete it (204)
Sandbox controls (no auth; loopback only):
    POST /sandbox/numbers        Number, VoiceUrl, VoiceMethod: own a number
    POST /sandbox/personas       Number, Persona: who answers calls to Number
    POST /sandbox/inbound-calls  From, To, Persona: call one of the owned numbers
    GET  /sandbox/calls/{CallSid}.json  everything the carrier knows about a call
    GET  /sandbox/accounts/{AccountSid}/dials.json  the account's outbound calls: when each
                                 was requested and when it was dialed (after queueing)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.carrier import errors
from sandbox.carrier.calls import API_VERSION
from sandbox.carrier.personas import UnknownPersona

if TYPE_CHECKING:
    from sandbox.carrier.server import Carrier

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CALLS_PATH = f"/{API_VERSION}/Accounts/{{account_sid}}/Calls.json"
CALL_PATH = f"/{API_VERSION}/Accounts/{{account_sid}}/Calls/{{call_sid}}.json"
RECORDING_PATH = (
    f"/{API_VERSION}/Accounts/{{account_sid}}/Recordings/{{recording_sid}}.{{extension}}"
)


def routes(carrier: Carrier) -> list[web.RouteDef]:
    def twilio_api(handler: Handler) -> Handler:
        """Authenticate, rate-limit and render `TwilioApiError`s as Twilio does."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                _authenticate(carrier, request)
                limit = carrier.request_rate_limit
                if limit is not None and not limit.allow(carrier.loop.time()):
                    raise errors.too_many_requests()
                return await handler(request)
            except errors.TwilioApiError as error:
                headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'}
                return web.json_response(
                    error.body(),
                    status=error.http_status,
                    headers=headers if error.http_status == 401 else None,
                )

        return wrapped

    async def create_call(request: web.Request) -> web.Response:
        form = await request.post()
        if carrier.lost_create_requests > 0:
            carrier.lost_create_requests -= 1
            # aiohttp gives a handler no event for the client going away: poll the transport.
            while request.transport is not None and not request.transport.is_closing():  # noqa: ASYNC110
                await asyncio.sleep(0.1)  # until the client stops waiting for an answer
            raise web.HTTPGatewayTimeout()
        events = [str(event) for event in form.getall("StatusCallbackEvent", [])]
        recording_events = [
            str(event)
            for value in form.getall("RecordingStatusCallbackEvent", [])
            for event in str(value).split()
        ]
        call = carrier.create_call(_single_values(form), events, recording_events)
        return web.json_response(call.resource(), status=201)

    async def list_calls(request: web.Request) -> web.Response:
        filters = {
            key: request.query[key] for key in ("To", "From", "Status") if key in request.query
        }
        found = [
            call.resource()
            for call in carrier.calls.values()
            if call.account_sid == carrier.account_sid
            and filters.get("To", call.to) == call.to
            and filters.get("From", call.from_) == call.from_
            and filters.get("Status", call.status) == call.status
        ]
        found.reverse()  # newest first, as Twilio lists them
        uri = request.path
        return web.json_response(
            {
                "calls": found,
                "start": 0,
                "end": max(len(found) - 1, 0),
                "page": 0,
                "page_size": len(found),
                "first_page_uri": uri,
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": uri,
            }
        )

    def _call_of(request: web.Request) -> Any:
        call = carrier.calls.get(request.match_info["call_sid"])
        if call is None:
            raise errors.not_found(request.path)
        return call

    async def fetch_call(request: web.Request) -> web.Response:
        return web.json_response(_call_of(request).resource())

    async def update_call(request: web.Request) -> web.Response:
        call = _call_of(request)
        form = await request.post()
        carrier.update_call(call, _single_values(form))
        return web.json_response(call.resource())

    def _recording_of(request: web.Request) -> Any:
        recording = carrier.recordings.get(request.match_info["recording_sid"])
        if recording is None:
            raise errors.not_found(request.path)
        return recording

    async def fetch_recording(request: web.Request) -> web.StreamResponse:
        recording = _recording_of(request)
        extension = request.match_info["extension"]
        if extension == "json":
            return web.json_response(recording.resource())
        if extension != "wav":
            # Twilio also serves .mp3; the sandbox has no MP3 encoder, so it says so plainly.
            raise errors.TwilioApiError(
                415, 20415, f"The sandbox serves recordings as .wav, not .{extension}"
            )
        return web.FileResponse(recording.path, headers={"Content-Type": "audio/x-wav"})

    async def delete_recording(request: web.Request) -> web.Response:
        if request.match_info["extension"] != "json":
            raise errors.not_found(request.path)
        recording = carrier.recordings.pop(_recording_of(request).sid)
        recording.path.unlink(missing_ok=True)
        return web.Response(status=204)

    async def own_number(request: web.Request) -> web.Response:
        form = await request.post()
        number = str(form.get("Number", ""))
        if not number:
            raise web.HTTPBadRequest(text="Number is required")
        voice_url = form.get("VoiceUrl")
        carrier.add_number(
            number, str(voice_url) if voice_url else None, str(form.get("VoiceMethod", "POST"))
        )
        owned = carrier.numbers[number]
        return web.json_response(
            {
                "number": owned.number,
                "voice_url": owned.voice_url,
                "voice_method": owned.voice_method,
            },
            status=201,
        )

    async def assign_persona(request: web.Request) -> web.Response:
        form = await request.post()
        number, persona = str(form.get("Number", "")), str(form.get("Persona", ""))
        try:
            carrier.assign_persona(number, persona)
        except UnknownPersona as error:
            raise web.HTTPBadRequest(text=str(error)) from error
        return web.json_response({"number": number, "persona": persona}, status=201)

    async def place_inbound_call(request: web.Request) -> web.Response:
        form = await request.post()
        persona = form.get("Persona")
        try:
            call = await carrier.start_inbound_call(
                str(form.get("From", "")),
                str(form.get("To", "")),
                str(persona) if persona else None,
            )
        except errors.TwilioApiError as error:
            return web.json_response(error.body(), status=error.http_status)
        except UnknownPersona as error:
            raise web.HTTPBadRequest(text=str(error)) from error
        return web.json_response(call.resource(), status=201)

    async def inspect_call(request: web.Request) -> web.Response:
        call = carrier.calls.get(request.match_info["call_sid"])
        if call is None:
            raise web.HTTPNotFound(text=f"no call {request.match_info['call_sid']}")
        return web.json_response(call.inspection(), dumps=_dumps)

    async def account_dials(request: web.Request) -> web.Response:
        dials = carrier.dials(request.match_info["account_sid"])
        return web.json_response({"dials": [dial.as_json() for dial in dials]})

    return [
        web.post(CALLS_PATH, twilio_api(create_call)),
        web.get(CALLS_PATH, twilio_api(list_calls)),
        web.get(CALL_PATH, twilio_api(fetch_call)),
        web.post(CALL_PATH, twilio_api(update_call)),
        web.get(RECORDING_PATH, twilio_api(fetch_recording)),
        web.delete(RECORDING_PATH, twilio_api(delete_recording)),
        web.post("/sandbox/numbers", own_number),
        web.post("/sandbox/personas", assign_persona),
        web.post("/sandbox/inbound-calls", place_inbound_call),
        web.get("/sandbox/calls/{call_sid}.json", inspect_call),
        web.get("/sandbox/accounts/{account_sid}/dials.json", account_dials),
    ]


def _authenticate(carrier: Carrier, request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise errors.authentication_failed()
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.authentication_failed() from None
    is_valid = hmac.compare_digest(username, carrier.account_sid) and hmac.compare_digest(
        password, carrier.auth_token
    )
    if not is_valid:
        raise errors.authentication_failed()
    if request.match_info.get("account_sid") != carrier.account_sid:
        raise errors.not_found(request.path)


def _single_values(form: Any) -> dict[str, str]:
    return {key: str(form.get(key)) for key in form}


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)
