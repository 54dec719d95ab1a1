"""The console's home page: what is running now in the user's organisation, what it costs
against the budgets, which calls are live, and what failed recently.

Money is shown to cost readers (finance and admins) only. Operators see no spend at all,
not even as a percentage: a budget's share is a cost figure, and a campaign that a budget
stopped already says so in its status ("Paused: budget exhausted").
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from calls.admin_end_call import can_end_calls
from calls.models import Call, CallStatus
from calls.operator_hangup import ENDABLE_STATUSES
from calls.states import TERMINAL
from campaigns.budgets import period_bounds
from campaigns.models import BudgetAlert, Campaign
from tenancy.scoping import Tenant, scoped, tenant_of
from voiceops import labels

RECENT_FAILURES = timedelta(hours=24)
SHOWN_ROWS = 10


@dataclass(frozen=True)
class Spend:
    title: str
    budget_name: str
    period: str
    spent: Decimal
    budget: Decimal | None
    currency: str

    @property
    def percent(self) -> int | None:
        if not self.budget:
            return None
        return min(100, int(100 * self.spent / self.budget))

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.spent


def running_campaigns(tenant: Tenant) -> list[dict]:
    """Running and paused campaigns with their settled share of targets (the live bar)."""
    from campaigns.selectors import campaign_progress

    campaigns = scoped(Campaign.objects.all(), tenant).filter(
        status__in=[Campaign.Status.RUNNING, Campaign.Status.PAUSED]
    )
    rows = []
    for campaign in campaigns.order_by("-launched_at", "name")[:SHOWN_ROWS]:
        progress = campaign_progress(campaign_id=campaign.pk)
        rows.append(
            {
                "campaign": campaign,
                "status": labels.campaign_status_label(campaign.status),
                "paused_reason": labels.pause_reason_label(campaign.paused_reason)
                if campaign.paused_reason
                else "",
                "progress": progress,
                "percent": settled_percent(progress),
                "url": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
            }
        )
    return rows


def settled_percent(progress: dict) -> int:
    """The share of targets that need no further call (done or closed)."""
    total = progress["total"]
    if not total:
        return 0
    settled = progress["targets"].get("done", 0) + progress["targets"].get("closed", 0)
    return int(100 * settled / total)


def organization_spend(tenant: Tenant, *, at) -> list[Spend]:
    """Today's and this month's spend (the organisation's own day and month) against its
    daily and monthly budgets."""
    organization = tenant.organization
    if organization is None:
        return []
    calls = Call.objects.filter(organization=organization)
    spends = []
    for scope, title, budget in (
        (BudgetAlert.Scope.DAILY, "Today", organization.daily_budget),
        (BudgetAlert.Scope.MONTHLY, "This month", organization.monthly_budget),
    ):
        budget_name = "daily" if scope == BudgetAlert.Scope.DAILY else "monthly"
        starts_at, ends_at, period = period_bounds(
            scope=scope, time_zone=organization.time_zone, at=at
        )
        spent = calls.filter(created_at__gte=starts_at, created_at__lt=ends_at).aggregate(
            total=Sum("cost_total")
        )["total"] or Decimal(0)
        spends.append(
            Spend(
                title=title,
                budget_name=budget_name,
                period=period,
                spent=spent,
                budget=budget,
                currency=organization.currency,
            )
        )
    return spends


def recent_alerts(tenant: Tenant, *, at) -> list[BudgetAlert]:
    return list(
        scoped(BudgetAlert.objects.select_related("campaign"), tenant)
        .filter(created_at__gte=at - timedelta(days=31))
        .order_by("-created_at")[:SHOWN_ROWS]
    )


def live_calls(tenant: Tenant) -> list[Call]:
    return list(
        scoped(Call.objects.all(), tenant)
        .exclude(status__in=TERMINAL)
        .select_related("target__contact", "target__campaign", "agent")
        .order_by("created_at")[: SHOWN_ROWS * 2]
    )


def recent_failures(tenant: Tenant, *, at) -> list[Call]:
    return list(
        scoped(Call.objects.all(), tenant)
        .filter(status=CallStatus.FAILED, ended_at__gte=at - RECENT_FAILURES)
        .select_related("target__contact", "target__campaign")
        .order_by("-ended_at")[:SHOWN_ROWS]
    )


def dashboard_callback(request, context: dict) -> dict:
    """Unfold's DASHBOARD_CALLBACK: the home page's data, scoped to the user's organisation."""
    tenant = tenant_of(request)
    at = timezone.now()
    reads_costs = tenant.reads_costs
    calls = live_calls(tenant) if request.user.has_perm("calls.view_call") else []
    context.update(
        {
            "dashboard": True,
            "live_labels": labels.vocabularies(),
            "organization": tenant.organization,
            "reads_costs": reads_costs,
            "campaigns": running_campaigns(tenant)
            if request.user.has_perm("campaigns.view_campaign")
            else [],
            "spends": organization_spend(tenant, at=at) if reads_costs else [],
            "alerts": recent_alerts(tenant, at=at) if reads_costs else [],
            "live_calls": [live_call_row(call) for call in calls],
            "can_end_calls": can_end_calls(request),
            "failures": [failure_row(call) for call in recent_failures(tenant, at=at)]
            if request.user.has_perm("calls.view_call")
            else [],
        }
    )
    return context


def _contact(call: Call) -> str:
    if call.target_id is None:
        return call.to_number
    contact = call.target.contact
    return f"{contact.name} ({contact.phone})" if contact.name else contact.phone


def live_call_row(call: Call) -> dict:
    return {
        "call": call,
        "contact": _contact(call),
        "campaign": call.target.campaign if call.target_id else None,
        "status": labels.call_status_label(call.status),
        "is_endable": call.status in ENDABLE_STATUSES and bool(call.carrier_sid),
        "url": reverse("admin:calls_call_change", args=[call.pk]),
    }


def failure_row(call: Call) -> dict:
    return {
        "call": call,
        "contact": _contact(call),
        "campaign": call.target.campaign if call.target_id else None,
        "reason": labels.hangup_reason_label(call.hangup_reason),
        "url": reverse("admin:calls_call_change", args=[call.pk]),
    }
