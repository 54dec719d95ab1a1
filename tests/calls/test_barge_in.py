"""The barge-in rule: which words over the agent are only an acknowledgement, and how long
speech lasted by the model's VAD events."""

import pytest

from agents.models import default_turn_detection
from calls.barge_in import BargeInPolicy


def policy(*, language="en", turn_detection=None, mode="ignore_backchannels", min_speech_ms=600):
    return BargeInPolicy.for_agent(
        mode=mode,
        min_speech_ms=min_speech_ms,
        turn_detection=turn_detection or default_turn_detection(),
        language=language,
    )


@pytest.mark.parametrize(
    "transcript",
    [
        "okay",
        "Okay.",
        "Mm-hm.",
        "uh-huh",
        "Uh huh.",
        "Yes, yes.",
        "I see.",
        "Got it.",
        "Right.",
        "",
    ],
)
def test_it_lets_acknowledgements_and_noise_pass(transcript):
    assert policy().is_backchannel(transcript)


@pytest.mark.parametrize(
    "transcript",
    ["No.", "Wait.", "Stop.", "Yes but I cannot make it.", "okay okay okay okay", "What?"],
)
def test_it_counts_other_words_as_an_interruption(transcript):
    assert not policy().is_backchannel(transcript)


def test_it_reads_acknowledgements_in_the_agents_language():
    assert policy(language="es").is_backchannel("Sí, vale.")
    assert not policy(language="es").is_backchannel("No puedo.")
    assert policy(language="fr-CA").is_backchannel("D'accord.")


def test_a_language_without_a_list_is_decided_by_duration_alone():
    assert policy(language="ja").is_backchannel("いいえ、違います")


def test_it_measures_the_sound_between_the_vads_padding_and_silence_window():
    rule = policy()  # prefix padding 300 ms, silence window 500 ms
    assert rule.speech_ms(audio_start_ms=700, audio_end_ms=2124) == 624
    assert rule.is_long_enough(624)
    assert not rule.is_long_enough(rule.speech_ms(audio_start_ms=700, audio_end_ms=1924))
    assert rule.proof_wait_ms() == 600 + 500 + 100


def test_semantic_vad_has_no_fixed_window_to_measure_with():
    rule = policy(turn_detection={"type": "semantic_vad", "eagerness": "low"})
    assert rule.speech_ms(audio_start_ms=0, audio_end_ms=5000) is None
    assert not rule.is_long_enough(None)


def test_immediate_mode_is_read_from_the_agent():
    assert policy(mode="immediate").is_immediate
    assert not policy().is_immediate
