"""Twilio's webhooks: answer, status callbacks, machine detection, inbound calls.

Every view checks `X-Twilio-Signature` against the public URL Twilio requested (built on
PUBLIC_BASE_URL, so it works behind a proxy) and answers 403 without side effects otherwise.
Callbacks are at-least-once and may arrive late or out of order: each is ordered by its
`SequenceNumber`, and a repeat or an older one changes nothing. A callback without a
`CallSid` names no call, so it never matches one (not even a call whose SID is not stored
yet); once a call has ended, only a callback with a higher `SequenceNumber` than the last
one applied may change what was recorded about it.

A webhook that cannot write (the database is unreachable) answers 503 with `Retry-After`,
never a 200 that would claim the fact was stored: Twilio retries a 5xx where the callback's
retry policy allows it, and whatever is still lost is taken from the carrier's record by
the reconciliation tasks (`calls.tasks.reconcile_call`, `sweep_stuck_calls`).
"""

import functools
import logging
from email.utils import parsedate_to_datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calls.capacity import OVER_CAPACITY, account_lock, carrier_account_of, inbound_line_free
from calls.media_tokens import media_token_issue
from calls.models import Call, CallEvent, CallStatus, PhoneNumber, Recording
from calls.public_urls import media_stream_url, public_url
from calls.states import TERMINAL, IllegalTransition, call_transition
from calls.telephony import twilio

log = logging.getLogger(__name__)

WEBHOOK_RETRY_AFTER_SECONDS = 5


def twilio_signed(view):
    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        url = settings.PUBLIC_BASE_URL + request.get_full_path()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not twilio.signature_is_valid(url=url, params=request.POST.dict(), signature=signature):
            log.warning("Refused an unsigned or tampered webhook for %s", request.path)
            return HttpResponseForbidden("Invalid Twilio signature.")
        try:
            return view(request, *args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            log.warning("Webhook %s not stored, database unavailable: %s", request.path, error)
            response = HttpResponse("Database unavailable; retry later.", status=503)
            response["Retry-After"] = str(WEBHOOK_RETRY_AFTER_SECONDS)
            return response

    return checked


def twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml")


def _stream_response(call: Call, *, record: bool = False) -> HttpResponse:
    token = media_token_issue(call_id=call.pk, call_sid=call.carrier_sid)
    return twiml(
        twilio.stream_twiml(
            stream_url=media_stream_url(),
            parameters={"token": token},
            recording_callback=public_url("calls:recording", call_id=call.pk) if record else None,
        )
    )


def _call_sid(form) -> str:
    """The callback's CallSid, or "" when it is missing or blank (such a callback names no call)."""
    return form.get("CallSid", "").strip()


def _is_newer(sequence: int | None, call: Call) -> bool:
    """Whether a callback's SequenceNumber is above the last one applied to the call."""
    if sequence is None:
        return False
    return call.carrier_sequence is None or sequence > call.carrier_sequence


def _remember_sid(call: Call, sid: str) -> None:
    if sid and not call.carrier_sid:
        Call.objects.filter(pk=call.pk, carrier_sid__isnull=True).update(carrier_sid=sid)
        call.carrier_sid = sid


@twilio_signed
def answer(request, call_id: int):
    """The callee answered: connect the call's audio to our media socket."""
    call = Call.objects.filter(pk=call_id).first()
    sid = request.POST.get("CallSid", "")
    if call is None or (call.carrier_sid and call.carrier_sid != sid) or call.status in TERMINAL:
        return twiml(twilio.say_and_hang_up_twiml("Goodbye."))
    if call.media_started_at is not None:
        # A replay: the call's one bridge has started, so no fresh token is handed out.
        return twiml(twilio.say_and_hang_up_twiml("Goodbye."))
    _remember_sid(call, sid)
    try:
        call_transition(
            call_id=call.pk, to=CallStatus.IN_PROGRESS, at=timezone.now(), data={"via": "answer"}
        )
    except IllegalTransition:
        return twiml(twilio.say_and_hang_up_twiml("Goodbye."))
    return _stream_response(call)


@twilio_signed
def status(request, call_id: int | None = None):
    """A status callback: apply it if it is newer than the last one applied. Outbound calls
    name the call in the URL; inbound lines post to the URL without one."""
    form = request.POST
    sid = _call_sid(form)
    carrier_status = twilio.STATUS_FROM_CARRIER.get(form.get("CallStatus", ""))
    try:
        sequence = int(form.get("SequenceNumber", ""))
    except ValueError:
        sequence = None
    if not sid or carrier_status is None:
        return HttpResponse(status=204)
    with transaction.atomic():
        calls = Call.objects.select_for_update()
        if call_id is None:
            call = calls.filter(carrier_sid=sid).first()
        else:
            call = calls.filter(pk=call_id).first()
        if call is None or (call.carrier_sid and sid != call.carrier_sid):
            return HttpResponse(status=204)
        stale = (
            sequence is not None
            and call.carrier_sequence is not None
            and sequence <= call.carrier_sequence
        )
        # A finished call may have been settled and priced from what was recorded: only the
        # carrier's own later word (a higher SequenceNumber) may correct it, never a repeat.
        if stale or (call.status in TERMINAL and not _is_newer(sequence, call)):
            return HttpResponse(status=204)
        _remember_sid(call, sid)
        fields = {}
        if sequence is not None:
            fields["carrier_sequence"] = sequence
        # The detection callback already recorded the verdict, and the bridge may have
        # corrected it since (a person spoke before it came): status callbacks repeat the
        # carrier's verdict, so they fill it in only when nothing has.
        if form.get("AnsweredBy") and not call.answered_by:
            fields["answered_by"] = form["AnsweredBy"]
        if carrier_status in TERMINAL and form.get("CallDuration", "").isdigit():
            fields["duration_seconds"] = int(form["CallDuration"])
        Call.objects.filter(pk=call.pk).update(**fields)
        try:
            call_transition(
                call_id=call.pk,
                to=carrier_status,
                at=timezone.now(),
                data={"sequence": sequence, "carrier_status": form.get("CallStatus")},
            )
        except IllegalTransition as error:
            CallEvent.objects.create(
                call=call, at=timezone.now(), kind="stale_callback", data={"detail": str(error)}
            )
    return HttpResponse(status=204)


@twilio_signed
def amd(request, call_id: int):
    """The answering-machine verdict: recorded, and passed to the call's media bridge."""
    answered_by = request.POST.get("AnsweredBy", "unknown")
    sid = _call_sid(request.POST)
    call = Call.objects.filter(pk=call_id, carrier_sid=sid).first() if sid else None
    if call is None:
        return HttpResponse(status=204)
    Call.objects.filter(pk=call.pk).update(answered_by=answered_by)
    CallEvent.objects.create(
        call=call,
        at=timezone.now(),
        kind="machine_detection",
        data={
            "answered_by": answered_by,
            "duration_ms": request.POST.get("MachineDetectionDuration"),
        },
    )
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            f"call-{call.pk}", {"type": "call.machine_detected", "answered_by": answered_by}
        )
    return HttpResponse(status=204)


def busy_message(organization_name: str) -> str:
    return (
        f"Thank you for calling {organization_name}. All our lines are busy right now. "
        "Please call again in a few minutes. Goodbye."
    )


@twilio_signed
def inbound(request):
    """A call to one of our numbers: an inbound call for the number's agent, or, when every
    line of the carrier account is in use, the busy message (recorded as a call)."""
    form = request.POST
    number = (
        PhoneNumber.objects.filter(number=form.get("To", ""), is_inbound=True)
        .select_related("inbound_agent", "organization")
        .first()
    )
    if number is None:
        return twiml(twilio.say_and_hang_up_twiml("This number is not in service. Goodbye."))
    sid = _call_sid(form)
    if not sid:
        return twiml(twilio.say_and_hang_up_twiml("Goodbye."))
    busy = twiml(twilio.say_and_hang_up_twiml(busy_message(number.organization.name)))
    now = timezone.now()
    with transaction.atomic():
        # Counting the lines and recording this call happen under the account's lock, so two
        # callers cannot both take the last line.
        account = carrier_account_of(number.organization)
        account_lock(account)
        call = Call.objects.filter(carrier_sid=sid).first()
        if call is None:
            has_line = inbound_line_free(account)
            call = Call.objects.create(
                carrier_sid=sid,
                organization_id=number.organization_id,
                direction=Call.Direction.INBOUND,
                agent=number.inbound_agent,
                from_number=form.get("From", ""),
                to_number=number.number,
                status=CallStatus.RINGING,
                ringing_at=now,
            )
            if not has_line:
                _turn_away(call, account=account, at=now)
                return busy
    if call.hangup_reason == OVER_CAPACITY:
        return busy  # the carrier asked again for the same call: the same answer
    if call.status in TERMINAL:
        return twiml(twilio.say_and_hang_up_twiml("Goodbye."))
    call_transition(
        call_id=call.pk, to=CallStatus.IN_PROGRESS, at=timezone.now(), data={"via": "inbound"}
    )
    # The agent's opening announces a recording exactly when the organisation records.
    return _stream_response(call, record=number.organization.record_calls)


def _turn_away(call: Call, *, account, at) -> None:
    """Record a caller who found every line in use: the call ends with the busy message and
    its outcome says why; it is priced like any finished call."""
    call_transition(
        call_id=call.pk,
        to=CallStatus.COMPLETED,
        at=at,
        data={"reason": OVER_CAPACITY, "line_capacity": account.line_capacity},
        hangup_reason=OVER_CAPACITY,
        outcome=OVER_CAPACITY,
    )


def _recording_started_at(form):
    try:
        return parsedate_to_datetime(form.get("RecordingStartTime", ""))
    except (TypeError, ValueError):
        return None


@twilio_signed
def recording(request, call_id: int):
    """A recording status callback: store the recording (its SID, status, duration, the
    carrier's URL). A repeat changes nothing; a late "in-progress" never undoes a final
    status. The audio stays at the carrier until the retention task deletes it."""
    form = request.POST
    sid = _call_sid(form)
    recording_sid = form.get("RecordingSid", "").strip()
    status = form.get("RecordingStatus", "")
    if not sid or not recording_sid or status not in Recording.Status.values:
        return HttpResponse(status=204)
    call = Call.objects.filter(pk=call_id, carrier_sid=sid).first()
    if call is None:
        return HttpResponse(status=204)
    duration = form.get("RecordingDuration", "")
    channels = form.get("RecordingChannels", "")
    fields = {
        "status": status,
        "carrier_url": form.get("RecordingUrl", ""),
        "duration_seconds": int(duration) if duration.isdigit() else None,
        "channels": int(channels) if channels.isdigit() else 1,
        "started_at": _recording_started_at(form),
    }
    with transaction.atomic():
        existing = Recording.objects.select_for_update().filter(sid=recording_sid).first()
        if existing is None:
            Recording.objects.create(call=call, sid=recording_sid, **fields)
        elif existing.call_id == call.pk and existing.status == Recording.Status.IN_PROGRESS:
            Recording.objects.filter(pk=existing.pk).update(**fields)
    return HttpResponse(status=204)
