"""Reads about campaigns and their audience."""

from django.db.models import Count

from campaigns.models import Campaign, Target


def campaign_progress(*, campaign_id: int) -> dict:
    """A campaign's status and how many targets are in each state (the live dashboard's data)."""
    campaign = Campaign.objects.only("id", "name", "status").get(pk=campaign_id)
    counts = dict(
        Target.objects.filter(campaign_id=campaign_id)
        .values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    targets = {status: counts.get(status, 0) for status in Target.Status.values}
    return {
        "campaign": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "targets": targets,
        "total": sum(targets.values()),
    }


def organization_group_name(organization_id: int) -> str:
    """The Channels group of an organisation's dashboards (budget alerts)."""
    return f"organization-{organization_id}"


def campaign_group_name(campaign_id: int) -> str:
    """The Channels group that receives a campaign's live progress."""
    return f"campaign-{campaign_id}"
