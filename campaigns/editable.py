"""Which campaign fields may change in which status: one definition for the API and the
admin form.

A draft may change anything but its organisation. Once launched (running or paused) its
audience's rules are fixed: kind, purpose, agent, survey, caller ID and start stay as
launched (consent was checked for that purpose, answers belong to that survey, calls
already placed came from that number); the name, the calling window and weekdays, the
end, pacing, attempts, retry delays and the budget may still change and apply from the
next tick. An ended campaign (completed or cancelled) may only be renamed.
"""

from campaigns.models import Campaign

S = Campaign.Status

ALWAYS = frozenset({"name"})
WHILE_LAUNCHED = ALWAYS | {
    "window_start",
    "window_end",
    "weekdays",
    "ends_at",
    "max_concurrent_calls",
    "calls_per_second",
    "max_attempts",
    "retry_delays",
    "budget",
}
DRAFT_ONLY = frozenset({"kind", "purpose", "agent", "survey", "caller_id", "starts_at"})
EDITABLE_IN: dict[str, frozenset[str]] = {
    S.DRAFT: WHILE_LAUNCHED | DRAFT_ONLY,
    S.RUNNING: WHILE_LAUNCHED,
    S.PAUSED: WHILE_LAUNCHED,
    S.COMPLETED: ALWAYS,
    S.CANCELLED: ALWAYS,
}
EVERY_EDITABLE = EDITABLE_IN[S.DRAFT]


def campaign_editable_fields(campaign: Campaign) -> frozenset[str]:
    """The fields a change may write in the campaign's current status."""
    return EDITABLE_IN[campaign.status]
