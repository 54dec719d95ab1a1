"""The call page: one call as people read it (header, conversation, timeline, compliance
decision, ledger, survey answers, analysis, recording), built from the rows the call path
wrote. Costs are only handed to the page for those who may read them."""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from calls.models import Call, RateCard, Recording
from voiceops.labels import (
    answered_by_label,
    call_status_label,
    ending_label,
    event_text,
    outcome_label,
    percentiles_in_words,
)


def clock(ms: int | float | None) -> str:
    """mm:ss (or h:mm:ss) for an offset in milliseconds; a negative one gets a minus."""
    if ms is None:
        return ""
    seconds = int(abs(ms) // 1000)
    sign = "-" if ms < 0 and seconds else ""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    return f"{sign}{minutes:02d}:{seconds:02d}"


@dataclass(frozen=True)
class TranscriptLine:
    speaker: str
    speaker_label: str
    at: str
    text: str
    interruption: str


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    offset: str
    text: str


@dataclass(frozen=True)
class LedgerLine:
    component: str
    quantity: str  # with its unit: "2 minutes", "1 call", "626 tokens"
    unit_price: str  # with currency and unit: "64.000000 USD per million tokens"
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class AnswerLine:
    question: str
    answer: str
    source: str
    disputed: str


@dataclass(frozen=True)
class RecordingLine:
    recording: Recording
    status: str
    audio_url: str | None


def transcript_of(call: Call) -> list[TranscriptLine]:
    lines = []
    for turn in call.turns.all():
        interruption = ""
        if turn.interrupted:
            played = (turn.ended_ms - turn.started_ms) / 1000 if turn.ended_ms is not None else None
            who = "the caller" if turn.speaker == "agent" else "the agent"
            interruption = (
                f"Interrupted by {who} after {played:.1f} s"
                if played is not None
                else f"Interrupted by {who}"
            )
        lines.append(
            TranscriptLine(
                speaker=turn.speaker,
                speaker_label=turn.get_speaker_display(),
                at=clock(turn.started_ms),
                text=turn.text,
                interruption=interruption,
            )
        )
    return lines


def timeline_of(call: Call) -> list[TimelineEntry]:
    origin = call.answered_at
    return [
        TimelineEntry(
            at=event.at,
            offset=clock((event.at - origin).total_seconds() * 1000) if origin else "",
            text=event_text(
                event.kind, event.data, from_status=event.from_status, to_status=event.to_status
            ),
        )
        for event in call.events.all()
    ]


def compliance_of(call: Call) -> str:
    """The compliance decision taken right before the dial, in words."""
    if call.direction == Call.Direction.INBOUND:
        return "Inbound call: the caller called us, so no outbound calling rules applied."
    zones = ", ".join(call.compliance_zones or []) or "no time zone"
    states = ", ".join(call.compliance_states or []) or "no state"
    checked = (
        f"checked against rule set {call.compliance_ruleset}" if call.compliance_ruleset else ""
    )
    if call.status == "canceled" and call.hangup_reason:
        reason = ending_label(call.hangup_reason)
        text = f"Not placed: {reason}."
        return f"{text} The decision was {checked} for {zones} ({states})." if checked else text
    if not checked:
        return "Not checked yet: the call has not reached the dial."
    return (
        f"Allowed at the dial, {checked}: calling hours of {zones} and the rules of {states} "
        "permitted the call."
    )


def ledger_of(call: Call) -> tuple[list[LedgerLine], Decimal, str]:
    lines = [
        LedgerLine(
            component=entry.get_component_display(),
            quantity=_quantity(entry.quantity, entry.unit),
            unit_price=f"{entry.unit_price:.6f} {entry.currency} {entry.get_unit_display()}",
            amount=entry.amount,
            currency=entry.currency,
        )
        for entry in call.cost_entries.order_by("id")
    ]
    total = sum((line.amount for line in lines), Decimal(0))
    currency = lines[0].currency if lines else call.currency
    return lines, total, currency


# What a quantity counts, per rate-card unit: tokens are counted one by one and priced
# per million.
QUANTITY_NAMES = {
    RateCard.Unit.MINUTE: ("minute", "minutes"),
    RateCard.Unit.CALL: ("call", "calls"),
    RateCard.Unit.MILLION_TOKENS: ("token", "tokens"),
}


def _quantity(quantity: Decimal, unit: str) -> str:
    one, many = QUANTITY_NAMES.get(unit, (unit, unit))
    number = f"{quantity.normalize():f}"
    return f"{number} {one if quantity == 1 else many}"


def answers_of(call: Call) -> list[AnswerLine]:
    lines = []
    for answer in call.survey_answers.select_related("question"):
        value = answer.value
        if isinstance(value, bool):
            shown = "Yes" if value else "No"
        else:
            shown = "—" if value is None else str(value)
        disputed = ""
        if answer.is_disputed:
            disputed = f"The analysis heard: {answer.analysis_value}"
        lines.append(
            AnswerLine(
                question=answer.question.text,
                answer=shown,
                source=answer.get_source_display(),
                disputed=disputed,
            )
        )
    return lines


def recordings_of(call: Call) -> list[RecordingLine]:
    return [
        RecordingLine(
            recording=recording,
            status=recording.get_status_display(),
            audio_url=reverse("admin:calls_call_recording_audio", args=[call.pk, recording.pk])
            if recording.is_playable
            else None,
        )
        for recording in call.recordings.all()
    ]


def duration_text(call: Call) -> str:
    if call.duration_seconds is None:
        return "—"
    return clock(call.duration_seconds * 1000)


def first_audio_in_words(call: Call) -> str:
    """ "2300 ms sent, 2340 ms played, abandoned (over 2 s)", or "—" before any audio."""
    parts = [
        f"{value} ms {what}"
        for value, what in (
            (call.first_audio_sent_ms, "sent"),
            (call.first_audio_played_ms, "played"),
        )
        if value is not None
    ]
    if call.is_abandoned:
        parts.append("abandoned (no agent audio within 2 s of the answer)")
    return ", ".join(parts) or "—"


def latency_in_words(call: Call, kind: str) -> str:
    """ "p50 420 ms · p90 610 ms · p99 700 ms · worst 700 ms over 3 turns", or "—"."""
    latency = call.turn_latency or {}
    return percentiles_in_words(
        latency.get(kind),
        count=latency.get("turns", 0),
        unit="turn",
        keys=("p50", "p90", "p99", "max"),
        missing="—",
    )


def call_page_context(call: Call, *, can_read_costs: bool, can_listen: bool) -> dict:
    target = call.target
    context = {
        "call": call,
        "outcome": outcome_label(call.outcome),
        "status": call_status_label(call.status),
        "hangup_reason": ending_label(call.hangup_reason) if call.hangup_reason else "",
        "answered_by": answered_by_label(call.answered_by),
        "duration": duration_text(call),
        "campaign": target.campaign if target else None,
        "contact": target.contact if target else None,
        "sentiment": call.get_sentiment_display(),
        "analysis_outcome": outcome_label(call.analysis_outcome) if call.analysis_outcome else "",
        "transcript": transcript_of(call),
        "timeline": timeline_of(call),
        "compliance": compliance_of(call),
        "answers": answers_of(call),
        "can_read_costs": can_read_costs,
        "recordings": recordings_of(call) if can_listen else [],
        "technical": technical_of(call, can_read_costs=can_read_costs),
        "first_audio": first_audio_in_words(call),
        "turn_latency_sent": latency_in_words(call, "sent"),
        "turn_latency_played": latency_in_words(call, "played"),
    }
    if can_read_costs:
        context["ledger"], context["ledger_total"], context["ledger_currency"] = ledger_of(call)
    return context


TECHNICAL_FIELDS = [
    "carrier_sid", "carrier_sequence", "realtime_model", "transcription_model",
    "analysis_model", "audio_input_tokens", "audio_input_cached_tokens", "audio_output_tokens",
    "text_input_tokens", "text_input_cached_tokens", "text_output_tokens",
    "transcription_audio_ms", "analysis_input_tokens", "analysis_output_tokens",
    "created_at", "dialing_at", "initiated_at", "ringing_at", "answered_at", "ended_at",
    "media_started_at", "media_ended_at", "settled_at", "result",
]  # fmt: skip
TECHNICAL_COST_FIELDS = [
    "priced_at", "cost_reserved", "carrier_price", "carrier_price_unit", "carrier_price_checks",
]  # fmt: skip


def technical_of(call: Call, *, can_read_costs: bool) -> list[tuple[str, object]]:
    names = TECHNICAL_FIELDS + (TECHNICAL_COST_FIELDS if can_read_costs else [])
    return [
        (str(Call._meta.get_field(name).verbose_name).capitalize(), _plain(getattr(call, name)))
        for name in names
    ]


def _plain(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            + " "
            + (timezone.localtime(value).tzname() or "")
        )
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
