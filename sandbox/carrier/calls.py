"""One sandbox call as the carrier knows it: Twilio's resource fields plus what a test inspects.

Times inside a call are milliseconds relative to the moment the call was answered (negative
before it; relative to creation for calls that were never answered), so a test can say "the
callee heard the opening 300 ms after answering" without touching the wall clock.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Any

API_VERSION = "2010-04-01"

QUEUED = "queued"
RINGING = "ringing"
IN_PROGRESS = "in-progress"
COMPLETED = "completed"
BUSY = "busy"
FAILED = "failed"
NO_ANSWER = "no-answer"
CANCELED = "canceled"
TERMINAL_STATUSES = frozenset({COMPLETED, BUSY, FAILED, NO_ANSWER, CANCELED})

# The resource status a call may move to from each status; a terminal status never moves.
ALLOWED_TRANSITIONS = {
    QUEUED: frozenset({RINGING, IN_PROGRESS, BUSY, FAILED, NO_ANSWER, CANCELED}),
    RINGING: frozenset({IN_PROGRESS, BUSY, FAILED, NO_ANSWER, CANCELED}),
    IN_PROGRESS: frozenset({COMPLETED, FAILED}),
}


@dataclass(frozen=True)
class Billing:
    """What the carrier charges: per started minute, and how long after a call ends its
    price appears on the call resource (Twilio fills `price` in minutes later)."""

    price_per_minute: Decimal = Decimal("0.0140")
    price_delay_seconds: float = 120.0
    price_unit: str = "USD"

    def price(self, call: Call, now: datetime) -> str | None:
        """The resource's `price`: null until the delay has passed after the call ended,
        then the charge as Twilio writes it (negative, five decimals)."""
        if call.end_time is None or now < call.end_time + timedelta(
            seconds=self.price_delay_seconds
        ):
            return None
        # Every started minute of a connected call is billed, the first one in full.
        connected = (call.end_time - call.start_time).total_seconds() if call.start_time else 0.0
        minutes = max(1, math.ceil(connected / 60)) if call.start_time else 0
        charge = self.price_per_minute * minutes
        return f"{-charge:.5f}" if charge else "0.00000"


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two-letter prefix and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822(at: datetime | None) -> str | None:
    """Twilio's date format in resources and callbacks ("Tue, 31 Aug 2010 20:36:28 +0000")."""
    return None if at is None else format_datetime(at.astimezone(UTC)).replace("-0000", "+0000")


@dataclass(frozen=True)
class CallRequest:
    """The parameters a call was created with (Twilio's form names in the comments)."""

    to: str
    from_: str
    url: str | None = None  # Url
    method: str = "POST"  # Method
    twiml: str | None = None  # Twiml
    status_callback: str | None = None  # StatusCallback
    status_callback_method: str = "POST"  # StatusCallbackMethod
    status_callback_events: frozenset[str] = frozenset({"completed"})  # StatusCallbackEvent
    machine_detection: str | None = None  # MachineDetection: Enable | DetectMessageEnd
    async_amd: bool = False  # AsyncAmd
    async_amd_status_callback: str | None = None  # AsyncAmdStatusCallback
    async_amd_status_callback_method: str = "POST"  # AsyncAmdStatusCallbackMethod
    timeout: int = 60  # Timeout: seconds of ringing before no-answer
    time_limit: int = 14400  # TimeLimit: seconds of talking before the carrier hangs up
    record: bool = False  # Record (the sandbox keeps its own tracks of every call either way)
    recording_channels: str = "mono"  # RecordingChannels: mono | dual
    recording_status_callback: str | None = None  # RecordingStatusCallback
    recording_status_callback_method: str = "POST"  # RecordingStatusCallbackMethod
    recording_status_callback_events: frozenset[str] = frozenset({"completed"})


@dataclass(frozen=True)
class RecordingRequest:
    """How a call is recorded: from `Record=true` on create (source OutboundAPI) or from a
    `<Start><Recording>` verb in its TwiML (source StartCallRecordingTwiML)."""

    channels: str = "mono"  # mono | dual
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset({"completed"})
    source: str = "OutboundAPI"

    @classmethod
    def of(cls, request: CallRequest) -> RecordingRequest | None:
        if not request.record:
            return None
        return cls(
            channels=request.recording_channels,
            status_callback=request.recording_status_callback,
            status_callback_method=request.recording_status_callback_method,
            status_callback_events=request.recording_status_callback_events,
        )


@dataclass
class LogEntry:
    at_monotonic: float
    channel: str  # "http", "media", "call", "twiml", "callee"
    direction: str  # "sent", "received" or "note"
    what: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlayedSegment:
    """Audio the app sent that was actually played to the callee, without a gap."""

    start_ms: int
    audio: bytearray = field(default_factory=bytearray)

    @property
    def end_ms(self) -> int:
        return self.start_ms + len(self.audio) // 8


@dataclass(frozen=True)
class MarkEcho:
    name: str
    at_ms: int
    was_cleared: bool  # echoed because of a clear, not because its audio finished playing


@dataclass(frozen=True)
class Utterance:
    """Something one side said: what the callee said, or what the callee recognised hearing."""

    at_ms: int
    text: str


@dataclass
class Call:
    sid: str
    account_sid: str
    direction: str  # "outbound-api" or "inbound"
    request: CallRequest
    persona: str
    created_monotonic: float = field(default_factory=time.monotonic)
    date_created: datetime = field(default_factory=lambda: datetime.now(UTC))
    date_updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = QUEUED
    queue_time_ms: int = 0
    start_time: datetime | None = None
    end_time: datetime | None = None
    answered_monotonic: float | None = None
    answered_by: str | None = None
    status_history: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, status)
    log: list[LogEntry] = field(default_factory=list)
    played: list[PlayedSegment] = field(default_factory=list)
    caller_audio: bytearray = field(default_factory=bytearray)  # inbound track, every 20 ms
    heard_audio: bytearray = field(default_factory=bytearray)  # outbound track, every 20 ms
    cleared_bytes: int = 0
    marks_echoed: list[MarkEcho] = field(default_factory=list)
    dtmf_sent: list[tuple[int, str]] = field(default_factory=list)
    said: list[Utterance] = field(default_factory=list)
    heard: list[Utterance] = field(default_factory=list)
    protocol_errors: list[str] = field(default_factory=list)
    stream_sids: list[str] = field(default_factory=list)
    custom_parameters: dict[str, str] = field(default_factory=dict)
    transfer_target: str | None = None
    hung_up_by: str | None = None  # "callee", "api", "twiml", "time-limit", "app-error"
    recording_paths: dict[str, Path] = field(default_factory=dict)
    recording: RecordingRequest | None = None  # the carrier recording asked for, if any
    log_path: Path | None = None
    finished: threading.Event = field(default_factory=threading.Event)
    billing: Billing = field(default_factory=Billing)

    @property
    def to(self) -> str:
        return self.request.to

    @property
    def from_(self) -> str:
        return self.request.from_

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def played_audio(self) -> bytes:
        """Every byte of app audio the callee heard, in order (what was cleared is absent)."""
        return b"".join(bytes(segment.audio) for segment in self.played)

    @property
    def duration_seconds(self) -> int:
        if self.start_time is None or self.end_time is None:
            return 0
        return round((self.end_time - self.start_time).total_seconds())

    def relative_ms(self, at_monotonic: float) -> int:
        origin = self.answered_monotonic or self.created_monotonic
        return round((at_monotonic - origin) * 1000)

    def now_ms(self) -> int:
        return self.relative_ms(time.monotonic())

    def note(self, channel: str, direction: str, what: str, **detail: Any) -> None:
        self.log.append(LogEntry(time.monotonic(), channel, direction, what, detail))

    def log_entries(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The call log as plain dicts with `at_ms`, optionally for one channel."""
        return [
            {
                "at_ms": self.relative_ms(entry.at_monotonic),
                "channel": entry.channel,
                "direction": entry.direction,
                "what": entry.what,
                **entry.detail,
            }
            for entry in list(self.log)
            if channel is None or entry.channel == channel
        ]

    def move_to(self, status: str) -> bool:
        """Apply a resource status change if the transition table allows it."""
        if status == self.status or status not in ALLOWED_TRANSITIONS.get(self.status, ()):
            return False
        self.status = status
        self.date_updated = datetime.now(UTC)
        if status == IN_PROGRESS:
            self.answered_monotonic = time.monotonic()
            self.start_time = self.date_updated
        if status in TERMINAL_STATUSES:
            self.end_time = self.date_updated
        self.status_history.append((time.monotonic(), status))
        self.note("call", "note", "status", status=status)
        return True

    def note_played(self, at_ms: int, audio: bytes) -> None:
        last = self.played[-1] if self.played else None
        if last is not None and last.end_ms == at_ms:
            last.audio.extend(audio)
        else:
            self.played.append(PlayedSegment(at_ms, bytearray(audio)))

    def resource(self) -> dict[str, Any]:
        """The call as Twilio's REST API renders it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        is_ended = self.is_terminal
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "duration": str(self.duration_seconds) if is_ended else None,
            "end_time": rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": self.billing.price(self, datetime.now(UTC)),
            "price_unit": self.billing.price_unit,
            "queue_time": str(self.queue_time_ms),
            "sid": self.sid,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {
                "notifications": f"{uri}/Notifications.json",
                "recordings": f"{uri}/Recordings.json",
                "payments": f"{uri}/Payments.json",
                "events": f"{uri}/Events.json",
                "siprec": f"{uri}/Siprec.json",
                "streams": f"{uri}/Streams.json",
                "transcriptions": f"{uri}/Transcriptions.json",
                "user_defined_message_subscriptions": f"{uri}/UserDefinedMessageSubscriptions.json",
                "user_defined_messages": f"{uri}/UserDefinedMessages.json",
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }

    def inspection(self) -> dict[str, Any]:
        """Everything a test may want to know about the call, JSON-serialisable."""
        return {
            "sid": self.sid,
            "status": self.status,
            "direction": self.direction,
            "persona": self.persona,
            "to": self.to,
            "from": self.from_,
            "answered_by": self.answered_by,
            "hung_up_by": self.hung_up_by,
            "queue_time_ms": self.queue_time_ms,
            "date_created": rfc2822(self.date_created),
            "start_time": rfc2822(self.start_time),
            "end_time": rfc2822(self.end_time),
            "status_history": [
                {"at_ms": self.relative_ms(at), "status": s} for at, s in self.status_history
            ],
            "stream_sids": self.stream_sids,
            "custom_parameters": self.custom_parameters,
            "played": [
                {"start_ms": s.start_ms, "end_ms": s.end_ms, "bytes": len(s.audio)}
                for s in self.played
            ],
            "cleared_bytes": self.cleared_bytes,
            "marks_echoed": [
                {"name": m.name, "at_ms": m.at_ms, "was_cleared": m.was_cleared}
                for m in self.marks_echoed
            ],
            "dtmf_sent": [{"at_ms": at, "digit": digit} for at, digit in self.dtmf_sent],
            "said": [{"at_ms": u.at_ms, "text": u.text} for u in self.said],
            "heard": [{"at_ms": u.at_ms, "text": u.text} for u in self.heard],
            "protocol_errors": self.protocol_errors,
            "transfer_target": self.transfer_target,
            "recording_paths": {track: str(path) for track, path in self.recording_paths.items()},
            "log_path": str(self.log_path) if self.log_path else None,
            "log": self.log_entries(),
        }
