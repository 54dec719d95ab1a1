"""Launching, pausing, resuming and cancelling campaigns (their audience: `targeting`)."""

from datetime import datetime

from django.db import transaction

from calls.models import Call, CallStatus, WebhookEvent
from calls.states import call_transition
from calls.webhooks_out import campaign_finished_payload, webhook_event_emit
from campaigns.compliance import Reason
from campaigns.launch_checks import campaign_launch_check
from campaigns.models import Campaign, PauseReason, Target

S = Campaign.Status

PAST_TENSE = {"launch": "launched", "pause": "paused", "resume": "resumed", "cancel": "cancelled"}
# Which status each action may start from.
ALLOWED_FROM = {
    "launch": {S.DRAFT},
    "pause": {S.RUNNING},
    "resume": {S.PAUSED},
    "cancel": {S.DRAFT, S.RUNNING, S.PAUSED},
}


class CampaignStateError(Exception):
    pass


class CampaignNotLaunchable(CampaignStateError):
    """The campaign's setup would make its calls fail or collect nothing
    (`campaigns.launch_checks`); the message says what to fix."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__(" ".join(messages))


def _locked(campaign_id: int, action: str) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.status not in ALLOWED_FROM[action]:
        raise CampaignStateError(
            f"Campaign {campaign.name!r} is {campaign.get_status_display().lower()}; "
            f"it can be {PAST_TENSE[action]} only when "
            + " or ".join(sorted(S(status).label.lower() for status in ALLOWED_FROM[action]))
            + "."
        )
    return campaign


def campaign_launch(*, campaign_id: int, user_id: int | None, at: datetime) -> Campaign:
    """Start calling: every pending target becomes due at launch (or at the campaign's start).
    Refused (`CampaignNotLaunchable`) when `campaign_launch_check` finds a problem; its
    warnings are for the caller to show (`campaign_launch_check(campaign=...).warnings`)."""
    with transaction.atomic():
        campaign = _locked(campaign_id, "launch")
        campaign.full_clean()
        if not campaign.organization.callback_number:
            raise CampaignStateError(
                f"{campaign.organization} has no callback number; every call states one, "
                "so set it on the organisation before launching."
            )
        if not campaign.targets.exists():
            raise CampaignStateError(f"Campaign {campaign.name!r} has no contacts to call.")
        check = campaign_launch_check(campaign=campaign)
        if check.problems:
            raise CampaignNotLaunchable(check.messages)
        due_at = max(at, campaign.starts_at) if campaign.starts_at else at
        campaign.targets.filter(status=Target.Status.PENDING, next_attempt_at__isnull=True).update(
            next_attempt_at=due_at
        )
        campaign.status = S.RUNNING
        campaign.launched_at = at
        if user_id and not campaign.created_by_id:
            campaign.created_by_id = user_id
        campaign.save(update_fields=["status", "launched_at", "created_by"])
    return campaign


def campaign_pause(
    *, campaign_id: int, at: datetime, reason: str = PauseReason.OPERATOR
) -> Campaign:
    """Stop new dials at once; calls already placed finish. Calls queued but not yet dialed
    are cancelled and their targets wait for the resume. `reason` is shown in the admin."""
    with transaction.atomic():
        campaign = _locked(campaign_id, "pause")
        campaign.status = S.PAUSED
        campaign.paused_at = at
        campaign.paused_reason = reason
        campaign.save(update_fields=["status", "paused_at", "paused_reason"])
        _cancel_queued_calls(campaign, at=at, reason="campaign_paused", close_targets=False)
    return campaign


def campaign_resume(*, campaign_id: int, at: datetime) -> Campaign:
    with transaction.atomic():
        campaign = _locked(campaign_id, "resume")
        campaign.status = S.RUNNING
        campaign.paused_at = None
        campaign.paused_reason = ""
        campaign.save(update_fields=["status", "paused_at", "paused_reason"])
        # Targets put off for the budget are due again: the dial re-checks every budget.
        campaign.targets.filter(status=Target.Status.PENDING, last_reason=Reason.BUDGET).update(
            next_attempt_at=at
        )
    return campaign


def campaign_cancel(*, campaign_id: int, at: datetime) -> Campaign:
    """End the campaign: no further calls; calls in progress finish; pending targets close."""
    with transaction.atomic():
        campaign = _locked(campaign_id, "cancel")
        campaign.status = S.CANCELLED
        campaign.finished_at = at
        campaign.save(update_fields=["status", "finished_at"])
        _cancel_queued_calls(campaign, at=at, reason="campaign_cancelled", close_targets=True)
        campaign.targets.filter(status=Target.Status.PENDING).update(
            status=Target.Status.CLOSED, last_reason="campaign_cancelled", next_attempt_at=None
        )
        webhook_event_emit(
            organization_id=campaign.organization_id,
            event=WebhookEvent.CAMPAIGN_FINISHED,
            payload=campaign_finished_payload(campaign),
            at=at,
        )
    return campaign


def _cancel_queued_calls(campaign: Campaign, *, at: datetime, reason: str, close_targets: bool):
    queued = Call.objects.filter(target__campaign=campaign, status=CallStatus.QUEUED)
    for call in queued.select_related("target"):
        call_transition(call_id=call.pk, to=CallStatus.CANCELED, at=at, hangup_reason=reason)
        target = call.target
        if close_targets:
            target.status, target.next_attempt_at = Target.Status.CLOSED, None
        else:
            target.status, target.next_attempt_at = Target.Status.PENDING, at
        target.last_reason = reason
        target.save(update_fields=["status", "next_attempt_at", "last_reason", "updated_at"])
