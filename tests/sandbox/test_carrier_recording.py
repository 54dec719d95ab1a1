"""Recordings of calls created with Record=true: two channels, the recording status
callback, the audio behind basic auth at the Recordings URL, and DELETE."""

import io
import wave

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from sandbox.carrier import Carrier, Timing
from sandbox.carrier.webhook_sink import WebhookSink

OWNED = "+15005550006"
QUICK = Timing(dial=0.02, answer=0.05, busy=0.02, failed=0.02)
SAY = "<Response><Say>Hello, this call is recorded.</Say><Hangup/></Response>"


@pytest.fixture
def sink():
    with WebhookSink() as sink:
        yield sink


@pytest.fixture
def carrier(tmp_path):
    with Carrier(numbers=[OWNED], calls_per_second=50, timing=QUICK, recording_dir=tmp_path) as c:
        yield c


def place_recorded(carrier, sink, to="+15551230000", **options):
    sink.respond("answer", SAY)
    created = carrier.twilio_client().calls.create(
        to=to,
        from_=OWNED,
        url=sink.url("answer"),
        record=True,
        recording_status_callback=sink.url("recording"),
        recording_status_callback_event=["completed", "absent"],
        **options,
    )
    carrier.wait_for_call(created.sid)
    return created


def test_it_records_both_sides_on_two_channels_and_announces_the_recording(carrier, sink):
    created = place_recorded(carrier, sink, recording_channels="dual")

    [callback] = sink.requests_to("recording")
    params = callback.params
    assert params["CallSid"] == created.sid
    assert params["RecordingStatus"] == "completed"
    assert params["RecordingChannels"] == "2"
    assert params["RecordingSid"].startswith("RE")
    assert params["RecordingUrl"] == carrier.recording_url(params["RecordingSid"])
    assert int(params["RecordingDuration"]) >= 1
    assert RequestValidator(carrier.auth_token).validate(callback.url, params, callback.signature)

    audio = requests.get(
        params["RecordingUrl"] + ".wav", auth=(carrier.account_sid, carrier.auth_token), timeout=5
    )
    assert audio.status_code == 200
    assert audio.headers["Content-Type"] == "audio/x-wav"
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, 8000, 2)
        heard = wav.readframes(wav.getnframes())[2::4]  # the second channel's samples
    assert any(heard), "the second channel carries what the callee heard"


def test_its_recording_needs_the_accounts_credentials_and_can_be_deleted(carrier, sink):
    place_recorded(carrier, sink)
    url = sink.requests_to("recording")[0].params["RecordingUrl"]
    sid = url.rsplit("/", 1)[1]

    anonymous = requests.get(url + ".wav", timeout=5)
    wrong = requests.get(url + ".wav", auth=(carrier.account_sid, "guess"), timeout=5)
    assert [anonymous.status_code, wrong.status_code] == [401, 401]

    assert carrier.twilio_client().recordings(sid).delete() is True
    gone = requests.get(url + ".wav", auth=(carrier.account_sid, carrier.auth_token), timeout=5)
    assert gone.status_code == 404
    with pytest.raises(TwilioRestException) as deleted_twice:
        carrier.twilio_client().recordings(sid).delete()
    assert deleted_twice.value.code == 20404


def test_an_unanswered_call_reports_its_recording_absent(carrier, sink):
    carrier.assign_persona("+15551239999", "busy")
    place_recorded(carrier, sink, to="+15551239999")

    [callback] = sink.requests_to("recording")
    assert callback.params["RecordingStatus"] == "absent"
    assert carrier.recordings == {}


def test_a_call_without_record_has_no_recording(carrier, sink):
    sink.respond("answer", SAY)
    created = carrier.twilio_client().calls.create(
        to="+15551230000", from_=OWNED, url=sink.url("answer")
    )
    carrier.wait_for_call(created.sid)

    assert carrier.recordings == {}
    assert sink.requests_to("recording") == []


def test_a_start_recording_verb_records_the_call_as_its_twiml_asks(carrier, sink):
    callback = sink.url("recording")
    sink.respond(
        "answer",
        f'<Response><Start><Recording recordingChannels="dual" recordingStatusCallback="{callback}"'
        ' recordingStatusCallbackEvent="completed absent"/></Start>'
        "<Say>Hello.</Say><Hangup/></Response>",
    )
    created = carrier.twilio_client().calls.create(
        to="+15551230000", from_=OWNED, url=sink.url("answer")
    )
    carrier.wait_for_call(created.sid)

    [announced] = sink.requests_to("recording")
    assert announced.params["RecordingSource"] == "StartCallRecordingTwiML"
    assert announced.params["RecordingChannels"] == "2"
    assert announced.params["RecordingSid"] in carrier.recordings
