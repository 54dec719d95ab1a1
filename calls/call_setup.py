"""Everything a media bridge needs to know about its call, read once when the stream starts."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from agents.languages import agent_language
from agents.prompts import CallScript, call_script
from agents.realtime import TRANSCRIPTION_MODEL, SessionSettings
from agents.tools import CallContext, ToolRegistry
from calls.barge_in import BargeInPolicy
from calls.costs import Rates, rates_in_force
from calls.models import Call
from calls.states import TERMINAL
from voiceops.languages import primary_language


class CallNotBridgeable(Exception):
    """The stream names a call that does not exist, has ended, or was already bridged."""


@dataclass(frozen=True)
class CallSetup:
    call_id: int
    call_sid: str
    model: str
    session: SessionSettings
    script: CallScript
    tools: list[str]
    context: CallContext
    opt_out_digit: str
    max_call_seconds: int
    max_cost_per_call: Decimal | None
    rates: Rates
    is_outbound: bool
    barge_in: BargeInPolicy


def turn_detection_for_bridge(agent_turn_detection: dict, *, barge_in: BargeInPolicy) -> dict:
    """The agent's turn detection, with barge-in left to the bridge: it cancels the response
    itself, knowing what was played, so the server must not cancel on its own first.

    When acknowledgements are ignored the server must not answer each caller turn either: an
    "okay" said over the agent would get a reply queued behind its answer. The bridge asks
    for a response once the caller's speech proves to be a turn."""
    return {
        **agent_turn_detection,
        "create_response": barge_in.is_immediate,
        "interrupt_response": False,
    }


def call_setup_load(
    *, call_id: int, call_sid: str, registry: ToolRegistry, at: datetime
) -> CallSetup:
    """Read the call, its agent, contact and campaign, and record on the call which models
    its session runs on (it is priced with them) and which of the agent's languages it is
    held in. Raises CallNotBridgeable."""
    try:
        call = Call.objects.select_related(
            "agent",
            "organization",
            "target__contact",
            "target__campaign__survey",
        ).get(pk=call_id)
    except Call.DoesNotExist:
        raise CallNotBridgeable(f"call {call_id} does not exist") from None
    if call.carrier_sid and call.carrier_sid != call_sid:
        raise CallNotBridgeable(
            f"call {call_id} is carrier call {call.carrier_sid}, not {call_sid}"
        )
    if call.status in TERMINAL or call.media_ended_at is not None:
        raise CallNotBridgeable(f"call {call_id} has already ended")
    agent, organization, target = call.agent, call.organization, call.target
    campaign = target.campaign if target else None
    contact = target.contact if target else None
    questions = list(campaign.survey.questions.all()) if campaign and campaign.survey else []
    language = agent_language(agent, contact_language=contact.language if contact else None)
    script = call_script(
        agent=agent,
        organization=organization,
        campaign=campaign,
        contact=contact,
        target=target,
        questions=questions,
        language=language,
    )
    is_outbound = call.direction == Call.Direction.OUTBOUND
    enabled = list(agent.tools or [])
    model = agent.model or settings.OPENAI_REALTIME_MODEL
    Call.objects.filter(pk=call.pk).update(
        realtime_model=model, transcription_model=TRANSCRIPTION_MODEL, language=language.tag
    )
    context = CallContext(
        call_id=call.pk,
        call_sid=call_sid,
        organization_id=organization.pk,
        time_zone=organization.time_zone,
        phone=call.to_number if is_outbound else call.from_number,
        caller_id=call.from_number if is_outbound else call.to_number,
        transfer_number=agent.transfer_number,
        target_id=target.pk if target else None,
        survey={line.question_id: line for line in script.survey},
    )
    barge_in = BargeInPolicy.for_agent(
        mode=agent.barge_in,
        min_speech_ms=agent.barge_in_min_speech_ms,
        turn_detection=agent.turn_detection,
        language=agent.language,
    )
    return CallSetup(
        call_id=call.pk,
        call_sid=call_sid,
        model=model,
        session=SessionSettings(
            instructions=script.instructions,
            voice=language.voice,
            turn_detection=turn_detection_for_bridge(agent.turn_detection, barge_in=barge_in),
            tools=registry.offered(enabled),
            language=primary_language(language.tag),
        ),
        script=script,
        tools=enabled,
        context=context,
        opt_out_digit=agent.opt_out_digit,
        max_call_seconds=agent.max_call_seconds,
        max_cost_per_call=agent.max_cost_per_call,
        rates=rates_in_force(
            at=call.created_at or at, model=model, transcription_model=TRANSCRIPTION_MODEL
        ),
        is_outbound=is_outbound,
        barge_in=barge_in,
    )
