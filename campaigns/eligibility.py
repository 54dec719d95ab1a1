"""Facts from the database for the compliance engine, and decisions about targets.

The engine (`campaigns.compliance`) is pure; this module reads the rows it needs. The
batch form answers a whole tick's targets with a fixed number of queries.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q

from calls.latency import campaign_abandonment
from calls.models import Call
from campaigns.budgets import budget_blocking
from campaigns.compliance import Abandonment, Decision, Facts, RuleResult, evaluate, explain
from campaigns.models import Campaign, Consent, Contact, RegistrySync, Suppression, Target

# The longest frequency-cap window (residential exemption: 3 per 30 days).
ATTEMPT_HISTORY = timedelta(days=31)


def _same_seller(named: str, organization_name: str) -> bool:
    return bool(named) and named.strip().casefold() == organization_name.strip().casefold()


def _consent_value(consent: Consent | None) -> str:
    if consent is None:
        return "none"
    return "express_written" if consent.is_written else "express"


def facts_for_contacts(
    campaign: Campaign, contacts: Iterable[Contact], *, at: datetime
) -> dict[int, Facts]:
    """Facts for each contact (by contact id) in the context of `campaign`, at `at`."""
    contacts = list(contacts)
    phones = {contact.phone for contact in contacts}
    organization = campaign.organization
    consents = {
        consent.contact_id: consent
        for consent in Consent.objects.filter(contact__in=contacts, purpose=campaign.purpose).only(
            "contact_id", "is_written", "seller_named", "revoked_at"
        )
    }
    listed: dict[str, set[str]] = defaultdict(set)
    for phone, source in Suppression.objects.filter(
        organization=organization, phone__in=phones
    ).values_list("phone", "source"):
        listed[phone].add(source)
    attempts: dict[str, list[datetime]] = defaultdict(list)
    for phone, ringing_at, answered_at in (
        Call.objects.filter(organization=organization, to_number__in=phones)
        .filter(Q(ringing_at__gte=at - ATTEMPT_HISTORY) | Q(answered_at__gte=at - ATTEMPT_HISTORY))
        .values_list("to_number", "ringing_at", "answered_at")
    ):
        attempts[phone].append(ringing_at or answered_at)
    national_sync = (
        RegistrySync.objects.filter(
            organization=organization, source=Suppression.Source.NATIONAL_REGISTRY
        )
        .order_by("-synced_at")
        .values_list("synced_at", flat=True)
        .first()
    )
    caller_id = campaign.caller_id
    caller_id_owned = caller_id.organization_id == organization.pk and caller_id.is_caller_id
    over_budget, budget_resets_at = budget_blocking(campaign=campaign, at=at)
    abandoned = campaign_abandonment(campaign_id=campaign.pk, at=at)
    abandonment = Abandonment(
        answered=abandoned["answered"],
        abandoned=abandoned["abandoned"],
        pause_percent=abandoned["pause_percent"],
        recovers_at=abandoned["recovers_at"],
    )

    facts = {}
    for contact in contacts:
        consent = consents.get(contact.pk)
        sources = listed.get(contact.phone, set())
        facts[contact.pk] = Facts(
            phone=contact.phone,
            purpose=campaign.purpose,
            consent=_consent_value(consent),
            consent_revoked=bool(consent and consent.revoked_at and consent.revoked_at <= at),
            seller_named=bool(consent and _same_seller(consent.seller_named, organization.name)),
            suppressed=bool(sources & {Suppression.Source.OPT_OUT, Suppression.Source.INTERNAL}),
            national_dnc=Suppression.Source.NATIONAL_REGISTRY in sources,
            national_dnc_synced_at=national_sync,
            state_dnc=Suppression.Source.STATE_LIST in sources,
            state=contact.state or None,
            postal_code=contact.postal_code or None,
            attempts=tuple(
                sorted(attempt for attempt in attempts.get(contact.phone, ()) if attempt <= at)
            ),
            window=(campaign.window_start, campaign.window_end),
            weekdays=tuple(campaign.weekdays),
            caller_id_owned=caller_id_owned,
            over_budget=over_budget,
            budget_resets_at=budget_resets_at,
            abandonment=abandonment,
        )
    return facts


def target_facts(target: Target, *, at: datetime) -> Facts:
    return facts_for_contacts(target.campaign, [target.contact], at=at)[target.contact_id]


def target_decision(target: Target, *, at: datetime) -> Decision:
    return evaluate(target_facts(target, at=at), at)


def target_explanation(target: Target, *, at: datetime) -> tuple[Decision, list[RuleResult]]:
    facts = target_facts(target, at=at)
    return evaluate(facts, at), explain(facts, at)


def target_next_lawful_at(*, target_id: int, at: datetime) -> datetime | None:
    """The earliest instant at or after `at` when every rule allows calling the target, or
    None when the call is denied outright."""
    target = Target.objects.select_related(
        "campaign__organization", "campaign__caller_id", "contact"
    ).get(pk=target_id)
    decision = target_decision(target, at=at)
    if decision.verdict == "allow":
        return at
    if decision.verdict == "defer":
        return decision.next_allowed_at
    return None
