"""Celery tasks for calls. Each takes an id, re-reads its rows, calls a service, and is
safe to run twice (`acks_late` is on)."""

import logging
from datetime import timedelta

from celery import current_app, shared_task
from django.db import transaction
from django.utils import timezone

from calls.analysis import (
    AnalysisRejected,
    AnalysisUnavailable,
    CallNotAnalysable,
    call_analysis_failed,
    call_analyze,
)
from calls.costs import call_price
from calls.dialing import DialLater, call_dial
from calls.models import Call, CallEvent, CallStatus
from calls.outcomes import call_settle_target, target_after_refusal
from calls.states import TERMINAL, IllegalTransition, call_transition
from calls.telephony import twilio

log = logging.getLogger(__name__)

DIAL_MAX_RETRIES = 6
STUCK_DIALING = timedelta(minutes=2)
PRICING_WAIT_RETRIES = 24  # x 5 s: how long pricing waits for the media bridge's last write
ANALYSIS_MAX_RETRIES = 8  # backoff from 5 s, capped at 5 min: about 20 minutes in all
ANALYSIS_MAX_BACKOFF_SECONDS = 300
SETTLE_WAIT_SECONDS = 2


@shared_task(bind=True, max_retries=DIAL_MAX_RETRIES, time_limit=60, soft_time_limit=45)
def dial(self, call_id: int) -> dict:
    """Place one booked call (queue `dial`). Idempotent: see `calls.dialing.call_dial`."""
    try:
        result = call_dial(call_id=call_id, retrying=self.request.retries > 0)
    except DialLater as wait:
        if self.request.retries >= self.max_retries:
            _give_up(call_id, reason="carrier_unavailable")
            return {"call": call_id, "placed": False, "reason": "gave up"}
        raise self.retry(countdown=wait.seconds * (2**self.request.retries)) from wait
    return {"call": result.call_id, "placed": result.placed, "reason": result.reason}


def _give_up(call_id: int, *, reason: str) -> None:
    call = Call.objects.get(pk=call_id)
    if call.status != CallStatus.DIALING or call.carrier_sid:
        return
    now = timezone.now()
    call_transition(call_id=call_id, to=CallStatus.FAILED, at=now, hangup_reason=reason)
    target_after_refusal(target_id=call.target_id, reason=reason, verdict="retry", at=now)


def call_finished(call_id: int) -> None:
    """Enqueue what follows a terminal status: settle the target, then price the call."""
    settle_target.apply_async(args=[call_id], queue="default")
    price_call.apply_async(args=[call_id], queue="postcall")


@shared_task(time_limit=30, soft_time_limit=20)
def settle_target(call_id: int) -> None:
    """Apply the finished call to its target, then let its campaign fill the freed slot."""
    campaign_id = call_settle_target(call_id=call_id, at=timezone.now())
    if campaign_id is not None:
        # By name: campaigns.tasks imports this module to enqueue dials.
        current_app.send_task("campaigns.tasks.tick_campaign", args=[campaign_id], queue="default")


@shared_task(bind=True, max_retries=PRICING_WAIT_RETRIES, time_limit=60, soft_time_limit=45)
def price_call(self, call_id: int) -> str:
    """Write the call's cost ledger (queue `postcall`). An answered call is priced once its
    media bridge has written its last usage; it waits for that, within limits."""
    call = Call.objects.get(pk=call_id)
    if call.answered_at and not call.media_ended_at and self.request.retries < self.max_retries:
        raise self.retry(countdown=5)
    priced = call_price(call_id=call_id)
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
def sweep_stuck_calls() -> dict:
    """Reconcile calls that stopped moving with the carrier's record of them.

    A call stuck in `dialing` without a SID never reached the carrier (the worker died):
    it fails and its target retries. A call with a SID that has been live for longer than
    its agent allows is fetched from the carrier and moved to the carrier's status.
    """
    now = timezone.now()
    reconciled = {"dialing": 0, "live": 0}
    for call in Call.objects.filter(status=CallStatus.DIALING, dialing_at__lt=now - STUCK_DIALING):
        if call.carrier_sid:
            _reconcile(call)
        else:
            _give_up(call.pk, reason="dial_interrupted")
        reconciled["dialing"] += 1
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
            result = call_transition(
                call_id=call.pk, to=to, at=timezone.now(), data={"via": "sweeper"}, **fields
            )
        except IllegalTransition as error:
            CallEvent.objects.create(
                call=call, at=timezone.now(), kind="sweeper", data={"detail": str(error)}
            )
            return
        if result.changed and to in TERMINAL:
            transaction.on_commit(lambda: call_finished(call.pk))
