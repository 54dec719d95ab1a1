import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from calls.models import Call, PhoneNumber
from tests.factories import AgentFactory, CallFactory, OrganizationFactory, TargetFactory

pytestmark = pytest.mark.django_db


def test_it_allows_one_call_per_attempt_of_a_target():
    first = CallFactory(attempt=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(target=first.target, attempt=1)

    second = CallFactory(target=first.target, attempt=2)
    assert list(first.target.calls.order_by("attempt")) == [first, second]


def test_it_keeps_carrier_call_sids_unique():
    CallFactory(carrier_sid="CA0001")

    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(carrier_sid="CA0001")


def test_an_outbound_call_needs_a_target_and_an_inbound_call_does_not():
    agent = AgentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.create(
            organization=agent.organization,
            direction=Call.Direction.OUTBOUND,
            agent=agent,
            from_number="+12025550100",
            to_number="+13055550123",
        )

    inbound = Call.objects.create(
        organization=agent.organization,
        direction=Call.Direction.INBOUND,
        agent=agent,
        from_number="+13055550123",
        to_number="+12025550100",
    )
    assert inbound.target is None


def test_an_inbound_line_needs_an_agent():
    organization = OrganizationFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        PhoneNumber.objects.create(
            organization=organization, number="+12025550111", is_caller_id=False, is_inbound=True
        )


def test_a_call_number_must_be_e164():
    call = CallFactory.build(target=TargetFactory(), to_number="305-555-0123")

    with pytest.raises(ValidationError) as error:
        call.full_clean()

    assert "'305-555-0123' is not in E.164 form; write it as '+13055550123'" in str(error.value)
