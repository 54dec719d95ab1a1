"""An operator ends a live call from the console: the carrier hangs up, and the call ends
through its usual status callback (so pricing, settling and webhooks follow as for any
other ending)."""

from datetime import datetime

from django.db import transaction

from calls.models import Call, CallEvent, CallStatus
from calls.telephony import twilio

# Calls the carrier knows (they have a SID) and that have not ended.
ENDABLE_STATUSES = (CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS)
HANGUP_REASON = "ended_by_operator"


class CallNotLive(Exception):
    """The call has already ended, or the carrier does not know it yet: nothing to hang up."""


def call_end_by_operator(*, call_id: int, username: str, at: datetime) -> Call:
    """Record who ended the call, then ask the carrier to hang up (status=completed).

    Safe to repeat: the carrier treats a second hang-up of an ended call as done, and a
    call that has ended raises CallNotLive. Raises `twilio.CarrierError` when the carrier
    cannot be reached; the recorded intent stays, and the operator may try again."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.status not in ENDABLE_STATUSES or not call.carrier_sid:
            raise CallNotLive(
                f"Call {call.pk} is {call.get_status_display().lower()}: "
                "only a call that is ringing or in progress can be ended."
            )
        CallEvent.objects.create(call=call, at=at, kind="operator_hangup", data={"by": username})
        if not call.hangup_reason:
            call.hangup_reason = HANGUP_REASON
            call.save(update_fields=["hangup_reason"])
    twilio.hang_up(call.carrier_sid)
    return call
