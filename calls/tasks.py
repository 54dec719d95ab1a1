"""Celery tasks for calls. Each takes an id, re-reads its rows, calls a service, and is
safe to run twice (`acks_late` is on)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from calls.analysis import (
    AnalysisRejected,
    AnalysisUnavailable,
    CallNotAnalysable,
    call_analysis_failed,
    call_analyze,
)
from calls.carrier_prices import carrier_prices_poll
from calls.costs import call_price
from calls.dialing import (
    DIAL_TIME_LIMIT_SECONDS,
    RING_TIMEOUT_SECONDS,
    DialLater,
    call_dial,
    call_dial_give_up,
    calls_dial_interrupted_resolve,
    calls_dial_reclaimable,
)
from calls.followups import GRACE, followups_reconcile
from calls.models import Call, CallEvent, CallStatus
from calls.outcomes import call_settle_target
from calls.retention import retention_apply
from calls.states import TERMINAL, IllegalTransition, call_transition
from calls.telephony import twilio
from calls.webhooks_out import webhook_deliveries_due, webhook_delivery_send
from campaigns.budgets import budgets_enforce
from voiceops.broker import enqueue
from voiceops.retries import OUTAGE_MAX_RETRIES, retries_on_outage

log = logging.getLogger(__name__)

DIAL_MAX_RETRIES = 6
STUCK_DIALING = timedelta(minutes=2)
RING_DEADLINE = timedelta(seconds=RING_TIMEOUT_SECONDS + 30)
REQUEST_TIME_LIMIT = 40  # one webhook POST, which times out after 10 s
PRICING_WAIT_RETRIES = 24  # x 5 s: how long pricing waits for the media bridge's last write
ANALYSIS_MAX_RETRIES = 8  # backoff from 5 s, capped at 5 min: about 20 minutes in all
ANALYSIS_MAX_BACKOFF_SECONDS = 300
SETTLE_WAIT_SECONDS = 2


@shared_task(
    bind=True,
    max_retries=DIAL_MAX_RETRIES,
    time_limit=DIAL_TIME_LIMIT_SECONDS,
    soft_time_limit=DIAL_TIME_LIMIT_SECONDS - 15,
)
@retries_on_outage
def dial(self, call_id: int) -> dict:
    """Place one booked call (queue `dial`). Idempotent, and safe against concurrent or
    duplicate deliveries: see `calls.dialing.call_claim`. An outage retries with backoff."""
    try:
        result = call_dial(call_id=call_id)
    except DialLater as wait:
        if self.request.retries >= self.max_retries:
            call_dial_give_up(call_id=call_id, reason=wait.reason, at=timezone.now())
            return {"call": call_id, "placed": False, "reason": "gave up"}
        raise self.retry(countdown=wait.seconds * (2**self.request.retries)) from wait
    return {"call": result.call_id, "placed": result.placed, "reason": result.reason}


# Room for the carrier lookups' 10 s, and one more request that began just before (connect
# and read timeouts, 10 s each).
@shared_task(time_limit=60, soft_time_limit=50)
def reclaim_dials() -> dict:
    """Beat, every few seconds: ask the carrier about the calls whose request was sent but
    never answered with a SID (it placed them, or it never received them and they are
    dialed again), then dial again the calls whose worker died before sending them (their
    lease expired). Enqueuing twice is harmless: each `dial` goes through the claim."""
    now = timezone.now()
    # The database's answer first: the carrier's may be slow to come.
    redial = calls_dial_reclaimable(at=now)
    interrupted = calls_dial_interrupted_resolve(at=now)
    # A call released here would be found by the next beat; it need not wait for it.
    for call_id in [*redial, *interrupted.redial]:
        dial.apply_async(args=[call_id], queue="dial")
    return {
        "redialed": len(redial) + len(interrupted.redial),
        "adopted": len(interrupted.adopted),
        "closed": len(interrupted.closed),
    }


@shared_task(bind=True, max_retries=OUTAGE_MAX_RETRIES, time_limit=30, soft_time_limit=20)
@retries_on_outage
def settle_target(self, call_id: int) -> None:
    """Apply the finished call to its target, then let its campaign fill the freed slot.
    Idempotent; an outage retries with backoff."""
    campaign_id = call_settle_target(call_id=call_id, at=timezone.now())
    if campaign_id is not None:
        # By name: campaigns.tasks imports this module to enqueue dials. If the broker is
        # down, the beat ticker fills the slot instead.
        enqueue("campaigns.tasks.tick_campaign", args=[campaign_id], queue="default")


@shared_task(bind=True, max_retries=PRICING_WAIT_RETRIES, time_limit=60, soft_time_limit=45)
@retries_on_outage
def price_call(self, call_id: int) -> str:
    """Write the call's cost ledger (queue `postcall`). An answered call is priced once its
    media bridge has written its last usage; it waits for that, within limits. Idempotent;
    an outage retries with backoff."""
    call = Call.objects.get(pk=call_id)
    # The follow-up reconciler sends calls that ended long ago: their bridge had its chance.
    overdue = call.ended_at is not None and call.ended_at < timezone.now() - GRACE
    waiting = call.answered_at and not call.media_ended_at and not overdue
    if waiting and self.request.retries < self.max_retries:
        raise self.retry(countdown=5)
    priced = call_price(call_id=call_id)
    budgets_enforce(call_id=call_id, at=timezone.now())
    if priced.answered_at and priced.analysed_at is None and not priced.analysis_error:
        analyze_call.apply_async(args=[call_id], queue="postcall")
    return str(priced.cost_total)


def analysis_backoff(retries: int, retry_after: float | None = None) -> float:
    """Seconds before the next analysis attempt: the model's Retry-After when it gives
    one, else 5 s doubling, capped."""
    if retry_after is not None and retry_after > 0:
        return min(retry_after, ANALYSIS_MAX_BACKOFF_SECONDS)
    return min(5 * 2**retries, ANALYSIS_MAX_BACKOFF_SECONDS)


def _is_settled(call: Call) -> bool:
    """The call's target no longer waits on this call (or it has none)."""
    if call.target_id is None:
        return True
    target = call.target
    return not (target.status == target.Status.CALLING and target.attempts == call.attempt)


@shared_task(bind=True, max_retries=ANALYSIS_MAX_RETRIES, time_limit=120, soft_time_limit=100)
def analyze_call(self, call_id: int) -> str:
    """Analyse a finished call (queue `postcall`), after it is settled and priced; also the
    re-run path. Safe to run twice: each run replaces the previous analysis, its survey
    answers and its ledger lines. Timeouts, 429 and 5xx retry with backoff; after the
    last retry, or on a refused or invalid answer, the error is recorded on the call."""
    call = Call.objects.select_related("target").get(pk=call_id)
    waits = self.request.retries < self.max_retries
    if waits and (call.priced_at is None or not _is_settled(call)):
        raise self.retry(countdown=SETTLE_WAIT_SECONDS)
    try:
        analysed = call_analyze(call_id=call_id)
    except CallNotAnalysable as reason:
        return str(reason)
    except AnalysisRejected as rejected:
        return str(rejected)
    except AnalysisUnavailable as unavailable:
        if not waits:
            call_analysis_failed(
                call_id=call_id,
                error=f"{unavailable} (gave up after {self.request.retries + 1} attempts)",
            )
            return str(unavailable)
        countdown = analysis_backoff(self.request.retries, unavailable.retry_after)
        raise self.retry(countdown=countdown) from unavailable
    return analysed.outcome


@shared_task(time_limit=120, soft_time_limit=100)
def reconcile_followups() -> dict:
    """Redo the follow-ups of finished calls that a broker outage lost (beat, every
    minute). See `calls.followups`."""
    return followups_reconcile(at=timezone.now())


@shared_task(time_limit=REQUEST_TIME_LIMIT, soft_time_limit=REQUEST_TIME_LIMIT - 10)
def deliver_webhook(delivery_id: int) -> str:
    """POST one event to the organisation's URL; safe to run twice (a claim makes one
    sender). A refused event waits in the database for the sweep, not in the broker."""
    return webhook_delivery_send(delivery_id=delivery_id)


@shared_task(time_limit=60, soft_time_limit=45)
def sweep_webhooks() -> int:
    """Enqueue every webhook delivery that is due: retries, and events whose task was lost.
    A delivery enqueued twice is sent once (the sender claims it)."""
    due = webhook_deliveries_due(at=timezone.now())
    for delivery_id in due:
        enqueue("calls.tasks.deliver_webhook", args=[delivery_id])
    return len(due)


@shared_task(time_limit=120, soft_time_limit=100)
def sweep_stuck_calls() -> dict:
    """Reconcile calls that stopped moving with the carrier's record of them.

    A call stuck in `dialing` with a SID is fetched from the carrier (calls without one are
    `reclaim_dials`'s), and so is a call still `initiated` or `ringing` past its ring
    timeout (its callbacks were lost). A call with a SID that has been live for longer than
    its agent allows is fetched from the carrier and moved to the carrier's status.
    """
    now = timezone.now()
    reconciled = {"dialing": 0, "ringing": 0, "live": 0}
    stuck = Call.objects.filter(
        status=CallStatus.DIALING, dialing_at__lt=now - STUCK_DIALING, carrier_sid__isnull=False
    )
    for call in stuck:
        _reconcile(call)
        reconciled["dialing"] += 1
    # A call cannot ring past its ring timeout: if it still looks unanswered after that,
    # its callbacks were lost (a webhook that could not write answered 503).
    unanswered = Call.objects.filter(
        status__in=[CallStatus.INITIATED, CallStatus.RINGING],
        dialing_at__lt=now - RING_DEADLINE,
        carrier_sid__isnull=False,
    )
    for call in unanswered:
        _reconcile(call)
        reconciled["ringing"] += 1
    live = Call.objects.filter(
        status__in=[CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS],
        created_at__lt=now - STUCK_DIALING,
    ).select_related("agent")
    for call in live:
        limit = timedelta(seconds=call.agent.max_call_seconds) + STUCK_DIALING
        if call.created_at < now - limit:
            _reconcile(call)
            reconciled["live"] += 1
    return reconciled


@shared_task(time_limit=60, soft_time_limit=45)
def reconcile_call(call_id: int) -> str:
    """After a call's media ends: if no final status has arrived (an inbound line without
    status callbacks, or callbacks lost), take it from the carrier's record. Idempotent."""
    call = Call.objects.get(pk=call_id)
    if call.status not in TERMINAL and call.carrier_sid:
        _reconcile(call)
        call.refresh_from_db()
    return call.status


def _reconcile(call: Call) -> None:
    try:
        record = twilio.fetch_call(call.carrier_sid)
    except twilio.CallGone:
        # The carrier has no such call: it is not live anywhere, whatever our row says.
        _close(call, to=CallStatus.FAILED, duration=None, reason="unknown_at_carrier")
        return
    except twilio.CarrierError as error:
        log.warning("Could not reconcile call %s: %s", call.pk, error)
        return
    status = twilio.STATUS_FROM_CARRIER.get(record.status)
    if status is None or status == call.status:
        return
    _close(call, to=status, duration=record.duration, reason="")


def _close(call: Call, *, to: str, duration: int | None, reason: str) -> None:
    with transaction.atomic():
        if duration is not None:
            Call.objects.filter(pk=call.pk).update(duration_seconds=duration)
        fields = {"hangup_reason": reason} if reason else {}
        try:
            call_transition(
                call_id=call.pk, to=to, at=timezone.now(), data={"via": "sweeper"}, **fields
            )
        except IllegalTransition as error:
            CallEvent.objects.create(
                call=call, at=timezone.now(), kind="sweeper", data={"detail": str(error)}
            )


@shared_task(time_limit=300, soft_time_limit=280)
def poll_carrier_prices() -> dict:
    """Beat, every minute: fetch the carrier's price of ended calls that are due for a
    check (see `calls.carrier_prices`). Safe to run twice: priced calls are left alone."""
    checks = carrier_prices_poll(at=timezone.now())
    return {"checked": len(checks), "priced": sum(check.priced for check in checks)}


@shared_task(time_limit=600, soft_time_limit=540)
def apply_retention() -> dict:
    """Beat, hourly: delete recordings (at the carrier, then here) and uploaded import files
    older than their organisation's retention. Idempotent; a recording the carrier could
    not delete stays and is tried again next hour."""
    return retention_apply(at=timezone.now()).__dict__
