"""Finance selectors: what calls cost, per period, campaign, organisation and kind of call.

Spend per period, campaign and organisation is read from the daily roll-up
(`calls.daily_costs`), so a month of an organisation with a million calls is a few hundred
rows, not millions of ledger lines. What only the calls know (their outcome, the
carrier's own price) is read from the priced calls of the same days. Days are each
organisation's, in its time zone, by the call's start, everywhere. Every selector takes
the tenant asking and reads only what it may see (`tenancy.scoping.scoped`).
"""

import calendar
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from django.db import models
from django.db.models import Case, Count, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth, TruncWeek

from calls.carrier_prices import calls_with_carrier_price_mismatch
from calls.daily_costs import CostSums, cost_sums
from calls.models import Call, CallStatus, CampaignDailyCost
from campaigns.budgets import Usage, budget_usage, budgets_applying
from campaigns.models import Campaign, Organization
from tenancy.scoping import Tenant, scoped
from voiceops.labels import call_kind_label

INBOUND = "Inbound calls"
# The longest range a report covers: a day-by-day report of more is unreadable anyway.
LONGEST_RANGE = timedelta(days=731)


class BadPeriod(ValueError):
    pass


class Grouping(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week (from Monday)"
    MONTH = "month", "Month"


class CallKind(StrEnum):
    """What a priced call came to, for finance: the completed outcomes a campaign is for,
    and the calls that completed nothing (in the report's order; labels in
    `voiceops.labels.CALL_KINDS`)."""

    CONFIRMED = "confirmed"
    SURVEY_COMPLETED = "survey_completed"
    OTHER_ANSWERED = "other_answered"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


# The first match wins: what the carrier said before what the conversation came to.
CALL_KIND = Case(
    When(status=CallStatus.NO_ANSWER, then=Value(CallKind.NO_ANSWER.value)),
    When(status=CallStatus.BUSY, then=Value(CallKind.BUSY.value)),
    When(status__in=(CallStatus.FAILED, CallStatus.CANCELED), then=Value(CallKind.FAILED.value)),
    When(
        Q(outcome="voicemail") | Q(answered_by__startswith="machine"),
        then=Value(CallKind.VOICEMAIL.value),
    ),
    When(outcome="confirmed", then=Value(CallKind.CONFIRMED.value)),
    When(outcome="survey_completed", then=Value(CallKind.SURVEY_COMPLETED.value)),
    default=Value(CallKind.OTHER_ANSWERED.value),
    output_field=models.CharField(),
)


@dataclass(frozen=True)
class ReportFilter:
    """Days `first` to `last` included, in each organisation's time zone; one campaign or
    all of them."""

    first: date
    last: date
    campaign_id: int | None = None
    grouping: str = Grouping.DAY

    def __post_init__(self):
        if self.first > self.last:
            raise BadPeriod(f"The range starts on {self.first} after it ends on {self.last}.")
        if self.last - self.first > LONGEST_RANGE:
            raise BadPeriod("A report covers at most two years; pick a shorter range.")
        if self.grouping not in Grouping.values:
            raise BadPeriod(f"{self.grouping!r} is not one of day, week or month.")


@dataclass(frozen=True, kw_only=True)
class CampaignDayCost(CostSums):
    campaign_id: int | None  # None: inbound calls
    campaign: str
    day: date
    currency: str


@dataclass(frozen=True, kw_only=True)
class PeriodCost(CostSums):
    period: date  # the first day of the day, week or month
    currency: str


@dataclass(frozen=True, kw_only=True)
class CampaignCost(CostSums):
    campaign_id: int | None
    campaign: str
    organization: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class OrganizationCost(CostSums):
    organization_id: int
    organization: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class KindCost:
    kind: str
    currency: str
    calls: int
    total: Decimal

    @property
    def label(self) -> str:
        return call_kind_label(self.kind)


@dataclass(frozen=True, kw_only=True)
class OutcomeCost:
    """What one completed outcome cost: every call of the campaigns of that kind (failed
    attempts included) over the outcomes they completed."""

    outcome: str
    currency: str
    calls: int
    completed: int
    total: Decimal

    @property
    def per_outcome(self) -> Decimal | None:
        return self.total / self.completed if self.completed else None


def month_bounds(*, year: int, month: int) -> tuple[date, date]:
    """The first and last day of a month. Raises BadPeriod for a month that is not one."""
    if not 1 <= month <= 12 or not 2000 <= year <= 9999:
        raise BadPeriod(f"{year}-{month:02d} is not a month; give a year from 2000 and 1-12.")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _sums(group: dict) -> dict:
    return {field.name: group[field.name] for field in fields(CostSums)}


def _rollup(*, tenant: Tenant, report: ReportFilter) -> QuerySet:
    rows = scoped(CampaignDailyCost.objects.all(), tenant).filter(
        day__range=(report.first, report.last)
    )
    if report.campaign_id is not None:
        rows = rows.filter(campaign_id=report.campaign_id)
    return rows


ROLLUP_SUMS = cost_sums(calls=Sum("calls"))


def campaign_daily_costs(
    *, organization_id: int, year: int, month: int, campaign_id: int | None = None
) -> list[CampaignDayCost]:
    """The organisation's costs per campaign per day of one month (days in the
    organisation's time zone, by each call's start), ordered by day then campaign."""
    first, last = month_bounds(year=year, month=month)
    rows = CampaignDailyCost.objects.filter(
        organization_id=organization_id, day__range=(first, last)
    )
    if campaign_id is not None:
        rows = rows.filter(campaign_id=campaign_id)
    groups = (
        rows.values("campaign_id", "campaign__name", "day", "currency")
        .annotate(**ROLLUP_SUMS)
        .order_by("day", "campaign_id", "currency")
    )
    return [
        CampaignDayCost(
            campaign_id=group["campaign_id"],
            campaign=group["campaign__name"] or INBOUND,
            day=group["day"],
            currency=group["currency"],
            **_sums(group),
        )
        for group in groups
        if group["calls"] or group["total"]
    ]


def spend_by_period(*, tenant: Tenant, report: ReportFilter) -> list[PeriodCost]:
    """Spend per day, week (from Monday) or month of the range, oldest first."""
    rows = _rollup(tenant=tenant, report=report)
    if report.grouping == Grouping.WEEK:
        rows = rows.annotate(period=TruncWeek("day"))
    elif report.grouping == Grouping.MONTH:
        rows = rows.annotate(period=TruncMonth("day"))
    else:
        rows = rows.annotate(period=models.F("day"))
    groups = (
        rows.values("period", "currency").annotate(**ROLLUP_SUMS).order_by("period", "currency")
    )
    return [
        PeriodCost(period=_as_date(group["period"]), currency=group["currency"], **_sums(group))
        for group in groups
        if group["calls"] or group["total"]
    ]


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def spend_by_campaign(*, tenant: Tenant, report: ReportFilter) -> list[CampaignCost]:
    """Spend per campaign (inbound calls as one line per organisation), the dearest first."""
    groups = (
        _rollup(tenant=tenant, report=report)
        .values("campaign_id", "campaign__name", "organization__name", "currency")
        .annotate(**ROLLUP_SUMS)
        .order_by("-total", "campaign__name", "organization__name")
    )
    return [
        CampaignCost(
            campaign_id=group["campaign_id"],
            campaign=group["campaign__name"] or INBOUND,
            organization=group["organization__name"],
            currency=group["currency"],
            **_sums(group),
        )
        for group in groups
        if group["calls"] or group["total"]
    ]


def spend_by_organization(*, tenant: Tenant, report: ReportFilter) -> list[OrganizationCost]:
    """Spend per organisation: every organisation for a superuser who has not picked one,
    else only the tenant's."""
    groups = (
        _rollup(tenant=tenant, report=report)
        .values("organization_id", "organization__name", "currency")
        .annotate(**ROLLUP_SUMS)
        .order_by("-total", "organization__name")
    )
    return [
        OrganizationCost(
            organization_id=group["organization_id"],
            organization=group["organization__name"],
            currency=group["currency"],
            **_sums(group),
        )
        for group in groups
        if group["calls"] or group["total"]
    ]


def spend_totals(rows: list[CostSums]) -> dict[str, CostSums]:
    """The rows of a report added up, per currency."""
    totals: dict[str, CostSums] = defaultdict(CostSums)
    for row in rows:
        total = totals[row.currency]
        totals[row.currency] = CostSums(
            total.calls + row.calls,
            total.telephony + row.telephony,
            total.model + row.model,
            total.analysis + row.analysis,
            total.total + row.total,
        )
    return dict(sorted(totals.items()))


def local_range(*, first: date, last: date, time_zone: str) -> tuple[datetime, datetime]:
    """The instants from the start of `first` to the start of the day after `last`, there."""
    zone = zoneinfo.ZoneInfo(time_zone)
    return (
        datetime.combine(first, time(0), tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone),
    )


def priced_calls(*, tenant: Tenant, report: ReportFilter) -> QuerySet:
    """The priced calls the roll-up rows of the report count: started on the range's days,
    each in its organisation's time zone."""
    organizations = scoped(Organization.objects.all(), tenant).values_list("pk", "time_zone")
    by_zone = defaultdict(list)
    for organization_id, time_zone in organizations:
        by_zone[time_zone].append(organization_id)
    days = Q(pk__in=[])
    for time_zone, organization_ids in by_zone.items():
        starts, ends = local_range(first=report.first, last=report.last, time_zone=time_zone)
        days |= Q(organization_id__in=organization_ids, created_at__gte=starts, created_at__lt=ends)
    calls = scoped(Call.objects.filter(priced_at__isnull=False), tenant).filter(days)
    if report.campaign_id is not None:
        calls = calls.filter(target__campaign_id=report.campaign_id)
    return calls


def call_kind_groups(*, tenant: Tenant, report: ReportFilter) -> list[dict]:
    """The report's priced calls counted and summed per kind of call, kind of campaign and
    currency, in one pass over the calls: what `spend_by_call_kind` and `cost_per_outcome`
    add up."""
    return list(
        priced_calls(tenant=tenant, report=report)
        .annotate(kind=CALL_KIND)
        .values("kind", "target__campaign__kind", "currency")
        .annotate(calls=Count("pk"), total=Sum("cost_total"))
        .order_by()
    )


def spend_by_call_kind(groups: list[dict]) -> list[KindCost]:
    """What completed outcomes, voicemail, unanswered and failed calls cost, apart."""
    sums = defaultdict(lambda: [0, Decimal(0)])
    for group in groups:
        sums[(group["currency"], group["kind"])][0] += group["calls"]
        sums[(group["currency"], group["kind"])][1] += group["total"]
    order = {kind: position for position, kind in enumerate(CallKind)}
    return [
        KindCost(kind=kind, currency=currency, calls=calls, total=total)
        for (currency, kind), (calls, total) in sorted(
            sums.items(), key=lambda item: (item[0][0], order[item[0][1]])
        )
    ]


# The outcome each kind of campaign is run for, as a kind of call, and how it is named.
COMPLETED_OUTCOMES = {
    Campaign.Kind.REMINDER: (CallKind.CONFIRMED, "confirmed reminder"),
    Campaign.Kind.SURVEY: (CallKind.SURVEY_COMPLETED, "completed survey"),
}


def cost_per_outcome(groups: list[dict]) -> list[OutcomeCost]:
    """Per confirmed reminder and per completed survey: what all the calls of the campaigns
    of that kind cost over the range, divided by the outcomes they completed."""
    sums = defaultdict(lambda: [0, 0, Decimal(0)])
    for group in groups:
        if group["target__campaign__kind"] not in COMPLETED_OUTCOMES:
            continue  # inbound calls complete no campaign
        outcome, _ = COMPLETED_OUTCOMES[group["target__campaign__kind"]]
        row = sums[(group["target__campaign__kind"], group["currency"])]
        row[0] += group["calls"]
        row[1] += group["calls"] if group["kind"] == outcome else 0
        row[2] += group["total"]
    return [
        OutcomeCost(outcome=label, currency=currency, calls=calls, completed=completed, total=total)
        for kind, (_, label) in COMPLETED_OUTCOMES.items()
        for (campaign_kind, currency), (calls, completed, total) in sorted(sums.items())
        if campaign_kind == kind
    ]


def carrier_differences(*, tenant: Tenant, report: ReportFilter) -> QuerySet:
    """Calls of the report whose carrier price differs from our estimate by more than the
    tolerance, the largest difference first; annotated `carrier_estimate` and
    `carrier_difference`."""
    return (
        calls_with_carrier_price_mismatch(calls=priced_calls(tenant=tenant, report=report))
        .select_related("target__campaign", "target__contact", "organization")
        .order_by("-carrier_gap", "pk")
    )


@dataclass(frozen=True)
class BudgetLeft:
    usage: Usage
    organization: str
    campaign: str

    @property
    def left(self) -> Decimal:
        return max(self.usage.budget.limit - self.usage.spent - self.usage.reserved, Decimal(0))


def budgets_left(
    *, tenant: Tenant, at: datetime, campaign_id: int | None = None
) -> list[BudgetLeft]:
    """Each organisation's day and month budgets as they stand at `at`, and the budgets of
    its campaigns that may still call (or the one campaign asked for)."""
    rows = []
    for organization in scoped(Organization.objects.all(), tenant).order_by("name"):
        for budget in budgets_applying(organization=organization, campaign=None, at=at):
            rows.append(BudgetLeft(budget_usage(budget), organization.name, ""))
    campaigns = scoped(Campaign.objects.filter(budget__isnull=False), tenant)
    if campaign_id is not None:
        campaigns = campaigns.filter(pk=campaign_id)
    else:
        campaigns = campaigns.exclude(
            status__in=(Campaign.Status.COMPLETED, Campaign.Status.CANCELLED)
        )
    for campaign in campaigns.select_related("organization").order_by("organization__name", "name"):
        budget = budgets_applying(organization=campaign.organization, campaign=campaign, at=at)[0]
        rows.append(BudgetLeft(budget_usage(budget), campaign.organization.name, campaign.name))
    return rows
