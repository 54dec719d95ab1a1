from datetime import UTC, datetime

import pytest

from calls.models import CallEvent, CallStatus
from calls.states import TERMINAL, TRANSITIONS, IllegalTransition, call_transition
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
# Sorted: a frozenset's order changes from process to process, and parallel workers must
# collect the same tests in the same order.
LEGAL = [(source, target) for source, targets in TRANSITIONS.items() for target in sorted(targets)]
ILLEGAL = [
    (source, target)
    for source in CallStatus.values
    for target in CallStatus.values
    if target != source and target not in TRANSITIONS[source]
]


@pytest.mark.parametrize(("source", "target"), LEGAL)
def test_it_applies_every_legal_transition_and_records_it(source, target):
    call = CallFactory(status=source)

    result = call_transition(call_id=call.pk, to=target, at=AT, data={"via": "test"})

    call.refresh_from_db()
    assert result.changed
    assert call.status == target
    event = CallEvent.objects.get(call=call)
    assert (event.kind, event.from_status, event.to_status) == ("status", source, target)
    assert event.data == {"via": "test"}


@pytest.mark.parametrize("status", CallStatus.values)
def test_it_treats_a_repeat_of_the_current_state_as_a_no_op(status):
    call = CallFactory(status=status)

    result = call_transition(call_id=call.pk, to=status, at=AT)

    assert not result.changed
    assert not CallEvent.objects.filter(call=call).exists()


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_it_refuses_an_illegal_transition_and_changes_nothing(source, target):
    call = CallFactory(status=source)

    with pytest.raises(IllegalTransition) as error:
        call_transition(call_id=call.pk, to=target, at=AT)

    call.refresh_from_db()
    assert call.status == source
    assert not CallEvent.objects.filter(call=call).exists()
    assert f"cannot move from {source!r} to {target!r}" in str(error.value)


def test_nothing_leaves_a_terminal_state():
    assert all(not TRANSITIONS[status] for status in TERMINAL)
    assert {source for source, _ in ILLEGAL} >= set(TERMINAL)


def test_it_stamps_each_phase_once():
    call = CallFactory(status=CallStatus.QUEUED)
    later = datetime(2026, 11, 21, 15, 0, 30, tzinfo=UTC)

    call_transition(call_id=call.pk, to=CallStatus.DIALING, at=AT)
    call_transition(call_id=call.pk, to=CallStatus.IN_PROGRESS, at=later, answered_by="human")

    call.refresh_from_db()
    assert call.dialing_at == AT
    assert call.answered_at == later
    assert call.answered_by == "human"
    assert call.ringing_at is None


def test_it_rejects_an_unknown_status_by_name():
    call = CallFactory()

    with pytest.raises(ValueError, match="'ringing-ish' is not a call status"):
        call_transition(call_id=call.pk, to="ringing-ish", at=AT)
