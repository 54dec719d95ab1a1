"""The admin's "Add to campaign…": choosing the campaign, turning the contact list's
selection into a `campaign_add_targets` selection, and following a large job."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from campaigns.models import Campaign, TargetingJob
from campaigns.targeting import InvalidSelection
from tenancy.scoping import Tenant, scoped, tenant_of

REFRESH_SECONDS = 2

# The contact list's filters (query string) and the contact filter each one becomes.
CHANGELIST_FILTERS = {
    "state": "state",
    "state__exact": "state",
    "language": "language",
    "language__exact": "language",
    "q": "search",
}
# Query-string parameters that order or page the list without narrowing it. The
# organisation filter (superusers) is covered by the campaign: contacts are only ever
# taken from the campaign's organisation.
CHANGELIST_DISPLAY = {"o", "p", "all", "_facets", "organization__id__exact"}


class AddToCampaignForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none())

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = scoped(
            Campaign.objects.filter(
                status__in=[Campaign.Status.DRAFT, Campaign.Status.RUNNING, Campaign.Status.PAUSED]
            ),
            tenant,
        ).order_by("-pk")


def changelist_contact_filter(params) -> dict | None:
    """The contact filter equal to the contact list's query string, None when the list is
    not filtered (every contact)."""
    contact_filter = {}
    for name, value in params.items():
        if name in CHANGELIST_DISPLAY:
            continue
        if name not in CHANGELIST_FILTERS:
            raise InvalidSelection(
                {name: "This list filter cannot select contacts to add; tick them instead."}
            )
        if value.strip():
            contact_filter[CHANGELIST_FILTERS[name]] = value.strip()
    return contact_filter or None


def add_to_campaign_selection(request, queryset, *, select_across: bool) -> dict:
    """Keyword arguments for `campaign_add_targets`: the ticked contacts of the page, or
    with "select all" the list's filter, so that 100,000 contacts never travel as ids."""
    if not select_across:
        return {"contact_ids": list(queryset.values_list("pk", flat=True))}
    contact_filter = changelist_contact_filter(request.GET)
    if contact_filter is None:
        return {"all_contacts": True}
    return {"contact_filter": contact_filter}


def targeting_progress_view(request, job_id: int):
    if not request.user.has_perm("campaigns.view_targetingjob"):
        raise PermissionDenied
    job = get_object_or_404(
        scoped(TargetingJob.objects.select_related("campaign"), tenant_of(request)), pk=job_id
    )
    return TemplateResponse(
        request,
        "admin/campaigns/targeting_progress.html",
        {
            **admin.site.each_context(request),
            "title": f"Adding contacts to {job.campaign}",
            "job": job,
            "opts": TargetingJob._meta,
            "refresh_seconds": None if job.is_finished else REFRESH_SECONDS,
            "campaign_url": reverse("admin:campaigns_campaign_change", args=[job.campaign_id]),
        },
    )
