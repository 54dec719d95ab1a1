"""The carrier account's lines: one pool per account, shared by every campaign on it, with
a reserve that outbound dials never take so callers get through.

The pool is counted from the database, never kept in memory or in Redis: a line is in use
while a call on the account is live (booked, dialing, ringing or answered), and free again
when the call reaches a final status. A dead worker's call is failed by the dial reclaimer
or the sweeper, which frees its line the same way, so a restart never leaks or double
counts a slot. Bookings and inbound admissions on one account are serialised by a
PostgreSQL advisory lock held to the end of their transaction, so two ticks (or a tick and
an inbound call) cannot both take the last line.
"""

import zlib
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Q

from calls.models import Call, CallStatus
from campaigns.models import Organization

LIVE_CALL_STATUSES = (
    CallStatus.QUEUED,
    CallStatus.DIALING,
    CallStatus.INITIATED,
    CallStatus.RINGING,
    CallStatus.IN_PROGRESS,
)

# Why a target that the law allows is not called yet (stored on `Target.last_reason`;
# the words are in voiceops/labels.py).
CAPACITY = "capacity"
ACCOUNT_PACING = "account_pacing"
CAMPAIGN_PACING = "campaign_pacing"
# The outcome of an inbound call turned away with the busy message.
OVER_CAPACITY = "over_capacity"


@dataclass(frozen=True)
class CarrierAccount:
    """The limits that apply to an organisation's calls, and the account they belong to."""

    sid: str
    line_capacity: int
    inbound_reserve: int
    calls_per_second: Decimal

    @property
    def outbound_lines(self) -> int:
        return max(self.line_capacity - self.inbound_reserve, 0)


def carrier_account_of(organization: Organization) -> CarrierAccount:
    return CarrierAccount(
        sid=organization.carrier_account_sid or settings.TWILIO_ACCOUNT_SID,
        line_capacity=organization.line_capacity,
        inbound_reserve=organization.inbound_reserve,
        calls_per_second=organization.account_calls_per_second,
    )


def _on_account(sid: str) -> Q:
    """The organisations whose numbers belong to the account `sid`."""
    on_account = Q(carrier_account_sid=sid)
    if sid == settings.TWILIO_ACCOUNT_SID:
        on_account |= Q(carrier_account_sid="")
    return on_account


def account_lock(account: CarrierAccount) -> None:
    """Serialise line bookings on the account until the current transaction ends. SQLite
    (the single-machine demo) serialises every write already."""
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(f"voiceops:lines:{account.sid}".encode()) - 2**31
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def lines_in_use(account: CarrierAccount) -> int:
    """Live calls, inbound and outbound, of every organisation on the account."""
    organizations = Organization.objects.filter(_on_account(account.sid)).values("pk")
    return Call.objects.filter(
        organization_id__in=organizations, status__in=LIVE_CALL_STATUSES
    ).count()


def outbound_lines_free(account: CarrierAccount) -> int:
    """How many more outbound calls may be booked now: the reserve stays free. Call it under
    `account_lock`, in the transaction that books the calls."""
    return max(account.outbound_lines - lines_in_use(account), 0)


def inbound_line_free(account: CarrierAccount) -> bool:
    """Whether one more caller fits: inbound calls may use every line, the reserve
    included. Call it under `account_lock`, in the transaction that records the call."""
    return lines_in_use(account) < account.line_capacity
