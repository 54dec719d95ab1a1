"""The carrier's own price for each call, beside our telephony estimate.

Twilio fills a call's `price` in minutes after the call ends. The `poll_carrier_prices`
beat task asks for it with backoff (1, 2, 4 … minutes, at most two hours apart) for up to
24 hours after the call ended; the next attempt is stored on the call, so the schedule
survives restarts and needs no long countdown in the broker.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import DecimalField, F, FilteredRelation, Q, QuerySet, Value
from django.db.models.functions import Abs, Coalesce

from calls.models import Call, CostComponent
from calls.states import TERMINAL
from calls.telephony import twilio

log = logging.getLogger(__name__)

FIRST_CHECK_AFTER = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(hours=24)
# A difference above this is worth a look by finance.
TOLERANCE = Decimal("0.01")
MONEY = DecimalField(max_digits=14, decimal_places=6)


def calls_awaiting_carrier_price(*, at: datetime) -> QuerySet:
    """Ended calls that reached the carrier, have no carrier price yet, ended less than 24
    hours ago and are due for a check."""
    return Call.objects.filter(
        carrier_sid__isnull=False,
        carrier_price__isnull=True,
        status__in=TERMINAL,
        ended_at__gt=at - GIVE_UP_AFTER,
        ended_at__lte=at - FIRST_CHECK_AFTER,
    ).filter(Q(carrier_price_next_check_at__isnull=True) | Q(carrier_price_next_check_at__lte=at))


def next_check_after(checks: int) -> timedelta:
    """The wait after the `checks`-th unanswered check: 1, 2, 4 … minutes, at most 2 hours."""
    return min(FIRST_CHECK_AFTER * 2 ** max(checks - 1, 0), LONGEST_WAIT)


@dataclass(frozen=True)
class PriceCheck:
    call_id: int
    priced: bool
    reason: str = ""


def call_fetch_carrier_price(*, call_id: int, at: datetime) -> PriceCheck:
    """Ask the carrier for the call's price once; store it, or when to ask again. Safe to
    run twice: a call that has its price is left alone."""
    call = Call.objects.only("pk", "carrier_sid", "carrier_price", "carrier_price_checks").get(
        pk=call_id
    )
    if call.carrier_price is not None or not call.carrier_sid:
        return PriceCheck(call_id, priced=call.carrier_price is not None, reason="nothing to do")
    try:
        price = twilio.fetch_call_price(call.carrier_sid)
    except twilio.CarrierError as error:
        if error.permanent:
            # The carrier will never tell (unknown call, unreadable price): stop asking.
            Call.objects.filter(pk=call_id).update(
                carrier_price_checks=F("carrier_price_checks") + 1,
                carrier_price_next_check_at=at + GIVE_UP_AFTER,
            )
            log.warning("No carrier price for call %s: %s", call_id, error)
            return PriceCheck(call_id, priced=False, reason=str(error))
        price = twilio.CarrierPrice(amount=None, unit="")
    if price.amount is None:
        checks = call.carrier_price_checks + 1
        Call.objects.filter(pk=call_id, carrier_price__isnull=True).update(
            carrier_price_checks=checks,
            carrier_price_next_check_at=at + next_check_after(checks),
        )
        return PriceCheck(call_id, priced=False, reason="not priced yet")
    Call.objects.filter(pk=call_id).update(
        carrier_price=price.amount,
        carrier_price_unit=price.unit,
        carrier_price_checks=F("carrier_price_checks") + 1,
        carrier_price_next_check_at=None,
    )
    return PriceCheck(call_id, priced=True)


def carrier_prices_poll(*, at: datetime, limit: int = 200) -> list[PriceCheck]:
    """Check every call due for a check (the beat task)."""
    due = calls_awaiting_carrier_price(at=at).order_by("ended_at").values_list("pk", flat=True)
    return [call_fetch_carrier_price(call_id=call_id, at=at) for call_id in due[:limit]]


def with_carrier_difference(calls: QuerySet) -> QuerySet:
    """Annotate `carrier_estimate` (our carrier-minute ledger line: what the carrier's
    `price` covers) and `carrier_difference` (the carrier's price minus it).

    A join on the call's one carrier-minute line rather than a subquery per call: the
    planner then costs a month of calls as what it is, instead of as a subquery per row,
    which made PostgreSQL JIT-compile the query for seconds (see bench.costs)."""
    return calls.annotate(
        carrier_line=FilteredRelation(
            "cost_entries", condition=Q(cost_entries__component=CostComponent.CARRIER_MINUTE)
        ),
        carrier_estimate=Coalesce(F("carrier_line__amount"), Value(Decimal(0)), output_field=MONEY),
    ).annotate(carrier_difference=F("carrier_price") - F("carrier_estimate"))


def calls_with_carrier_price_mismatch(*, calls: QuerySet) -> QuerySet:
    """Of `calls` (already scoped to the asker's organisation), those the carrier priced
    more than one cent away from our estimate."""
    return (
        with_carrier_difference(calls.filter(carrier_price__isnull=False))
        .annotate(carrier_gap=Abs("carrier_difference"))
        .filter(carrier_gap__gt=TOLERANCE)
    )
