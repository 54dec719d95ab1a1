"""Which language an agent speaks on a call: the contact's, when the agent offers it, else
the agent's default. A variant replaces the instructions, and the voice and greeting when
it names them; the transcription follows the language chosen."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from voiceops.languages import InvalidLanguage, best_match, normalize_language

VARIANT_KEYS = {"instructions", "voice", "greeting"}


@dataclass(frozen=True)
class AgentLanguage:
    tag: str
    instructions: str
    voice: str
    greeting: str


def validate_language_variants(value) -> None:
    """`{"es": {"instructions": "…", "voice": "coral", "greeting": "…"}}`: canonical tags,
    each with instructions; voice and greeting optional."""
    from agents.models import Voice

    if not isinstance(value, dict):
        raise ValidationError('Language variants must be an object such as {"es": {…}}.')
    for tag, variant in value.items():
        try:
            canonical = normalize_language(tag)
        except InvalidLanguage as error:
            raise ValidationError(f"Language variant {error}.") from None
        if canonical != tag:
            raise ValidationError(f"Write the language variant {tag!r} as {canonical!r}.")
        if not isinstance(variant, dict):
            raise ValidationError(
                f'Language variant {tag!r} must be an object {{"instructions": …}}.'
            )
        unknown = set(variant) - VARIANT_KEYS
        if unknown:
            raise ValidationError(
                f"Language variant {tag!r} has unknown keys {', '.join(sorted(unknown))}; "
                f"it may set {', '.join(sorted(VARIANT_KEYS))}."
            )
        instructions = variant.get("instructions")
        if not isinstance(instructions, str) or not instructions.strip():
            raise ValidationError(f"Language variant {tag!r} needs its instructions.")
        voice = variant.get("voice")
        if voice is not None and voice not in Voice.values:
            raise ValidationError(
                f"Language variant {tag!r} names the voice {voice!r}; "
                f"voices: {', '.join(Voice.values)}."
            )
        if not isinstance(variant.get("greeting", ""), str):
            raise ValidationError(f"Language variant {tag!r} has a greeting that is not text.")


def agent_language(agent, *, contact_language: str | None) -> AgentLanguage:
    """What `agent` speaks to a contact whose language is `contact_language` (None on an
    inbound call, where the caller's language is unknown)."""
    variants = agent.language_variants or {}
    default = AgentLanguage(
        tag=agent.language,
        instructions=agent.instructions,
        voice=agent.voice,
        greeting=agent.greeting,
    )
    if not contact_language:
        return default
    tag = best_match(contact_language, [agent.language, *variants])
    if tag is None or tag == agent.language:
        return default
    variant = variants[tag]
    return AgentLanguage(
        tag=tag,
        instructions=variant["instructions"],
        voice=variant.get("voice") or agent.voice,
        greeting=variant.get("greeting", agent.greeting),
    )
