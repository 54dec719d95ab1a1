"""The live part of the campaign page, above its settings: target counts by status and
outcome with a progress bar, calls in progress, spend against the budget (cost readers
only), an outcome chart, and links to the campaign's targets and calls. The page renders
the current figures; `templates/admin/voiceops/live_progress.html` keeps them current
over the campaign's progress socket."""

import json
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from calls.admin_end_call import can_end_calls
from calls.models import Call
from calls.states import TERMINAL
from campaigns.models import Campaign, Target
from campaigns.selectors import campaign_progress, campaign_spend
from tenancy.scoping import scoped, tenant_of
from voiceops import labels
from voiceops.dashboard import live_call_row, settled_percent

SHOWN_CALLS = 20


def outcome_chart(outcomes: dict[str, int]) -> str:
    """Chart.js data for unfold's bar chart component."""
    return json.dumps(
        {
            "labels": [labels.outcome_label(code) for code in outcomes],
            "datasets": [
                {
                    "label": "Targets",
                    "data": list(outcomes.values()),
                    "backgroundColor": "var(--color-primary-600)",
                    "maxBarThickness": 24,
                }
            ],
        }
    )


def abandonment_in_words(abandonment: dict) -> str:
    """ "1 of 40 calls answered by a person (2.5 %), 30 days; dialing stopped above 2 %"."""
    stopped = "dialing stopped" if abandonment["is_dialing_stopped"] else "dialing stops"
    return (
        f"{abandonment['abandoned']} of {abandonment['answered']} calls answered by a person "
        f"({abandonment['rate_percent']:g} %) in 30 days; {stopped} above "
        f"{abandonment['pause_percent']:g} %"
    )


def campaign_page_context(request, campaign: Campaign) -> dict:
    tenant = tenant_of(request)
    progress = campaign_progress(campaign_id=campaign.pk)
    context = {
        "progress": progress,
        "percent": settled_percent(progress),
        "settled": progress["targets"]["done"] + progress["targets"]["closed"],
        "target_counts": [
            (status, labels.target_status_label(status), progress["targets"][status])
            for status in Target.Status.values
        ],
        "outcomes": [
            (labels.outcome_label(code), count) for code, count in progress["outcomes"].items()
        ],
        "outcome_chart": outcome_chart(progress["outcomes"]),
        "status_label": labels.campaign_status_label(campaign.status),
        "paused_reason": labels.pause_reason_label(campaign.paused_reason)
        if campaign.paused_reason
        else "",
        "live_calls": campaign_live_calls(request, campaign),
        "live_calls_url": reverse("admin:campaigns_campaign_live_calls", args=[campaign.pk]),
        "targets_url": reverse("admin:campaigns_target_changelist")
        + "?"
        + urlencode({"campaign__id__exact": campaign.pk}),
        "calls_url": reverse("admin:calls_call_changelist")
        + "?"
        + urlencode({"target__campaign__id__exact": campaign.pk}),
        "reads_costs": tenant.reads_costs,
        "first_audio": labels.percentiles_in_words(
            progress["latency"]["first_audio_sent_ms"],
            count=progress["latency"]["calls"],
            unit="call",
        ),
        "turn_latency": labels.percentiles_in_words(
            progress["latency"]["turn_sent_ms"], count=progress["latency"]["turns"], unit="turn"
        ),
        "abandonment": abandonment_in_words(progress["abandonment"]),
    }
    if tenant.reads_costs:
        spend = campaign_spend(campaign_id=campaign.pk)
        budget = spend["budget"]
        context["spend"] = {
            **spend,
            "percent": min(100, int(100 * spend["spent"] / budget)) if budget else None,
        }
    return context


def campaign_live_calls(request, campaign: Campaign) -> list[dict]:
    calls = (
        scoped(Call.objects.all(), tenant_of(request))
        .filter(target__campaign=campaign)
        .exclude(status__in=TERMINAL)
        .select_related("target__contact", "target__campaign")
        .order_by("created_at")
    )
    return [live_call_row(call) for call in calls[:SHOWN_CALLS]]


def campaign_live_calls_view(request, campaign_id: int):
    """The campaign's calls in progress as an HTML fragment: the page fetches it when the
    progress socket says the campaign's calls changed."""
    if not request.user.has_perm("campaigns.view_campaign"):
        raise PermissionDenied
    campaign = get_object_or_404(scoped(Campaign.objects.all(), tenant_of(request)), pk=campaign_id)
    return TemplateResponse(
        request,
        "admin/voiceops/live_calls.html",
        {
            "calls": campaign_live_calls(request, campaign),
            "can_end_calls": can_end_calls(request),
            "next": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        },
    )
