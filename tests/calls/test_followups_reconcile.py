"""The follow-up reconciler redoes a step that waits for nothing half a minute after the call
ended, so that a step held by a worker that died is not left for the broker's hour-long
visibility timeout; pricing an answered call whose media bridge is still writing keeps the
long grace."""

from datetime import timedelta

import pytest
from django.utils import timezone

from calls.followups import GRACE, READY_GRACE, followups_reconcile
from calls.models import CallStatus
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db


def test_a_step_that_waits_for_nothing_is_redone_after_half_a_minute():
    ended = timezone.now()
    CallFactory(status=CallStatus.BUSY, ended_at=ended)  # an unanswered call
    bridging = CallFactory(
        status=CallStatus.COMPLETED, answered_at=ended - timedelta(seconds=40), ended_at=ended
    )

    within = followups_reconcile(at=ended + READY_GRACE - timedelta(seconds=1))
    after = followups_reconcile(at=ended + READY_GRACE + timedelta(seconds=1))
    long_after = followups_reconcile(at=ended + GRACE + timedelta(seconds=1))
    bridging.media_ended_at = ended + timedelta(seconds=2)
    bridging.save(update_fields=["media_ended_at"])
    bridge_done = followups_reconcile(at=ended + READY_GRACE + timedelta(seconds=1))

    assert (within["calls.tasks.settle_target"], within["calls.tasks.price_call"]) == (0, 0)
    # Both settle at once; only the unanswered call is priced: the other's bridge may still
    # be writing its usage, until it ends or the long grace has passed.
    assert (after["calls.tasks.settle_target"], after["calls.tasks.price_call"]) == (2, 1)
    assert long_after["calls.tasks.price_call"] == 2
    assert bridge_done["calls.tasks.price_call"] == 2
