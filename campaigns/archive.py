"""Archiving campaigns instead of deleting them: a campaign that placed calls keeps them
(what was said, what it cost), so it leaves the default lists but stays in the database."""

from datetime import datetime

from django.db import transaction

from campaigns.lifecycle import CampaignStateError
from campaigns.models import Campaign

S = Campaign.Status
ARCHIVABLE = {S.DRAFT, S.COMPLETED, S.CANCELLED}


class CampaignHasCalls(Exception):
    """The campaign placed calls: it may be archived, never deleted."""


def campaign_archive(*, campaign_id: int, at: datetime) -> Campaign:
    """Hide an ended (or never launched) campaign from the default lists. Idempotent: an
    archived campaign keeps its first archive time."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status not in ARCHIVABLE:
            raise CampaignStateError(
                f"Campaign {campaign.name!r} is {campaign.get_status_display().lower()}; "
                "cancel it (or let it complete) before archiving it."
            )
        if campaign.archived_at is None:
            campaign.archived_at = at
            campaign.save(update_fields=["archived_at"])
    return campaign


def campaign_unarchive(*, campaign_id: int) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.archived_at is not None:
            campaign.archived_at = None
            campaign.save(update_fields=["archived_at"])
    return campaign


def campaign_refuse_deletion_with_calls(campaign: Campaign) -> None:
    """Raise CampaignHasCalls when the campaign placed any call."""
    from calls.models import Call

    count = Call.objects.filter(target__campaign=campaign).count()
    if count:
        raise CampaignHasCalls(
            f"Campaign {campaign.name!r} has {count} call(s) on record and cannot be "
            "deleted; archive it instead (it leaves the lists, its calls and costs stay)."
        )
