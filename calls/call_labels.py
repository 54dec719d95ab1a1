"""Human words for the codes a call carries: outcomes, reasons a call ended or was not
placed, who answered, and what each timeline event means. The console shows these, never
the codes. (One vocabulary per function; a code without a label is shown capitalised with
spaces rather than hidden, so a new code is still readable.)"""

import json

from calls.models import OUTCOME_LABELS, CallStatus

OUTCOMES = {
    **OUTCOME_LABELS,
    "confirmed": "Confirmed",
    "declined": "Declined",
    "reschedule_requested": "Asked to reschedule",
    "wrong_person": "Wrong person",
    "callback_requested": "Asked to be called back",
    "opted_out": "Opted out",
    "survey_completed": "Survey completed",
    "transferred": "Transferred to a person",
    "voicemail": "Voicemail",
    "over_capacity": "Heard the busy message",
    "other": "Other",
}

REASONS = {
    # Compliance (campaigns/compliance/decision.py Reason)
    "no_consent": "no consent on file",
    "consent_revoked": "consent revoked",
    "suppressed": "number on the organisation's do-not-call list",
    "national_dnc": "number on the national do-not-call registry",
    "state_dnc": "number on a state do-not-call list",
    "stale_registry": "do-not-call registry copy too old",
    "unknown_location": "caller's location unknown",
    "bad_caller_id": "caller ID not usable",
    "abandon_rate": "abandoned-call rate too high",
    "outside_hours": "outside lawful calling hours",
    "day_not_allowed": "not a calling day",
    "holiday": "a holiday",
    "frequency_cap": "called too often already",
    "campaign_window": "outside the campaign's window",
    "over_budget": "budget spent",
    # Capacity and pacing (calls/capacity.py)
    "capacity": "waiting for a free line",
    "account_pacing": "waiting for the account's calls-per-second",
    "campaign_pacing": "waiting for the campaign's calls-per-second",
    "over_capacity": "every line was in use",
    # Ends of calls
    "agent_ended": "the agent ended the call",
    "opted_out": "the caller opted out",
    "voicemail": "reached voicemail",
    "model_unavailable": "the AI model was unavailable",
    "max_duration": "the call reached its maximum length",
    "cost_cap": "the call reached its cost cap",
    "dial_interrupted": "the dial was interrupted",
    "carrier_timeout": "the carrier did not answer in time",
    "max_attempts": "no attempts left",
    "campaign_paused": "the campaign was paused",
    "campaign_canceled": "the campaign was canceled",
    "campaign_completed": "the campaign had finished",
    "campaign_archived": "the campaign was archived",
}

ANSWERED_BY = {
    "human": "A person",
    "machine_start": "Answering machine",
    "machine_end_beep": "Answering machine (after the beep)",
    "machine_end_silence": "Answering machine (after silence)",
    "machine_end_other": "Answering machine",
    "fax": "Fax machine",
    "unknown": "Not determined",
}


def _readable(code: str) -> str:
    return code.replace("_", " ").capitalize()


def outcome_label(code: str) -> str:
    if not code:
        return "No outcome"
    return OUTCOMES.get(code, _readable(code))


def reason_label(code: str) -> str:
    if not code:
        return ""
    if code.startswith("carrier_rejected_"):
        return f"the carrier refused the number (error {code.removeprefix('carrier_rejected_')})"
    return REASONS.get(code, _readable(code).lower())


def answered_by_label(code: str) -> str:
    if not code:
        return "Not detected"
    return ANSWERED_BY.get(code, _readable(code))


def status_label(code: str) -> str:
    try:
        return CallStatus(code).label
    except ValueError:
        return _readable(code) if code else ""


def _seconds(ms) -> str:
    return f"{int(ms) / 1000:.1f} s"


def event_text(kind: str, data: dict, *, from_status: str = "", to_status: str = "") -> str:
    """One timeline event in words."""
    data = data or {}
    if kind == "status":
        text = f"{status_label(from_status) or 'New'} → {status_label(to_status)}"
        if data.get("reason"):
            text += f" ({reason_label(data['reason'])})"
        return text
    if kind == "machine_detection":
        return f"Answered by: {answered_by_label(data.get('answered_by', '')).lower()}"
    if kind == "media_start":
        return "Audio connected to the agent"
    if kind == "media_stop":
        reason = data.get("reason")
        return "Audio disconnected" + (f" ({reason_label(reason)})" if reason else "")
    if kind == "barge_in":
        if data.get("audio_end_ms") is not None:
            return f"The caller interrupted the agent after {_seconds(data['audio_end_ms'])}"
        return "The caller interrupted the agent"
    if kind == "dtmf":
        return f"The caller pressed {data.get('digit', 'a key')}"
    if kind == "tool":
        name = str(data.get("name", "a tool")).replace("_", " ")
        arguments = data.get("arguments") or {}
        if isinstance(arguments, str):  # the model's arguments, as the JSON text it sent
            try:
                arguments = json.loads(arguments)
            except ValueError:
                arguments = {}
        if not isinstance(arguments, dict):
            arguments = {}
        if data.get("name") == "record_outcome" and arguments.get("outcome"):
            return f"The agent recorded the outcome: {outcome_label(arguments['outcome'])}"
        return f"The agent used {name}"
    if kind == "wrap_up":
        return f"The agent wrapped up ({reason_label(data.get('reason', ''))})"
    if kind == "model_reconnect":
        return f"Reconnected to the AI model (attempt {data.get('attempt', 1)})"
    if kind == "error":
        detail = data.get("message") or reason_label(data.get("reason", "")) or "see details"
        return f"Error: {detail}"
    if kind == "dial_claimed":
        return "A worker took over dialing the call"
    if kind == "carrier_retry":
        return "The carrier was unavailable; the dial will be retried"
    if kind == "stale_callback":
        return "A late carrier update was ignored"
    if kind == "sweeper":
        return "Closed by the stuck-call check"
    return _readable(kind)
