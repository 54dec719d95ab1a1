"""Reads about how long callers wait for the agent, per call and per campaign, and how many
calls a campaign abandoned.

Percentiles are nearest-rank (PostgreSQL's `percentile_disc`): every figure is a latency
some turn really had. A call's figures are computed by the bridge when the call ends
(`calls.latency_meter`) and kept on the call; a campaign's are computed over its calls'
turns by the database, in one aggregate query each.
"""

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, IntegerField, Max, Min, Q

from calls.models import Call, Turn

PERCENTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
ABANDONMENT_WINDOW = timedelta(days=30)
# Answers the carrier identified as no person: they neither count as answers by a person
# nor as abandoned calls.
NOT_A_PERSON = Q(answered_by__startswith="machine") | Q(answered_by="fax")


def latency_percentiles(values: Iterable[int]) -> dict:
    """p50, p90, p99 and the worst of `values` in ms (all None when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return {**dict.fromkeys(PERCENTILES), "max": None}
    count = len(ordered)
    ranks = {
        name: ordered[max(0, math.ceil(fraction * count) - 1)]
        for name, fraction in PERCENTILES.items()
    }
    return {**ranks, "max": ordered[-1]}


class PercentileDisc(Aggregate):
    function = "PERCENTILE_DISC"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, *, fraction: float):
        super().__init__(expression, fraction=float(fraction), output_field=IntegerField())


def _percentiles_of(queryset, fields: tuple[str, ...]) -> dict[str, tuple[int, dict]]:
    """For each of `fields`: how many rows have a value, and the values' percentiles, in
    one aggregate query (empty values are left out, as SQL aggregates leave out NULL)."""
    if connection.vendor != "postgresql":
        # SQLite (the zero-setup demo) has no ordered-set aggregates.
        rows = list(queryset.values_list(*fields))
        result = {}
        for index, field in enumerate(fields):
            values = [row[index] for row in rows if row[index] is not None]
            result[field] = (len(values), latency_percentiles(values))
        return result
    aggregates = {}
    for field in fields:
        aggregates[f"{field}__count"] = Count(field)
        aggregates[f"{field}__max"] = Max(field)
        for name, fraction in PERCENTILES.items():
            aggregates[f"{field}__{name}"] = PercentileDisc(field, fraction=fraction)
    row = queryset.aggregate(**aggregates)
    return {
        field: (
            row[f"{field}__count"],
            {
                **{name: row[f"{field}__{name}"] for name in PERCENTILES},
                "max": row[f"{field}__max"],
            },
        )
        for field in fields
    }


def call_latency_summary(call: Call) -> dict:
    """The call's first audio after the answer (sent and played, ms), its turns' latency
    percentiles (sent and played, ms) and whether it was abandoned."""
    turns = call.turn_latency or {}
    empty = latency_percentiles(())
    return {
        "first_audio_sent_ms": call.first_audio_sent_ms,
        "first_audio_played_ms": call.first_audio_played_ms,
        "turns": turns.get("turns", 0),
        "turn_sent_ms": turns.get("sent") or empty,
        "turn_played_ms": turns.get("played") or empty,
        "is_abandoned": call.is_abandoned,
    }


def campaign_abandonment(*, campaign_id: int, at: datetime) -> dict:
    """The campaign's calls answered by a person over the 30 days before `at`, how many were
    abandoned, when the oldest abandoned one leaves the window, and the pause threshold.
    One aggregate over the `call_campaign_answers_idx` index."""
    since = at - ABANDONMENT_WINDOW
    abandoned = Q(is_abandoned=True)
    row = (
        Call.objects.filter(
            campaign_id=campaign_id, media_started_at__gte=since, media_started_at__lte=at
        )
        .exclude(NOT_A_PERSON)
        .aggregate(
            # Counted on an indexed column (never null here), not the primary key, so
            # every column read is in the index: an index-only scan.
            answered=Count("media_started_at"),
            abandoned=Count("media_started_at", filter=abandoned),
            oldest_abandoned=Min("media_started_at", filter=abandoned),
        )
    )
    oldest = row["oldest_abandoned"]
    answered, abandoned_count = row["answered"], row["abandoned"]
    return {
        "answered": answered,
        "abandoned": abandoned_count,
        "rate_percent": (
            round(Decimal(abandoned_count * 100) / answered, 2) if answered else Decimal(0)
        ),
        "pause_percent": settings.ABANDON_RATE_PAUSE_PERCENT,
        "recovers_at": oldest + ABANDONMENT_WINDOW if oldest is not None else None,
    }


def campaign_latency(*, campaign_id: int) -> dict:
    """Over all of the campaign's calls: first audio after the answer (percentiles over
    calls) and per-turn latency (percentiles over every agent turn that answered the
    caller), sent to the carrier and played by it, in ms."""
    calls = _percentiles_of(
        Call.objects.filter(campaign_id=campaign_id),
        ("first_audio_sent_ms", "first_audio_played_ms"),
    )
    turns = _percentiles_of(
        Turn.objects.filter(call__campaign_id=campaign_id, speaker=Turn.Speaker.AGENT),
        ("response_sent_ms", "response_played_ms"),
    )
    return {
        "calls": calls["first_audio_sent_ms"][0],
        "first_audio_sent_ms": calls["first_audio_sent_ms"][1],
        "first_audio_played_ms": calls["first_audio_played_ms"][1],
        "turns": turns["response_sent_ms"][0],
        "turn_sent_ms": turns["response_sent_ms"][1],
        "turn_played_ms": turns["response_played_ms"][1],
    }
