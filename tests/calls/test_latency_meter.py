"""The bridge's latency bookkeeping on a given clock: where the caller's end of speech falls,
which agent item answers it, when the carrier started playing, and the 2-second rule."""

from calls.latency_meter import LatencyMeter


def meter_with_frames(*, silence_window_ms=0, frames=100, start=10.0):
    """A call answered at `start` whose caller audio arrived in real time (20 ms frames)."""
    meter = LatencyMeter(answered_at=start, silence_window_ms=silence_window_ms)
    for index in range(1, frames + 1):
        meter.heard(heard_ms=20 * index, at=start + 0.02 * index)
    return meter


def test_the_end_of_speech_is_placed_when_its_audio_arrived_less_the_vad_silence():
    meter = meter_with_frames(silence_window_ms=500)
    # The caller fell silent at 1000 ms of audio (10 s + 1 s); the model, waiting for its
    # 500 ms of silence, said so at 1500 ms, and the event reached the bridge at 11.7 s.
    meter.speech_ended(call_ms=1500, at=11.7)
    meter.audio_sent(item_id="item_answer", at=12.2)

    assert meter.turn("item_answer").sent_ms == 1200


def test_the_greeting_answers_no_one_and_only_the_first_item_after_speech_does():
    meter = meter_with_frames()
    meter.audio_sent(item_id="item_greeting", at=10.3)
    meter.speech_ended(call_ms=1000, at=11.1)
    meter.audio_sent(item_id="item_answer", at=11.5)
    meter.audio_sent(item_id="item_more", at=12.5)

    assert meter.turn("item_greeting") is None
    assert meter.turn("item_answer").sent_ms == 500
    assert meter.turn("item_more") is None
    assert meter.first_audio_sent_ms == 300


def test_the_callers_last_end_of_speech_before_the_answer_counts():
    meter = meter_with_frames()
    meter.speech_ended(call_ms=600, at=10.7)
    meter.speech_ended(call_ms=1400, at=11.5)
    meter.audio_sent(item_id="item_answer", at=11.8)

    assert meter.turn("item_answer").sent_ms == 400


def test_playback_starts_one_chunk_before_its_echo_but_never_before_it_was_sent():
    meter = meter_with_frames()
    meter.audio_sent(item_id="item_greeting", at=10.2)
    meter.speech_ended(call_ms=1000, at=11.1)
    meter.audio_sent(item_id="item_answer", at=11.4)

    # The greeting's first 100 ms chunk was echoed at once: it played as it was sent.
    meter.audio_played(item_id="item_greeting", chunk_ms=100, sent_at=10.2, at=10.25)
    # The answer queued behind the greeting: its first chunk's echo came at 12.0.
    meter.audio_played(item_id="item_answer", chunk_ms=100, sent_at=11.4, at=12.0)
    meter.audio_played(item_id="item_answer", chunk_ms=100, sent_at=11.4, at=12.1)

    assert meter.first_audio_played_ms == 200
    assert meter.turn("item_answer").played_ms == 900


def test_first_audio_later_than_two_seconds_or_none_breaks_the_rule():
    on_time, late, silent = (LatencyMeter(answered_at=0.0) for _ in range(3))
    on_time.audio_sent(item_id="item_a", at=2.0)
    late.audio_sent(item_id="item_a", at=2.001)

    assert not on_time.is_first_audio_late
    assert late.is_first_audio_late
    assert silent.is_first_audio_late


def test_the_summary_holds_nearest_rank_percentiles_of_the_turns():
    meter = meter_with_frames(frames=600)
    for index in range(10):
        ended = 1000 * (index + 1)
        meter.speech_ended(call_ms=ended, at=10 + ended / 1000)
        meter.audio_sent(item_id=f"item_{index}", at=10 + ended / 1000 + 0.1 * (index + 1))

    summary = meter.summary()

    assert summary["turn_latency"]["turns"] == 10
    assert summary["turn_latency"]["sent"] == {"p50": 500, "p90": 900, "p99": 1000, "max": 1000}
    assert summary["turn_latency"]["played"] == {"p50": None, "p90": None, "p99": None, "max": None}
