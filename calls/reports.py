"""Finance selectors: what an organisation's calls cost, per campaign per day.

They read the daily roll-up (`calls.daily_costs`), so a month of an organisation with a
million calls is a few hundred rows, not millions of ledger lines. Every selector is
scoped to one organisation.
"""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from calls.models import CampaignDailyCost


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True)
class CampaignDayCost:
    campaign_id: int | None  # None: inbound calls
    campaign: str
    day: date
    currency: str
    calls: int
    telephony: Decimal
    model: Decimal
    analysis: Decimal
    total: Decimal


def month_bounds(*, year: int, month: int) -> tuple[date, date]:
    """The first and last day of a month. Raises BadPeriod for a month that is not one."""
    if not 1 <= month <= 12 or not 2000 <= year <= 9999:
        raise BadPeriod(f"{year}-{month:02d} is not a month; give a year from 2000 and 1-12.")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


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
        .annotate(
            calls=Sum("calls"),
            telephony=Sum("cost_telephony"),
            model=Sum("cost_model"),
            analysis=Sum("cost_analysis"),
            total=Sum("cost_total"),
        )
        .order_by("day", "campaign_id", "currency")
    )
    return [
        CampaignDayCost(
            campaign_id=group["campaign_id"],
            campaign=group["campaign__name"] or "Inbound calls",
            day=group["day"],
            currency=group["currency"],
            calls=group["calls"],
            telephony=group["telephony"],
            model=group["model"],
            analysis=group["analysis"],
            total=group["total"],
        )
        for group in groups
        if group["calls"] or group["total"]
    ]
