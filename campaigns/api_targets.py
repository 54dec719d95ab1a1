"""Adding contacts to a campaign in bulk, by ids, by a contact filter, or all of the
organisation's contacts: idempotent (a contact already targeted is left as it is) and in
batches, so memory stays bounded whatever the audience's size."""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet

from campaigns.lifecycle import CampaignStateError
from campaigns.models import Campaign, Contact, Target

BATCH = 5000

# One statement per batch; the unique (campaign, contact) constraint makes it idempotent and
# the row count is how many were new. A running campaign's new targets are due at once, as
# `campaign_add_contacts` makes them.
INSERT_TARGETS = f"""
    INSERT INTO {Target._meta.db_table}
        (campaign_id, contact_id, status, attempts, next_attempt_at, last_reason, outcome,
         variables, created_at, updated_at)
    SELECT %s, contact_id, 'pending', 0, %s, '', '', '{{}}'::jsonb, now(), now()
    FROM unnest(%s::bigint[]) AS contact_id
    ON CONFLICT (campaign_id, contact_id) DO NOTHING
"""
ENDED = {Campaign.Status.COMPLETED, Campaign.Status.CANCELLED}


@dataclass(frozen=True)
class TargetsAdded:
    matched: int  # contacts selected
    added: int  # of which newly targeted; the others already were


def contacts_matching(*, organization_id: int, contact_filter: dict | None) -> QuerySet:
    """The organisation's contacts matching `contact_filter` (`state`, `language`,
    `variables`: values every one of which the contact's variables hold); all without one."""
    contacts = Contact.objects.filter(organization_id=organization_id)
    contact_filter = contact_filter or {}
    if contact_filter.get("state"):
        contacts = contacts.filter(state=contact_filter["state"].upper())
    if contact_filter.get("language"):
        contacts = contacts.filter(language=contact_filter["language"])
    if contact_filter.get("variables"):
        contacts = contacts.filter(variables__contains=contact_filter["variables"])
    return contacts


def campaign_targets_add(
    *,
    campaign_id: int,
    contact_ids: list[int] | None = None,
    contact_filter: dict | None = None,
    all_contacts: bool = False,
) -> TargetsAdded:
    """Target the chosen contacts of the campaign's organisation, a batch per transaction
    (memory stays flat whatever the audience's size). Safe to run twice: the second run adds
    nothing. Raises `CampaignStateError` for a campaign that has ended."""
    campaign = Campaign.objects.only("id", "organization_id").get(pk=campaign_id)
    if contact_ids is not None:
        chosen = Contact.objects.filter(
            organization_id=campaign.organization_id, pk__in=contact_ids
        )
    else:
        chosen = contacts_matching(
            organization_id=campaign.organization_id,
            contact_filter=None if all_contacts else contact_filter,
        )
    ids = chosen.order_by("pk").values_list("pk", flat=True)
    matched = added = 0
    last_pk = 0
    while batch := list(ids.filter(pk__gt=last_pk)[:BATCH]):
        last_pk = batch[-1]
        matched += len(batch)
        added += targets_insert(campaign_id=campaign_id, contact_ids=batch)
    return TargetsAdded(matched=matched, added=added)


def targets_insert(*, campaign_id: int, contact_ids: list[int]) -> int:
    """One batch, under the campaign's row lock so that it cannot end meanwhile."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().only("name", "status", "launched_at")
        campaign = campaign.get(pk=campaign_id)
        if campaign.status in ENDED:
            raise CampaignStateError(f"Campaign {campaign.name!r} has ended; it takes no contacts.")
        with connection.cursor() as cursor:
            cursor.execute(INSERT_TARGETS, [campaign_id, campaign.launched_at, contact_ids])
            return cursor.rowcount
