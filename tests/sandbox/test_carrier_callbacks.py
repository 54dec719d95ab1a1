"""Status, answer and answering-machine-detection webhooks, and their Twilio signatures."""

import pytest
from twilio.request_validator import RequestValidator

from sandbox import phrases, speech
from sandbox.carrier import Carrier, Timing
from sandbox.carrier.callbacks import twilio_signature
from sandbox.carrier.webhook_sink import WebhookSink

OWNED = "+15005550006"
QUICK = Timing(dial=0.02, answer=0.05, busy=0.02, failed=0.02)
ALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


@pytest.fixture
def sink():
    with WebhookSink() as sink:
        yield sink


@pytest.fixture
def carrier(tmp_path):
    with Carrier(numbers=[OWNED], calls_per_second=50, timing=QUICK, recording_dir=tmp_path) as c:
        yield c


def place(carrier, sink, to, **options):
    return carrier.twilio_client().calls.create(
        to=to,
        from_=OWNED,
        url=sink.url("answer"),
        status_callback=sink.url("status"),
        status_callback_event=ALL_EVENTS,
        **options,
    )


def test_it_posts_the_status_sequence_of_an_answered_call(carrier, sink):
    sink.respond("answer", "<Response><Say>Hello.</Say><Hangup/></Response>")

    created = place(carrier, sink, "+15551230000")
    carrier.wait_for_call(created.sid)

    statuses = sink.requests_to("status")
    assert [r.params["CallStatus"] for r in statuses] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert [r.params["SequenceNumber"] for r in statuses] == ["0", "1", "2", "3"]
    for request in statuses:
        assert request.params["CallSid"] == created.sid
        assert request.params["AccountSid"] == carrier.account_sid
        assert request.params["From"] == OWNED
        assert request.params["To"] == "+15551230000"
        assert request.params["Direction"] == "outbound-api"
        assert request.params["ApiVersion"] == "2010-04-01"
        assert request.params["CallbackSource"] == "call-progress-events"
        assert request.params["Timestamp"].endswith("+0000")
    assert "AnsweredBy" not in statuses[-1].params
    assert int(statuses[-1].params["CallDuration"]) >= 0
    assert statuses[-1].params["Duration"] in {"0", "1"}
    [answer] = sink.requests_to("answer")
    assert answer.params["CallStatus"] == "in-progress"
    assert answer.params["CallSid"] == created.sid


def test_it_signs_every_webhook_so_that_twilios_validator_accepts_it(carrier, sink):
    sink.respond("answer", "<Response><Hangup/></Response>")

    created = place(carrier, sink, "+15551230000")
    carrier.wait_for_call(created.sid)

    validator = RequestValidator(carrier.auth_token)
    assert len(sink.received) == 5
    for request in sink.received:
        assert validator.validate(request.url, request.params, request.signature)


def test_twilios_validator_rejects_a_webhook_with_a_tampered_parameter(carrier, sink):
    sink.respond("answer", "<Response><Hangup/></Response>")
    created = place(carrier, sink, "+15551230000")
    carrier.wait_for_call(created.sid)
    [answer] = sink.requests_to("answer")

    tampered = {**answer.params, "To": "+15559999999"}

    validator = RequestValidator(carrier.auth_token)
    assert not validator.validate(answer.url, tampered, answer.signature)
    assert not RequestValidator("another-token").validate(
        answer.url, answer.params, answer.signature
    )


def test_it_signs_get_webhooks_over_the_url_with_its_query():
    url = "https://example.com/answer?CallSid=CA1&To=%2B15551230000"

    signature = twilio_signature("token", url)

    assert RequestValidator("token").validate(url, {}, signature)


def test_it_sends_only_the_completed_event_when_no_events_are_requested(carrier, sink):
    sink.respond("answer", "<Response><Hangup/></Response>")

    created = carrier.twilio_client().calls.create(
        to="+15551230000", from_=OWNED, url=sink.url("answer"), status_callback=sink.url("status")
    )
    carrier.wait_for_call(created.sid)

    assert [r.params["CallStatus"] for r in sink.requests_to("status")] == ["completed"]


@pytest.mark.parametrize(
    ("to", "terminal", "events"),
    [
        ("+15551230010", "no-answer", ["initiated", "ringing", "no-answer"]),
        ("+15551230011", "busy", ["initiated", "busy"]),
        ("+15551230012", "failed", ["initiated", "failed"]),
    ],
)
def test_it_ends_unanswered_calls_as_their_persona_decides(carrier, sink, to, terminal, events):
    created = place(carrier, sink, to, timeout=1)
    call = carrier.wait_for_call(created.sid)

    assert call.status == terminal
    assert [r.params["CallStatus"] for r in sink.requests_to("status")] == events
    assert sink.requests_to("status")[-1].params["CallDuration"] == "0"
    assert sink.requests_to("answer") == []
    assert call.recording_paths == {}


def test_it_reports_a_voicemail_greeting_and_beep_through_async_detection(carrier, sink):
    sink.respond("answer", '<Response><Pause length="60"/></Response>')

    created = place(
        carrier,
        sink,
        "+15551230008",
        machine_detection="DetectMessageEnd",
        async_amd="true",
        async_amd_status_callback=sink.url("amd"),
    )
    [amd] = sink.wait_for("amd")
    voicemail = "<Response><Say>Please call us back.</Say><Hangup/></Response>"
    carrier.twilio_client().calls(created.sid).update(twiml=voicemail)
    call = carrier.wait_for_call(created.sid)

    assert call.played_audio == speech.synthesize("Please call us back.")
    assert call.hung_up_by == "twiml-hangup"
    assert amd.params["AnsweredBy"] == "machine_end_beep"
    assert amd.params["CallSid"] == created.sid
    assert RequestValidator(carrier.auth_token).validate(amd.url, amd.params, amd.signature)
    greeting = speech.synthesize(phrases.CALLER_PHRASES["voicemail"])
    # Detection reports the end of the beep, after the whole greeting.
    assert int(amd.params["MachineDetectionDuration"]) > speech.duration_ms(greeting)
    assert bytes(call.caller_audio).startswith(greeting)
    assert call.answered_by == "machine_end_beep"
    assert sink.requests_to("status")[-1].params["AnsweredBy"] == "machine_end_beep"
    # The answer webhook came before detection finished: it is asynchronous.
    assert "AnsweredBy" not in sink.requests_to("answer")[0].params


def test_it_reports_a_person_through_async_detection(carrier, sink):
    sink.respond("answer", '<Response><Pause length="60"/></Response>')

    created = place(
        carrier,
        sink,
        "+15551230000",
        machine_detection="Enable",
        async_amd="true",
        async_amd_status_callback=sink.url("amd"),
    )
    [amd] = sink.wait_for("amd")
    carrier.twilio_client().calls(created.sid).update(status="completed")
    carrier.wait_for_call(created.sid)

    assert amd.params["AnsweredBy"] == "human"
    assert sink.requests_to("status")[-1].params["AnsweredBy"] == "human"


def test_it_holds_the_answer_webhook_until_synchronous_detection_is_done(carrier, sink):
    sink.respond("answer", "<Response><Hangup/></Response>")

    created = place(carrier, sink, "+15551230008", machine_detection="Enable")
    carrier.wait_for_call(created.sid)

    [answer] = sink.requests_to("answer")
    assert answer.params["AnsweredBy"] == "machine_start"
    assert sink.requests_to("amd") == []


def test_it_ends_the_call_when_the_answer_url_fails(carrier, sink):
    sink.respond("answer", "oops", status=500, content_type="text/plain")

    created = place(carrier, sink, "+15551230000")
    call = carrier.wait_for_call(created.sid)

    assert call.status == "completed"
    assert call.hung_up_by == "app-error"
    assert [r.params["CallStatus"] for r in sink.requests_to("status")][-1] == "completed"


def test_it_places_an_inbound_call_through_the_numbers_voice_url(carrier, sink):
    carrier.add_number("+15005550001", sink.url("voice"))
    sink.respond("voice", "<Response><Say>Thanks for calling.</Say><Hangup/></Response>")

    sid = carrier.place_inbound_call("+15551230000", "+15005550001")
    call = carrier.wait_for_call(sid)

    [voice] = sink.requests_to("voice")
    assert voice.params["Direction"] == "inbound"
    assert voice.params["CallStatus"] == "ringing"
    assert voice.params["From"] == "+15551230000"
    assert voice.params["To"] == "+15005550001"
    assert RequestValidator(carrier.auth_token).validate(voice.url, voice.params, voice.signature)
    assert call.status == "completed"
    assert call.direction == "inbound"
    assert call.played_audio == speech.synthesize("Thanks for calling.")
