"""Human labels for every code the console shows: one function per vocabulary.

Codes are stored and sent over the API as they are; people read these labels. A code this
module does not know yet is shown readable ("some_new_code" reads "Some new code") rather
than raw, so a new code never breaks a page, but it belongs in the table here.
"""

from calls.models import CallStatus, CostComponent
from campaigns.compliance.decision import Reason
from campaigns.models import Campaign, PauseReason, Target

OUTCOMES = {
    "confirmed": "Confirmed",
    "declined": "Declined",
    "reschedule_requested": "Asked to reschedule",
    "wrong_person": "Wrong person",
    "callback_requested": "Asked to be called back",
    "other": "Other answer",
    "opted_out": "Opted out",
    "voicemail": "Voicemail",
    "transferred": "Transferred to a person",
    "survey_completed": "Survey completed",
    "survey_partial": "Survey partly answered",
    "no_outcome": "No outcome",
}

# Why a target is waiting or closed: the compliance engine's reasons, the retry policy's
# keys (how the last attempt ended) and the lifecycle's own.
REASONS = {
    Reason.NO_CONSENT: "No consent on record",
    Reason.CONSENT_REVOKED: "Consent revoked",
    Reason.SUPPRESSED: "On the suppression list",
    Reason.NATIONAL_DNC: "On the national Do-Not-Call registry",
    Reason.STATE_DNC: "On a state Do-Not-Call registry",
    Reason.STALE_REGISTRY: "Do-Not-Call registry copy out of date",
    Reason.UNKNOWN_LOCATION: "Callee's location unknown",
    Reason.BAD_CALLER_ID: "Caller ID not usable",
    Reason.ABANDON_RATE: "Abandon rate too high",
    Reason.OUTSIDE_HOURS: "Outside calling hours",
    Reason.DAY_NOT_ALLOWED: "Calling not allowed on this day",
    Reason.HOLIDAY: "Public holiday",
    Reason.FREQUENCY_CAP: "Called too often recently",
    Reason.CAMPAIGN_WINDOW: "Outside the campaign's dates",
    Reason.BUDGET: "Budget exhausted",
    "max_attempts": "No attempts left",
    "busy": "Line busy",
    "no_answer": "No answer",
    "failed": "Call failed",
    "voicemail": "Reached voicemail",
    "no_outcome": "Call ended without an outcome",
    "callback": "Asked to be called back",
    "campaign_ended": "Campaign ended",
    "campaign_cancelled": "Campaign cancelled",
    "campaign_paused": "Campaign paused",
    "campaign_draft": "Campaign not launched",
    "campaign_completed": "Campaign completed",
    "carrier_timeout": "Carrier did not answer the dial request",
    "carrier_unavailable": "Carrier unavailable",
    "dial_interrupted": "Dialling interrupted",
}

CALL_STATUSES = dict(CallStatus.choices)
TARGET_STATUSES = {
    Target.Status.PENDING: "Waiting",
    Target.Status.CALLING: "Calling",
    Target.Status.DONE: "Done",
    Target.Status.CLOSED: "Closed",
}
CAMPAIGN_STATUSES = dict(Campaign.Status.choices)
PAUSE_REASONS = dict(PauseReason.choices)
COST_COMPONENTS = dict(CostComponent.choices)

ANSWERED_BY = {
    "human": "A person",
    "machine_start": "Answering machine",
    "machine_end_beep": "Answering machine (after the beep)",
    "machine_end_silence": "Answering machine (silence)",
    "machine_end_other": "Answering machine",
    "fax": "Fax machine",
    "unknown": "Not determined",
}

# Why a call ended, as the bridge, the dialler and the lifecycle record it.
HANGUP_REASONS = {
    "agent_ended": "The agent ended the call",
    "opted_out": "The callee opted out",
    "voicemail": "Voicemail",
    "transferred": "Transferred to a person",
    "model_unavailable": "The voice model was unavailable",
    "cost_cap": "The call's cost cap was reached",
    "max_duration": "The maximum call length was reached",
    "requested": "Ended on request",
    "ended_by_operator": "Ended by an operator",
    "unknown_at_carrier": "Unknown to the carrier",
    Reason.BUDGET: "Budget exhausted",
    "campaign_paused": "Campaign paused",
    "campaign_cancelled": "Campaign cancelled",
    "carrier_timeout": "Carrier did not answer the dial request",
    "carrier_unavailable": "Carrier unavailable",
    "dial_interrupted": "Dialling interrupted",
}


def _readable(code: str) -> str:
    return code.replace("_", " ").replace(".", " ").strip().capitalize()


def _label(table: dict, code: str | None, *, empty: str) -> str:
    if not code:
        return empty
    label = table.get(code)
    return label if label is not None else _readable(str(code))


def _carrier_rejection(code: str) -> str | None:
    if code.startswith("carrier_rejected_"):
        return f"Carrier refused the number (error {code.removeprefix('carrier_rejected_')})"
    return None


def outcome_label(code: str | None) -> str:
    """What the call (or the target's latest call) achieved."""
    return _label(OUTCOMES, code, empty="No outcome yet")


def reason_label(code: str | None) -> str:
    """Why a target waits or was closed, or why a call was not placed."""
    if code and (rejection := _carrier_rejection(code)):
        return rejection
    return _label(REASONS, code, empty="—")


def call_status_label(code: str | None) -> str:
    return _label(CALL_STATUSES, code, empty="—")


def target_status_label(code: str | None) -> str:
    return _label(TARGET_STATUSES, code, empty="—")


def campaign_status_label(code: str | None) -> str:
    return _label(CAMPAIGN_STATUSES, code, empty="—")


def pause_reason_label(code: str | None) -> str:
    return _label(PAUSE_REASONS, code, empty="—")


def answered_by_label(code: str | None) -> str:
    """Who picked up, as the carrier's answering-machine detection reported it."""
    return _label(ANSWERED_BY, code, empty="Not reported")


def cost_component_label(code: str | None) -> str:
    return _label(COST_COMPONENTS, code, empty="—")


def hangup_reason_label(code: str | None) -> str:
    if code and (rejection := _carrier_rejection(code)):
        return rejection
    return _label(HANGUP_REASONS, code, empty="—")


def vocabularies() -> dict[str, dict[str, str]]:
    """The tables pages need in the browser (live updates label what the socket pushes)."""
    return {
        "outcomes": dict(OUTCOMES),
        "campaign_statuses": {str(code): label for code, label in CAMPAIGN_STATUSES.items()},
        "target_statuses": {str(code): label for code, label in TARGET_STATUSES.items()},
    }
