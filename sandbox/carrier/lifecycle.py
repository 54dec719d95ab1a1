"""One call from its dial slot to its terminal status, with the status and detection callbacks.

Outbound: queued until the account's calls-per-second slot → `initiated` → `ringing` → the
persona answers (or is busy, fails, lets it ring out) → `in-progress` → TwiML runs on the
answered line → `completed`. Inbound: the number's voice URL is fetched while ringing, then
the call is answered and its TwiML runs. A REST update, the callee hanging up or the call's
time limit can end it at any point; whatever ends it, the stream gets `stop`, the recording
is saved, the terminal callback is delivered, and only then is the call marked finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from sandbox.carrier import calls as status
from sandbox.carrier.callbacks import CallbackQueue, WebhookClient, WebhookFailed
from sandbox.carrier.callee import AnsweringMachine, Manners, Person
from sandbox.carrier.calls import API_VERSION, Call, RecordingRequest, new_sid, rfc2822
from sandbox.carrier.line import PhoneLine
from sandbox.carrier.personas import BUSY, FAILED, NO_ANSWER, Persona
from sandbox.carrier.recording import CarrierRecording, save_call, save_carrier_recording
from sandbox.carrier.verbs import DocumentSource, TwimlRunner

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    """How long the network and the callee take before answering (seconds)."""

    dial: float = 0.3  # initiated → ringing
    answer: float = 1.5  # ringing → a person picks up
    busy: float = 0.5  # initiated → busy
    failed: float = 0.2  # initiated → failed
    ring_timeout_scale: float = 1.0  # a no-answer rings for Timeout times this


@dataclass(frozen=True)
class Telephony:
    """What a running call needs from the carrier."""

    session: aiohttp.ClientSession
    webhooks: WebhookClient
    auth_token: str
    timing: Timing
    manners: Manners
    opt_out_digit: str
    recording_dir: Path
    recordings: dict[str, CarrierRecording]
    recording_url: Callable[[str], str]  # a recording SID's RecordingUrl


class CallRun:
    def __init__(self, telephony: Telephony, call: Call, persona: Persona):
        self.telephony = telephony
        self.call = call
        self.persona = persona
        self.callbacks = CallbackQueue(telephony.webhooks, call)
        self._sequence_number = 0
        self._end_requested = asyncio.Event()
        self._end_status: str | None = None
        self._redirect: DocumentSource | None = None
        self._document_task: asyncio.Task[str] | None = None
        self._helpers: list[asyncio.Task[None]] = []
        self._person: Person | None = None

    # Requests from outside (REST updates, the callee).

    def request_end(self, by: str) -> None:
        """Hang up (or cancel, when not yet answered); a no-op once the call has ended."""
        if self.call.is_terminal or self._end_requested.is_set():
            return
        answered = self.call.status == status.IN_PROGRESS
        self._end_status = status.COMPLETED if answered else status.CANCELED
        self.call.hung_up_by = by
        self._end_requested.set()

    def redirect(self, source: DocumentSource) -> None:
        """Replace the running TwiML; the current verb (a stream: with `stop`) ends now."""
        self._redirect = source
        if self._document_task is not None:
            self._document_task.cancel()

    # The call.

    async def run_outbound(self, dial_at: float, first: DocumentSource) -> None:
        await self._supervise(self._outbound(dial_at, first))

    async def run_inbound(self, voice_url: str, method: str) -> None:
        await self._supervise(self._inbound(voice_url, method))

    async def _supervise(self, progress: asyncio.Future[str] | object) -> None:
        proceeding = asyncio.ensure_future(progress)  # type: ignore[arg-type]
        ending = asyncio.ensure_future(self._end_requested.wait())
        try:
            try:
                await asyncio.wait({proceeding, ending}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                # The carrier is shutting down: abandon the call without finishing it.
                for helper in self._helpers:
                    helper.cancel()
                self.callbacks.cancel()
                raise
            if self._end_requested.is_set():
                final = self._end_status or status.COMPLETED
            else:
                final = proceeding.result()
        except Exception:
            logger.exception("call %s broke", self.call.sid)
            final = status.FAILED if self.call.status != status.IN_PROGRESS else status.COMPLETED
        finally:
            for task in (proceeding, ending):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await proceeding
        await self._finish(final)

    async def _outbound(self, dial_at: float, first: DocumentSource) -> str:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, dial_at - loop.time()))
        timing = self.telephony.timing
        self._status_callback("initiated", "initiated")
        if self.persona.pickup == FAILED:
            await asyncio.sleep(timing.failed)
            return status.FAILED
        if self.persona.pickup == BUSY:
            await asyncio.sleep(timing.busy)
            return status.BUSY
        await asyncio.sleep(timing.dial)
        self.call.move_to(status.RINGING)
        self._status_callback("ringing", status.RINGING)
        ring_timeout = self.call.request.timeout * timing.ring_timeout_scale
        if self.persona.pickup == NO_ANSWER or timing.answer >= ring_timeout:
            await asyncio.sleep(ring_timeout)
            return status.NO_ANSWER
        await asyncio.sleep(timing.answer)
        return await self._answered(first)

    async def _inbound(self, voice_url: str, method: str) -> str:
        self.call.move_to(status.RINGING)
        try:
            response = await self.telephony.webhooks.send(
                self.call, "voice webhook", voice_url, self._call_parameters(), method
            )
        except WebhookFailed:
            return status.FAILED
        if not response.is_success:
            self.call.note("twiml", "note", "application error", code=11200)
            return status.FAILED
        return await self._answered(DocumentSource(url=voice_url, method=method), response.text)

    async def _answered(self, first: DocumentSource, document: str | None = None) -> str:
        call, telephony = self.call, self.telephony
        callee: Person | AnsweringMachine
        if self.persona.is_machine:
            callee = AnsweringMachine(call, telephony.manners)
        else:
            callee = Person(call, telephony.manners, opt_out_digit=telephony.opt_out_digit)
            self._person = callee
        line = PhoneLine(call, callee)
        callee.line = line
        call.move_to(status.IN_PROGRESS)
        self._status_callback("answered", status.IN_PROGRESS)
        self._start_helper(line.run())
        self._start_helper(self._hang_up_when(callee.hung_up))
        if self.persona.script is not None and isinstance(callee, Person):
            self._start_helper(self.persona.script(callee))
        beep_end_ms = callee.beep_end_ms if isinstance(callee, AnsweringMachine) else 0
        detection = self.persona.detection(call.request.machine_detection, beep_end_ms=beep_end_ms)
        if detection is not None:
            if call.request.async_amd:
                self._start_helper(self._detect(*detection))
            else:
                # Synchronous detection holds the TwiML until the verdict is in.
                await self._detect(*detection)
        if self._redirect is not None:  # new TwiML arrived before the call was answered
            first, document = self._redirect, None
        runner = TwimlRunner(
            call=call,
            line=line,
            session=telephony.session,
            webhooks=telephony.webhooks,
            callbacks=self.callbacks,
            auth_token=telephony.auth_token,
            call_parameters=self._call_parameters,
        )
        try:
            ended_by = await asyncio.wait_for(
                self._run_documents(runner, first, document), call.request.time_limit
            )
        except TimeoutError:
            ended_by = "time-limit"
        call.hung_up_by = call.hung_up_by or ended_by
        return status.COMPLETED

    async def _run_documents(
        self, runner: TwimlRunner, source: DocumentSource, document: str | None
    ) -> str:
        while True:
            self._redirect = None
            self._document_task = asyncio.ensure_future(runner.run(source, document=document))
            try:
                await asyncio.wait({self._document_task})
            finally:
                if not self._document_task.done():
                    self._document_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._document_task
            if not self._document_task.cancelled():
                return self._document_task.result()
            if self._redirect is None:
                raise asyncio.CancelledError
            source, document = self._redirect, None
            self.call.note("twiml", "note", "redirected by REST update")

    async def _hang_up_when(self, hung_up: asyncio.Event) -> None:
        await hung_up.wait()
        self.request_end("callee")

    async def _detect(self, answered_by: str, after_ms: int) -> None:
        await asyncio.sleep(after_ms / 1000)
        self.call.answered_by = answered_by
        self.call.note("call", "note", "machine detection", answered_by=answered_by)
        request = self.call.request
        if request.async_amd and request.async_amd_status_callback:
            self.callbacks.post(
                "amd callback",
                request.async_amd_status_callback,
                {
                    "AccountSid": self.call.account_sid,
                    "CallSid": self.call.sid,
                    "AnsweredBy": answered_by,
                    "MachineDetectionDuration": str(after_ms),
                },
                request.async_amd_status_callback_method,
            )

    def _start_helper(self, work: object) -> None:
        self._helpers.append(asyncio.ensure_future(work))  # type: ignore[arg-type]

    # Parameters and callbacks.

    def _call_parameters(self) -> dict[str, str]:
        call = self.call
        params = {
            "AccountSid": call.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": call.direction,
            "From": call.from_,
            "To": call.to,
        }
        if call.answered_by is not None:
            params["AnsweredBy"] = call.answered_by
        return params

    def _status_callback(self, event: str, call_status: str) -> None:
        request = self.call.request
        if not request.status_callback or event not in request.status_callback_events:
            return
        params = self._call_parameters()
        params.update(
            CallStatus=call_status,
            CallbackSource="call-progress-events",
            SequenceNumber=str(self._sequence_number),
            Timestamp=rfc2822(datetime.now(UTC)) or "",
        )
        if request.machine_detection and self.call.answered_by:
            params["AnsweredBy"] = self.call.answered_by
        if event == "completed":
            duration = self.call.duration_seconds
            params["CallDuration"] = str(duration)
            params["Duration"] = str(math.ceil(duration / 60))
        self._sequence_number += 1
        self.callbacks.post(
            f"status callback ({event})",
            request.status_callback,
            params,
            request.status_callback_method,
        )

    async def _record(self, asked: RecordingRequest) -> None:
        """Make the carrier recording the call asked for and announce it, after the call's
        terminal status callback, as Twilio does."""
        call, telephony = self.call, self.telephony
        try:
            recording = await asyncio.to_thread(
                save_carrier_recording, call, telephony.recording_dir
            )
        except OSError:
            logger.exception("could not save the carrier recording of call %s", call.sid)
            recording = None
        if recording is not None:
            telephony.recordings[recording.sid] = recording
        status_ = "completed" if recording is not None else "absent"
        if not asked.status_callback or status_ not in asked.status_callback_events:
            return
        params = {
            "AccountSid": call.account_sid,
            "CallSid": call.sid,
            "RecordingSource": asked.source,
            "RecordingStatus": status_,
            "RecordingTrack": "both",
        }
        if recording is not None:
            params.update(
                RecordingSid=recording.sid,
                RecordingUrl=telephony.recording_url(recording.sid),
                RecordingDuration=str(recording.duration_seconds),
                RecordingChannels=str(recording.channels),
                RecordingStartTime=rfc2822(recording.start_time) or "",
            )
        else:
            params.update(RecordingSid=new_sid("RE"), RecordingDuration="0")
        self.callbacks.post(
            f"recording status callback ({status_})",
            asked.status_callback,
            params,
            asked.status_callback_method,
        )

    async def _finish(self, final: str) -> None:
        call = self.call
        for helper in self._helpers:
            helper.cancel()
        for helper in self._helpers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await helper
        call.move_to(final)
        self._status_callback("completed", call.status)
        if self._person is not None:
            await self._person.stop_listening()
        try:
            await asyncio.to_thread(save_call, call, self.telephony.recording_dir)
        except OSError:
            logger.exception("could not save the recording of call %s", call.sid)
        if call.recording is not None:
            await self._record(call.recording)
        await self.callbacks.drain()
        call.finished.set()
