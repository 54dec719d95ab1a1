"""Human labels for every code the console shows: one function per vocabulary.

Codes are stored and sent over the API as they are; people read these labels. A code this
module does not know yet is shown readable ("some_new_code" reads "Some new code") rather
than raw, so a new code never breaks a page, but it belongs in the table here.
"""

import json

from agents.models import Tool
from calls.models import CallStatus, CostComponent
from campaigns.compliance.decision import Reason, Verdict
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
    "fax": "Fax machine",
    "call_screening": "Call screener: nobody picked up",
    "over_capacity": "Heard the busy message",
    "no_outcome": "No outcome",
}

# What the compliance engine decided about calling a number now.
VERDICTS = {
    Verdict.ALLOW: "Allowed",
    Verdict.DEFER: "Not yet: call later",
    Verdict.DENY: "Refused",
}

# The compliance engine's rules, by the names `campaigns/compliance/rules.py` gives them.
COMPLIANCE_RULES = {
    "location": "Callee's location",
    "consent": "Consent",
    "revocation": "Consent not revoked",
    "suppression": "Suppression list",
    "national_dnc": "National Do-Not-Call registry",
    "state_dnc": "State Do-Not-Call registries",
    "registry_age": "Registry copy up to date",
    "caller_id": "Caller ID",
    "campaign_health": "Abandon rate",
    "calling_hours": "Calling hours",
    "campaign_window": "Campaign dates",
    "frequency_cap": "Calls per period",
    "budget": "Budget",
    "common_instant": "Every rule at once",
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
    "campaign_archived": "Campaign archived",
    "carrier_timeout": "Carrier did not answer the dial request",
    "carrier_unavailable": "Carrier unavailable",
    "dial_interrupted": "Dialling interrupted",
    # Capacity and pacing (calls/capacity.py)
    "capacity": "Waiting for a free line",
    "account_pacing": "Waiting for the account's calls-per-second limit",
    "campaign_pacing": "Waiting for the campaign's calls-per-second limit",
    "over_capacity": "Every line was in use",
    "fax": "A fax machine answered",
    "call_screening": "A call screener answered",
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
    "fax": "A fax machine answered",
    "over_capacity": "Every line was in use: the caller heard the busy message",
}


# What a priced call came to, in the finance report (codes: `calls.reports.CallKind`).
CALL_KINDS = {
    "confirmed": "Confirmed reminders",
    "survey_completed": "Completed surveys",
    "other_answered": "Other answered calls",
    "voicemail": "Voicemail",
    "no_answer": "No answer",
    "busy": "Busy",
    "failed": "Failed or cancelled",
}

# What each tool lets an agent do, one line each in the words of the operator choosing.
TOOL_HELP = {
    Tool.END_CALL: "hangs up politely once the conversation is over",
    Tool.RECORD_OUTCOME: "notes how a reminder went (confirmed, declined, reschedule…)",
    Tool.RECORD_SURVEY_ANSWER: "stores each survey answer as it is given; survey campaigns need it",
    Tool.OPT_OUT: "adds the number to the do-not-call list when the person asks",
    Tool.TRANSFER_TO_HUMAN: "hands the call to a person at the transfer number below",
    Tool.SCHEDULE_CALLBACK: "books a call back at a time the person names",
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


def verdict_label(code: str | None) -> str:
    return _label(VERDICTS, code, empty="—")


def rule_label(code: str | None) -> str:
    return _label(COMPLIANCE_RULES, code, empty="—")


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


def call_kind_label(code: str | None) -> str:
    return _label(CALL_KINDS, code, empty="—")


def tool_help(code: str) -> str:
    """What a tool lets the agent do, after its name ("End call: hangs up politely...")."""
    return _label(TOOL_HELP, code, empty="—")


def ending_label(code: str | None) -> str:
    """Why something stopped when the code may be a call's end or a target's reason (the
    timeline's status changes carry either)."""
    if code in HANGUP_REASONS:
        return hangup_reason_label(code)
    return reason_label(code)


def _in_sentence(label: str) -> str:
    """A label placed mid-sentence: lower-case its first letter unless it is an acronym."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def _seconds(ms) -> str:
    return f"{int(ms) / 1000:.1f} s"


def _tool_arguments(data: dict) -> dict:
    arguments = data.get("arguments") or {}
    if isinstance(arguments, str):  # the model's arguments, as the JSON text it sent
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return {}
    return arguments if isinstance(arguments, dict) else {}


def event_text(kind: str, data: dict, *, from_status: str = "", to_status: str = "") -> str:
    """One call-timeline event in words."""
    data = data or {}
    if kind == "status":
        before = call_status_label(from_status) if from_status else "New"
        text = f"{before} → {call_status_label(to_status)}"
        if data.get("reason"):
            text += f" ({_in_sentence(ending_label(data['reason']))})"
        elif data.get("via") == "carrier lookup":
            text += " (found in the carrier's call list)"
        return text
    if kind == "machine_detection":
        return f"Answered by: {_in_sentence(answered_by_label(data.get('answered_by')))}"
    if kind == "media_start":
        return "Audio connected to the agent"
    if kind == "media_stop":
        reason = data.get("reason")
        return "Audio disconnected" + (f" ({_in_sentence(ending_label(reason))})" if reason else "")
    if kind == "barge_in":
        if data.get("audio_end_ms") is not None:
            return f"The caller interrupted the agent after {_seconds(data['audio_end_ms'])}"
        return "The caller interrupted the agent"
    if kind == "dtmf":
        return f"The caller pressed {data.get('digit', 'a key')}"
    if kind == "tool":
        arguments = _tool_arguments(data)
        if data.get("name") == "record_outcome" and arguments.get("outcome"):
            return f"The agent recorded the outcome: {outcome_label(arguments['outcome'])}"
        return f"The agent used {str(data.get('name', 'a tool')).replace('_', ' ')}"
    if kind == "wrap_up":
        reason = data.get("reason")
        return "The agent wrapped up" + (
            f" ({_in_sentence(ending_label(reason))})" if reason else ""
        )
    if kind == "model_reconnect":
        return f"Reconnected to the AI model (attempt {data.get('attempt', 1)})"
    if kind == "error":
        reason = data.get("reason")
        detail = data.get("message") or (ending_label(reason) if reason else "see details")
        return f"Error: {detail}"
    if kind == "dial_claimed":
        return "A worker took over dialling the call"
    if kind == "carrier_retry":
        return "The carrier was unavailable; the dial will be retried"
    if kind == "carrier_timeout":
        return "The carrier did not answer the dial request; it will be asked whether it placed the call"
    if kind == "duplicate_hung_up":
        return "The carrier placed the call a second time; the second call was hung up"
    if kind == "dial_not_received":
        return "The carrier never received the dial request; the call will be dialled again"
    if kind == "stale_callback":
        return "A late carrier update was ignored"
    if kind == "sweeper":
        return "Closed by the stuck-call check"
    return _readable(kind)


def vocabularies() -> dict[str, dict[str, str]]:
    """The tables pages need in the browser (live updates label what the socket pushes)."""
    return {
        "outcomes": dict(OUTCOMES),
        "campaign_statuses": {str(code): label for code, label in CAMPAIGN_STATUSES.items()},
        "target_statuses": {str(code): label for code, label in TARGET_STATUSES.items()},
    }


PERCENTILE_NAMES = {"p50": "p50", "p90": "p90", "p99": "p99", "max": "worst"}


def percentiles_in_words(
    figures: dict | None,
    *,
    count: int,
    unit: str,
    keys: tuple[str, ...] = ("p50", "p99"),
    missing: str = "not recorded yet",
) -> str:
    """ "p50 420 ms · p99 910 ms over 12 turns" (latency percentiles in ms), or `missing`.
    The campaign page's live script (admin/voiceops/live_progress.html,
    `percentilesInWords`) writes the default form the same way."""
    if not count or not figures or any(figures.get(key) is None for key in keys):
        return missing
    parts = " · ".join(f"{PERCENTILE_NAMES[key]} {figures[key]} ms" for key in keys)
    return f"{parts} over {count} {unit}{'' if count == 1 else 's'}"
