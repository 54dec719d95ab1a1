"""Placing one call: claim it, pace it, re-check the law, ask the carrier.

The dial task calls `call_dial`. The compliance decision taken here, immediately before
the carrier request, is the one that counts (COMPLIANCE.md).
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from calls.models import Call, CallEvent, CallStatus
from calls.outcomes import target_after_refusal
from calls.pacing import Bucket, wait_for_token
from calls.public_urls import public_url
from calls.states import call_transition
from calls.telephony import twilio
from campaigns.budgets import budget_reserve
from campaigns.eligibility import target_decision
from campaigns.models import Campaign

log = logging.getLogger(__name__)

RING_TIMEOUT_SECONDS = 30
TIME_LIMIT_MARGIN_SECONDS = 60  # the carrier's hard stop, past the agent's own limit
MAX_PACING_WAIT_SECONDS = 10


class DialLater(Exception):
    """Nothing went wrong, but the call must wait (no pacing token yet, or a transient
    carrier error before the request was accepted)."""

    def __init__(self, reason: str, seconds: float):
        self.reason = reason
        self.seconds = seconds
        super().__init__(f"{reason}; try again in {seconds:.1f} s")


@dataclass(frozen=True)
class DialResult:
    call_id: int
    placed: bool
    reason: str = ""


def call_claim(*, call_id: int, at: datetime, retrying: bool) -> Call | None:
    """Move the call from queued to dialing; only one caller wins. A retry of the same task
    may resume a claimed call that the carrier has not accepted yet."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.status == CallStatus.QUEUED:
            claimed = call_transition(call_id=call_id, to=CallStatus.DIALING, at=at).call
            # Reserve the call's estimate against its budgets, or defer it (over_budget).
            return claimed if budget_reserve(call=claimed, at=at) else None
        if retrying and call.status == CallStatus.DIALING and not call.carrier_sid:
            return call
    return None


def call_dial(*, call_id: int, retrying: bool = False) -> DialResult:
    """Place the call if it is still lawful and affordable. Safe to run twice: the claim
    lets one run through, and a call is never sent to the carrier once it has a SID."""
    now = timezone.now()
    call = call_claim(call_id=call_id, at=now, retrying=retrying)
    if call is None:
        return DialResult(call_id, placed=False, reason="already claimed")
    target = call.target
    campaign = target.campaign
    if campaign.status != Campaign.Status.RUNNING:
        _refuse(call, reason=f"campaign_{campaign.status}", verdict="defer", retry_at=now)
        return DialResult(call_id, placed=False, reason=f"campaign {campaign.status}")

    now = timezone.now()
    decision = target_decision(target, at=now)
    Call.objects.filter(pk=call.pk).update(
        compliance_ruleset=decision.ruleset,
        compliance_zones=list(decision.zones),
        compliance_states=list(decision.states),
    )
    if decision.verdict != "allow":
        _refuse(
            call,
            reason=str(decision.reason),
            verdict=str(decision.verdict),
            retry_at=decision.next_allowed_at,
        )
        return DialResult(call_id, placed=False, reason=str(decision.reason))

    # The token is taken last, right before the request, so the carrier sees the pace the
    # bucket grants. The wait is short next to the guard bands of the calling window.
    bucket = Bucket(key=f"campaign:{campaign.pk}", rate=float(campaign.calls_per_second))
    if not wait_for_token(bucket, max_wait=MAX_PACING_WAIT_SECONDS):
        raise DialLater("no pacing token", seconds=1.0)
    try:
        carrier_call = twilio.create_call(
            to=call.to_number,
            from_=call.from_number,
            answer_url=public_url("calls:answer", call_id=call.pk),
            status_callback=public_url("calls:status", call_id=call.pk),
            amd_callback=public_url("calls:amd", call_id=call.pk),
            ring_timeout=RING_TIMEOUT_SECONDS,
            time_limit=call.agent.max_call_seconds + TIME_LIMIT_MARGIN_SECONDS,
        )
    except twilio.CarrierError as error:
        return _carrier_refused(call, error)

    # Store the SID at once; a callback may already have moved the call past `initiated`.
    Call.objects.filter(pk=call.pk, carrier_sid__isnull=True).update(carrier_sid=carrier_call.sid)
    if Call.objects.filter(pk=call.pk, status=CallStatus.DIALING).exists():
        call_transition(
            call_id=call.pk,
            to=CallStatus.INITIATED,
            at=timezone.now(),
            data={"sid": carrier_call.sid},
        )
    return DialResult(call_id, placed=True)


def _carrier_refused(call: Call, error: twilio.CarrierError) -> DialResult:
    now = timezone.now()
    data = {"code": error.code, "status": error.status, "message": str(error)}
    if not error.permanent and not error.maybe_placed:
        CallEvent.objects.create(call=call, at=now, kind="carrier_retry", data=data)
        raise DialLater("carrier unavailable", seconds=5.0) from error
    reason = (
        "carrier_timeout"
        if error.maybe_placed
        else f"carrier_rejected_{error.code or error.status}"
    )
    call_transition(call_id=call.pk, to=CallStatus.FAILED, at=now, data=data, hangup_reason=reason)
    target_after_refusal(
        target_id=call.target_id,
        reason=reason,
        # A number the carrier will never reach closes the target; an ambiguous timeout
        # retries later under the campaign's policy for failed calls.
        verdict="deny" if error.permanent else "retry",
        at=now,
    )
    log.warning("Call %s not placed: %s", call.pk, error)
    return DialResult(call.pk, placed=False, reason=reason)


def _refuse(call: Call, *, reason: str, verdict: str, retry_at: datetime | None) -> None:
    now = timezone.now()
    call_transition(
        call_id=call.pk,
        to=CallStatus.CANCELED,
        at=now,
        data={"reason": reason},
        hangup_reason=reason,
    )
    target_after_refusal(
        target_id=call.target_id, reason=reason, verdict=verdict, at=now, retry_at=retry_at
    )
