"""Placing one call: claim it, pace it, re-check the law, ask the carrier.

The dial task calls `call_dial`. The compliance decision taken here, immediately before
the carrier request, is the one that counts (docs/compliance.md).
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calls.capacity import ACCOUNT_PACING, CAMPAIGN_PACING, carrier_account_of
from calls.models import Call, CallEvent, CallStatus
from calls.outcomes import target_after_refusal
from calls.pacing import Bucket, wait_for_tokens
from calls.public_urls import public_url
from calls.states import call_transition
from calls.telephony import twilio
from campaigns.budgets import budget_reserve
from campaigns.eligibility import target_decision
from campaigns.models import Campaign, Target

log = logging.getLogger(__name__)

RING_TIMEOUT_SECONDS = 30
TIME_LIMIT_MARGIN_SECONDS = 60  # the carrier's hard stop, past the agent's own limit
MAX_PACING_WAIT_SECONDS = 10
# How long a claim holds a call before the carrier request is recorded: longer than the
# pacing wait plus the compliance check; short, so a dead worker's call is soon claimed again.
DIAL_LEASE = timedelta(seconds=20)


class DialLater(Exception):
    """Nothing went wrong, but the call must wait (no pacing token yet, or a transient
    carrier error before the request was accepted). `reason` is the code recorded if the
    dial finally gives up."""

    def __init__(self, reason: str, seconds: float):
        self.reason = reason
        self.seconds = seconds
        super().__init__(f"{reason}; try again in {seconds:.1f} s")


@dataclass(frozen=True)
class DialResult:
    call_id: int
    placed: bool
    reason: str = ""


@dataclass(frozen=True)
class DialClaim:
    """A held dial lease: `lease_until` identifies this claim among later ones."""

    call: Call
    lease_until: datetime


def call_claim(*, call_id: int, at: datetime) -> DialClaim | None:
    """Take the call's dial lease: the one claim used by first deliveries, retries,
    duplicate deliveries and the reclaimer. Only one caller wins.

    A queued call moves to dialing. A dialing call is claimable again only when its lease
    has expired or was released, and it has never been sent to the carrier (no request
    recorded, no SID). Returns None when someone else holds the call or it is past dialing.
    """
    lease_until = at + DIAL_LEASE
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.status == CallStatus.QUEUED:
            call = call_transition(
                call_id=call_id, to=CallStatus.DIALING, at=at, dial_lease_until=lease_until
            ).call
            # Reserve the call's estimate against its budgets, or defer it (over_budget). A
            # re-claim after a lease expired keeps the reservation made here.
            if not budget_reserve(call=call, at=at):
                return None
            return DialClaim(call=call, lease_until=lease_until)
        claimable = (
            call.status == CallStatus.DIALING
            and not call.carrier_sid
            and call.dial_requested_at is None
            and (call.dial_lease_until is None or call.dial_lease_until <= at)
        )
        if not claimable:
            return None
        call.dial_lease_until = lease_until
        call.save(update_fields=["dial_lease_until"])
        CallEvent.objects.create(call=call, at=at, kind="dial_claimed", data={"again": True})
        return DialClaim(call=call, lease_until=lease_until)


def call_claim_release(*, claim: DialClaim) -> None:
    """Give the lease back before the carrier request was sent, so the retry (or anyone)
    may claim the call at once."""
    Call.objects.filter(
        pk=claim.call.pk, dial_lease_until=claim.lease_until, dial_requested_at__isnull=True
    ).update(dial_lease_until=None)


def _request_recorded(claim: DialClaim, *, at: datetime) -> bool:
    """Record, under a still-valid lease, that the carrier request is about to be sent.
    False when the lease expired meanwhile (another worker may own the call now)."""
    return bool(
        Call.objects.filter(
            pk=claim.call.pk,
            status=CallStatus.DIALING,
            carrier_sid__isnull=True,
            dial_requested_at__isnull=True,
            dial_lease_until=claim.lease_until,
            dial_lease_until__gt=at,
        ).update(dial_requested_at=at)
    )


def call_dial(*, call_id: int) -> DialResult:
    """Place the call if it is still lawful and affordable. Safe to run twice, and
    concurrently: the claim lets one run through, and the request is recorded before it is
    sent, so a call is never sent to the carrier twice. Raises DialLater (lease released)
    when the call must wait."""
    now = timezone.now()
    claim = call_claim(call_id=call_id, at=now)
    if claim is None:
        return DialResult(call_id, placed=False, reason="already claimed")
    try:
        return _dial_claimed(claim)
    except DialLater:
        call_claim_release(claim=claim)
        raise


def _dial_claimed(claim: DialClaim) -> DialResult:
    call = claim.call
    call_id = call.pk
    now = timezone.now()
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

    # The tokens are taken last, right before the request, so the carrier sees the pace the
    # buckets grant. The wait is short next to the guard bands of the calling window.
    twilio.calls_api_load()
    account = carrier_account_of(campaign.organization)
    account_bucket = Bucket(key=f"account:{account.sid}", rate=float(account.calls_per_second))
    campaign_bucket = Bucket(key=f"campaign:{campaign.pk}", rate=float(campaign.calls_per_second))
    refusal = wait_for_tokens([account_bucket, campaign_bucket], max_wait=MAX_PACING_WAIT_SECONDS)
    if refusal is not None:
        if refusal.bucket is not account_bucket:
            raise DialLater(CAMPAIGN_PACING, seconds=refusal.seconds)
        # Other campaigns on the account are dialing: say so on the target.
        Target.objects.filter(pk=target.pk, status=Target.Status.CALLING).update(
            last_reason=ACCOUNT_PACING
        )
        raise DialLater(ACCOUNT_PACING, seconds=refusal.seconds)
    # Everything the request needs is read before it is recorded, so that it leaves at once.
    request = {
        "to": call.to_number,
        "from_": call.from_number,
        "answer_url": public_url("calls:answer", call_id=call.pk),
        "status_callback": public_url("calls:status", call_id=call.pk),
        "amd_callback": public_url("calls:amd", call_id=call.pk),
        "ring_timeout": RING_TIMEOUT_SECONDS,
        "time_limit": call.agent.max_call_seconds + TIME_LIMIT_MARGIN_SECONDS,
        "recording_callback": (
            public_url("calls:recording", call_id=call.pk)
            if call.organization.record_calls
            else None
        ),
    }
    if not _request_recorded(claim, at=timezone.now()):
        return DialResult(call_id, placed=False, reason="lease expired")
    try:
        carrier_call = twilio.create_call(**request)
    except twilio.CarrierError as error:
        return _carrier_refused(call, error)

    # Store the SID at once; a callback may already have moved the call past `initiated`.
    stored = Call.objects.filter(pk=call.pk, carrier_sid__isnull=True).update(
        carrier_sid=carrier_call.sid
    )
    if not stored and not Call.objects.filter(pk=call.pk, carrier_sid=carrier_call.sid).exists():
        _hang_up_duplicate(call, sid=carrier_call.sid)
        return DialResult(call_id, placed=False, reason="duplicate")
    Target.objects.filter(pk=target.pk, last_reason=ACCOUNT_PACING).update(last_reason="")
    if Call.objects.filter(pk=call.pk, status=CallStatus.DIALING).exists():
        call_transition(
            call_id=call.pk,
            to=CallStatus.INITIATED,
            at=timezone.now(),
            data={"sid": carrier_call.sid},
        )
    return DialResult(call_id, placed=True)


def _hang_up_duplicate(call: Call, *, sid: str) -> None:
    """The call already has another carrier call (an earlier request of it that the carrier
    placed late, after the call was released and dialed again): end this one at once, so
    that no carrier call goes on unaccounted for."""
    log.error("Call %s: the carrier placed it twice; hanging up %s", call.pk, sid)
    CallEvent.objects.create(
        call=call, at=timezone.now(), kind="duplicate_hung_up", data={"sid": sid}
    )
    try:
        twilio.hang_up(sid)
    except twilio.CarrierError as error:
        log.error("Call %s: could not hang up the duplicate %s: %s", call.pk, sid, error)


def _carrier_refused(call: Call, error: twilio.CarrierError) -> DialResult:
    now = timezone.now()
    data = {"code": error.code, "status": error.status, "message": str(error)}
    if not error.permanent and not error.maybe_placed:
        # The carrier certainly did not take the request: it may be sent again.
        Call.objects.filter(pk=call.pk).update(dial_requested_at=None)
        CallEvent.objects.create(call=call, at=now, kind="carrier_retry", data=data)
        raise DialLater("carrier_unavailable", seconds=5.0) from error
    if error.maybe_placed:
        # The carrier may have placed the call and be ringing the number now: the call stays
        # dialing with its request recorded, and the reclaimer asks the carrier which
        # (`calls_dial_interrupted_resolve`), rather than failing a call that may be live.
        CallEvent.objects.create(call=call, at=now, kind="carrier_timeout", data=data)
        log.warning("Call %s: no answer from the carrier; it will be asked: %s", call.pk, error)
        return DialResult(call.pk, placed=False, reason="carrier_timeout")
    reason = f"carrier_rejected_{error.code or error.status}"
    call_transition(call_id=call.pk, to=CallStatus.FAILED, at=now, data=data, hangup_reason=reason)
    target_after_refusal(
        target_id=call.target_id,
        reason=reason,
        # A number the carrier will never reach closes the target; another refusal retries
        # later under the campaign's policy for failed calls.
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


# The `dial` task's hard time limit: past it, the worker that recorded a request can no
# longer be sending it (calls.tasks.dial).
DIAL_TIME_LIMIT_SECONDS = 60
# After the request was recorded, how long a call may stay without a SID before the carrier
# is asked about it: longer than the worker may still be sending it, and time for the
# carrier's first callback, which carries the SID if the carrier placed the call. Asking
# sooner could find nothing yet and dial the number a second time.
REQUEST_GRACE = timedelta(seconds=DIAL_TIME_LIMIT_SECONDS + 10)
# How far apart the carrier's clock and ours may be when its record of a call is matched to
# our request: the carrier's times are whole seconds, and both clocks are kept by NTP. Wider
# would risk taking an earlier call to the number (from outside VoiceOps) for ours.
CARRIER_CLOCK_SKEW = timedelta(seconds=10)
# How long the carrier may stay unreachable for that question before the call is failed as
# interrupted (its target then retries under the campaign's policy).
LOOKUP_DEADLINE = timedelta(minutes=10)
# Calls asked about per reclaimer beat, and the seconds the questions may take in all (each
# is one request to the carrier); the rest wait for the next beat.
LOOKUPS_PER_BEAT = 20
LOOKUP_SECONDS_PER_BEAT = 10


def calls_dial_reclaimable(*, at: datetime) -> list[int]:
    """Calls whose `dial` task is lost and must be enqueued again; the claim decides who
    dials, so enqueuing twice is harmless.

    - dialing, never sent, lease expired: the worker holding it died;
    - queued for longer than a lease: the dead worker had reserved the task's message (the
      broker delivers it again only after its visibility timeout). Each is marked with a
      lease-long pause, so a long queue is not flooded with copies.
    """
    dead_claims = Call.objects.filter(
        status=CallStatus.DIALING,
        carrier_sid__isnull=True,
        dial_requested_at__isnull=True,
        dial_lease_until__lte=at,
    )
    stalled = Call.objects.filter(status=CallStatus.QUEUED, created_at__lte=at - DIAL_LEASE).filter(
        Q(dial_lease_until__isnull=True) | Q(dial_lease_until__lte=at)
    )
    stalled_ids = list(stalled.values_list("pk", flat=True))
    Call.objects.filter(pk__in=stalled_ids, status=CallStatus.QUEUED).update(
        dial_lease_until=at + DIAL_LEASE
    )
    return sorted([*dead_claims.values_list("pk", flat=True), *stalled_ids])


@dataclass(frozen=True)
class InterruptedDials:
    """What the carrier's record said of requests whose answer never came."""

    redial: list[int]  # the carrier never received the request: the call is dialed again
    adopted: list[int]  # the carrier placed the call: its SID is now the call's
    closed: list[int]  # the carrier could not be asked for too long: the call failed


def calls_dial_interrupted_resolve(*, at: datetime) -> InterruptedDials:
    """Settle the calls whose carrier request was sent but that never got a SID: the worker
    died mid-request, or the carrier's answer was lost. The carrier's own list of calls from
    the caller ID to the number says which. A call the carrier placed takes its SID and goes
    on; one it never received is released for `dial` to claim again (the reclaimer enqueues
    it), so a number is neither dialed twice nor skipped. While the carrier cannot be asked,
    the call waits, up to `LOOKUP_DEADLINE`; then it fails as `dial_interrupted`."""
    resolved = InterruptedDials(redial=[], adopted=[], closed=[])
    candidates = Call.objects.filter(
        status=CallStatus.DIALING,
        carrier_sid__isnull=True,
        dial_requested_at__lte=at - REQUEST_GRACE,
    ).order_by("dial_requested_at")[:LOOKUPS_PER_BEAT]
    carrier_down = False
    stop_asking = time.monotonic() + LOOKUP_SECONDS_PER_BEAT
    for call in candidates:
        if not carrier_down and time.monotonic() > stop_asking:
            break  # the rest are asked about at the next beat
        placed = None
        if not carrier_down and not _sibling_unsettled(call):
            try:
                placed = twilio.calls_between(to=call.to_number, from_=call.from_number)
            except twilio.CarrierError as error:
                log.warning("Could not ask the carrier about call %s: %s", call.pk, error)
                # Unreachable or failing: the next questions this beat would fail the same way.
                carrier_down = not error.permanent
        if placed is None:
            # The carrier cannot be asked, or its answer could not tell this call from another
            # of ours: only a call past the deadline is given up.
            if call.dial_requested_at <= at - LOOKUP_DEADLINE and call_dial_give_up(
                call_id=call.pk, reason="dial_interrupted", at=at
            ):
                resolved.closed.append(call.pk)
            continue
        verdict = _interrupted_settle(call, placed, at=at)
        if verdict == "adopted":
            resolved.adopted.append(call.pk)
        elif verdict == "redial":
            resolved.redial.append(call.pk)
    return resolved


def _sibling_unsettled(call: Call) -> bool:
    """Another call of ours from the same number to the same number is also dialing without a
    SID (two campaigns reaching one person): the carrier's list could not tell whose a call
    is, so neither is settled until one has its SID."""
    return (
        Call.objects.filter(
            status=CallStatus.DIALING,
            carrier_sid__isnull=True,
            to_number=call.to_number,
            from_number=call.from_number,
        )
        .exclude(pk=call.pk)
        .exists()
    )


def _first_request_at(call: Call) -> datetime:
    """When this call's first request was recorded: a request released as never received
    leaves its time on the `dial_not_received` event, and the carrier may yet place it."""
    earlier = [
        datetime.fromisoformat(data["requested_at"])
        for data in CallEvent.objects.filter(call=call, kind="dial_not_received").values_list(
            "data", flat=True
        )
        if data and data.get("requested_at")
    ]
    return min([call.dial_requested_at, *earlier])


def _interrupted_settle(call: Call, placed: list[twilio.CarrierCall], *, at: datetime) -> str:
    """Apply the carrier's list of calls to the number to one interrupted request, under the
    call's row lock: a SID that arrived by callback meanwhile wins."""
    requested = call.dial_requested_at
    earliest = _first_request_at(call) - CARRIER_CLOCK_SKEW
    # Ours is a call created since the request (however late it left), and not already
    # another call's (an earlier attempt, or another campaign's call to the same number).
    # Undated counts as ours: the safe mistake is to adopt, never to dial twice.
    recent = [
        found
        for found in placed
        if found.created_at is None or earliest <= found.created_at <= at + CARRIER_CLOCK_SKEW
    ]
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if (
            locked.status != CallStatus.DIALING
            or locked.carrier_sid
            or locked.dial_requested_at != requested
        ):
            return "moved on"
        known = set(
            Call.objects.filter(carrier_sid__in=[found.sid for found in recent]).values_list(
                "carrier_sid", flat=True
            )
        )
        unclaimed = [found for found in recent if found.sid not in known]
        if unclaimed:
            sid = unclaimed[-1].sid  # the oldest: the carrier lists newest first
            call_transition(
                call_id=call.pk,
                to=CallStatus.INITIATED,
                at=at,
                data={"sid": sid, "via": "carrier lookup"},
                carrier_sid=sid,
            )
            return "adopted"
        # An expired lease and no request: `calls_dial_reclaimable` hands it to `dial`.
        Call.objects.filter(pk=call.pk).update(dial_requested_at=None, dial_lease_until=at)
        CallEvent.objects.create(
            call=locked,
            at=at,
            kind="dial_not_received",
            data={"requested_at": requested.isoformat()},
        )
        return "redial"


def call_dial_give_up(*, call_id: int, reason: str, at: datetime) -> bool:
    """Fail a call that is still dialing without a SID, and let its target retry later.
    Takes the row lock and re-checks, so it never races a claim or a callback."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.status != CallStatus.DIALING or call.carrier_sid:
            return False
        if call.dial_requested_at is None and call.dial_lease_until and call.dial_lease_until > at:
            return False  # a live worker holds it
        call_transition(call_id=call_id, to=CallStatus.FAILED, at=at, hangup_reason=reason)
        target_after_refusal(target_id=call.target_id, reason=reason, verdict="retry", at=at)
    return True
