"""The message left on an answering machine.

A message an AI leaves is an artificial-voice call in its own right, so it carries what
every such call must (docs/compliance.md, "Voicemail and call screeners"): who is calling
(the organisation's registered name), a number to call back, and for telemarketing how to
opt out. Those parts come from the organisation and the campaign, never from the
operator's text, which goes between them: an agent with no voicemail text still leaves a
lawful message, and no wording an operator types can leave a part out.
"""

from campaigns.models import Campaign, Organization, Purpose
from voiceops.phones import spoken_number


class VoicemailNotPossible(ValueError):
    """The organisation lacks a part every message must state."""


def voicemail_parts_check(organization: Organization) -> None:
    """Raise VoicemailNotPossible, naming what to set, if a message cannot be composed."""
    missing = []
    if not organization.name.strip():
        missing.append("registered business name")
    if not organization.callback_number:
        missing.append("callback number")
    if missing:
        what = " and no ".join(missing)
        raise VoicemailNotPossible(
            f"The organisation {organization.name!r} has no {what}; every call and voicemail "
            f"states its business name and callback number, so set the {missing[0]} first."
        )


def voicemail_message(
    *, organization: Organization, campaign: Campaign | None, operator_text: str, opt_out_digit: str
) -> str:
    """The whole message: identification, the operator's text, the callback number, and for
    telemarketing the opt-out. Raises VoicemailNotPossible."""
    voicemail_parts_check(organization)
    name = organization.name.strip()
    callback = spoken_number(organization.callback_number)
    parts = [f"Hello, this is an automated AI assistant calling on behalf of {name}."]
    if operator_text.strip():
        parts.append(operator_text.strip())
    parts.append(f"Please call {name} back at {callback}.")
    if campaign is not None and campaign.purpose == Purpose.TELEMARKETING:
        parts.append(
            f"To stop these calls, call {callback} and say stop, or press {opt_out_digit} "
            "when we call."
        )
    parts.append("Goodbye.")
    return " ".join(parts)
