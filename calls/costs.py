"""The rate card and the cost ledger: what a call costs, while it runs and once it ends.

Prices come from `RateCard` rows in force at the call's start (a model-specific row wins
over the row for every model). The ledger has one `CostEntry` per component and the
call's totals are the sum of its entries, to the millionth. Pricing also moves the daily
roll-up finance reads (`calls.daily_costs`) by the same amounts, in the same transaction.
"""

import math
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from calls.daily_costs import CostChange, daily_cost_add
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


class MissingRate(Exception):
    def __init__(self, component: str, at: datetime):
        super().__init__(f"No rate card price for {component!r} in force at {at.isoformat()}.")
        self.component = component


@dataclass(frozen=True)
class Usage:
    """Model tokens. Cached counts are the part of the input counts read from the cache."""

    audio_input: int = 0
    audio_input_cached: int = 0
    audio_output: int = 0
    text_input: int = 0
    text_input_cached: int = 0
    text_output: int = 0

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


def call_usage(call: Call) -> Usage:
    return Usage(**{name: getattr(call, column) for name, column in USAGE_COLUMNS.items()})


@dataclass(frozen=True)
class Rates:
    by_component: dict[str, RateCard]

    def price(self, component: str) -> RateCard | None:
        return self.by_component.get(component)


def rates_in_force(*, at: datetime, model: str = "") -> Rates:
    """The price of every component at `at`, preferring rows specific to `model`."""
    rows = RateCard.objects.filter(effective_from__lte=at, model__in={"", model}).order_by(
        "-effective_from"
    )
    specific: dict[str, RateCard] = {}
    generic: dict[str, RateCard] = {}
    for row in rows:  # newest first: the first row seen per component is the one in force
        (specific if row.model else generic).setdefault(row.component, row)
    return Rates(by_component={**generic, **specific})


@dataclass(frozen=True)
class Line:
    component: str
    quantity: Decimal
    rate: RateCard

    @property
    def amount(self) -> Decimal:
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


def call_price(*, call_id: int, at: datetime | None = None) -> Call:
    """Write the call's cost ledger and totals from the rate card in force at its start.

    Idempotent: running it again rewrites the same lines; components that no longer apply
    are removed, so the ledger always sums to the call's total.
    """
    with transaction.atomic():
        call = (
            Call.objects.select_for_update(of=("self",))
            .select_related("agent", "organization")
            .get(pk=call_id)
        )
        before = CostChange(
            calls=1 if call.priced_at else 0,
            telephony=call.cost_telephony,
            model=call.cost_model,
            analysis=call.cost_analysis,
            total=call.cost_total,
        )
        priced_at = call.created_at
        rates = rates_in_force(at=priced_at, model=call.agent.model)
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
        CostEntry.objects.filter(call=call).exclude(
            component__in=[line.component for line in lines]
        ).delete()
        for line in lines:
            CostEntry.objects.update_or_create(
                call=call,
                component=line.component,
                defaults={
                    "quantity": line.quantity,
                    "unit": line.rate.unit,
                    "unit_price": line.rate.price,
                    "amount": line.amount,
                    "currency": line.rate.currency,
                    "rate_card": line.rate,
                },
            )
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
            change=CostChange(
                calls=1 - before.calls,
                telephony=call.cost_telephony - before.telephony,
                model=call.cost_model - before.model,
                analysis=call.cost_analysis - before.analysis,
                total=call.cost_total - before.total,
            ),
            time_zone=call.organization.time_zone,
        )
    return call
