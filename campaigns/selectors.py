"""Reads about campaigns and their audience."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from campaigns.models import Campaign, Target


def campaign_progress(*, campaign_id: int, at: datetime | None = None) -> dict:
    """A campaign's status, how many targets are in each state and with each outcome, how
    many of its calls are under way, how long its callers wait for the agent, and its
    30-day abandonment rate at `at` (default now) (the live dashboard's data). No money:
    everyone who may read the campaign sees this; `campaign_spend` is for those who read
    costs."""
    from calls.latency import campaign_abandonment, campaign_latency
    from calls.models import Call
    from calls.states import TERMINAL

    at = at or timezone.now()
    campaign = Campaign.objects.only("id", "name", "status").get(pk=campaign_id)
    counts = dict(
        Target.objects.filter(campaign_id=campaign_id)
        .values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    targets = {status: counts.get(status, 0) for status in Target.Status.values}
    outcomes = dict(
        Target.objects.filter(campaign_id=campaign_id)
        .exclude(outcome="")
        .values_list("outcome")
        .annotate(count=Count("id"))
        .values_list("outcome", "count")
        .order_by("outcome")
    )
    in_progress = (
        Call.objects.filter(target__campaign_id=campaign_id).exclude(status__in=TERMINAL).count()
    )
    return {
        "campaign": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "targets": targets,
        "total": sum(targets.values()),
        "outcomes": outcomes,
        "calls_in_progress": in_progress,
        "latency": campaign_latency(campaign_id=campaign_id),
        "abandonment": _abandonment_progress(campaign_abandonment(campaign_id=campaign_id, at=at)),
    }


def _abandonment_progress(abandonment: dict) -> dict:
    """Plain JSON values: the progress also travels over the channel layer."""
    stopped = (
        abandonment["abandoned"] * 100 > abandonment["pause_percent"] * abandonment["answered"]
    )
    recovers_at = abandonment["recovers_at"]
    return {
        "answered": abandonment["answered"],
        "abandoned": abandonment["abandoned"],
        "rate_percent": float(abandonment["rate_percent"]),
        "pause_percent": float(abandonment["pause_percent"]),
        "is_dialing_stopped": stopped,
        "recovers_at": recovers_at.isoformat() if stopped and recovers_at else None,
    }


def campaign_spend(*, campaign_id: int) -> dict:
    """What the campaign's calls have cost so far (priced calls), against its budget."""
    from calls.models import Call

    campaign = Campaign.objects.select_related("organization").get(pk=campaign_id)
    spent = Call.objects.filter(target__campaign_id=campaign_id).aggregate(total=Sum("cost_total"))[
        "total"
    ] or Decimal("0")
    remaining = None if campaign.budget is None else campaign.budget - spent
    return {
        "spent": spent,
        "budget": campaign.budget,
        "remaining": remaining,
        "currency": campaign.organization.currency,
    }


def organization_group_name(organization_id: int) -> str:
    """The Channels group of an organisation's dashboards (budget alerts)."""
    return f"organization-{organization_id}"


def campaign_group_name(campaign_id: int) -> str:
    """The Channels group that receives a campaign's live progress."""
    return f"campaign-{campaign_id}"
