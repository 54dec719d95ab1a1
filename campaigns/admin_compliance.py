"""Admin pages that answer "why is (or isn't) this number called?": a contact's or a
target's compliance explanation at a chosen instant, and a campaign's preview."""

import copy
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone

from calls.models import PhoneNumber
from campaigns.compliance import Decision, RuleResult, Verdict, evaluate, explain
from campaigns.eligibility import facts_for_contacts, target_explanation
from campaigns.models import Campaign, Contact, Purpose, Target
from tenancy.scoping import scoped, tenant_of
from voiceops.labels import reason_label

PREVIEW_BATCH = 1000


class InstantForm(forms.Form):
    at = forms.DateTimeField(
        label="At (UTC)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}),
        help_text="Leave empty for now.",
    )

    def instant(self) -> datetime:
        """The chosen instant, read as UTC whatever the server's zone; now by default."""
        chosen = self.cleaned_data.get("at") if self.is_valid() else None
        if chosen is None:
            return timezone.now()
        return chosen.replace(tzinfo=None).replace(tzinfo=UTC)


class ContactExplanationForm(InstantForm):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False)
    purpose = forms.ChoiceField(
        choices=[("", "— the campaign's —"), *Purpose.choices],
        required=False,
        help_text="Without a campaign: the purpose alone (no campaign window, caller ID "
        "or budget).",
    )

    def __init__(self, *args, contact: Contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(
            organization_id=contact.organization_id
        ).order_by("-pk")


@dataclass(frozen=True)
class LocalInstant:
    zone: str
    local: datetime

    @property
    def text(self) -> str:
        return f"{self.local:%a %Y-%m-%d %H:%M %Z}"


@dataclass
class Explanation:
    at: datetime
    decision: Decision
    rules: list[RuleResult]
    evaluated_for: str
    local_next: list[LocalInstant] = field(default_factory=list)
    # For a target: the retry its campaign's policy scheduled, in words.
    pending_retry: str = ""


def pending_retry_of(target: Target, *, at: datetime) -> str:
    """ "Next attempt at Tue 2026-11-17 19:30 UTC, after line busy" while a target waits
    for its retry; empty when nothing is scheduled or the time has come."""
    if (
        target.status != Target.Status.PENDING
        or target.next_attempt_at is None
        or target.next_attempt_at <= at
    ):
        return ""
    when = f"{target.next_attempt_at.astimezone(UTC):%a %Y-%m-%d %H:%M} UTC"
    attempts = f"{target.attempts} of {target.campaign.max_attempts} attempts made"
    if not target.last_reason:
        return f"Next attempt at {when} ({attempts})"
    return f"Next attempt at {when}, after {reason_label(target.last_reason).lower()} ({attempts})"


def explanation_of(
    decision: Decision, rules: list[RuleResult], at: datetime, evaluated_for: str
) -> Explanation:
    local_next = []
    if decision.next_allowed_at:
        local_next = [
            LocalInstant(zone, decision.next_allowed_at.astimezone(ZoneInfo(zone)))
            for zone in decision.zones
        ]
    return Explanation(at, decision, rules, evaluated_for, local_next)


def contact_explanation_for(
    contact: Contact, *, campaign: Campaign | None, purpose: str, at: datetime
) -> Explanation:
    """The decision for the contact in the campaign, or for a purpose alone: then the
    campaign's own rules (window, caller ID, budget) are left out."""
    if campaign is not None:
        if purpose and purpose != campaign.purpose:
            campaign = copy.copy(campaign)  # never saved: the same campaign, another purpose
            campaign.purpose = purpose
        facts = facts_for_contacts(campaign, [contact], at=at)[contact.pk]
        evaluated_for = f"campaign {campaign.name!r} ({campaign.purpose})"
    else:
        purpose = purpose or Purpose.INFORMATIONAL
        stand_in = Campaign(
            organization=contact.organization,
            purpose=purpose,
            caller_id=PhoneNumber(organization=contact.organization, is_caller_id=True),
        )
        facts = replace(
            facts_for_contacts(stand_in, [contact], at=at)[contact.pk],
            window=None,
            weekdays=None,
            caller_id_owned=True,
            over_budget=False,
        )
        evaluated_for = f"the purpose {purpose} alone (no campaign)"
    return explanation_of(evaluate(facts, at), explain(facts, at), at, evaluated_for)


def contact_explanation_view(request, contact_id: int):
    if not request.user.has_perm("campaigns.view_contact"):
        raise PermissionDenied
    contact = get_object_or_404(
        scoped(Contact.objects.select_related("organization"), tenant_of(request)), pk=contact_id
    )
    form = ContactExplanationForm(request.GET or None, contact=contact)
    at = form.instant()
    chosen = form.cleaned_data if form.is_valid() else {}
    campaign, purpose = chosen.get("campaign"), chosen.get("purpose", "")
    if campaign is None and not purpose:
        # By default, a campaign the contact is in; else the organisation's latest.
        campaigns = form.fields["campaign"].queryset
        campaign = campaigns.filter(targets__contact=contact).first() or campaigns.first()
        form.fields["campaign"].initial = campaign
    explanation = contact_explanation_for(contact, campaign=campaign, purpose=purpose, at=at)
    return TemplateResponse(
        request,
        "admin/campaigns/explanation.html",
        {
            **admin.site.each_context(request),
            "title": f"Compliance explanation: {contact}",
            "subject": contact,
            "opts": Contact._meta,
            "form": form,
            "explanation": explanation,
        },
    )


def target_explanation_view(request, target_id: int):
    if not request.user.has_perm("campaigns.view_target"):
        raise PermissionDenied
    target = get_object_or_404(
        scoped(
            Target.objects.select_related(
                "contact", "campaign__organization", "campaign__caller_id"
            ),
            tenant_of(request),
        ),
        pk=target_id,
    )
    form = InstantForm(request.GET or None)
    at = form.instant()
    decision, rules = target_explanation(target, at=at)
    evaluated_for = f"campaign {target.campaign.name!r} ({target.campaign.purpose})"
    explanation = explanation_of(decision, rules, at, evaluated_for)
    explanation.pending_retry = pending_retry_of(target, at=at)
    return TemplateResponse(
        request,
        "admin/campaigns/explanation.html",
        {
            **admin.site.each_context(request),
            "title": f"Compliance explanation: {target}",
            "subject": target,
            "opts": Target._meta,
            "form": form,
            "explanation": explanation,
        },
    )


@dataclass
class DeferralGroup:
    reason: str
    count: int = 0
    earliest: datetime | None = None
    latest: datetime | None = None

    def add(self, until: datetime | None) -> None:
        self.count += 1
        if until is not None:
            self.earliest = min(self.earliest or until, until)
            self.latest = max(self.latest or until, until)


@dataclass
class Preview:
    at: datetime
    callable: int = 0
    deferred: dict[str, DeferralGroup] = field(default_factory=dict)
    denied: Counter = field(default_factory=Counter)
    not_evaluated: Counter = field(default_factory=Counter)

    @property
    def deferred_total(self) -> int:
        return sum(group.count for group in self.deferred.values())

    @property
    def denied_total(self) -> int:
        return sum(self.denied.values())

    @property
    def evaluated(self) -> int:
        return self.callable + self.deferred_total + self.denied_total


def campaign_preview(campaign: Campaign, *, at: datetime) -> Preview:
    """What the ticker would decide at `at` for each pending target of the campaign; the
    targets no longer pending are counted by status."""
    preview = Preview(at=at)
    for row in (
        Target.objects.filter(campaign=campaign)
        .exclude(status=Target.Status.PENDING)
        .values("status")
        .annotate(count=Count("id"))
    ):
        preview.not_evaluated[row["status"]] = row["count"]
    pending = (
        Contact.objects.filter(targets__campaign=campaign, targets__status=Target.Status.PENDING)
        .order_by("pk")
        .only("pk", "phone", "state", "postal_code")
    )
    last_pk = 0
    while batch := list(pending.filter(pk__gt=last_pk)[:PREVIEW_BATCH]):
        last_pk = batch[-1].pk
        for facts in facts_for_contacts(campaign, batch, at=at).values():
            decision = evaluate(facts, at)
            if decision.verdict is Verdict.ALLOW:
                preview.callable += 1
            elif decision.verdict is Verdict.DEFER:
                reason = str(decision.reason)
                preview.deferred.setdefault(reason, DeferralGroup(reason)).add(
                    decision.next_allowed_at
                )
            else:
                preview.denied[str(decision.reason)] += 1
    return preview


def campaign_preview_view(request, campaign_id: int):
    if not request.user.has_perm("campaigns.view_campaign"):
        raise PermissionDenied
    campaign = get_object_or_404(
        scoped(Campaign.objects.select_related("organization", "caller_id"), tenant_of(request)),
        pk=campaign_id,
    )
    form = InstantForm(request.GET or None)
    preview = campaign_preview(campaign, at=form.instant())
    return TemplateResponse(
        request,
        "admin/campaigns/preview.html",
        {
            **admin.site.each_context(request),
            "title": f"Preview: {campaign}",
            "campaign": campaign,
            "opts": Campaign._meta,
            "form": form,
            "preview": preview,
            "deferred": sorted(preview.deferred.values(), key=lambda group: -group.count),
            "denied": preview.denied.most_common(),
            "not_evaluated": sorted(preview.not_evaluated.items()),
        },
    )
