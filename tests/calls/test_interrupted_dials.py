"""A carrier request whose answer never came (the worker died mid-request, or the carrier did
not answer in time): the carrier's own record decides. A call it placed takes its SID and
goes on; one it never received is dialed again. Either way the number is dialed once, and
no attempt is spent on a call that never happened."""

import base64
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
import requests
import time_machine
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from calls.dialing import (
    DIAL_LEASE,
    LOOKUP_DEADLINE,
    REQUEST_GRACE,
    call_claim,
    call_dial,
    calls_dial_interrupted_resolve,
    calls_dial_reclaimable,
)
from calls.models import Call, CallEvent, CallStatus
from calls.public_urls import public_url
from calls.telephony import twilio
from campaigns.models import Target
from sandbox.carrier import Carrier, Timing
from tests.conftest import CarrierView
from tests.factories import SANDBOX_CALLER_ID, TUESDAY_AFTERNOON, booked_call

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def own_carrier(tmp_path):
    """A carrier of this test's own, so that its list of calls to a number holds only the
    calls this test placed (the session's carrier has calls to the same numbers from other
    tests, at the same frozen afternoon). Its callbacks go nowhere, as if they were lost."""
    with (
        Carrier(
            numbers=[SANDBOX_CALLER_ID],
            calls_per_second=50,
            timing=Timing(dial=0.2, answer=0.5, busy=0.3, failed=0.2, ring_timeout_scale=0.05),
            recording_dir=tmp_path,
        ) as carrier,
        override_settings(
            TWILIO_ACCOUNT_SID=carrier.account_sid,
            TWILIO_AUTH_TOKEN=carrier.auth_token,
            TWILIO_API_URL=carrier.base_url,
            PUBLIC_BASE_URL="http://127.0.0.1:9",
        ),
    ):
        yield CarrierView(carrier)


def enqueued_for(call_id: int) -> set[str]:
    """The tasks waiting in the broker's queues with this call's id as their argument."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    tasks = set()
    for queue in ("default", "postcall"):
        for raw in broker.lrange(queue, 0, -1):
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0]
            if args == [call_id]:
                tasks.add(message["headers"]["task"])
    return tasks


def request_recorded_then_worker_died(call: Call) -> None:
    call_claim(call_id=call.pk, at=timezone.now())
    Call.objects.filter(pk=call.pk).update(dial_requested_at=timezone.now())


def place_at_the_carrier(call: Call) -> str:
    """The request the dead worker sent, as the carrier received it; returns its SID."""
    return twilio.create_call(
        to=call.to_number,
        from_=call.from_number,
        answer_url=public_url("calls:answer", call_id=call.pk),
        status_callback=public_url("calls:status", call_id=call.pk),
        amd_callback=public_url("calls:amd", call_id=call.pk),
        ring_timeout=30,
        time_limit=600,
    ).sid


def test_it_dials_again_a_call_whose_request_never_reached_the_carrier(own_carrier):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        request_recorded_then_worker_died(call)

        clock.shift(DIAL_LEASE.total_seconds() + 1)
        assert calls_dial_interrupted_resolve(at=timezone.now()).redial == []  # too early
        assert calls_dial_reclaimable(at=timezone.now()) == []  # it may have been sent
        clock.shift(REQUEST_GRACE.total_seconds())
        resolved = calls_dial_interrupted_resolve(at=timezone.now())
        reclaimable = calls_dial_reclaimable(at=timezone.now())
        placed = call_dial(call_id=call.pk)

    call.refresh_from_db()
    target = Target.objects.get(pk=call.target_id)
    assert (resolved.redial, resolved.adopted, resolved.closed) == ([call.pk], [], [])
    assert reclaimable == [call.pk]
    assert placed.placed
    assert call.status == CallStatus.INITIATED
    assert [placed.sid for placed in own_carrier.calls_to(call.to_number)] == [call.carrier_sid]
    assert (target.status, target.attempts) == (Target.Status.CALLING, 1)
    assert CallEvent.objects.filter(call=call, kind="dial_not_received").count() == 1


def test_it_takes_the_sid_of_a_call_the_carrier_placed_and_never_dials_it_again(own_carrier):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        request_recorded_then_worker_died(call)
        sid = place_at_the_carrier(call)

        clock.shift(REQUEST_GRACE.total_seconds() + 1)
        resolved = calls_dial_interrupted_resolve(at=timezone.now())
        again = call_dial(call_id=call.pk)
        reclaimable = calls_dial_reclaimable(at=timezone.now() + DIAL_LEASE)

    call.refresh_from_db()
    assert (resolved.redial, resolved.adopted, resolved.closed) == ([], [call.pk], [])
    assert (call.status, call.carrier_sid) == (CallStatus.INITIATED, sid)
    assert again.placed is False
    assert reclaimable == []
    assert [placed.sid for placed in own_carrier.calls_to(call.to_number)] == [sid]


def test_it_takes_a_call_the_carrier_placed_late_for_the_interrupted_one(own_carrier):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        request_recorded_then_worker_died(call)
        clock.shift(25)  # the request reached the carrier long after it was recorded
        sid = place_at_the_carrier(call)

        clock.shift(REQUEST_GRACE.total_seconds())
        resolved = calls_dial_interrupted_resolve(at=timezone.now())

    call.refresh_from_db()
    assert resolved.adopted == [call.pk]
    assert call.carrier_sid == sid
    assert len(own_carrier.calls_to(call.to_number)) == 1


def test_two_of_our_calls_to_one_number_wait_until_the_carrier_tells_them_apart(own_carrier):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        request_recorded_then_worker_died(call)
        # Another campaign's call to the same person, whose answer is late too.
        sibling = Call.objects.get(pk=call.pk)
        sibling.pk, sibling.attempt = None, call.attempt + 1
        sibling.save()
        sid = place_at_the_carrier(sibling)

        clock.shift(REQUEST_GRACE.total_seconds() + 1)
        waiting = calls_dial_interrupted_resolve(at=timezone.now())
        # The sibling's status callback brings its SID: the carrier's list now tells.
        Call.objects.filter(pk=sibling.pk).update(carrier_sid=sid)
        resolved = calls_dial_interrupted_resolve(at=timezone.now())

    call.refresh_from_db()
    assert (waiting.redial, waiting.adopted, waiting.closed) == ([], [], [])
    assert resolved.redial == [call.pk]  # the carrier's only call was the sibling's
    assert call.carrier_sid is None


def test_it_does_not_take_an_earlier_or_another_calls_sid_for_the_interrupted_one(own_carrier):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        earlier = place_at_the_carrier(call)  # half a minute before this request
        clock.shift(timedelta(seconds=30).total_seconds())
        # Another call of ours to the same number, placed just now with its SID recorded.
        other = Call.objects.get(pk=call.pk)
        other.pk, other.attempt, other.status = None, call.attempt + 1, CallStatus.COMPLETED
        other.carrier_sid = place_at_the_carrier(call)
        other.save()
        request_recorded_then_worker_died(call)

        clock.shift(REQUEST_GRACE.total_seconds() + 1)
        resolved = calls_dial_interrupted_resolve(at=timezone.now())

    call.refresh_from_db()
    assert resolved.redial == [call.pk]
    assert call.carrier_sid is None
    assert earlier not in Call.objects.values_list("carrier_sid", flat=True)


def test_it_waits_for_an_unreachable_carrier_then_fails_the_call_as_interrupted(own_carrier):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        request_recorded_then_worker_died(call)

        with override_settings(TWILIO_API_URL="http://127.0.0.1:9"):  # nothing listens
            clock.shift(REQUEST_GRACE.total_seconds() + 1)
            waiting = calls_dial_interrupted_resolve(at=timezone.now())
            call.refresh_from_db()
            still_dialing = call.status
            clock.shift(LOOKUP_DEADLINE.total_seconds())
            resolved = calls_dial_interrupted_resolve(at=timezone.now())

    call.refresh_from_db()
    target = Target.objects.get(pk=call.target_id)
    assert (waiting.redial, waiting.adopted, waiting.closed) == ([], [], [])
    assert still_dialing == CallStatus.DIALING
    assert resolved.closed == [call.pk]
    assert (call.status, call.hangup_reason) == (CallStatus.FAILED, "dial_interrupted")
    assert target.status == Target.Status.PENDING
    assert target.next_attempt_at > call.ended_at
    assert own_carrier.calls_to(call.to_number) == []
    # Priced (its budget reservation released) and settled now, not when the reconciler
    # notices minutes later.
    assert {"calls.tasks.price_call", "calls.tasks.settle_target"} <= enqueued_for(call.pk)


class SlowCarrier(BaseHTTPRequestHandler):
    """Passes requests to the carrier. A new call's request is answered `hold_seconds` late
    (past the client's timeout, by default: the carrier placed the call, the answer was
    lost), after `before_answer` runs."""

    carrier_url = ""
    hold_seconds = twilio.REQUEST_TIMEOUT_SECONDS + 1
    before_answer = None
    drop_answer = False  # close the connection instead of answering a new call's request

    def do_POST(self):
        self._forward("POST", self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self):
        self._forward("GET", None)

    def _forward(self, method, body):
        response = requests.request(
            method,
            self.carrier_url + self.path,
            data=body,
            headers={
                name: self.headers[name]
                for name in ("Authorization", "Content-Type")
                if name in self.headers
            },
            timeout=10,
        )
        if method == "POST" and self.path.endswith("/Calls.json"):
            if SlowCarrier.before_answer:
                SlowCarrier.before_answer()
            if SlowCarrier.drop_answer:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            threading.Event().wait(SlowCarrier.hold_seconds)
        self.send_response(response.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(response.content)))
        self.end_headers()
        self.wfile.write(response.content)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_carrier(own_carrier):
    SlowCarrier.carrier_url = settings.TWILIO_API_URL.rstrip("/")
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowCarrier)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with override_settings(TWILIO_API_URL=f"http://127.0.0.1:{server.server_port}"):
        yield own_carrier
    server.shutdown()
    SlowCarrier.hold_seconds = twilio.REQUEST_TIMEOUT_SECONDS + 1
    SlowCarrier.before_answer = None
    SlowCarrier.drop_answer = False


def test_a_call_the_carrier_placed_without_answering_in_time_goes_on_and_is_not_failed(
    slow_carrier,
):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        result = call_dial(call_id=call.pk)
        call.refresh_from_db()
        waiting = (call.status, call.carrier_sid, call.dial_requested_at is not None)

        clock.shift(REQUEST_GRACE.total_seconds() + 1)
        resolved = calls_dial_interrupted_resolve(at=timezone.now())

    call.refresh_from_db()
    placed = slow_carrier.calls_to(call.to_number)
    assert (result.placed, result.reason) == (False, "carrier_timeout")
    assert waiting == (CallStatus.DIALING, None, True)  # not failed while it may be ringing
    assert resolved.adopted == [call.pk]
    assert len(placed) == 1
    assert (call.status, call.carrier_sid) == (CallStatus.INITIATED, placed[0].sid)


def test_a_second_carrier_call_for_one_call_is_hung_up_at_once(slow_carrier):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True):
        call = booked_call()
        SlowCarrier.hold_seconds = 0
        first = place_at_the_carrier(call)  # an earlier request of the call, placed late

        def first_callback_arrives():
            # Its status callback names it while the call's new request is at the carrier.
            try:
                Call.objects.filter(pk=call.pk).update(carrier_sid=first)
            finally:
                connection.close()

        SlowCarrier.before_answer = first_callback_arrives
        result = call_dial(call_id=call.pk)

    call.refresh_from_db()
    second = [placed for placed in slow_carrier.calls_to(call.to_number) if placed.sid != first]
    assert (result.placed, result.reason) == (False, "duplicate")
    assert call.carrier_sid == first
    assert len(second) == 1
    assert second[0].hung_up_by == "api"
    assert CallEvent.objects.filter(call=call, kind="duplicate_hung_up").count() == 1


def test_a_create_whose_connection_drops_after_sending_is_looked_up_and_not_sent_again(
    slow_carrier,
):
    with time_machine.travel(TUESDAY_AFTERNOON, tick=True) as clock:
        call = booked_call()
        SlowCarrier.drop_answer = True  # the carrier placed the call, then the line dropped
        result = call_dial(call_id=call.pk)
        SlowCarrier.drop_answer = False
        clock.shift(REQUEST_GRACE.total_seconds() + 1)
        resolved = calls_dial_interrupted_resolve(at=timezone.now())

    call.refresh_from_db()
    placed = slow_carrier.calls_to(call.to_number)
    assert (result.placed, result.reason) == (False, "carrier_timeout")
    assert resolved.adopted == [call.pk]
    assert len(placed) == 1
    assert call.carrier_sid == placed[0].sid
