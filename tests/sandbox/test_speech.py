import subprocess
import sys
import warnings

import numpy as np
import pytest
import soxr

from sandbox import phrases, speech

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

SENTENCE = "Yes, I will be there."
SENTENCE_WORDS = ["yes", "i", "will", "be", "there"]
VOCABULARY = [*SENTENCE_WORDS, "no", "cannot", "stop", "robot", "reschedule", "week", "seven"]


def heard_words(audio, vocabulary=VOCABULARY):
    return [word for word, _ in speech.recognize(audio, vocabulary)]


def test_it_recognizes_every_word_of_a_synthesized_sentence():
    assert heard_words(speech.synthesize(SENTENCE)) == SENTENCE_WORDS


def test_it_recognizes_words_in_20ms_frames_taken_at_an_arbitrary_offset():
    # A listener receives a stream of 20 ms frames and cuts its own segment out of it,
    # starting wherever its frame boundary happens to fall.
    stream = speech.silence(1000) + speech.synthesize(SENTENCE) + speech.silence(700)
    offset = 733
    frames = [stream[i : i + 160] for i in range(offset, len(stream), 160)]
    segment = speech.silence(13) + b"".join(frames[:-2])

    heard = speech.recognize(segment, VOCABULARY)

    assert [word for word, _ in heard] == SENTENCE_WORDS
    first_word_at = 13 + (8000 - offset) // 8
    assert heard[0][1] == first_word_at


def test_it_reports_where_each_word_starts():
    audio = speech.silence(500) + speech.synthesize("Stop.") + speech.silence(300)
    audio += speech.synthesize("Robot.")

    heard = speech.recognize(audio, VOCABULARY)

    stop_ms = speech.duration_ms(speech.word_audio("stop"))
    assert heard == [("stop", 500), ("robot", 500 + stop_ms + 300)]


def test_it_does_not_hear_words_that_were_not_spoken():
    heard = heard_words(speech.synthesize("Can we reschedule to next week?"))

    assert "yes" not in heard
    assert "stop" not in heard
    assert heard == ["reschedule", "week"]


def test_it_hears_nothing_in_silence():
    assert speech.recognize(speech.silence(2000), VOCABULARY) == []


def test_it_hears_words_after_a_round_trip_through_24khz_pcm():
    samples = speech.ulaw_to_pcm16(speech.synthesize(SENTENCE)).astype(np.float64)
    wideband = soxr.resample(samples, 8000, 24000)
    narrowband = soxr.resample(wideband, 24000, 8000)

    assert heard_words(speech.pcm16_to_ulaw(np.round(narrowband))) == SENTENCE_WORDS


def test_it_synthesizes_the_same_bytes_for_the_same_text():
    first = speech.synthesize(SENTENCE)
    speech.synthesize("Something else entirely, to disturb any state.")

    assert speech.synthesize(SENTENCE) == first
    assert speech.synthesize("yes i WILL be there") == first.replace(
        speech.silence(speech.PUNCTUATION_GAP_MS), speech.silence(speech.WORD_GAP_MS)
    )


def test_it_synthesizes_the_same_bytes_in_a_fresh_process():
    script = (
        "import sys; from sandbox import speech; "
        "speech.synthesize('Hello there, robot.'); "
        f"sys.stdout.buffer.write(speech.synthesize({SENTENCE!r}))"
    )
    other_process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, timeout=60
    )

    assert other_process.stdout == speech.synthesize(SENTENCE)


def test_it_separates_words_by_short_silences_and_keeps_sentences_under_vad_gaps():
    audio = speech.synthesize(SENTENCE)

    assert speech.silence(speech.PUNCTUATION_GAP_MS) in audio
    assert speech.silence(speech.PUNCTUATION_GAP_MS + 1) not in audio
    assert speech.PUNCTUATION_GAP_MS < 500
    assert audio[0] != speech.ULAW_SILENCE
    assert audio[-1] != speech.ULAW_SILENCE


def test_it_decodes_ulaw_exactly_as_g711():
    every_code = bytes(range(256))
    reference = np.frombuffer(audioop.ulaw2lin(every_code, 2), dtype=np.int16)

    assert np.array_equal(speech.ulaw_to_pcm16(every_code), reference)


def test_it_encodes_ulaw_exactly_as_g711():
    samples = np.arange(-32768, 32768, dtype=np.int16)

    assert speech.pcm16_to_ulaw(samples) == audioop.lin2ulaw(samples.tobytes(), 2)


def test_it_encodes_silence_as_ulaw_ff():
    assert speech.silence(20) == b"\xff" * 160
    assert speech.pcm16_to_ulaw(np.zeros(3, dtype=np.int16)) == b"\xff\xff\xff"


@pytest.mark.parametrize("intent", sorted(phrases.CALLER_PHRASES))
def test_it_understands_each_caller_phrase_from_its_audio(intent):
    audio = speech.silence(300) + speech.synthesize(phrases.CALLER_PHRASES[intent])

    heard = heard_words(audio, phrases.CALLER_VOCABULARY)

    assert phrases.caller_intent(heard) == intent


def test_it_reads_a_partly_heard_confirmation_as_a_confirmation():
    assert phrases.caller_intent(["yes", "will", "be", "there"]) == "confirm"


def test_it_reads_a_lone_no_as_no_rather_than_a_decline():
    assert phrases.caller_intent(["no"]) == "no"


def test_it_finds_no_intent_in_unrelated_words():
    assert phrases.caller_intent(["week"]) is None
    assert phrases.caller_intent([]) is None


def test_it_hears_the_agent_cues_in_an_opening():
    opening = (
        "Hello, this is an automated assistant calling on behalf of Acme Dental. "
        "This call may be recorded. To stop these calls, say stop or press 9."
    )

    heard = heard_words(speech.synthesize(opening), phrases.AGENT_VOCABULARY)

    assert phrases.agent_cues(heard) == {"disclosure", "opt_out_offer"}


def test_it_hears_a_goodbye_and_nothing_else_in_a_farewell():
    heard = heard_words(speech.synthesize("Thank you, goodbye!"), phrases.AGENT_VOCABULARY)

    assert phrases.agent_cues(heard) == {"goodbye"}
