"""Adding contacts to a campaign in bulk, by ids, by a contact filter, or all of the
organisation's contacts: idempotent (a contact already targeted is left as it is) and in
batches, so memory stays bounded whatever the audience's size."""

from dataclasses import dataclass

from django.db.models import QuerySet

from campaigns.lifecycle import campaign_add_contacts
from campaigns.models import Campaign, Contact

BATCH = 1000


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
    """Target the chosen contacts of the campaign's organisation. Safe to run twice: the
    second run adds nothing. Raises `CampaignStateError` for a campaign that has ended."""
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
        added += campaign_add_contacts(campaign_id=campaign_id, contact_ids=batch)
    return TargetsAdded(matched=matched, added=added)
