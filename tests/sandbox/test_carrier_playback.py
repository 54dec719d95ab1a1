"""The playback queue behind a Media Stream, and the TwiML the carrier understands."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.carrier import twiml
from sandbox.carrier.playback import PlaybackQueue


def test_it_echoes_a_mark_once_the_audio_before_it_has_played():
    queue = PlaybackQueue()
    queue.enqueue(b"a" * 400)

    assert queue.add_mark("after-a") == []
    assert queue.play_frame() == (b"a" * 160, [])
    assert queue.play_frame() == (b"a" * 160, [])
    assert queue.play_frame() == (b"a" * 80, ["after-a"])
    assert queue.play_frame() == (b"", [])


def test_it_echoes_a_mark_at_once_when_nothing_is_queued():
    assert PlaybackQueue().add_mark("now") == ["now"]


def test_clear_drops_unplayed_audio_and_returns_every_pending_mark():
    queue = PlaybackQueue()
    queue.enqueue(b"a" * 320)
    queue.add_mark("a")
    queue.enqueue(b"b" * 320)
    queue.add_mark("b")
    queue.play_frame()

    assert queue.clear() == (480, ["a", "b"])
    assert queue.play_frame() == (b"", [])
    queue.enqueue(b"c" * 10)
    assert queue.add_mark("c") == []
    assert queue.play_frame() == (b"c" * 10, ["c"])


operations = st.lists(
    st.one_of(
        st.tuples(st.just("enqueue"), st.integers(min_value=1, max_value=700)),
        st.tuples(st.just("mark"), st.none()),
        st.tuples(st.just("play"), st.none()),
        st.tuples(st.just("clear"), st.none()),
    ),
    max_size=60,
)


@given(operations)
def test_every_mark_comes_back_once_in_order_and_no_byte_is_lost(steps):
    queue = PlaybackQueue()
    sent, echoed, enqueued, played, cleared = [], [], 0, 0, 0
    for operation, size in steps:
        if operation == "enqueue":
            queue.enqueue(bytes(size))
            enqueued += size
        elif operation == "mark":
            sent.append(f"m{len(sent)}")
            echoed += queue.add_mark(sent[-1])
        elif operation == "play":
            audio, due = queue.play_frame()
            played += len(audio)
            echoed += due
        else:
            dropped, due = queue.clear()
            cleared += dropped
            echoed += due
    dropped, due = queue.clear()
    echoed += due + queue.add_mark("last")
    cleared += dropped

    assert echoed == [*sent, "last"]
    assert played + cleared == enqueued


def test_it_reads_a_connect_stream_document_with_parameters():
    verbs = twiml.parse(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
        '<Stream url="wss://example.com/media/abc"><Parameter name="token" value="t1"/>'
        "</Stream></Connect><Say>Bye.</Say><Hangup/></Response>"
    )

    assert verbs == [
        twiml.Connect(twiml.Stream(url="wss://example.com/media/abc", parameters={"token": "t1"})),
        twiml.Say("Bye."),
        twiml.Hangup(),
    ]


def test_it_resolves_relative_urls_against_the_document_url():
    verbs = twiml.parse(
        '<Response><Connect><Stream url="/media"/></Connect><Redirect>/next</Redirect></Response>',
        base_url="http://127.0.0.1:8000/answer",
    )

    assert verbs == [
        twiml.Connect(twiml.Stream(url="ws://127.0.0.1:8000/media")),
        twiml.Redirect("http://127.0.0.1:8000/next"),
    ]


def test_it_reads_a_dial_to_a_number_in_either_form():
    assert twiml.parse("<Response><Dial>+15557654321</Dial></Response>") == [
        twiml.Dial("+15557654321")
    ]
    assert twiml.parse("<Response><Dial><Number>+15557654321</Number></Dial></Response>") == [
        twiml.Dial("+15557654321")
    ]


@pytest.mark.parametrize(
    "document",
    [
        "not xml",
        "<Html/>",
        '<Response><Connect><Stream url="http://example.com/media"/></Connect></Response>',
        "<Response><Dial/></Response>",
    ],
)
def test_it_refuses_documents_it_cannot_run(document):
    with pytest.raises(twiml.TwimlError):
        twiml.parse(document)
