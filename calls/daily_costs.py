"""The daily roll-up of call costs per campaign (`CampaignDailyCost`), kept exact.

`call_price` calls `daily_cost_add` in the transaction that rewrites a call's ledger, with
the difference between the call's new and old totals, so the roll-up moves with the
ledger: a call priced twice adds nothing the second time, a re-priced call adds only the
difference. Any other code that changes a call's totals must do the same, in its own
transaction. `daily_costs_rebuild` recomputes an organisation's rows from its priced calls
(after a change of the organisation's time zone, for instance).
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from calls.models import Call, CampaignDailyCost
from campaigns.models import Organization, Target

# The roll-up's cost columns, by the name reports and changes give them.
COST_COLUMNS = {
    "telephony": "cost_telephony",
    "model": "cost_model",
    "analysis": "cost_analysis",
    "total": "cost_total",
}


@dataclass(frozen=True)
class CostSums:
    """Priced calls and what they cost, by group: one call's totals, a change to the
    roll-up, or one row of a finance report (which extends it with its key)."""

    calls: int = 0
    telephony: Decimal = Decimal(0)
    model: Decimal = Decimal(0)
    analysis: Decimal = Decimal(0)
    total: Decimal = Decimal(0)

    @classmethod
    def of_call(cls, call: Call) -> "CostSums":
        """What a call adds to the roll-up as it stands: nothing until it is priced."""
        if call.priced_at is None:
            return cls()
        return cls(1, *(getattr(call, column) for column in COST_COLUMNS.values()))

    def __sub__(self, other: "CostSums") -> "CostSums":
        return CostSums(
            self.calls - other.calls,
            self.telephony - other.telephony,
            self.model - other.model,
            self.analysis - other.analysis,
            self.total - other.total,
        )

    @property
    def is_nothing(self) -> bool:
        return not (self.calls or self.telephony or self.model or self.analysis or self.total)


def cost_sums(*, calls) -> dict:
    """Aggregates that sum the cost columns (of calls or of roll-up rows) under the names of
    `CostSums`; `calls` is the aggregate counting the calls."""
    return {"calls": calls, **{name: Sum(column) for name, column in COST_COLUMNS.items()}}


def call_cost_day(*, started_at: datetime, time_zone: str) -> date:
    """The organisation's calendar day a call belongs to: the day it started, locally."""
    return started_at.astimezone(zoneinfo.ZoneInfo(time_zone)).date()


def _upsert_sql(*, inbound: bool) -> str:
    table = CampaignDailyCost._meta.db_table
    summed = ("calls", "cost_telephony", "cost_model", "cost_analysis", "cost_total")
    updates = ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in summed)
    # The conflict target names the partial unique index the row falls under.
    target = (
        "(organization_id, day, currency) WHERE campaign_id IS NULL"
        if inbound
        else "(organization_id, campaign_id, day, currency) WHERE campaign_id IS NOT NULL"
    )
    return (
        f"INSERT INTO {table} (organization_id, campaign_id, day, currency, {', '.join(summed)}) "
        f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        f"ON CONFLICT {target} DO UPDATE SET {updates}"
    )


def daily_cost_add(*, call: Call, change: CostSums, time_zone: str) -> None:
    """Add `change` to the row of the call's campaign and day, atomically (one upsert that
    increments, so concurrent pricing of calls on the same day never loses an update)."""
    if change.is_nothing:
        return
    campaign_id = (
        Target.objects.filter(pk=call.target_id).values_list("campaign_id", flat=True).first()
        if call.target_id
        else None
    )
    day = call_cost_day(started_at=call.created_at, time_zone=time_zone)
    with connection.cursor() as cursor:
        cursor.execute(
            _upsert_sql(inbound=campaign_id is None),
            [
                call.organization_id,
                campaign_id,
                day,
                call.currency,
                change.calls,
                change.telephony,
                change.model,
                change.analysis,
                change.total,
            ],
        )


def daily_costs_rebuild(*, organization_id: int) -> int:
    """Recompute every roll-up row of the organisation from its priced calls. Returns the
    number of rows written. Safe to run twice; lock-free readers see the old or new rows."""
    organization = Organization.objects.get(pk=organization_id)
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    groups = (
        Call.objects.filter(organization_id=organization_id, priced_at__isnull=False)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("target__campaign_id", "day", "currency")
        .annotate(**cost_sums(calls=Count("pk")))
        .order_by()
    )
    rows = [
        CampaignDailyCost(
            organization_id=organization_id,
            campaign_id=group["target__campaign_id"],
            day=group["day"],
            currency=group["currency"],
            calls=group["calls"],
            cost_telephony=group["telephony"],
            cost_model=group["model"],
            cost_analysis=group["analysis"],
            cost_total=group["total"],
        )
        for group in groups
    ]
    with transaction.atomic():
        CampaignDailyCost.objects.filter(organization_id=organization_id).delete()
        CampaignDailyCost.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
