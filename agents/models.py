"""What the AI says and can do on a call."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from agents.languages import validate_language_variants
from voiceops.languages import validate_language_tag
from voiceops.phones import validate_e164


class Tool(models.TextChoices):
    END_CALL = "end_call", "End the call"
    RECORD_OUTCOME = "record_outcome", "Record an outcome"
    RECORD_SURVEY_ANSWER = "record_survey_answer", "Record a survey answer"
    OPT_OUT = "opt_out", "Opt the caller out"
    TRANSFER_TO_HUMAN = "transfer_to_human", "Transfer to a person"
    SCHEDULE_CALLBACK = "schedule_callback", "Schedule a callback"


class Voice(models.TextChoices):
    ALLOY = "alloy"
    ASH = "ash"
    BALLAD = "ballad"
    CEDAR = "cedar"
    CORAL = "coral"
    ECHO = "echo"
    MARIN = "marin"
    SAGE = "sage"
    SHIMMER = "shimmer"
    VERSE = "verse"


class BargeIn(models.TextChoices):
    """What happens when the caller talks while the agent speaks."""

    IGNORE_BACKCHANNELS = "ignore_backchannels", "Ignore short acknowledgements"
    IMMEDIATE = "immediate", "Stop at any speech"


def default_tools():
    return [Tool.END_CALL, Tool.RECORD_OUTCOME, Tool.OPT_OUT, Tool.SCHEDULE_CALLBACK]


def default_turn_detection():
    return {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
    }


def validate_tools(value) -> None:
    known = set(Tool.values)
    if not isinstance(value, list) or any(name not in known for name in value):
        raise ValidationError(
            f"{value!r} names a tool that does not exist; known tools: {', '.join(sorted(known))}."
        )


def validate_turn_detection(value) -> None:
    if not isinstance(value, dict) or value.get("type") not in {"server_vad", "semantic_vad"}:
        raise ValidationError("Turn detection needs a type: 'server_vad' or 'semantic_vad'.")
    for key in ("prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"):
        if key in value and (not isinstance(value[key], int) or value[key] < 0):
            raise ValidationError(f"Turn detection {key} must be a whole number of milliseconds.")
    threshold = value.get("threshold", 0.5)
    if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise ValidationError("Turn detection threshold must be between 0 and 1.")


class Agent(models.Model):
    organization = models.ForeignKey(
        "campaigns.Organization", on_delete=models.CASCADE, related_name="agents"
    )
    name = models.CharField(max_length=200)
    instructions = models.TextField(
        help_text="Template; {{ contact.name }}, {{ organization.name }} and target variables "
        "are filled in for each call. Disclosure and opt-out lines are added automatically."
    )
    greeting = models.CharField(max_length=500, blank=True)
    voice = models.CharField(max_length=20, choices=Voice.choices, default=Voice.MARIN)
    model = models.CharField(
        max_length=100, blank=True, help_text="Realtime model; empty uses OPENAI_REALTIME_MODEL."
    )
    language = models.CharField(
        "default language",
        max_length=16,
        default="en",
        validators=[validate_language_tag],
        help_text="BCP 47 tag (en, es, fr-CA) of the instructions, greeting and voice above; "
        "contacts whose language has no variant below hear this one.",
    )
    language_variants = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_language_variants],
        help_text='Other languages the agent speaks, by tag: {"es": {"instructions": "…", '
        '"voice": "coral", "greeting": "…"}} (voice and greeting optional). A contact whose '
        "language is listed (es-MX is served by es) hears that variant.",
    )
    turn_detection = models.JSONField(
        default=default_turn_detection, validators=[validate_turn_detection]
    )
    barge_in = models.CharField(
        "barge-in",
        max_length=20,
        choices=BargeIn.choices,
        default=BargeIn.IGNORE_BACKCHANNELS,
        help_text="Ignore short acknowledgements: the agent keeps talking through "
        "“okay”, “mm-hm” or a cough, and stops for longer speech or other "
        "words. Stop at any speech: the agent stops the moment the caller makes a sound.",
    )
    barge_in_min_speech_ms = models.PositiveIntegerField(
        "barge-in after (ms of speech)",
        default=600,
        validators=[MinValueValidator(200), MaxValueValidator(3000)],
        help_text="With short acknowledgements ignored: speech at least this long stops the "
        "agent whatever its words.",
    )
    tools = models.JSONField(default=default_tools, blank=True, validators=[validate_tools])
    voicemail_message = models.TextField(
        blank=True,
        help_text="Left on answering machines, between the business name and the callback "
        "number (and, for telemarketing, how to opt out), which are always added. Keep health "
        "details out of it.",
    )
    transfer_number = models.CharField(max_length=20, blank=True, validators=[validate_e164])
    opt_out_digit = models.CharField(max_length=1, default="9")
    max_call_seconds = models.PositiveIntegerField(default=600, validators=[MinValueValidator(30)])
    max_cost_per_call = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, help_text="Per-call cost cap."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="agent_name_unique_per_organization"
            ),
            models.CheckConstraint(
                condition=Q(opt_out_digit__regex=r"^[0-9*#]$"), name="agent_opt_out_digit_is_key"
            ),
            models.CheckConstraint(
                condition=Q(max_cost_per_call__isnull=True) | Q(max_cost_per_call__gt=0),
                name="agent_cost_cap_positive",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if Tool.TRANSFER_TO_HUMAN in (self.tools or []) and not self.transfer_number:
            raise ValidationError({"transfer_number": "Transfer to a person needs a number."})
        if self.language in (self.language_variants or {}):
            raise ValidationError(
                {
                    "language_variants": f"{self.language!r} is the default language; edit the "
                    "instructions and voice above instead of adding it as a variant."
                }
            )
