"""What must happen after a call ends, and the reconciler that makes sure it did.

Each follow-up is a task that takes the call's id and is safe to run twice, and a durable
marker on the call that says it has run (`settled_at`, `priced_at`). When a call reaches
a final status, `call_finished` enqueues every follow-up after commit; if the broker cannot
be reached at that moment the message is lost, but the marker stays empty, and
`followups_reconcile` (beat, every minute) finds the call and enqueues the step again. The
same covers a message held by a worker that died.

A new follow-up is one more `FollowUp` in `FOLLOW_UPS`: its task, its queue, and which
finished calls still need it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q

from calls.models import Call, CallStatus, Turn
from calls.states import TERMINAL
from voiceops.broker import enqueue

# How long after its end a call is left to the normal path before the reconciler steps
# in: pricing alone may wait two minutes for the media bridge's last write.
GRACE = timedelta(minutes=5)
# The same for a step that waits for nothing (`FollowUp.ready`): long enough for the normal
# path, short so that a step held by a worker that died is redone soon. (The broker gives a
# dead worker's unacknowledged messages back only after its visibility timeout, an hour.)
READY_GRACE = timedelta(seconds=30)
BATCH = 500


@dataclass(frozen=True)
class FollowUp:
    task: str
    queue: str
    # Finished calls for which this step has not happened yet.
    pending: Q
    # Enqueued as soon as the call ends; False for a step another step chains (analysis
    # follows pricing), which only the reconciler sends on its own.
    on_finish: bool = True
    # The calls for which the step waits for nothing: redone after READY_GRACE, not GRACE.
    ready: Q | None = None


FOLLOW_UPS = (
    FollowUp(
        "calls.tasks.settle_target",
        "default",
        Q(target__isnull=False, settled_at=None),
        ready=Q(),
    ),
    # Pricing waits for an answered call's media bridge to write its last usage.
    FollowUp(
        "calls.tasks.price_call",
        "postcall",
        Q(priced_at=None),
        ready=Q(answered_at__isnull=True) | Q(media_ended_at__isnull=False),
    ),
    # Pricing chains the analysis; the reconciler sends it again only for answered calls
    # with a transcript not yet analysed and with no recorded error.
    FollowUp(
        "calls.tasks.analyze_call",
        "postcall",
        Q(
            Exists(Turn.objects.filter(call=OuterRef("pk"))),
            status=CallStatus.COMPLETED,
            answered_at__isnull=False,
            analysed_at=None,
            analysis_error="",
        ),
        on_finish=False,
    ),
)


def call_finished(call_id: int) -> None:
    """Enqueue every follow-up of a call that reached a final status (run it after commit).
    Never raises for an unreachable broker: the reconciler redoes what was not enqueued."""
    for step in FOLLOW_UPS:
        if step.on_finish:
            enqueue(step.task, args=[call_id], queue=step.queue)


def calls_missing(step: FollowUp, *, at: datetime, limit: int = BATCH) -> list[int]:
    """Finished calls still waiting for `step`, ended more than GRACE before `at` (or
    READY_GRACE, for the calls for which the step waits for nothing)."""
    overdue = Q(ended_at__lt=at - GRACE)
    if step.ready is not None:
        overdue |= step.ready & Q(ended_at__lt=at - READY_GRACE)
    return list(
        Call.objects.filter(step.pending, overdue, status__in=TERMINAL)
        .order_by("ended_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def followups_reconcile(*, at: datetime) -> dict[str, int]:
    """Enqueue each follow-up for the calls that still need it; returns how many per task.
    Safe to run twice: the steps are idempotent and a repeat finds fewer calls."""
    found = {}
    for step in FOLLOW_UPS:
        call_ids = calls_missing(step, at=at)
        for call_id in call_ids:
            enqueue(step.task, args=[call_id], queue=step.queue)
        found[step.task] = len(call_ids)
    return found
