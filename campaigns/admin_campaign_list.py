"""The campaign list's columns: status as a badge, progress, spend (cost readers only) and
the next thing to do, from one annotated query (no query per row)."""

from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from unfold.decorators import display

from calls.models import Call
from campaigns.models import Campaign, PauseReason, Target
from voiceops import labels

S = Campaign.Status
STATUS_BADGES = {
    labels.campaign_status_label(S.DRAFT): "info",
    labels.campaign_status_label(S.RUNNING): "success",
    labels.campaign_status_label(S.PAUSED): "warning",
    labels.campaign_status_label(S.COMPLETED): "primary",
    labels.campaign_status_label(S.CANCELLED): "danger",
}


def with_list_figures(queryset):
    spent = (
        Call.objects.filter(target__campaign=OuterRef("pk"))
        .order_by()
        .values("target__campaign")
        .annotate(total=Sum("cost_total"))
        .values("total")
    )
    # One join (targets) and a subquery for the spend, so the counts need no DISTINCT.
    return queryset.annotate(
        target_total=Count("targets"),
        target_settled=Count(
            "targets", filter=Q(targets__status__in=[Target.Status.DONE, Target.Status.CLOSED])
        ),
        spent=Coalesce(
            Subquery(spent),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=14, decimal_places=6),
        ),
    )


def next_action(campaign: Campaign) -> str:
    if campaign.archived_at:
        return "Archived"
    if campaign.status == S.DRAFT:
        return "Launch" if campaign.target_total else "Add contacts"
    if campaign.status == S.PAUSED:
        if campaign.paused_reason == PauseReason.BUDGET_EXHAUSTED:
            return "Budget exhausted: raise it, then resume"
        return "Resume"
    if campaign.status == S.RUNNING:
        return "Watch its calls"
    return "Archive"


class CampaignListColumns:
    """Mixed into CampaignAdmin."""

    @display(description="status", label=STATUS_BADGES, ordering="status")
    def status_badge(self, campaign):
        return labels.campaign_status_label(campaign.status)

    @display(description="progress")
    def progress(self, campaign):
        if not campaign.target_total:
            return "No contacts"
        percent = int(100 * campaign.target_settled / campaign.target_total)
        return f"{campaign.target_settled} of {campaign.target_total} ({percent} %)"

    @display(description="spent", ordering="spent")
    def spend(self, campaign):
        currency = campaign.organization.currency
        if campaign.budget is None:
            return f"{campaign.spent:.2f} {currency}"
        return f"{campaign.spent:.2f} of {campaign.budget:.2f} {currency}"

    @display(description="next")
    def next_step(self, campaign):
        return next_action(campaign)
