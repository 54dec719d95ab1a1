"""What a finished (or refused) call means for its target: done, due again, or closed."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from calls.models import Call, CallStatus
from campaigns.models import Target
from campaigns.progress import campaign_progress_publish

DEFAULT_RETRY_SECONDS = 3600
# Outcomes that settle the target: nothing more to ask this person in this campaign.
FINAL_OUTCOMES = {
    "confirmed", "declined", "reschedule_requested", "wrong_person", "opted_out",
    "survey_completed", "other", "transferred",
}  # fmt: skip


def retry_key(call: Call) -> str | None:
    """Which retry policy applies to a call that did not settle its target."""
    if call.status == CallStatus.BUSY:
        return "busy"
    if call.status == CallStatus.NO_ANSWER:
        return "no_answer"
    if call.status in (CallStatus.FAILED, CallStatus.CANCELED):
        return "failed"
    if call.outcome == "voicemail" or call.answered_by.startswith("machine"):
        return "voicemail"
    return "no_outcome"


def placed_attempts(target: Target) -> int:
    """Attempts the carrier may have placed: every call with a SID, and every call whose
    request was sent even if its SID never came back (a retry could dial the number twice)."""
    return target.calls.filter(
        Q(carrier_sid__isnull=False) | Q(dial_requested_at__isnull=False)
    ).count()


def _schedule_retry(target: Target, *, key: str, at: datetime, retry_at: datetime | None = None):
    campaign = target.campaign
    if placed_attempts(target) >= campaign.max_attempts:
        target.status, target.next_attempt_at = Target.Status.CLOSED, None
        target.last_reason = "max_attempts"
        return
    delay = campaign.retry_delays.get(key, DEFAULT_RETRY_SECONDS)
    target.status = Target.Status.PENDING
    target.next_attempt_at = retry_at or at + timedelta(seconds=int(delay))
    target.last_reason = key


def target_after_refusal(
    *, target_id: int, reason: str, verdict: str, at: datetime, retry_at: datetime | None = None
) -> None:
    """A call was not placed. `deny` closes the target; `defer` makes it due at `retry_at`;
    `retry` applies the campaign's policy for failed calls."""
    with transaction.atomic():
        target = Target.objects.select_for_update().select_related("campaign").get(pk=target_id)
        if verdict == "deny":
            target.status, target.next_attempt_at, target.last_reason = (
                Target.Status.CLOSED,
                None,
                reason,
            )
        elif verdict == "defer":
            target.status, target.next_attempt_at, target.last_reason = (
                Target.Status.PENDING,
                retry_at or at,
                reason,
            )
        else:
            _schedule_retry(target, key="failed", at=at)
            target.last_reason = reason
        target.save(update_fields=["status", "next_attempt_at", "last_reason", "updated_at"])
    campaign_progress_publish(campaign_id=target.campaign_id)


def call_settle_target(*, call_id: int, at: datetime) -> int | None:
    """Apply a finished call to its target and return its campaign's id. Idempotent: only
    the target's latest call, and only while the target is still `calling`, changes
    anything (and a repeat returns None). Stamps the call's `settled_at` either way, so the
    follow-up reconciler knows the step ran."""
    with transaction.atomic():
        call = Call.objects.get(pk=call_id)
        if call.target_id is None or call.status not in {
            CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.NO_ANSWER,
            CallStatus.FAILED, CallStatus.CANCELED,
        }:  # fmt: skip
            return
        target = (
            Target.objects.select_for_update().select_related("campaign").get(pk=call.target_id)
        )
        Call.objects.filter(pk=call.pk, settled_at=None).update(settled_at=at)
        if target.status != Target.Status.CALLING or target.attempts != call.attempt:
            return
        outcome = call.outcome or _survey_outcome(call)
        callback = (call.result or {}).get("callback") or {}
        if outcome == "callback_requested" and callback.get("lawful_at"):
            target.outcome = outcome
            _schedule_retry(
                target,
                key="callback",
                at=at,
                retry_at=datetime.fromisoformat(callback["lawful_at"]),
            )
        elif outcome in FINAL_OUTCOMES:
            target.status, target.next_attempt_at = Target.Status.DONE, None
            target.outcome, target.last_reason = outcome, ""
        else:
            if outcome:
                target.outcome = outcome
            # The delay runs from the call's end, not from when settling ran: a settle
            # delayed by load or a broker outage must not push the retry later.
            _schedule_retry(target, key=retry_key(call), at=call.ended_at or at)
        target.save(
            update_fields=["status", "next_attempt_at", "last_reason", "outcome", "updated_at"]
        )
    campaign_progress_publish(campaign_id=target.campaign_id)
    return target.campaign_id


def _survey_outcome(call: Call) -> str:
    answers = (call.result or {}).get("survey") or {}
    if not answers:
        return ""
    target = call.target
    survey = target.campaign.survey if target else None
    if survey is not None and len(answers) >= survey.questions.count():
        return "survey_completed"
    return "survey_partial"
