"""One call from dial to invoice: the call, its timeline and transcript, its cost ledger,
the rate card it is priced from, and the organisation's phone numbers."""

import ipaddress
import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from voiceops.phones import validate_e164

money = {"max_digits": 14, "decimal_places": 6}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_webhook_url(value: str) -> None:
    """https, or http to a loopback address (a receiver on this machine), or http when
    DEBUG is on."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"{value!r} is not an http(s) URL such as 'https://example.com/hooks'."
        )
    if parts.username or parts.password:
        raise ValidationError(
            "Put no credentials in the webhook URL; the signature proves the sender."
        )
    if parts.scheme == "http" and not settings.DEBUG and not _is_loopback(parts.hostname):
        raise ValidationError(
            f"{value!r} is not https: events carry call details, so they go over TLS only."
        )


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


class PhoneNumber(models.Model):
    """A number the organisation owns at the carrier: caller ID, inbound line, or both."""

    organization = models.ForeignKey(
        "campaigns.Organization", on_delete=models.CASCADE, related_name="phone_numbers"
    )
    number = models.CharField(max_length=20, unique=True, validators=[validate_e164])
    label = models.CharField(max_length=100, blank=True)
    is_caller_id = models.BooleanField("outbound caller ID", default=True)
    is_inbound = models.BooleanField("inbound line", default=False)
    inbound_agent = models.ForeignKey(
        "agents.Agent", on_delete=models.PROTECT, null=True, blank=True, related_name="numbers"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(is_caller_id=True) | Q(is_inbound=True), name="phone_number_has_a_use"
            ),
            models.CheckConstraint(
                condition=Q(is_inbound=False) | Q(inbound_agent__isnull=False),
                name="phone_number_inbound_has_agent",
            ),
        ]

    def __str__(self):
        return self.number


class CallStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    DIALING = "dialing", "Dialing"
    INITIATED = "initiated", "Initiated"
    RINGING = "ringing", "Ringing"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    BUSY = "busy", "Busy"
    NO_ANSWER = "no_answer", "No answer"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class AnsweredBy(models.TextChoices):
    """Twilio's answering-machine verdicts (`AnsweredBy`), in words an operator reads."""

    HUMAN = "human", "Person"
    MACHINE_START = "machine_start", "Answering machine"
    MACHINE_END_BEEP = "machine_end_beep", "Answering machine (message after the beep)"
    MACHINE_END_SILENCE = "machine_end_silence", "Answering machine (message after silence)"
    MACHINE_END_OTHER = "machine_end_other", "Answering machine (message after the greeting)"
    FAX = "fax", "Fax machine"
    UNKNOWN = "unknown", "Not determined"


class Call(models.Model):
    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outbound"
        INBOUND = "inbound", "Inbound"

    organization = models.ForeignKey(
        "campaigns.Organization", on_delete=models.PROTECT, related_name="calls"
    )
    direction = models.CharField(max_length=10, choices=Direction.choices)
    target = models.ForeignKey(
        "campaigns.Target", on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    # The target's campaign, copied so that per-campaign aggregates (the abandonment rate
    # the compliance engine reads before every dial) are one indexed range scan, not a
    # join through every target of the campaign. Empty for inbound calls.
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    attempt = models.PositiveSmallIntegerField(null=True, blank=True)
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="calls")
    from_number = models.CharField(max_length=20, validators=[validate_e164])
    to_number = models.CharField(max_length=20, validators=[validate_e164])
    carrier_sid = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=12, choices=CallStatus.choices, default=CallStatus.QUEUED)
    answered_by = models.CharField(max_length=20, choices=AnsweredBy.choices, blank=True)
    # Which of the agent's languages the call was held in (agents/languages.py).
    language = models.CharField(max_length=16, blank=True)
    # The last status callback applied; older ones arriving late are ignored.
    carrier_sequence = models.IntegerField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    dialing_at = models.DateTimeField(null=True, blank=True)
    initiated_at = models.DateTimeField(null=True, blank=True)
    ringing_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Set when the media stream's token is consumed at `start`: one bridge per call, so a
    # second socket or a replayed answer webhook finds the call already bridged.
    media_started_at = models.DateTimeField(null=True, blank=True)
    # The dial claim: the worker that holds an unexpired lease may place the call; a lease
    # left by a dead worker expires and the call is claimed again. On a queued call: when
    # its lost `dial` task may be enqueued again (calls/dialing.py).
    dial_lease_until = models.DateTimeField(null=True, blank=True)
    # Written and committed before the carrier request: from then on the call is never sent
    # again, whoever holds the lease, since the carrier may have placed it.
    dial_requested_at = models.DateTimeField(null=True, blank=True)
    # Set by the media bridge after its last write (turns, events, usage): pricing waits for it.
    media_ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)

    # Latency, measured by the media bridge and written when the call ends (calls/latency.py).
    first_audio_sent_ms = models.PositiveIntegerField(
        "first audio sent (ms)",
        null=True,
        blank=True,
        help_text="From the answer (media stream start) to the agent's first audio sent to "
        "the carrier; empty when the agent never spoke.",
    )
    first_audio_played_ms = models.PositiveIntegerField(
        "first audio played (ms)",
        null=True,
        blank=True,
        help_text="From the answer to the moment the carrier started playing the agent's "
        "first audio, as its marks tell.",
    )
    turn_latency = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per-turn latency from the caller's end of speech: count, and p50, p90, "
        "p99 and worst in ms, to first audio sent and to first audio played.",
    )
    # 47 CFR 64.1200(a)(7): a person answered and no agent audio reached the carrier within
    # 2 seconds of the answer (or the caller hung up first). Feeds the campaign's rate.
    is_abandoned = models.BooleanField("abandoned", default=False)

    outcome = models.CharField(max_length=40, blank=True)
    # True when the outcome came from the post-call analysis, not from the call itself (a
    # tool or the carrier): a re-run may then replace it; otherwise the call's own wins.
    is_outcome_from_analysis = models.BooleanField("outcome from analysis", default=False)
    hangup_reason = models.CharField(max_length=60, blank=True)
    result = models.JSONField(default=dict, blank=True)

    # Post-call analysis (calls/analysis.py); re-running it replaces all of these.
    summary = models.TextField(blank=True)
    sentiment = models.CharField(max_length=20, choices=Sentiment.choices, blank=True)
    sentiment_score = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, help_text="From -1 to 1."
    )
    analysis_outcome = models.CharField(
        max_length=40, blank=True, help_text="The outcome the analysis read from the transcript."
    )
    is_follow_up_needed = models.BooleanField("follow-up needed", default=False)
    follow_up_reason = models.TextField(blank=True)
    callback_requested_at = models.DateTimeField("callback requested for", null=True, blank=True)
    analysis_model = models.CharField(max_length=100, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    analysis_error = models.TextField(blank=True)

    # What the Realtime session ran on, recorded when it is set up; the call is priced with it.
    realtime_model = models.CharField(max_length=100, blank=True)
    transcription_model = models.CharField(max_length=100, blank=True)

    compliance_ruleset = models.CharField(max_length=40, blank=True)
    compliance_zones = models.JSONField(default=list, blank=True)
    compliance_states = models.JSONField(default=list, blank=True)

    audio_input_tokens = models.PositiveIntegerField(default=0)
    audio_input_cached_tokens = models.PositiveIntegerField(default=0)
    audio_output_tokens = models.PositiveIntegerField(default=0)
    text_input_tokens = models.PositiveIntegerField(default=0)
    text_input_cached_tokens = models.PositiveIntegerField(default=0)
    text_output_tokens = models.PositiveIntegerField(default=0)
    # Caller audio the session transcribed, as the transcription model reports it.
    transcription_audio_ms = models.PositiveIntegerField(default=0)
    analysis_input_tokens = models.PositiveIntegerField(default=0)
    analysis_output_tokens = models.PositiveIntegerField(default=0)

    cost_telephony = models.DecimalField(**money, default=0)
    cost_model = models.DecimalField(**money, default=0)
    cost_analysis = models.DecimalField(**money, default=0)
    cost_total = models.DecimalField(**money, default=0)
    currency = models.CharField(max_length=3, default="USD")
    priced_at = models.DateTimeField(null=True, blank=True)
    # When the finished call was applied to its target (or found to change nothing there).
    # With `priced_at`, what the follow-up reconciler reads to redo work a broker outage lost.
    settled_at = models.DateTimeField(null=True, blank=True)

    # Budget held from the dial until the call is priced (campaigns.budgets).
    cost_reserved = models.DecimalField(
        "reserved for budgets", **money, default=0, help_text="Estimate held until priced."
    )

    # The carrier's own price for the call, which it fills in minutes after the call ends
    # (calls.carrier_prices polls for it), kept beside our telephony estimate.
    carrier_price = models.DecimalField(**money, null=True, blank=True)
    carrier_price_unit = models.CharField(max_length=3, blank=True)
    carrier_price_checks = models.PositiveSmallIntegerField(default=0)
    carrier_price_next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["target", "attempt"], name="call_attempt_unique_per_target"
            ),
            models.CheckConstraint(
                condition=Q(direction="inbound", target__isnull=True)
                | Q(direction="outbound", target__isnull=False, attempt__gte=1),
                name="call_outbound_has_target_and_attempt",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "dialing_at"]),
            models.Index(fields=["organization", "created_at"]),
            # The abandonment rate over a campaign's answered calls of the last 30 days:
            # an index-only range scan (calls/latency.py, campaign_abandonment).
            models.Index(
                fields=["campaign", "media_started_at"],
                include=["answered_by", "is_abandoned"],
                condition=Q(campaign__isnull=False, media_started_at__isnull=False),
                name="call_campaign_answers_idx",
            ),
            # The follow-up reconciler's scans: only ended calls still waiting for a step.
            models.Index(
                fields=["ended_at"],
                condition=Q(ended_at__isnull=False, priced_at__isnull=True),
                name="call_ended_unpriced",
            ),
            models.Index(
                fields=["ended_at"],
                condition=Q(ended_at__isnull=False, settled_at__isnull=True),
                name="call_ended_unsettled",
            ),
            # "Ended calls still waiting for the carrier's price": the price poller's query.
            models.Index(
                fields=["ended_at"],
                condition=Q(carrier_price__isnull=True, carrier_sid__isnull=False),
                name="call_carrier_price_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} call {self.pk} to {self.to_number}"

    @property
    def is_outcome_disputed(self) -> bool:
        """The analysis read a different outcome from the one the call recorded."""
        return bool(
            self.analysis_outcome and self.outcome and self.analysis_outcome != self.outcome
        )


class Recording(models.Model):
    """A call's recording at the carrier, as its recording status callback describes it.
    The audio stays at the carrier; the console plays it through an authenticated proxy
    (calls/recording_media.py), and the retention task deletes it there and here."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in-progress", "Recording"
        COMPLETED = "completed", "Ready"
        ABSENT = "absent", "Nothing recorded"
        FAILED = "failed", "Failed at the carrier"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="recordings")
    sid = models.CharField("recording SID", max_length=64, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(default=2)
    carrier_url = models.URLField(
        max_length=500, help_text="The carrier's media URL, without extension; needs our login."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["call", "created_at", "id"]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self):
        return f"Recording {self.sid} of call {self.call_id}"

    @property
    def is_playable(self) -> bool:
        return self.status == self.Status.COMPLETED


class CallEvent(models.Model):
    """The call's timeline: status changes, barge-ins, tool calls, errors."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=30)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["call", "at"])]

    def __str__(self):
        return f"{self.kind} at {self.at:%H:%M:%S}"


class Turn(models.Model):
    class Speaker(models.TextChoices):
        AGENT = "agent", "Agent"
        CALLER = "caller", "Caller"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="turns")
    speaker = models.CharField(max_length=10, choices=Speaker.choices)
    text = models.TextField()
    started_ms = models.PositiveIntegerField(help_text="Offset from the answer.")
    ended_ms = models.PositiveIntegerField(null=True, blank=True)
    interrupted = models.BooleanField(default=False)
    item_id = models.CharField(max_length=64, blank=True, help_text="Realtime conversation item.")
    # Agent turns that answered the caller: from the caller's end of speech to this turn's
    # first audio sent to the carrier, and to when the carrier started playing it.
    response_sent_ms = models.PositiveIntegerField(
        "response time, sent (ms)", null=True, blank=True
    )
    response_played_ms = models.PositiveIntegerField(
        "response time, played (ms)", null=True, blank=True
    )

    class Meta:
        ordering = ["call", "started_ms", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_ms__isnull=True) | Q(ended_ms__gte=models.F("started_ms")),
                name="turn_ends_after_start",
            )
        ]

    def __str__(self):
        return f"{self.speaker}: {self.text[:60]}"


class CostComponent(models.TextChoices):
    CARRIER_MINUTE = "carrier_minute", "Carrier minutes"
    MEDIA_STREAM_MINUTE = "media_stream_minute", "Media stream minutes"
    AMD = "amd", "Answering-machine detection"
    AUDIO_INPUT = "audio_input", "Model audio input"
    AUDIO_INPUT_CACHED = "audio_input_cached", "Model audio input (cached)"
    AUDIO_OUTPUT = "audio_output", "Model audio output"
    TEXT_INPUT = "text_input", "Model text input"
    TEXT_INPUT_CACHED = "text_input_cached", "Model text input (cached)"
    TEXT_OUTPUT = "text_output", "Model text output"
    TRANSCRIPTION_MINUTE = "transcription_minute", "Input transcription minutes"
    ANALYSIS_INPUT = "analysis_input", "Analysis input"
    ANALYSIS_OUTPUT = "analysis_output", "Analysis output"


class RateCard(models.Model):
    class Unit(models.TextChoices):
        MINUTE = "minute", "per minute"
        CALL = "call", "per call"
        MILLION_TOKENS = "million_tokens", "per million tokens"

    component = models.CharField(max_length=30, choices=CostComponent.choices)
    model = models.CharField(
        max_length=100, blank=True, help_text="Model this price is for; empty for every model."
    )
    unit = models.CharField(max_length=20, choices=Unit.choices)
    price = models.DecimalField(**money)
    currency = models.CharField(max_length=3, default="USD")
    effective_from = models.DateTimeField()

    class Meta:
        ordering = ["component", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["component", "model", "effective_from"],
                name="rate_card_one_price_per_instant",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="rate_card_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.get_component_display()}: {self.price} {self.currency} {self.get_unit_display()}"


class CostEntry(models.Model):
    """One line of a call's cost ledger; the lines sum to the call's total."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="cost_entries")
    component = models.CharField(max_length=30, choices=CostComponent.choices)
    quantity = models.DecimalField(
        max_digits=16, decimal_places=4, help_text="Minutes, calls or tokens, as the unit says."
    )
    unit = models.CharField(max_length=20, choices=RateCard.Unit.choices)
    unit_price = models.DecimalField(**money)
    amount = models.DecimalField(**money)
    currency = models.CharField(max_length=3, default="USD")
    rate_card = models.ForeignKey(RateCard, on_delete=models.PROTECT, related_name="entries")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "cost entries"
        constraints = [
            models.UniqueConstraint(
                fields=["call", "component"], name="cost_entry_one_per_component"
            )
        ]

    def __str__(self):
        return f"{self.get_component_display()}: {self.amount} {self.currency}"


class CampaignDailyCost(models.Model):
    """What an organisation's calls cost per campaign per day (the organisation's day, by
    the call's start), kept exact by `calls.costs.call_price` in the transaction that
    writes the ledger. Finance reports read a month of these instead of millions of ledger
    lines; `calls.daily_costs.daily_costs_rebuild` recomputes them from the priced calls."""

    organization = models.ForeignKey(
        "campaigns.Organization", on_delete=models.CASCADE, related_name="daily_costs"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="daily_costs",
        help_text="Empty for inbound calls.",
    )
    day = models.DateField(help_text="In the organisation's time zone.")
    currency = models.CharField(max_length=3, default="USD")
    calls = models.PositiveIntegerField("priced calls", default=0)
    cost_telephony = models.DecimalField(**money, default=0)
    cost_model = models.DecimalField(**money, default=0)
    cost_analysis = models.DecimalField(**money, default=0)
    cost_total = models.DecimalField(**money, default=0)

    class Meta:
        verbose_name = "daily campaign cost"
        # One row per key; inbound calls (no campaign) get a key of their own, since a
        # unique constraint treats every empty campaign as different.
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign", "day", "currency"],
                condition=Q(campaign__isnull=False),
                name="campaign_daily_cost_one_row",
            ),
            models.UniqueConstraint(
                fields=["organization", "day", "currency"],
                condition=Q(campaign__isnull=True),
                name="inbound_daily_cost_one_row",
            ),
        ]
        indexes = [models.Index(fields=["organization", "day"])]

    def __str__(self):
        return f"{self.day}: {self.cost_total} {self.currency}"


class WebhookEndpoint(models.Model):
    """Where an organisation receives its events, and the secret that signs them."""

    organization = models.OneToOneField(
        "campaigns.Organization", on_delete=models.CASCADE, related_name="webhook_endpoint"
    )
    url = models.URLField(
        "webhook URL",
        max_length=500,
        validators=[validate_webhook_url],
        help_text="Receives events as signed JSON POSTs. Must be https (http only for loopback "
        "addresses, or when DEBUG is on).",
    )
    secret = models.CharField(
        "signing secret",
        max_length=100,
        default=new_webhook_secret,
        help_text="Shared with the receiver, which checks X-VoiceOps-Signature with it.",
    )
    is_active = models.BooleanField("send events", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.url


class WebhookEvent(models.TextChoices):
    CALL_COMPLETED = "call.completed", "Call completed"
    CALL_ANALYZED = "call.analyzed", "Call analysed"
    CAMPAIGN_FINISHED = "campaign.finished", "Campaign finished"
    BUDGET_THRESHOLD = "budget.threshold", "Budget threshold reached"


class WebhookDelivery(models.Model):
    """One event for one organisation, written in the transaction that made it happen (a
    transactional outbox) and sent until the receiver accepts it or 24 hours pass."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(
        "campaigns.Organization", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    event_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["organization", "created_at"]),
        ]

    def __str__(self):
        return f"{self.event} {self.event_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the receiver answered, or why it could not."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField()
    url = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.status_code or self.error} at {self.at:%H:%M:%S}"


class SurveyAnswer(models.Model):
    """One survey question's answer on one call, typed by the question's kind, so answers
    tally per question. An answer recorded during the call wins over the analysis's; when
    the analysis heard something else, its answer is kept beside it."""

    class Source(models.TextChoices):
        CALL = "call", "Recorded during the call"
        ANALYSIS = "analysis", "Post-call analysis"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="survey_answers")
    question = models.ForeignKey(
        "campaigns.Question", on_delete=models.PROTECT, related_name="answers"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    boolean_value = models.BooleanField("yes / no", null=True, blank=True)
    integer_value = models.IntegerField("scale", null=True, blank=True)
    text_value = models.TextField("choice or text", blank=True)
    analysis_value = models.JSONField(
        null=True,
        blank=True,
        help_text="The analysis's different answer, when it disagrees with the call's.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call", "question__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "question"], name="survey_answer_one_per_question_per_call"
            )
        ]
        indexes = [models.Index(fields=["question", "source"])]

    def __str__(self):
        return f"{self.question}: {self.value}"

    @property
    def value(self) -> bool | int | str | None:
        if self.boolean_value is not None:
            return self.boolean_value
        if self.integer_value is not None:
            return self.integer_value
        return self.text_value or None

    @property
    def is_disputed(self) -> bool:
        return self.analysis_value is not None
