"""`Carrier`: the Twilio stand-in as an object: its account, numbers, personas and calls.

It runs on its own event loop in a background thread (see `sandbox.threaded`), so sync
Django tests and async tests use it alike; `start()` returns the base URL to use as
`TWILIO_API_URL`. The REST and sandbox-control routes live in `sandbox.carrier.rest`.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import phonenumbers
from aiohttp import web

from sandbox.carrier import errors
from sandbox.carrier.callbacks import WebhookClient
from sandbox.carrier.callee import Manners
from sandbox.carrier.calls import (
    API_VERSION,
    IN_PROGRESS,
    Billing,
    Call,
    CallRequest,
    RecordingRequest,
    new_sid,
)
from sandbox.carrier.lifecycle import CallRun, Telephony, Timing
from sandbox.carrier.pacing import DialPacer, DialRecord, RequestRateLimit
from sandbox.carrier.personas import persona_for, persona_named
from sandbox.carrier.recording import CarrierRecording
from sandbox.carrier.verbs import DocumentSource
from sandbox.threaded import ThreadedServer

DEFAULT_ACCOUNT_SID = "AC" + "5a4db0c5" * 4
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"
DEFAULT_NUMBER = "+15005550006"

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MACHINE_DETECTION_MODES = ("Enable", "DetectMessageEnd")


@dataclass
class OwnedNumber:
    number: str
    voice_url: str | None = None
    voice_method: str = "POST"


class Carrier(ThreadedServer):
    """A Twilio account on loopback: REST API, signed webhooks, Media Streams, personas."""

    thread_name = "sandbox-carrier"

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        numbers: Mapping[str, str | None] | Iterable[str] = (DEFAULT_NUMBER,),
        calls_per_second: float = 1.0,
        request_rate_limit: RequestRateLimit | None = None,
        recording_dir: Path | str | None = None,
        timing: Timing | None = None,
        manners: Manners | None = None,
        opt_out_digit: str = "9",
        personas: Mapping[str, str] | None = None,
        billing: Billing | None = None,
    ):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers: dict[str, OwnedNumber] = {}
        voice_urls = numbers if isinstance(numbers, Mapping) else dict.fromkeys(numbers)
        for number, voice_url in voice_urls.items():
            self.add_number(number, voice_url)
        # Twilio's calls-per-second limit is per account: its pacer and its dial log.
        self.pacer = DialPacer(calls_per_second)
        self.dial_log: dict[str, list[DialRecord]] = {}
        self.request_rate_limit = request_rate_limit
        self.recording_dir = Path(
            recording_dir or tempfile.mkdtemp(prefix="sandbox-carrier-recordings-")
        )
        self.timing = timing or Timing()
        # Per-minute price, and how long after a call ends its price is filled in.
        self.billing = billing or Billing()
        self.manners = manners or Manners()
        self.opt_out_digit = opt_out_digit
        self.persona_assignments: dict[str, str] = {}
        for number, persona in (personas or {}).items():
            self.assign_persona(number, persona)
        self.calls: dict[str, Call] = {}
        self.runs: dict[str, CallRun] = {}
        # Recordings of calls created with Record=true, by recording SID, until deleted.
        self.recordings: dict[str, CarrierRecording] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._telephony: Telephony | None = None
        # A fault to inject: the next this-many create requests are lost on the way. Each is
        # read and never acted on nor answered, until the client gives up waiting.
        self.lost_create_requests = 0

    def make_app(self) -> web.Application:
        from sandbox.carrier.rest import routes

        app = web.Application()
        app.add_routes(routes(self))
        app.on_startup.append(self._open_telephony)
        app.on_cleanup.append(self._close_telephony)
        return app

    async def _open_telephony(self, app: web.Application) -> None:
        session = aiohttp.ClientSession()
        self._telephony = Telephony(
            session=session,
            webhooks=WebhookClient(session, self.auth_token),
            auth_token=self.auth_token,
            timing=self.timing,
            manners=self.manners,
            opt_out_digit=self.opt_out_digit,
            recording_dir=self.recording_dir,
            recordings=self.recordings,
            recording_url=self.recording_url,
        )

    async def _close_telephony(self, app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._telephony is not None:
            await self._telephony.session.close()

    # Configuration (safe from any thread).

    def add_number(self, number: str, voice_url: str | None = None, method: str = "POST") -> None:
        """Own `number`; inbound calls to it fetch `voice_url`."""
        self.numbers[number] = OwnedNumber(number, voice_url, method.upper())

    def set_calls_per_second(self, calls_per_second: float) -> None:
        """Change the account's dialing rate (Console → Voice → Settings at Twilio); calls
        created from now on are spaced by it."""
        self.pacer = DialPacer(calls_per_second)

    def assign_persona(self, number: str, persona: str) -> None:
        """Calls to `number` are answered by `persona` (a name in `personas.PERSONAS`)."""
        persona_named(persona)
        self.persona_assignments[number] = persona

    # Calls (run on the carrier's loop; REST handlers call these directly).

    def create_call(
        self, form: Mapping[str, Any], events: list[str], recording_events: list[str] = ()
    ) -> Call:
        """Validate a REST create request and queue the call; raises `TwilioApiError`."""
        to, from_ = form.get("To", "").strip(), form.get("From", "").strip()
        if not to:
            raise errors.missing_to()
        if not is_phone_number(to):
            raise errors.invalid_to(to)
        if not from_:
            raise errors.missing_from()
        if from_ not in self.numbers:
            raise errors.from_not_owned(from_)
        url, inline_twiml = form.get("Url") or None, form.get("Twiml") or None
        if url is None and inline_twiml is None:
            raise errors.missing_url()
        machine_detection = form.get("MachineDetection") or None
        if machine_detection is not None and machine_detection not in MACHINE_DETECTION_MODES:
            raise errors.invalid_parameter("MachineDetection", machine_detection)
        request = CallRequest(
            to=to,
            from_=from_,
            url=url,
            method=(form.get("Method") or "POST").upper(),
            twiml=None if url else inline_twiml,
            status_callback=form.get("StatusCallback") or None,
            status_callback_method=(form.get("StatusCallbackMethod") or "POST").upper(),
            status_callback_events=frozenset(events or ["completed"]),
            machine_detection=machine_detection,
            async_amd=(form.get("AsyncAmd") or "false").lower() == "true",
            async_amd_status_callback=form.get("AsyncAmdStatusCallback") or None,
            async_amd_status_callback_method=(
                form.get("AsyncAmdStatusCallbackMethod") or "POST"
            ).upper(),
            timeout=_positive_int(form, "Timeout", 60),
            time_limit=_positive_int(form, "TimeLimit", 14400),
            record=(form.get("Record") or "false").lower() == "true",
            recording_channels=_recording_channels(form),
            recording_status_callback=form.get("RecordingStatusCallback") or None,
            recording_status_callback_method=(
                form.get("RecordingStatusCallbackMethod") or "POST"
            ).upper(),
            recording_status_callback_events=frozenset(recording_events or ["completed"]),
        )
        persona = persona_for(to, self.persona_assignments)
        call = Call(new_sid("CA"), self.account_sid, "outbound-api", request, persona.name)
        call.recording = RecordingRequest.of(request)
        call.note("http", "received", "create call", params=dict(form), events=events)
        now = asyncio.get_running_loop().time()
        slot = self.pacer.next_slot(now)
        call.queue_time_ms = round((slot - now) * 1000)
        self.dial_log.setdefault(call.account_sid, []).append(
            DialRecord(
                call_sid=call.sid,
                requested_at=call.date_created,
                dialed_at=call.date_created + timedelta(seconds=slot - now),
                dial_slot=slot,
            )
        )
        first = DocumentSource(url=request.url, method=request.method, twiml=request.twiml)
        run = self._register(call, persona_name=persona.name)
        self._spawn(run.run_outbound(slot, first))
        return call

    def dials(self, account_sid: str | None = None) -> list[DialRecord]:
        """The account's outbound calls in the order they were requested (safe from any
        thread: the log is only appended to)."""
        return list(self.dial_log.get(account_sid or self.account_sid, []))

    def update_call(self, call: Call, form: Mapping[str, Any]) -> Call:
        """Apply a REST update (hang up, cancel, or new TwiML); raises `TwilioApiError`."""
        run = self.runs[call.sid]
        call.note("http", "received", "update call", params=dict(form))
        new_status = form.get("Status")
        url, inline_twiml = form.get("Url") or None, form.get("Twiml") or None
        if new_status is not None:
            if new_status not in ("completed", "canceled"):
                raise errors.invalid_parameter("Status", new_status)
            # "canceled" only stops calls that have not been answered yet.
            if new_status == "completed" or call.status != IN_PROGRESS:
                run.request_end("api")
            return call
        if url is not None or inline_twiml is not None:
            if call.is_terminal:
                raise errors.not_in_progress()
            method = (form.get("Method") or "POST").upper()
            run.redirect(
                DocumentSource(url=url, method=method, twiml=None if url else inline_twiml)
            )
        return call

    async def start_inbound_call(self, from_: str, to: str, persona: str | None = None) -> Call:
        owned = self.numbers.get(to)
        if owned is None or owned.voice_url is None:
            raise errors.TwilioApiError(400, 21210, f"{to} is not an owned number with a voice URL")
        chosen = persona_named(persona) if persona else persona_for(from_, self.persona_assignments)
        request = CallRequest(to=to, from_=from_, url=owned.voice_url, method=owned.voice_method)
        call = Call(new_sid("CA"), self.account_sid, "inbound", request, chosen.name)
        run = self._register(call, persona_name=chosen.name)
        self._spawn(run.run_inbound(owned.voice_url, owned.voice_method))
        return call

    def place_inbound_call(self, from_: str, to: str, persona: str | None = None) -> str:
        """Call one of the carrier's numbers from `from_`; returns the CallSid. The caller is
        `persona`, else the one `from_` maps to.
        """
        return self.call(self.start_inbound_call(from_, to, persona), timeout=10).sid

    def _register(self, call: Call, *, persona_name: str) -> CallRun:
        assert self._telephony is not None, "the carrier is not running"
        call.billing = self.billing
        run = CallRun(self._telephony, call, persona_named(persona_name))
        self.calls[call.sid] = call
        self.runs[call.sid] = run
        return run

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Waiting for calls (from test code).

    def wait_for_call(self, sid: str, timeout: float = 60) -> Call:
        """Block until the call has ended and its callbacks were delivered; returns it."""
        call = self.calls[sid]
        if not call.finished.wait(timeout):
            raise TimeoutError(f"call {sid} still {call.status} after {timeout} s")
        return call

    async def call_finished(self, sid: str, limit_seconds: float = 60) -> Call:
        """`wait_for_call` for async code (does not block the caller's loop)."""
        return await asyncio.to_thread(self.wait_for_call, sid, limit_seconds)

    def wait_for_status(self, sid: str, status: str, timeout: float = 30) -> Call:
        """Block until the call has been in `status` (it may have moved on since)."""
        deadline = time.monotonic() + timeout
        call = self.calls[sid]
        while not any(s == status for _, s in call.status_history):
            if time.monotonic() > deadline:
                raise TimeoutError(f"call {sid} is {call.status}, never {status}")
            time.sleep(0.02)
        return call

    def twilio_client(self) -> Any:
        """A `twilio.rest.Client` for this account whose API requests go to the carrier."""
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token)
        client.api.base_url = self.base_url
        return client

    def recording_url(self, recording_sid: str) -> str:
        """The recording's resource URL as Twilio names it (RecordingUrl): no extension."""
        return (
            f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{recording_sid}"
        )

    def environment(self) -> dict[str, str]:
        """The settings that point VoiceOps at this carrier."""
        return {
            "TWILIO_API_URL": self.base_url,
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
        }


def is_phone_number(value: str) -> bool:
    if not E164.match(value):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(value))
    except phonenumbers.NumberParseException:
        return False


def _recording_channels(form: Mapping[str, Any]) -> str:
    channels = form.get("RecordingChannels") or "mono"
    if channels not in ("mono", "dual"):
        raise errors.invalid_parameter("RecordingChannels", channels)
    return channels


def _positive_int(form: Mapping[str, Any], name: str, default: int) -> int:
    raw = form.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.invalid_parameter(name, raw) from None
    if value <= 0:
        raise errors.invalid_parameter(name, raw)
    return value
