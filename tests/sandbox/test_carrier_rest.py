"""The carrier's Calls REST API as the real `twilio` SDK sees it."""

import json
import urllib.error
import urllib.parse
import urllib.request
from itertools import pairwise

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sandbox.carrier import Carrier, RequestRateLimit, Timing
from sandbox.carrier.pacing import DialPacer
from sandbox.carrier.webhook_sink import WebhookSink

OWNED = "+15005550006"
QUICK = Timing(dial=0.02, answer=0.05, busy=0.02, failed=0.02)
HOLD_TWIML = '<Response><Pause length="60"/></Response>'


def post_form(carrier, path, fields):
    request = urllib.request.Request(
        carrier.base_url + path, data=urllib.parse.urlencode(fields).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def carrier(tmp_path):
    with Carrier(numbers=[OWNED], calls_per_second=50, timing=QUICK, recording_dir=tmp_path) as c:
        yield c


@pytest.fixture
def client(carrier):
    client = Client(carrier.account_sid, carrier.auth_token)
    client.api.base_url = carrier.base_url
    return client


def test_it_creates_fetches_and_hangs_up_a_call(carrier, client):
    created = client.calls.create(to="+15551230000", from_=OWNED, twiml=HOLD_TWIML)

    assert created.sid.startswith("CA")
    assert len(created.sid) == 34
    assert created.status == "queued"
    assert created.direction == "outbound-api"
    assert created.to == "+15551230000"
    assert created._from == OWNED
    assert created.account_sid == carrier.account_sid

    carrier.wait_for_status(created.sid, "in-progress")
    fetched = client.calls(created.sid).fetch()
    assert fetched.status == "in-progress"
    assert fetched.start_time is not None

    hung_up = client.calls(created.sid).update(status="completed")
    assert hung_up.sid == created.sid
    call = carrier.wait_for_call(created.sid)
    assert call.status == "completed"
    assert call.hung_up_by == "api"
    assert client.calls(created.sid).fetch().status == "completed"
    assert client.calls(created.sid).fetch().end_time is not None


def test_a_lost_create_request_places_nothing_and_is_never_answered(carrier):
    http = TwilioHttpClient(timeout=1, max_retries=0)
    client = Client(carrier.account_sid, carrier.auth_token, http_client=http)
    client.api.base_url = carrier.base_url
    carrier.lost_create_requests = 1

    with pytest.raises(requests.exceptions.Timeout):
        client.calls.create(to="+15551230000", from_=OWNED, twiml=HOLD_TWIML)
    after = client.calls.create(to="+15551230000", from_=OWNED, twiml=HOLD_TWIML)

    assert [call.sid for call in client.calls.list(to="+15551230000")] == [after.sid]
    assert len(carrier.dials()) == 1
    client.calls(after.sid).update(status="completed")
    carrier.wait_for_call(after.sid)


def test_it_lists_calls_newest_first(carrier, client):
    first = client.calls.create(to="+15551230000", from_=OWNED, twiml=HOLD_TWIML)
    second = client.calls.create(to="+15551230001", from_=OWNED, twiml=HOLD_TWIML)

    listed = client.calls.list()

    assert [call.sid for call in listed] == [second.sid, first.sid]
    assert [call.sid for call in client.calls.list(to="+15551230001")] == [second.sid]
    for sid in (first.sid, second.sid):
        client.calls(sid).update(status="completed")
        carrier.wait_for_call(sid)


def test_it_cancels_a_call_that_is_still_queued(tmp_path):
    sink = WebhookSink()
    with sink, Carrier(numbers=[OWNED], calls_per_second=0.01, timing=QUICK) as carrier:
        client = carrier.twilio_client()
        first = client.calls.create(to="+15551230000", from_=OWNED, twiml=HOLD_TWIML)
        # One call per 100 s: the second waits in the queue.
        second = client.calls.create(
            to="+15551230001",
            from_=OWNED,
            twiml=HOLD_TWIML,
            status_callback=sink.url("status"),
            status_callback_event=["initiated", "ringing", "answered", "completed"],
        )
        assert int(second.queue_time) > 0

        carrier.wait_for_status(first.sid, "in-progress")
        assert client.calls(second.sid).fetch().status == "queued"

        client.calls(second.sid).update(status="canceled")
        call = carrier.wait_for_call(second.sid)
        client.calls(first.sid).update(status="completed")
        carrier.wait_for_call(first.sid)

    assert call.status == "canceled"
    assert call.start_time is None
    assert [r.params["CallStatus"] for r in sink.requests_to("status")] == ["canceled"]


def test_it_dials_queued_calls_in_creation_order(tmp_path):
    with Carrier(numbers=[OWNED], calls_per_second=5, timing=QUICK, recording_dir=tmp_path) as c:
        client = c.twilio_client()
        sids = [
            client.calls.create(to=f"+1555123000{n}", from_=OWNED, twiml="<Response/>").sid
            for n in range(3)
        ]
        calls = [c.wait_for_call(sid) for sid in sids]

    assert [call.status for call in calls] == ["completed"] * 3
    answered_at = [call.start_time for call in calls]
    assert answered_at == sorted(answered_at)


def test_it_spaces_dial_slots_by_the_calls_per_second_rate():
    pacer = DialPacer(calls_per_second=5)

    slots = [pacer.next_slot(now) for now in (10.0, 10.01, 10.02, 11.0, 20.0)]

    assert slots == pytest.approx([10.0, 10.2, 10.4, 11.0, 20.0])


@pytest.mark.parametrize(
    ("to", "from_", "code", "status"),
    [
        ("12", OWNED, 21211, 400),
        ("not-a-number", OWNED, 21211, 400),
        ("+15551230000", "+15559999999", 21210, 400),
    ],
)
def test_it_refuses_bad_numbers_with_twilio_errors(client, to, from_, code, status):
    with pytest.raises(TwilioRestException) as refused:
        client.calls.create(to=to, from_=from_, twiml=HOLD_TWIML)

    assert refused.value.code == code
    assert refused.value.status == status


def test_it_refuses_wrong_credentials(carrier):
    client = Client(carrier.account_sid, "not-the-token")
    client.api.base_url = carrier.base_url

    with pytest.raises(TwilioRestException) as refused:
        client.calls.create(to="+15551230000", from_=OWNED, twiml=HOLD_TWIML)

    assert refused.value.code == 20003
    assert refused.value.status == 401
    assert carrier.calls == {}


def test_it_throttles_requests_beyond_the_account_request_rate(tmp_path):
    limit = RequestRateLimit(per_second=0.001, burst=2)
    with Carrier(numbers=[OWNED], request_rate_limit=limit, recording_dir=tmp_path) as carrier:
        client = carrier.twilio_client()
        for n in range(2):
            client.calls.create(to=f"+1555123000{n}", from_=OWNED, twiml="<Response/>")

        with pytest.raises(TwilioRestException) as refused:
            client.calls.create(to="+15551230009", from_=OWNED, twiml="<Response/>")

        assert refused.value.code == 20429
        assert refused.value.status == 429
        assert len(carrier.calls) == 2


def test_it_answers_an_unknown_call_with_not_found(client):
    with pytest.raises(TwilioRestException) as refused:
        client.calls("CA" + "0" * 32).fetch()

    assert refused.value.code == 20404
    assert refused.value.status == 404


def test_it_refuses_new_twiml_for_a_call_that_has_ended(carrier, client):
    created = client.calls.create(to="+15551230000", from_=OWNED, twiml="<Response/>")
    carrier.wait_for_call(created.sid)

    with pytest.raises(TwilioRestException) as refused:
        client.calls(created.sid).update(twiml="<Response><Say>Hi</Say></Response>")

    assert refused.value.code == 21220


def test_it_takes_numbers_and_personas_over_http(carrier, client):
    assert post_form(carrier, "/sandbox/numbers", {"Number": "+15005550001"}) == 201
    assert (
        post_form(carrier, "/sandbox/personas", {"Number": "+15551230000", "Persona": "busy"})
        == 201
    )
    assert (
        post_form(carrier, "/sandbox/personas", {"Number": "+15551230000", "Persona": "x"}) == 400
    )

    created = client.calls.create(to="+15551230000", from_="+15005550001", twiml=HOLD_TWIML)
    call = carrier.wait_for_call(created.sid)

    assert call.persona == "busy"
    assert call.status == "busy"


def test_it_picks_the_persona_from_the_last_two_digits_of_the_number(carrier, client):
    created = client.calls.create(to="+15551239911", from_=OWNED, twiml=HOLD_TWIML)
    unlisted = client.calls.create(to="+15551239999", from_=OWNED, twiml="<Response/>")

    assert carrier.wait_for_call(created.sid).status == "busy"
    assert carrier.wait_for_call(unlisted.sid).persona == "confirm"


def test_it_queues_calls_over_the_accounts_rate_and_logs_when_each_was_dialed(tmp_path):
    # 0.5 calls per second: a dial slot every two seconds, whatever the requests' pace.
    with Carrier(numbers=[OWNED], calls_per_second=0.5, timing=QUICK, recording_dir=tmp_path) as c:
        client = c.twilio_client()
        sids = [
            client.calls.create(to=f"+1555123000{n}", from_=OWNED, twiml="<Response/>").sid
            for n in range(3)
        ]
        calls = [c.wait_for_call(sid) for sid in sids]
        dials = c.dials()
        other_account = c.dials("AC" + "0" * 32)
        with urllib.request.urlopen(
            f"{c.base_url}/sandbox/accounts/{c.account_sid}/dials.json", timeout=10
        ) as response:
            published = json.load(response)["dials"]

    assert [dial.call_sid for dial in dials] == sids
    assert other_account == []
    assert all(later.dial_slot - earlier.dial_slot >= 2 for earlier, later in pairwise(dials))
    assert dials[1].dialed_at > dials[1].requested_at  # it waited in the account's queue
    for dial, call in zip(dials, calls, strict=True):
        assert dial.requested_at == call.date_created
        queued = dial.dialed_at - dial.requested_at
        assert round(queued.total_seconds() * 1000) == call.queue_time_ms
    assert [row["call_sid"] for row in published] == sids
    assert published[1]["dialed_at"] == dials[1].dialed_at.isoformat()
    assert published[2]["dial_slot"] == dials[2].dial_slot
