"""The call state machine, as data, and the one service that moves a call through it."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from calls.models import Call, CallEvent, CallStatus, WebhookEvent
from calls.webhooks_out import call_completed_payload, webhook_event_emit

S = CallStatus

TERMINAL = frozenset({S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED})

# Every allowed move. Callbacks can skip phases (a fast answer skips `ringing`), so later
# phases are reachable from earlier ones; nothing leaves a terminal state.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.DIALING, S.CANCELED}),
    S.DIALING: frozenset(
        {
            S.INITIATED,
            S.RINGING,
            S.IN_PROGRESS,
            S.COMPLETED,
            S.BUSY,
            S.NO_ANSWER,
            S.FAILED,
            S.CANCELED,
        }
    ),
    S.INITIATED: frozenset(
        {S.RINGING, S.IN_PROGRESS, S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED}
    ),
    S.RINGING: frozenset({S.IN_PROGRESS, S.COMPLETED, S.BUSY, S.NO_ANSWER, S.FAILED, S.CANCELED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.FAILED}),
    **{status: frozenset() for status in TERMINAL},
}

# The timestamp column each state stamps when entered.
STAMPS = {
    S.DIALING: "dialing_at",
    S.INITIATED: "initiated_at",
    S.RINGING: "ringing_at",
    S.IN_PROGRESS: "answered_at",
    **{status: "ended_at" for status in TERMINAL},
}


class IllegalTransition(Exception):
    def __init__(self, call_id: int, current: str, requested: str):
        self.call_id = call_id
        self.current = current
        self.requested = requested
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"
        super().__init__(
            f"Call {call_id} cannot move from {current!r} to {requested!r}; "
            f"from {current!r} it may move to: {allowed}."
        )


@dataclass(frozen=True)
class TransitionResult:
    call: Call
    changed: bool


def call_transition(
    *, call_id: int, to: str, at: datetime, data: dict | None = None, **fields
) -> TransitionResult:
    """Move the call to `to` atomically, stamp the phase time and record a CallEvent.

    Idempotent: a repeat of the current state changes nothing and records nothing. Reaching
    a final status enqueues the call's follow-ups (settle, price) once the change commits.
    Raises IllegalTransition for a move the table does not allow. `fields` are written with
    the transition (for example `carrier_sid` or `answered_by`).
    """
    if to not in TRANSITIONS:
        raise ValueError(f"{to!r} is not a call status.")
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.status == to:
            return TransitionResult(call=call, changed=False)
        if to not in TRANSITIONS[call.status]:
            raise IllegalTransition(call_id, call.status, to)
        previous = call.status
        call.status = to
        update_fields = ["status", *fields]
        for name, value in fields.items():
            setattr(call, name, value)
        stamp = STAMPS.get(to)
        if stamp and getattr(call, stamp) is None:
            setattr(call, stamp, at)
            update_fields.append(stamp)
        call.save(update_fields=update_fields)
        CallEvent.objects.create(
            call=call, at=at, kind="status", from_status=previous, to_status=to, data=data or {}
        )
        if to in TERMINAL:
            # In this transaction: the event exists exactly when the final status does.
            webhook_event_emit(
                organization_id=call.organization_id,
                event=WebhookEvent.CALL_COMPLETED,
                payload=call_completed_payload(call),
                at=at,
            )
            # Every way a call ends (the carrier's callback, a refused or interrupted dial,
            # a canceled campaign, the sweeper) settles and prices it now, not when the
            # reconciler notices minutes later. Imported here: followups reads TERMINAL.
            from calls.followups import call_finished

            transaction.on_commit(lambda: call_finished(call_id))
    return TransitionResult(call=call, changed=True)
