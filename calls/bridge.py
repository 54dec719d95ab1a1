"""Pairs a call's phone leg with a model session: audio both ways, barge-in, tools,
transcript, usage, limits, and the end of the call.

The consumer hands carrier events in (`on_media`, `on_mark`, `on_dtmf`, `on_stop`, …) and
the bridge answers through a `CarrierLeg`. Nothing on the per-frame path touches the
database: turns, events and usage collect in a `CallLog`, which the process's one
`CallLogWriter` writes with every other call's, batched, about once a second.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from agents.prompts import say_instruction
from agents.realtime import HistoryEntry, RealtimeSession, RealtimeUnavailable
from agents.tools import After, ToolRegistry, default_registry
from calls.call_log import CallLog
from calls.call_setup import CallSetup
from calls.costs import running_cost, usage_from_response, usage_from_transcription
from calls.latency_meter import LatencyMeter
from calls.models import AnsweredBy
from calls.playback import BYTES_PER_MS, PlaybackTracker, base64_decoded_length
from calls.screening import is_call_screener, is_person
from calls.tasks import reconcile_call
from calls.telephony.twilio import CarrierError, replace_twiml, say_and_hang_up_twiml
from campaigns.revocation import consent_revoke

logger = logging.getLogger(__name__)

RECONNECT_DELAYS_SECONDS = (0.25, 1.0, 2.0)
# However the carrier behaves, a call that is ending is over after this long.
ENDING_GRACE_SECONDS = 60.0
TOOL_DRAIN_SECONDS = 5.0
RECONCILE_AFTER_SECONDS = 15  # status callbacks normally arrive well within this
# A machine verdict waits this long for the transcript of the caller's turn in progress.
VERDICT_WAIT_SECONDS = 3.0
# After the screener heard who calls, this long for a person to pick up.
SCREENING_PATIENCE_SECONDS = 20.0
EARLY_AUDIO_FRAMES = 100  # 2 s of caller audio kept while the model session opens
LAST_USAGE_WAIT_SECONDS = 1.0  # for the usage of a response the hang-up cut off


class CarrierLeg(Protocol):
    """The phone side, in the carrier's protocol (see `calls.consumers`)."""

    async def send_media(self, payload: str) -> None: ...
    async def send_mark(self, name: str) -> None: ...
    async def send_clear(self) -> None: ...
    async def hang_up(self) -> None: ...


class Utterance:
    """One agent message item: where it started on the call and what it said."""

    __slots__ = ("generation", "is_done", "is_recorded", "item_id", "parts", "started_ms", "text")

    def __init__(self, item_id: str, started_ms: int, generation: int):
        self.item_id = item_id
        self.started_ms = started_ms
        self.generation = generation
        self.parts: list[str] = []
        self.text: str | None = None
        self.is_done = False
        self.is_recorded = False

    def said(self) -> str:
        return self.text if self.text is not None else "".join(self.parts)


def heard_part(text: str, *, played_ms: int, sent_ms: int) -> str:
    """The words of `text` a caller heard when `played_ms` of `sent_ms` played."""
    words = text.split()
    if sent_ms <= 0:
        return ""
    return " ".join(words[: round(len(words) * min(1.0, played_ms / sent_ms))])


class CallBridge:
    def __init__(
        self,
        setup: CallSetup,
        carrier: CarrierLeg,
        *,
        registry: ToolRegistry | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = timezone.now,
    ):
        self.setup = setup
        self.carrier = carrier
        self.registry = registry or default_registry()
        self.clock = clock
        self.now = now
        self.log = CallLog(setup.call_id)
        self.playback = PlaybackTracker()
        self.model: RealtimeSession | None = None
        self.generation = 0  # which model session; item ids belong to one
        self.started_at = clock()
        self.latency = LatencyMeter(
            answered_at=self.started_at,
            silence_window_ms=setup.session.turn_detection.get("silence_duration_ms", 0),
        )
        self.heard_ms = 0  # caller audio received: the call's timeline, as Twilio's timestamps
        self.early_audio: deque[str] = deque(maxlen=EARLY_AUDIO_FRAMES)
        self.session_base_ms = 0  # heard_ms when the current model session began
        self.active_response_id: str | None = None
        self.is_response_requested = False
        self.queued_response: tuple[str | None] | None = None
        self.muted_items: set[str] = set()
        self.muted_response_id: str | None = None
        self.utterances: dict[str, Utterance] = {}
        self.caller_turns: dict[str, list[int | None]] = {}
        self.barge_in = setup.barge_in
        # Caller speech over the agent not yet proven an interruption (ignore_backchannels):
        # its item id, and the call audio position at which it is long enough to be one.
        self.candidate_item_id: str | None = None
        self.candidate_proof_ms: int | None = None
        self.history: list[HistoryEntry] = []
        self.handled_tool_calls: set[str] = set()
        self.tool_tasks: set[asyncio.Task] = set()
        self.is_ending = False
        self.is_final_message = False  # a last line is playing: no barge-in
        self.has_opted_out = False
        # Who answered (on_machine_detected, _read_callee).
        self.machine_verdict: str | None = None
        self.has_person_spoken = False
        self.is_screened = False
        self.screening_line: str | None = None  # asked for, not yet said to the screener
        self._caller_words = asyncio.Event()  # set when a caller transcript is read
        self.hangup_reason = ""
        self.is_closing = False  # no new actions: the bridge is finishing
        self.is_finished = False  # the model loop stops; everything is written
        self._tasks: list[asyncio.Task] = []
        # Set whenever marks come back or a response ends, for whoever waits for silence.
        self._playback_changed = asyncio.Event()

    # Lifecycle.

    def _call_ms(self) -> int:
        return self.heard_ms

    async def start(self) -> None:
        """Open the model session and make the agent speak first."""
        self.started_at = self.clock()
        self.latency.answered_at = self.started_at
        self.log.event("media_start", at=self.now(), call_sid=self.setup.call_sid)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._enforce_max_duration()))
        self._tasks.append(loop.create_task(self._run_model()))

    async def _open_session(self) -> RealtimeSession:
        session = await RealtimeSession.open(
            base_url=settings.OPENAI_BASE_URL,
            api_key=settings.OPENAI_API_KEY or "",
            model=self.setup.model,
        )
        await session.configure(self.setup.session)
        return session

    async def _run_model(self) -> None:
        try:
            self.model = await self._open_session()
        except RealtimeUnavailable as error:
            if not await self._reconnect(error):
                await self._model_unavailable()
                return
        else:
            early = list(self.early_audio)
            self.early_audio.clear()
            early_ms = sum(base64_decoded_length(payload) for payload in early) // BYTES_PER_MS
            self.session_base_ms = self.heard_ms - early_ms
            with contextlib.suppress(RealtimeUnavailable):
                for payload in early:
                    await self.model.append_audio(payload)
            await self._request_response()
        while not self.is_finished:
            try:
                async for event in self.model.events():
                    await self._on_model_event(event)
                    if self.is_finished:
                        return
            except RealtimeUnavailable as error:
                if self.is_finished:
                    return
                if not await self._reconnect(error):
                    await self._model_unavailable()
                    return

    async def _reconnect(self, error: RealtimeUnavailable) -> bool:
        """A new session, configured and re-seeded with the conversation so far."""
        was_responding = self.active_response_id is not None or self.is_response_requested
        self.active_response_id = None
        self.is_response_requested = False
        # Its item belonged to the lost session, whose words will never come.
        self.candidate_item_id = None
        self.candidate_proof_ms = None
        if error.is_permanent:
            logger.error("Call %s: the model refused the session: %s", self.setup.call_id, error)
            return False
        for attempt, delay in enumerate(RECONNECT_DELAYS_SECONDS, start=1):
            await asyncio.sleep(delay)
            if self.is_finished:
                return True
            try:
                session = await self._open_session()
                await session.restore(self.history)
            except RealtimeUnavailable as retry_error:
                logger.warning(
                    "Call %s: reconnect %s failed: %s", self.setup.call_id, attempt, retry_error
                )
                if retry_error.is_permanent:
                    return False
                continue
            self.model = session
            self.generation += 1
            self.session_base_ms = self.heard_ms
            self.log.event(
                "model_reconnect",
                at=self.now(),
                attempt=attempt,
                close_code=error.close_code,
                restored_items=len(self.history),
            )
            if was_responding or self.queued_response is not None:
                queued = self.queued_response
                self.queued_response = None
                await self._request_response(queued[0] if queued else None)
            return True
        return False

    async def _model_unavailable(self) -> None:
        logger.error(
            "Call %s: the model is unavailable; apologising and hanging up", self.setup.call_id
        )
        self.log.event("error", at=self.now(), reason="model_unavailable")
        twiml = say_and_hang_up_twiml(self.setup.script.apology)
        try:
            await sync_to_async(replace_twiml, thread_sensitive=False)(self.setup.call_sid, twiml)
        except CarrierError as error:
            logger.warning(
                "Call %s: the apology could not be played: %s", self.setup.call_id, error
            )
        await self.finish(hangup_reason="model_unavailable")

    async def finish(self, *, hangup_reason: str = "", close_carrier: bool = True) -> None:
        """End the bridge: close the model, write everything, close the carrier socket.
        Idempotent; the carrier socket closes last, after every write."""
        if self.is_closing:
            return
        self.is_closing = True
        await self._collect_last_usage()
        self.is_finished = True
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        if self.model is not None:
            with contextlib.suppress(Exception):
                await self.model.close()
        pending_tools = [task for task in self.tool_tasks if task is not current]
        if pending_tools:
            _, still_running = await asyncio.wait(pending_tools, timeout=TOOL_DRAIN_SECONDS)
            for task in still_running:
                task.cancel()
        at = self.clock()
        for utterance in list(self.utterances.values()):
            self._record_utterance(utterance, at=at)
        reason = hangup_reason or self.hangup_reason
        self.log.event("media_stop", at=self.now(), reason=reason)
        fields = {"media_ended_at": self.now(), **self.latency.summary()}
        if self.setup.is_outbound and reason != "voicemail":
            fields["is_abandoned"] = self.latency.is_first_audio_late
        if reason:
            fields["hangup_reason"] = reason
        if not await self.log.flush(**fields):
            # Kept by the writer, which retries until the database is back.
            logger.warning("Call %s: its last records wait for the database", self.setup.call_id)
        if close_carrier:
            with contextlib.suppress(Exception):
                await self.carrier.hang_up()
        await self._schedule_reconcile()

    async def _schedule_reconcile(self) -> None:
        """Make sure the call gets its final status even if no callback brings it."""
        try:
            await sync_to_async(reconcile_call.apply_async, thread_sensitive=False)(
                args=[self.setup.call_id], countdown=RECONCILE_AFTER_SECONDS
            )
        except Exception:  # the broker is down: the sweeper reconciles the call later
            logger.warning("Call %s: could not schedule its reconciliation", self.setup.call_id)

    async def _collect_last_usage(self) -> None:
        """A response cut off by the end of the call is billed all the same; cancel it and
        wait, briefly, for its `response.done` and the usage it carries."""
        if self.active_response_id is None or self.model is None:
            return
        with contextlib.suppress(RealtimeUnavailable):
            await self.model.cancel_response()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LAST_USAGE_WAIT_SECONDS):
                while self.active_response_id is not None:
                    self._playback_changed.clear()
                    await self._playback_changed.wait()

    # Carrier events.

    async def on_media(self, payload: str) -> None:
        self.heard_ms += base64_decoded_length(payload) // BYTES_PER_MS
        self.latency.heard(heard_ms=self.heard_ms, at=self.clock())
        if self.is_closing:
            return
        if self.candidate_proof_ms is not None and self.heard_ms >= self.candidate_proof_ms:
            await self._interrupt_candidate(proof="duration")
        if self.model is None:
            # The session is still opening: keep the caller's first words for it.
            self.early_audio.append(payload)
            return
        # A dropped session is noticed and restored by the receive loop; frames meanwhile are lost.
        with contextlib.suppress(RealtimeUnavailable):
            await self.model.append_audio(payload)

    async def on_mark(self, name: str) -> None:
        at = self.clock()
        for chunk in self.playback.echoed(name, at=at):
            self.latency.audio_played(
                item_id=chunk.item_id, chunk_ms=chunk.ms, sent_at=chunk.sent_at, at=at
            )
        self._playback_changed.set()
        item_id = name.rsplit(":", 1)[0]
        utterance = self.utterances.get(item_id)
        if utterance is not None and utterance.is_done and self.playback.is_fully_played(item_id):
            self._record_utterance(utterance, at=self.clock())
        await self._finish_if_ended()

    async def on_dtmf(self, digit: str) -> None:
        self.log.event("dtmf", at=self.now(), digit=digit)
        if digit != self.setup.opt_out_digit or self.has_opted_out or self.is_closing:
            return
        self.has_opted_out = True
        context = self.setup.context
        await sync_to_async(consent_revoke, thread_sensitive=False)(
            organization_id=context.organization_id,
            phone=context.phone,
            via="keypress",
            at=self.now(),
        )
        await self.log.flush(outcome="opted_out")
        await self._say_last(self.setup.script.opt_out_reply, reason="opted_out")

    async def on_machine_detected(self, answered_by: str) -> None:
        """Answering-machine detection's verdict. A fax is hung up on; a machine gets the
        voicemail message after its beep, unless a person has already spoken, in which case
        the verdict came late and was wrong. While a caller turn awaits its transcript, the
        verdict waits for it (at most VERDICT_WAIT_SECONDS): those words decide."""
        if self.is_closing or self.machine_verdict is not None:
            return
        if answered_by == AnsweredBy.FAX:
            self.machine_verdict = answered_by
            self.log.event("wrap_up", at=self.now(), reason="fax")
            await self.log.flush(outcome="fax")
            await self.finish(hangup_reason="fax")
            return
        if not answered_by.startswith("machine_end"):
            return
        self.machine_verdict = answered_by
        if self.caller_turns and not self.has_person_spoken:
            self._tasks.append(
                asyncio.get_running_loop().create_task(self._machine_verdict_after_words())
            )
            return
        await self._apply_machine_verdict()

    async def _machine_verdict_after_words(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(VERDICT_WAIT_SECONDS):
                while self.caller_turns and not self.has_person_spoken:
                    self._caller_words.clear()
                    await self._caller_words.wait()
        await self._apply_machine_verdict()

    async def _apply_machine_verdict(self) -> None:
        if self.is_closing:
            return
        if self.has_person_spoken:
            self.log.event(
                "machine_detection_late", at=self.now(), answered_by=self.machine_verdict
            )
            await self.log.flush(answered_by=AnsweredBy.HUMAN)
            return
        if self.is_screened:
            # A screener is a machine that passes the call on: wait for the person.
            self.log.event(
                "machine_detection_screener", at=self.now(), answered_by=self.machine_verdict
            )
            return
        if self.is_final_message:
            return  # a last line (an opt-out reply, a wrap-up) is already playing
        # The model may have said goodbye to the greeting; the message after the beep wins.
        self.hangup_reason = "voicemail"
        await self.log.flush(outcome="voicemail")
        message = self.setup.script.voicemail
        if message is None:
            self.log.event("wrap_up", at=self.now(), reason="voicemail", message_left=False)
            await self.finish(hangup_reason="voicemail")
            return
        await self._say_last(message, reason="voicemail")

    async def _read_callee(self, text: str) -> None:
        """Who is speaking, from their words: a call screener is told once who calls and
        why; a person's first words mark the call as answered by a person."""
        if is_call_screener(text):
            if not self.is_screened and not self.has_person_spoken and not self.is_ending:
                await self._answer_screener(text)
            return
        if not is_person(text):
            return
        if not self.has_person_spoken:
            self.has_person_spoken = True
            if self.is_screened:
                self.log.event("call_screening_passed", at=self.now())
                await self.log.flush(outcome="")

    async def _answer_screener(self, heard: str) -> None:
        self.is_screened = True
        self.log.event("call_screening", at=self.now(), heard=heard)
        await self.log.flush(outcome="call_screening")
        await self._stop_agent()
        self.queued_response = None
        self.screening_line = say_instruction(self.setup.script.screening)
        await self._request_response(self.screening_line)
        self._tasks.append(asyncio.get_running_loop().create_task(self._end_if_nobody_picks_up()))

    async def _end_if_nobody_picks_up(self) -> None:
        """After the screener heard who calls, wait for a person; none: a polite goodbye."""
        while self.screening_line is not None:
            self._playback_changed.clear()
            await self._playback_changed.wait()
        await self._playback_drained()
        await asyncio.sleep(SCREENING_PATIENCE_SECONDS)
        if not self.has_person_spoken and not self.is_ending and not self.is_closing:
            await self._say_last(self.setup.script.screening_goodbye, reason="call_screening")

    async def on_hang_up_requested(self, reason: str) -> None:
        await self.wrap_up(reason or "requested")

    async def on_stop(self) -> None:
        await self.finish(close_carrier=False)

    # Model events.

    async def _on_model_event(self, event: dict) -> None:
        handler = self._handlers.get(event.get("type"))
        if handler is not None:
            await handler(self, event)

    async def _on_audio_delta(self, event: dict) -> None:
        item_id = event.get("item_id", "")
        if item_id in self.muted_items or event.get("response_id") == self.muted_response_id:
            return
        payload = event["delta"]
        at = self.clock()
        if item_id not in self.utterances:
            started = self._call_ms() + self.playback.unplayed_ms(at=at)
            self.utterances[item_id] = Utterance(item_id, started, self.generation)
            self.latency.audio_sent(item_id=item_id, at=at)
        await self.carrier.send_media(payload)
        mark = self.playback.sent(
            item_id=item_id, audio_bytes=base64_decoded_length(payload), at=at
        )
        await self.carrier.send_mark(mark)

    async def _on_transcript_delta(self, event: dict) -> None:
        utterance = self.utterances.get(event.get("item_id", ""))
        if utterance is not None:
            utterance.parts.append(event.get("delta", ""))

    async def _on_transcript_done(self, event: dict) -> None:
        utterance = self.utterances.get(event.get("item_id", ""))
        if utterance is None:
            return
        utterance.text = event.get("transcript", "")
        utterance.is_done = True
        if self.playback.is_fully_played(utterance.item_id):
            self._record_utterance(utterance, at=self.clock())

    async def _on_speech_started(self, event: dict) -> None:
        if self.barge_in.is_immediate:
            if self.is_final_message:
                self._note_caller_speech(event)
                return
            # The stop first: no await before `clear`, the caller's turn is noted after.
            stopped = await self._stop_agent()
            self._note_caller_speech(event)
            if stopped is not None:
                self.log.event("barge_in", at=self.now(), **stopped)
            return
        self._note_caller_speech(event)
        if self.is_final_message or not self._is_agent_audible():
            return
        # Maybe only an "okay": the agent talks on until the speech proves otherwise. The
        # wait counts from the audio the model had when it noticed the speech, so its
        # `speech_stopped`, noticed as late, can still arrive in time.
        self.candidate_item_id = event.get("item_id", "")
        self.candidate_proof_ms = self.heard_ms + self.barge_in.proof_wait_ms()

    def _note_caller_speech(self, event: dict) -> None:
        item_id = event.get("item_id", "")
        self.caller_turns[item_id] = [self.session_base_ms + event.get("audio_start_ms", 0), None]

    def _is_agent_audible(self) -> bool:
        return not self.playback.is_idle or self.active_response_id is not None

    async def _interrupt_candidate(self, *, proof: str) -> None:
        """The caller's speech over the agent is an interruption: stop the agent now."""
        self.candidate_item_id = None
        self.candidate_proof_ms = None
        if self.is_final_message:
            return
        stopped = await self._stop_agent()
        if stopped is not None:
            self.log.event("barge_in", at=self.now(), proof=proof, **stopped)

    async def _on_speech_stopped(self, event: dict) -> None:
        item_id = event.get("item_id", "")
        ended_ms = self.session_base_ms + event.get("audio_end_ms", 0)
        turn = self.caller_turns.get(item_id)
        if turn is not None:
            turn[1] = ended_ms
        self.latency.speech_ended(call_ms=ended_ms, at=self.clock())
        if self.barge_in.is_immediate or self.is_final_message:
            return  # the server answers the turn itself (create_response), or the call ends
        if item_id != self.candidate_item_id:
            await self._request_response()
            return
        speech_ms = None
        if turn is not None and turn[1] is not None:
            speech_ms = self.barge_in.speech_ms(
                audio_start_ms=turn[0] - self.session_base_ms,
                audio_end_ms=turn[1] - self.session_base_ms,
            )
        if self.barge_in.is_long_enough(speech_ms):
            await self._interrupt_candidate(proof="duration")
            await self._request_response()
            return
        # Short: its words decide, once transcribed.
        self.candidate_proof_ms = None

    async def _on_caller_transcript(self, event: dict) -> None:
        self.log.usage(usage_from_transcription(event.get("usage")))
        item_id = event.get("item_id", "")
        text = (event.get("transcript") or "").strip()
        started, ended = self.caller_turns.pop(item_id, (self.heard_ms, None))
        if text:
            self.log.turn(
                speaker="caller",
                text=text,
                started_ms=started,
                ended_ms=ended,
                item_id=item_id,
            )
            self.history.append(HistoryEntry("user", text))
            await self._read_callee(text)
        self._caller_words.set()  # a machine verdict waiting for these words decides now
        if item_id == self.candidate_item_id:
            await self._decide_on_words(item_id, text)

    async def _on_caller_transcript_failed(self, event: dict) -> None:
        if event.get("item_id") == self.candidate_item_id:
            await self._decide_on_words(event.get("item_id", ""), "")

    async def _decide_on_words(self, item_id: str, text: str) -> None:
        """Short speech over the agent, now transcribed: an acknowledgement or noise lets the
        agent talk on (the words stay in the conversation, unanswered); anything else is an
        interruption and a turn to answer."""
        if not self.barge_in.is_backchannel(text):
            await self._interrupt_candidate(proof="words")
            await self._request_response()
            return
        self.candidate_item_id = None
        self.candidate_proof_ms = None
        self.log.event("backchannel", at=self.now(), item_id=item_id, text=text)
        if text and not self._is_agent_audible():
            # The agent finished meanwhile: "yes" at the end of its question is the answer.
            await self._request_response()

    async def _on_response_created(self, event: dict) -> None:
        self.active_response_id = event.get("response", {}).get("id")
        self.is_response_requested = False

    async def _on_response_done(self, event: dict) -> None:
        response = event.get("response") or {}
        if response.get("id") == self.active_response_id:
            self.active_response_id = None
        if self.screening_line is not None and response.get("id") != self.muted_response_id:
            self.screening_line = None  # the response that said it is done
        self._playback_changed.set()
        if response.get("status") == "failed":
            details = response.get("status_details") or {}
            self.log.event("error", at=self.now(), response_id=response.get("id"), details=details)
        self.log.usage(usage_from_response(response.get("usage")))
        await self._enforce_cost_cap()
        if self.queued_response is not None and not self.is_closing:
            (instructions,) = self.queued_response
            self.queued_response = None
            await self._request_response(instructions)
        await self._finish_if_ended()

    async def _on_output_item_done(self, event: dict) -> None:
        item = event.get("item") or {}
        if item.get("type") != "function_call" or item.get("status") != "completed":
            return
        call_id = item.get("call_id", "")
        if call_id in self.handled_tool_calls:
            return
        self.handled_tool_calls.add(call_id)
        task = asyncio.get_running_loop().create_task(
            self._run_tool(call_id, item.get("name", ""), item.get("arguments", ""))
        )
        self.tool_tasks.add(task)
        task.add_done_callback(self.tool_tasks.discard)

    async def _on_error(self, event: dict) -> None:
        error = event.get("error") or {}
        if error.get("code") == "conversation_already_has_active_response":
            self.is_response_requested = False
            if self.screening_line is not None:
                # The model began answering the screener's words itself before our line
                # was asked for: stop that, then say ours.
                await self._stop_agent()
                self.queued_response = (self.screening_line,)
        self.log.event("error", at=self.now(), code=error.get("code"), message=error.get("message"))

    _handlers = {
        "response.output_audio.delta": _on_audio_delta,
        "response.output_audio_transcript.delta": _on_transcript_delta,
        "response.output_audio_transcript.done": _on_transcript_done,
        "input_audio_buffer.speech_started": _on_speech_started,
        "input_audio_buffer.speech_stopped": _on_speech_stopped,
        "conversation.item.input_audio_transcription.completed": _on_caller_transcript,
        "conversation.item.input_audio_transcription.failed": _on_caller_transcript_failed,
        "response.created": _on_response_created,
        "response.done": _on_response_done,
        "response.output_item.done": _on_output_item_done,
        "error": _on_error,
    }

    # Speaking, interrupting, ending.

    async def _request_response(self, instructions: str | None = None) -> None:
        """Ask for a response now, or once the running one is done (one at a time)."""
        if self.model is None or self.is_closing:
            return
        if self.active_response_id is not None or self.is_response_requested:
            # A line to say verbatim outranks a plain "go on".
            if self.queued_response is None or instructions is not None:
                self.queued_response = (instructions,)
            return
        self.is_response_requested = True
        with contextlib.suppress(RealtimeUnavailable):
            await self.model.create_response(instructions=instructions)

    async def _stop_agent(self) -> dict | None:
        """The caller stops hearing the agent now, and the model learns how much was heard.
        `clear` is the first thing sent. Before it, only what must be read at that instant:
        how much had played, and the pending marks voided, because the carrier echoes them
        at once on `clear` and an echo handled while `clear` is still being written would
        otherwise count as played. Returns what was cut short, if anything was playing."""
        at = self.clock()
        playing = self.playback.pending_item_ids()
        stopped = None
        if playing:
            first = playing[0]
            played_ms = self.playback.played_ms(first, at=at)
            self.playback.cleared()
            await self.carrier.send_clear()
            self._playback_changed.set()
            for index, item_id in enumerate(playing):
                heard = played_ms if index == 0 else 0
                self.muted_items.add(item_id)
                utterance = self.utterances.get(item_id)
                if utterance is not None:
                    self._record_utterance(utterance, at=at, played_ms=heard)
                    if utterance.generation == self.generation and self.model is not None:
                        with contextlib.suppress(RealtimeUnavailable):
                            await self.model.truncate(item_id=item_id, audio_end_ms=heard)
            stopped = {
                "item_id": first,
                "audio_end_ms": played_ms,
                "sent_ms": self.playback.sent_ms(first),
            }
        await self._cancel_running_response()
        return stopped

    async def _cancel_running_response(self) -> None:
        if self.active_response_id is not None and self.model is not None:
            self.muted_response_id = self.active_response_id
            with contextlib.suppress(RealtimeUnavailable):
                await self.model.cancel_response()

    async def _say_last(self, text: str, *, reason: str) -> None:
        """Stop whatever the agent is saying, say `text`, then hang up once it has played."""
        self.is_ending = True
        self.is_final_message = True
        self.hangup_reason = self.hangup_reason or reason
        self.queued_response = None
        stopped = await self._stop_agent()
        if stopped is None:
            self.log.event("wrap_up", at=self.now(), reason=reason)
        else:
            self.log.event("wrap_up", at=self.now(), reason=reason, interrupted=stopped)
        await self._request_response(say_instruction(text))
        self._start_ending_watchdog()

    async def wrap_up(self, reason: str) -> None:
        """A polite last line and a hang-up (limits reached, or asked to end the call)."""
        if self.is_ending or self.is_closing:
            return
        await self._say_last(self.setup.script.wrap_up, reason=reason)

    def _start_ending_watchdog(self) -> None:
        async def watchdog():
            await asyncio.sleep(ENDING_GRACE_SECONDS)
            await self.finish()

        self._tasks.append(asyncio.get_running_loop().create_task(watchdog()))

    async def _finish_if_ended(self) -> None:
        if (
            self.is_ending
            and not self.is_closing
            and self.active_response_id is None
            and not self.is_response_requested
            and self.queued_response is None
            and self.playback.is_idle
        ):
            await self.finish()

    # Tools.

    async def _playback_drained(self) -> None:
        while not self.playback.is_idle or self.active_response_id is not None:
            self._playback_changed.clear()
            await self._playback_changed.wait()

    async def _run_tool(self, call_id: str, name: str, arguments: str) -> None:
        result = await self.registry.call(
            name,
            arguments,
            context=self.setup.context,
            enabled=self.setup.tools,
            at=self.now(),
            before_run=self._playback_drained,
        )
        self.log.event("tool", at=self.now(), name=name, arguments=arguments, output=result.output)
        if self.is_closing:
            return
        if self.model is not None:
            with contextlib.suppress(RealtimeUnavailable):
                await self.model.send_function_output(call_id=call_id, output=result.output)
        if result.after is After.END_CALL:
            self.is_ending = True
            self.hangup_reason = self.hangup_reason or "agent_ended"
            self._start_ending_watchdog()
            await self._finish_if_ended()
        elif result.after is After.RESPOND_THEN_END:
            self.is_ending = True
            self.has_opted_out = True
            self.hangup_reason = self.hangup_reason or "opted_out"
            self._start_ending_watchdog()
            await self._request_response()
        elif result.after is After.RESPOND:
            await self._request_response()

    # Transcript and limits.

    def _record_utterance(
        self, utterance: Utterance, *, at: float, played_ms: int | None = None
    ) -> None:
        if utterance.is_recorded:
            return
        utterance.is_recorded = True
        sent_ms = self.playback.sent_ms(utterance.item_id)
        if played_ms is None:
            played_ms = self.playback.played_ms(utterance.item_id, at=at)
        interrupted = played_ms < sent_ms - 100 or not utterance.is_done
        text = utterance.said()
        if interrupted:
            text = heard_part(text, played_ms=played_ms, sent_ms=sent_ms)
        if not text.strip():
            return
        latency = self.latency.turn(utterance.item_id)
        self.log.turn(
            speaker="agent",
            text=text.strip(),
            started_ms=utterance.started_ms,
            ended_ms=utterance.started_ms + played_ms,
            interrupted=interrupted,
            item_id=utterance.item_id,
            response_sent_ms=latency.sent_ms if latency else None,
            response_played_ms=latency.played_ms if latency else None,
        )
        self.history.append(HistoryEntry("assistant", text.strip()))

    async def _enforce_cost_cap(self) -> None:
        cap = self.setup.max_cost_per_call
        if cap is None or self.is_ending:
            return
        cost = running_cost(
            rates=self.setup.rates,
            answered_seconds=self.clock() - self.started_at,
            amd=self.setup.is_outbound,
            usage=self.log.usage_total,
        )
        if cost >= cap:
            logger.info("Call %s reached its cost cap (%s ≥ %s)", self.setup.call_id, cost, cap)
            await self.wrap_up("cost_cap")

    async def _enforce_max_duration(self) -> None:
        await asyncio.sleep(self.setup.max_call_seconds)
        await self.wrap_up("max_duration")
