"""The tick: for each running campaign, due targets -> compliance decisions -> calls.

Runs every few seconds from beat. Each campaign is ticked under a row lock taken with
SKIP LOCKED, so a tick that overlaps another skips the campaign instead of booking its
targets twice. Calls are created here and dialed by the `dial` task after commit.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from calls.capacity import (
    CAPACITY,
    LIVE_CALL_STATUSES,
    account_lock,
    carrier_account_of,
    outbound_lines_free,
)
from calls.models import Call, WebhookEvent
from calls.webhooks_out import campaign_finished_payload, webhook_event_emit
from campaigns.budgets import budget_affordable_calls
from campaigns.compliance import evaluate
from campaigns.eligibility import facts_for_contacts
from campaigns.models import Campaign, Target

# A call holds a line from the moment it is booked until its final status.
ACTIVE_CALL_STATUSES = LIVE_CALL_STATUSES
# How many due targets one tick evaluates per campaign beyond its free call slots: deferred
# targets move forward in time, so later ticks reach the rest.
EVALUATION_BATCH = 200
RECHECK_UNKNOWN_DEFER = timedelta(hours=1)


@dataclass
class TickReport:
    campaign_id: int
    calls: list[int] = field(default_factory=list)
    deferred: int = 0
    denied: int = 0
    skipped: str = ""


def campaigns_running() -> list[int]:
    return list(
        Campaign.objects.filter(status=Campaign.Status.RUNNING).values_list("pk", flat=True)
    )


def active_calls(campaign_id: int) -> int:
    return Call.objects.filter(
        target__campaign_id=campaign_id, status__in=ACTIVE_CALL_STATUSES
    ).count()


def campaign_tick(*, campaign_id: int, at: datetime, enqueue_dial) -> TickReport:
    """Book the calls a campaign may place now. `enqueue_dial(call_id)` runs after commit.

    Safe to run concurrently and repeatedly: the campaign row lock makes one tick the winner,
    and a target leaves `pending` in the same transaction that creates its call.
    """
    report = TickReport(campaign_id=campaign_id)
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(skip_locked=True)
            .select_related("organization", "caller_id")
            .filter(pk=campaign_id, status=Campaign.Status.RUNNING)
            .first()
        )
        if campaign is None:
            report.skipped = "not running, or another tick holds it"
            return report
        if campaign.starts_at and at < campaign.starts_at:
            report.skipped = "not started"
            return report
        if campaign.ends_at and at >= campaign.ends_at:
            _finish(campaign, at=at, reason="campaign_ended")
            report.skipped = "ended"
            return report

        free = campaign.max_concurrent_calls - active_calls(campaign.pk)
        affordable = budget_affordable_calls(campaign=campaign, at=at)
        if affordable is not None:
            free = min(free, affordable)  # the rest wait for calls in flight to be priced
        # The carrier account's lines are shared by all its campaigns, less the inbound
        # reserve; the lock is held until this tick's bookings commit.
        account = carrier_account_of(campaign.organization)
        account_lock(account)
        lines = outbound_lines_free(account)
        held_for_lines = lines < free
        free = min(free, lines)
        due = list(
            Target.objects.filter(
                campaign=campaign, status=Target.Status.PENDING, next_attempt_at__lte=at
            )
            .select_related("contact")
            .order_by("next_attempt_at", "pk")[: max(free, 0) + EVALUATION_BATCH]
        )
        if not due:
            _complete_if_done(campaign, at=at)
            return report
        facts = facts_for_contacts(campaign, [target.contact for target in due], at=at)
        changed = []
        for target in due:
            decision = evaluate(facts[target.contact_id], at)
            if decision.verdict == "allow":
                if free <= 0:
                    # Stays due; a later tick calls it when a slot frees. When the account's
                    # lines, not the campaign's own cap, hold it back, the target says so.
                    if held_for_lines and target.last_reason != CAPACITY:
                        target.last_reason = CAPACITY
                        changed.append(target)
                    continue
                call = _book_call(campaign, target, decision)
                report.calls.append(call.pk)
                free -= 1
                continue
            if decision.verdict == "defer":
                # A defer with no known end (a spent budget) is looked at again later.
                target.next_attempt_at = decision.next_allowed_at or at + RECHECK_UNKNOWN_DEFER
                report.deferred += 1
            else:
                target.status, target.next_attempt_at = Target.Status.CLOSED, None
                report.denied += 1
            target.last_reason = str(decision.reason)
            changed.append(target)
        Target.objects.bulk_update(
            changed, ["status", "next_attempt_at", "last_reason", "updated_at"]
        )
        for call_id in report.calls:
            transaction.on_commit(lambda call_id=call_id: enqueue_dial(call_id))
    return report


def _book_call(campaign: Campaign, target: Target, decision) -> Call:
    target.attempts += 1
    target.status = Target.Status.CALLING
    target.last_reason = ""
    target.next_attempt_at = None
    target.save(
        update_fields=["attempts", "status", "last_reason", "next_attempt_at", "updated_at"]
    )
    return Call.objects.create(
        organization=campaign.organization,
        direction=Call.Direction.OUTBOUND,
        target=target,
        campaign=campaign,
        attempt=target.attempts,
        agent_id=campaign.agent_id,
        from_number=campaign.caller_id.number,
        to_number=target.contact.phone,
        compliance_ruleset=decision.ruleset,
        compliance_zones=list(decision.zones),
        compliance_states=list(decision.states),
    )


def _complete_if_done(campaign: Campaign, *, at: datetime) -> None:
    unfinished = campaign.targets.filter(status__in=[Target.Status.PENDING, Target.Status.CALLING])
    if not unfinished.exists():
        campaign.status = Campaign.Status.COMPLETED
        campaign.finished_at = at
        campaign.save(update_fields=["status", "finished_at"])
        webhook_event_emit(
            organization_id=campaign.organization_id,
            event=WebhookEvent.CAMPAIGN_FINISHED,
            payload=campaign_finished_payload(campaign),
            at=at,
        )


def _finish(campaign: Campaign, *, at: datetime, reason: str) -> None:
    campaign.targets.filter(status=Target.Status.PENDING).update(
        status=Target.Status.CLOSED, last_reason=reason, next_attempt_at=None
    )
    _complete_if_done(campaign, at=at)
