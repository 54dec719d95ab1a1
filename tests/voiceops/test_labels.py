"""Every code the console shows has a human label written for it, not a guess."""

import pytest

from agents.tools import OUTCOMES
from calls.analysis import COMMON_OUTCOMES, SURVEY_OUTCOMES
from calls.models import CallStatus, CostComponent
from calls.outcomes import FINAL_OUTCOMES
from campaigns.compliance.decision import Reason, Verdict
from campaigns.compliance.evaluation import COMMON_INSTANT
from campaigns.compliance.rules import RULES
from campaigns.models import PauseReason, Target
from voiceops import labels


@pytest.mark.parametrize(
    "code", sorted({*OUTCOMES, *COMMON_OUTCOMES, *SURVEY_OUTCOMES, *FINAL_OUTCOMES, "no_outcome"})
)
def test_it_labels_every_outcome_the_calls_record(code):
    assert code in labels.OUTCOMES
    assert "_" not in labels.outcome_label(code)


# Each rule answers under its function's name (the explanation page lists them all).
@pytest.mark.parametrize(
    ("table", "label", "code"),
    [
        *[(labels.REASONS, labels.reason_label, reason.value) for reason in Reason],
        *[(labels.COMPLIANCE_RULES, labels.rule_label, rule.__name__) for rule in RULES],
        (labels.COMPLIANCE_RULES, labels.rule_label, COMMON_INSTANT),
    ],
)
def test_it_labels_every_compliance_reason_and_rule(table, label, code):
    assert code in table
    assert "_" not in label(code)


@pytest.mark.parametrize("verdict", list(Verdict))
def test_it_labels_every_verdict(verdict):
    assert verdict.value in labels.VERDICTS
    assert labels.verdict_label(verdict.value) != verdict.value


def test_it_explains_retry_keys_and_lifecycle_reasons_in_words():
    assert labels.reason_label("busy") == "Line busy"
    assert labels.reason_label("outside_hours") == "Outside calling hours"
    assert labels.reason_label("max_attempts") == "No attempts left"
    assert labels.reason_label("carrier_rejected_21211") == (
        "Carrier refused the number (error 21211)"
    )


@pytest.mark.parametrize(
    ("vocabulary", "function"),
    [
        (CallStatus, labels.call_status_label),
        (Target.Status, labels.target_status_label),
        (PauseReason, labels.pause_reason_label),
        (CostComponent, labels.cost_component_label),
    ],
)
def test_it_labels_every_stored_choice(vocabulary, function):
    for code in vocabulary.values:
        assert "_" not in function(code), code


def test_it_reads_answering_machine_detection_in_words():
    assert labels.answered_by_label("human") == "A person"
    assert labels.answered_by_label("machine_end_beep") == "Answering machine (after the beep)"
    assert labels.answered_by_label("") == "Not reported"


def test_an_unknown_code_still_reads_as_words():
    assert labels.outcome_label("brand_new_code") == "Brand new code"
    assert labels.outcome_label("") == "No outcome yet"
