"""The rate card and the cost ledger: what a call costs, while it runs and once it ends.

Prices come from `RateCard` rows in force at the call's start. A row specific to the model
that produced a component wins over the row for every model: the Realtime model the
session ran on for model tokens, the transcription model for input transcription, the
analysis model for analysis tokens. The ledger has one `CostEntry` per component, each
naming the rate-card row it used, and the call's totals are the sum of its entries, to
the millionth. Pricing also moves the daily
roll-up finance reads (`calls.daily_costs`) by the same amounts, in the same transaction.
"""

import math
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calls.daily_costs import CostSums, daily_cost_add
from calls.models import Call, CostComponent, CostEntry, RateCard

C = CostComponent
MICRO = Decimal("0.000001")
PER_UNIT = {
    RateCard.Unit.MINUTE: Decimal(1),
    RateCard.Unit.CALL: Decimal(1),
    RateCard.Unit.MILLION_TOKENS: Decimal(1_000_000),
}
TELEPHONY = {C.CARRIER_MINUTE, C.MEDIA_STREAM_MINUTE, C.AMD}
ANALYSIS = {C.ANALYSIS_INPUT, C.ANALYSIS_OUTPUT}
TRANSCRIPTION = {C.TRANSCRIPTION_MINUTE}
QUANTITY_PLACES = Decimal("0.0001")  # CostEntry.quantity


class MissingRate(Exception):
    def __init__(self, component: str, at: datetime):
        super().__init__(f"No rate card price for {component!r} in force at {at.isoformat()}.")
        self.component = component


@dataclass(frozen=True)
class Usage:
    """What the Realtime session used: model tokens (cached counts are the part of the input
    counts read from the cache) and milliseconds of caller audio transcribed."""

    audio_input: int = 0
    audio_input_cached: int = 0
    audio_output: int = 0
    text_input: int = 0
    text_input_cached: int = 0
    text_output: int = 0
    transcription_audio_ms: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


# Usage attribute -> Call counter column.
USAGE_COLUMNS = {
    "audio_input": "audio_input_tokens",
    "audio_input_cached": "audio_input_cached_tokens",
    "audio_output": "audio_output_tokens",
    "text_input": "text_input_tokens",
    "text_input_cached": "text_input_cached_tokens",
    "text_output": "text_output_tokens",
    "transcription_audio_ms": "transcription_audio_ms",
}


def usage_from_response(usage: dict | None) -> Usage:
    """Read a Realtime `response.done` usage object (missing parts count as zero)."""
    usage = usage or {}
    given = usage.get("input_token_details") or {}
    cached = given.get("cached_tokens_details") or {}
    produced = usage.get("output_token_details") or {}
    return Usage(
        audio_input=int(given.get("audio_tokens") or 0),
        audio_input_cached=int(cached.get("audio_tokens") or 0),
        audio_output=int(produced.get("audio_tokens") or 0),
        text_input=int(given.get("text_tokens") or 0),
        text_input_cached=int(cached.get("text_tokens") or 0),
        text_output=int(produced.get("text_tokens") or 0),
    )


def usage_from_transcription(usage: dict | None) -> Usage:
    """Read the usage of a `conversation.item.input_audio_transcription.completed` event.

    Duration-billed transcription models (the one sessions use) report
    `{"type": "duration", "seconds": …}`; a token report carries no duration and adds
    nothing here.
    """
    usage = usage or {}
    if usage.get("type") != "duration":
        return Usage()
    try:
        seconds = float(usage.get("seconds") or 0)
    except (TypeError, ValueError):
        return Usage()
    return Usage(transcription_audio_ms=max(0, round(seconds * 1000)))


def call_usage(call: Call) -> Usage:
    return Usage(**{name: getattr(call, column) for name, column in USAGE_COLUMNS.items()})


@dataclass(frozen=True)
class Rates:
    by_component: dict[str, RateCard]

    def price(self, component: str) -> RateCard | None:
        return self.by_component.get(component)


def rates_in_force(
    *, at: datetime, model: str = "", transcription_model: str = "", analysis_model: str = ""
) -> Rates:
    """The price of every component at `at`, preferring rows specific to the model that
    produces it: `transcription_model` for transcription, `analysis_model` for analysis
    tokens, `model` (the Realtime model) for everything else."""
    wanted = {"", model, transcription_model, analysis_model}
    rows = RateCard.objects.filter(effective_from__lte=at, model__in=wanted).order_by(
        "-effective_from"
    )
    specific: dict[str, RateCard] = {}
    generic: dict[str, RateCard] = {}
    for row in rows:  # newest first: the first row seen per component is the one in force
        if not row.model:
            generic.setdefault(row.component, row)
        elif row.model == _producer(row.component, model, transcription_model, analysis_model):
            specific.setdefault(row.component, row)
    return Rates(by_component={**generic, **specific})


def _producer(component: str, model: str, transcription_model: str, analysis_model: str) -> str:
    if component in TRANSCRIPTION:
        return transcription_model
    if component in ANALYSIS:
        return analysis_model
    return model


def call_models(call: Call) -> dict[str, str]:
    """The models that produced the call's usage, as `rates_in_force` takes them. A call
    whose session never started (unanswered, or priced before this was recorded) falls
    back to what its session would have used."""
    from agents.realtime import TRANSCRIPTION_MODEL

    return {
        "model": call.realtime_model or call.agent.model or settings.OPENAI_REALTIME_MODEL,
        "transcription_model": call.transcription_model or TRANSCRIPTION_MODEL,
        "analysis_model": call.analysis_model or settings.OPENAI_ANALYSIS_MODEL,
    }


@dataclass(frozen=True)
class Line:
    component: str
    quantity: Decimal
    rate: RateCard

    @property
    def amount(self) -> Decimal:
        """Quantity times price, to the millionth."""
        return (self.quantity * self.rate.price / PER_UNIT[self.rate.unit]).quantize(
            MICRO, rounding=ROUND_HALF_UP
        )


def _quantities(*, carrier_seconds: float, amd: bool, usage: Usage, analysis: tuple[int, int]):
    billed_minutes = math.ceil(carrier_seconds / 60) if carrier_seconds > 0 else 0
    return {
        C.CARRIER_MINUTE: billed_minutes,
        C.MEDIA_STREAM_MINUTE: billed_minutes,
        C.AMD: 1 if amd else 0,
        C.AUDIO_INPUT: usage.audio_input - usage.audio_input_cached,
        C.AUDIO_INPUT_CACHED: usage.audio_input_cached,
        C.AUDIO_OUTPUT: usage.audio_output,
        C.TEXT_INPUT: usage.text_input - usage.text_input_cached,
        C.TEXT_INPUT_CACHED: usage.text_input_cached,
        C.TEXT_OUTPUT: usage.text_output,
        # Billed by the second of audio transcribed, priced per minute.
        C.TRANSCRIPTION_MINUTE: (Decimal(usage.transcription_audio_ms) / 60_000).quantize(
            QUANTITY_PLACES, rounding=ROUND_HALF_UP
        ),
        C.ANALYSIS_INPUT: analysis[0],
        C.ANALYSIS_OUTPUT: analysis[1],
    }


def cost_lines(
    *, rates: Rates, carrier_seconds: float, amd: bool, usage: Usage, analysis=(0, 0), at: datetime
) -> list[Line]:
    """One line per component with a non-zero quantity. Raises MissingRate."""
    lines = []
    for component, quantity in _quantities(
        carrier_seconds=carrier_seconds, amd=amd, usage=usage, analysis=analysis
    ).items():
        if quantity <= 0:
            continue
        rate = rates.price(component)
        if rate is None:
            raise MissingRate(component, at)
        lines.append(Line(component=component, quantity=Decimal(quantity), rate=rate))
    return lines


def running_cost(*, rates: Rates, answered_seconds: float, amd: bool, usage: Usage) -> Decimal:
    """What the call has cost so far (for the per-call cap). Components without a price are
    counted as free here; the final ledger refuses them instead."""
    total = Decimal(0)
    for component, quantity in _quantities(
        carrier_seconds=answered_seconds, amd=amd, usage=usage, analysis=(0, 0)
    ).items():
        rate = rates.price(component)
        if quantity > 0 and rate is not None:
            total += Line(component=component, quantity=Decimal(quantity), rate=rate).amount
    return total


LEDGER_FIELDS = ["quantity", "unit", "unit_price", "amount", "currency", "rate_card"]


def _ledger_write(call: Call, lines: list[Line]) -> None:
    """Make the call's entries exactly `lines`, in a few statements: the call's row lock is
    held, so nothing else writes them meanwhile."""
    existing = {entry.component: entry for entry in CostEntry.objects.filter(call=call)}
    wanted = {line.component for line in lines}
    stale = [entry.pk for component, entry in existing.items() if component not in wanted]
    if stale:
        CostEntry.objects.filter(pk__in=stale).delete()
    changed, added = [], []
    for line in lines:
        values = {
            "quantity": line.quantity,
            "unit": line.rate.unit,
            "unit_price": line.rate.price,
            "amount": line.amount,
            "currency": line.rate.currency,
            "rate_card_id": line.rate.pk,
        }
        entry = existing.get(line.component)
        if entry is None:
            added.append(CostEntry(call=call, component=line.component, **values))
        elif any(getattr(entry, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(entry, name, value)
            changed.append(entry)
    if changed:
        CostEntry.objects.bulk_update(changed, LEDGER_FIELDS)
    if added:
        CostEntry.objects.bulk_create(added)


def call_price(*, call_id: int, at: datetime | None = None) -> Call:
    """Write the call's cost ledger and totals from the rate card in force at its start.

    Idempotent: running it again rewrites the same lines (the analysis re-runs it after
    adding its tokens); components that no longer apply are removed, so the ledger always
    sums to the call's total.
    """
    with transaction.atomic():
        call = (
            Call.objects.select_for_update(of=("self",))
            .select_related("agent", "organization")
            .get(pk=call_id)
        )
        before = CostSums.of_call(call)
        priced_at = call.created_at
        rates = rates_in_force(at=priced_at, **call_models(call))
        seconds = call.duration_seconds or 0
        amd = call.direction == Call.Direction.OUTBOUND and call.answered_at is not None
        lines = cost_lines(
            rates=rates,
            carrier_seconds=seconds,
            amd=amd,
            usage=call_usage(call),
            analysis=(call.analysis_input_tokens, call.analysis_output_tokens),
            at=priced_at,
        )
        _ledger_write(call, lines)
        totals = {"telephony": Decimal(0), "model": Decimal(0), "analysis": Decimal(0)}
        for line in lines:
            if line.component in TELEPHONY:
                totals["telephony"] += line.amount
            elif line.component in ANALYSIS:
                totals["analysis"] += line.amount
            else:
                totals["model"] += line.amount
        call.cost_telephony = totals["telephony"]
        call.cost_model = totals["model"]
        call.cost_analysis = totals["analysis"]
        call.cost_total = sum(totals.values(), Decimal(0))
        call.priced_at = at or timezone.now()
        call.cost_reserved = Decimal(0)  # the budget now counts the real total instead
        call.save(
            update_fields=[
                "cost_telephony", "cost_model", "cost_analysis", "cost_total", "priced_at",
                "cost_reserved",
            ]
        )  # fmt: skip
        daily_cost_add(
            call=call,
            change=CostSums.of_call(call) - before,
            time_zone=call.organization.time_zone,
        )
    return call
