"""Who may be called, when, and how often: organisations, contacts and their consent,
suppression lists, surveys, campaigns and their targets."""

import zoneinfo
from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from voiceops.languages import validate_language_tag
from voiceops.phones import validate_e164

USPS_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP".split()
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as 'America/New_York'.")


def validate_state(value: str) -> None:
    if value and value not in USPS_STATES:
        raise ValidationError(f"{value!r} is not a USPS state code such as 'TX'.")


def validate_weekdays(value) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(day, int) or not 0 <= day <= 6 for day in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            f"{value!r} is not a list of distinct weekdays from 0 (Monday) to 6 (Sunday)."
        )


def validate_variables(value) -> None:
    if not isinstance(value, dict) or any(not isinstance(key, str) for key in value):
        raise ValidationError("Variables must be an object of named values.")


class Purpose(models.TextChoices):
    INFORMATIONAL = "informational", "Informational (reminders)"
    SURVEY = "survey", "Survey"
    TELEMARKETING = "telemarketing", "Telemarketing"


money = {"max_digits": 12, "decimal_places": 4}
ledger_money = {"max_digits": 14, "decimal_places": 6}  # sums of call costs, as calls store them


class Organization(models.Model):
    """The business on whose behalf calls are placed; its registered name is disclosed."""

    name = models.CharField("registered business name", max_length=200, unique=True)
    callback_number = models.CharField(
        max_length=20,
        blank=True,
        validators=[validate_e164],
        help_text="E.164 number stated on every call and voicemail; required to launch.",
    )
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    country = models.CharField(
        max_length=2, default="US", help_text="Region used to read national-format numbers."
    )
    daily_budget = models.DecimalField(**money, null=True, blank=True)
    monthly_budget = models.DecimalField(**money, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    # The carrier account: its lines and its calls-per-second are shared by every campaign
    # (and every organisation) on it, so the pool and the pacing bucket are keyed by it.
    carrier_account_sid = models.CharField(
        "carrier account SID",
        max_length=64,
        blank=True,
        help_text="The Twilio account (AC…) the organisation's numbers belong to. Empty: the "
        "platform's own account (TWILIO_ACCOUNT_SID).",
    )
    line_capacity = models.PositiveIntegerField(
        "concurrent calls",
        default=10,
        help_text="How many calls the carrier account carries at once, inbound and outbound "
        "together. Callers beyond it hear a busy message.",
    )
    inbound_reserve = models.PositiveIntegerField(
        "lines kept for inbound calls",
        default=2,
        help_text="Outbound dials never take the last this-many lines, so callers get through "
        "while campaigns run.",
    )
    account_calls_per_second = models.DecimalField(
        "carrier calls per second",
        max_digits=6,
        decimal_places=2,
        default=Decimal("1"),
        help_text="The carrier account's dialing rate (Twilio: 1 unless raised), shared by all "
        "campaigns; each campaign's own rate applies within it.",
    )
    # Off by default: with it on, the carrier records both sides of every call and the
    # agent's opening says so; with it off, the opening must not claim a recording.
    record_calls = models.BooleanField(
        "record calls",
        default=False,
        help_text="Ask the carrier to record both sides of every call; callers are told.",
    )
    retention_days = models.PositiveIntegerField(
        "keep recordings and uploaded files for (days)",
        null=True,
        blank=True,
        help_text="Recordings (at the carrier too) and uploaded import files older than this "
        "are deleted within the hour. Blank: keep them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(line_capacity__gte=1), name="organization_line_capacity_positive"
            ),
            models.CheckConstraint(
                condition=Q(inbound_reserve__lte=models.F("line_capacity")),
                name="organization_inbound_reserve_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(account_calls_per_second__gt=0),
                name="organization_account_cps_positive",
            ),
            models.CheckConstraint(
                condition=Q(daily_budget__isnull=True) | Q(daily_budget__gte=0),
                name="organization_daily_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(monthly_budget__isnull=True) | Q(monthly_budget__gte=0),
                name="organization_monthly_budget_not_negative",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.line_capacity is not None and self.line_capacity < 1:
            errors["line_capacity"] = "The carrier account carries at least one call at once."
        if (
            self.line_capacity is not None
            and self.inbound_reserve is not None
            and self.inbound_reserve > self.line_capacity
        ):
            errors["inbound_reserve"] = (
                f"At most the {self.line_capacity} concurrent calls the account carries."
            )
        if self.account_calls_per_second is not None and self.account_calls_per_second <= 0:
            errors["account_calls_per_second"] = "The dialing rate must be above zero."
        if errors:
            raise ValidationError(errors)


class Contact(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    phone = models.CharField(max_length=20, validators=[validate_e164], help_text="E.164")
    name = models.CharField(max_length=200, blank=True)
    state = models.CharField(
        max_length=2, blank=True, validators=[validate_state], help_text="USPS code on file"
    )
    postal_code = models.CharField(max_length=10, blank=True)
    language = models.CharField(
        max_length=16,
        default="en",
        validators=[validate_language_tag],
        help_text="BCP 47 tag (en, es, fr-CA): the agent speaks it when it has that variant.",
    )
    variables = models.JSONField(default=dict, blank=True, validators=[validate_variables])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "phone"], name="contact_phone_unique_per_organization"
            )
        ]

    def __str__(self):
        return f"{self.name or 'Contact'} ({self.phone})"


class Consent(models.Model):
    """Evidence that a contact agreed to be called, for one purpose; revocation keeps the row."""

    class RevokedVia(models.TextChoices):
        OPERATOR = "operator", "Operator"
        API = "api", "API"
        CALL = "call", "During a call"
        KEYPRESS = "keypress", "Key press during a call"
        IMPORT = "import", "Import"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    is_written = models.BooleanField(default=False)
    seller_named = models.CharField(
        max_length=200, blank=True, help_text="Seller named in written consent, if any."
    )
    source = models.CharField(max_length=100, help_text="Where consent was given, e.g. 'web form'.")
    evidence = models.TextField(blank=True)
    captured_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_via = models.CharField(max_length=20, choices=RevokedVia.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "purpose"], name="consent_one_record_per_contact_purpose"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_via="")
                | Q(revoked_at__isnull=False) & ~Q(revoked_via=""),
                name="consent_revocation_says_how",
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} consent of {self.contact}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Suppression(models.Model):
    """A number this organisation must not call, and why."""

    class Source(models.TextChoices):
        OPT_OUT = "opt_out", "Opt-out"
        INTERNAL = "internal", "Internal list"
        NATIONAL_REGISTRY = "national_registry", "National do-not-call registry"
        STATE_LIST = "state_list", "State do-not-call list"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="suppressions"
    )
    phone = models.CharField(max_length=20, validators=[validate_e164])
    source = models.CharField(max_length=20, choices=Source.choices)
    state = models.CharField(max_length=2, blank=True, validators=[validate_state])
    reason = models.CharField(max_length=300, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "phone", "source", "state"],
                name="suppression_unique_per_source",
            ),
            models.CheckConstraint(
                condition=~Q(source="state_list") | ~Q(state=""),
                name="suppression_state_list_names_state",
            ),
        ]
        indexes = [models.Index(fields=["organization", "phone"])]

    def __str__(self):
        return f"{self.phone} ({self.get_source_display()})"


class RegistrySync(models.Model):
    """When an organisation's copy of a do-not-call registry was last synced (staleness rule)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="registry_syncs"
    )
    source = models.CharField(
        max_length=20,
        choices=[
            (Suppression.Source.NATIONAL_REGISTRY, Suppression.Source.NATIONAL_REGISTRY.label),
            (Suppression.Source.STATE_LIST, Suppression.Source.STATE_LIST.label),
        ],
    )
    state = models.CharField(max_length=2, blank=True, validators=[validate_state])
    synced_at = models.DateTimeField(help_text="The registry's own date for this copy.")
    imported_at = models.DateTimeField(auto_now_add=True)
    numbers = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "source", "-synced_at"])]

    def __str__(self):
        return f"{self.get_source_display()} {self.state} synced {self.synced_at:%Y-%m-%d}"


class Survey(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="surveys")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class Question(models.Model):
    class Kind(models.TextChoices):
        YES_NO = "yes_no", "Yes / no"
        SCALE = "scale", "Scale"
        CHOICE = "choice", "Choice"
        TEXT = "text", "Free text"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.CharField(max_length=500)
    choices = models.JSONField(default=list, blank=True, help_text="Options for a choice question.")
    scale_min = models.SmallIntegerField(default=1)
    scale_max = models.SmallIntegerField(default=5)

    class Meta:
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "position"], name="question_position_unique_per_survey"
            ),
            models.CheckConstraint(
                condition=Q(scale_min__lt=models.F("scale_max")), name="question_scale_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.text}"

    def clean(self):
        if self.kind == self.Kind.CHOICE and (
            not isinstance(self.choices, list)
            or len(self.choices) < 2
            or any(not isinstance(choice, str) or not choice.strip() for choice in self.choices)
        ):
            raise ValidationError({"choices": "A choice question needs at least two options."})


def default_weekdays():
    return [0, 1, 2, 3, 4]


def default_retry_delays():
    """Seconds to wait before the next attempt, by how the previous attempt ended."""
    return {"no_answer": 4 * 3600, "busy": 1800, "failed": 3600, "voicemail": 24 * 3600}


class PauseReason(models.TextChoices):
    OPERATOR = "operator", "Paused by an operator"
    BUDGET_EXHAUSTED = "budget_exhausted", "Budget exhausted"


class Campaign(models.Model):
    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder"
        SURVEY = "survey", "Survey"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="campaigns"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REMINDER)
    purpose = models.CharField(
        max_length=20, choices=Purpose.choices, default=Purpose.INFORMATIONAL
    )
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="campaigns")
    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    caller_id = models.ForeignKey(
        "calls.PhoneNumber", on_delete=models.PROTECT, related_name="campaigns"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    window_start = models.TimeField(default=time(9, 0), help_text="Callee's local time.")
    window_end = models.TimeField(default=time(20, 0), help_text="Callee's local time.")
    weekdays = models.JSONField(default=default_weekdays, validators=[validate_weekdays])
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    max_concurrent_calls = models.PositiveIntegerField(default=5)
    calls_per_second = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    max_attempts = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    retry_delays = models.JSONField(default=default_retry_delays, blank=True)
    budget = models.DecimalField(**money, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(
        "why paused", max_length=20, choices=PauseReason.choices, blank=True
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    # A campaign with calls is never deleted (its calls are the record of what was said
    # and spent); archiving hides it from the default lists instead.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start__lt=models.F("window_end")),
                name="campaign_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(starts_at__lt=models.F("ends_at")),
                name="campaign_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(max_concurrent_calls__gte=1), name="campaign_concurrency_positive"
            ),
            models.CheckConstraint(
                condition=Q(calls_per_second__gt=0), name="campaign_cps_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1), name="campaign_attempts_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind="survey") | Q(survey__isnull=False),
                name="campaign_survey_kind_has_survey",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0),
                name="campaign_budget_not_negative",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.window_start and self.window_end and self.window_start >= self.window_end:
            errors["window_end"] = "The calling window must end after it starts."
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            errors["ends_at"] = "The campaign must end after it starts."
        if not isinstance(self.retry_delays, dict) or any(
            not isinstance(seconds, int) or seconds < 0 for seconds in self.retry_delays.values()
        ):
            errors["retry_delays"] = (
                "Retry delays must map outcomes to whole seconds, e.g. {'busy': 1800}."
            )
        for field in ("agent", "survey", "caller_id"):
            related = getattr(self, field, None) if getattr(self, f"{field}_id") else None
            if related is not None and related.organization_id != self.organization_id:
                errors[field] = f"The {field.replace('_', ' ')} belongs to another organisation."
        # The rules a campaign must meet to work (survey tools, transfer number) live with
        # the launch checks, so the form, the API and the launch refuse the same things.
        from campaigns.launch_checks import campaign_setup_problems

        for problem in campaign_setup_problems(
            kind=self.kind,
            agent=self.agent if self.agent_id else None,
            survey=self.survey if self.survey_id else None,
        ):
            errors.setdefault(problem.field or "__all__", problem.message)
        if errors:
            raise ValidationError(errors)


class Target(models.Model):
    """One contact in one campaign: its attempts and when the next one is due."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CALLING = "calling", "Calling"
        DONE = "done", "Done"
        CLOSED = "closed", "Closed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="targets")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_reason = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=40, blank=True)
    variables = models.JSONField(default=dict, blank=True, validators=[validate_variables])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact"], name="target_unique_per_campaign_contact"
            )
        ]
        indexes = [
            # "Due targets of a running campaign": the ticker's only query shape.
            models.Index(
                fields=["campaign", "next_attempt_at"],
                condition=Q(status="pending"),
                name="target_due_idx",
            )
        ]

    def __str__(self):
        return f"{self.contact} in {self.campaign}"


def import_storage():
    """Uploaded import files live under VAR_DIR/imports: the worker that runs the import
    reads them there, so with workers on several machines it must be a shared volume."""
    from django.core.files.storage import FileSystemStorage

    return FileSystemStorage(location=settings.VAR_DIR / "imports")


class ImportJob(models.Model):
    """One uploaded file being imported (contacts with consent, or a suppression list) and
    its progress, which the admin page and the API show while the worker runs."""

    class Kind(models.TextChoices):
        CONTACTS = "contacts", "Contacts and consent"
        SUPPRESSIONS = "suppressions", "Suppression list"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="import_jobs"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to="%Y/%m/", storage=import_storage, max_length=300)
    file_name = models.CharField(max_length=255, help_text="The name the file was uploaded as.")
    # Suppression lists only: which list the file is, and the registry's own date for it.
    source = models.CharField(max_length=20, choices=Suppression.Source.choices, blank=True)
    state = models.CharField(max_length=2, blank=True, validators=[validate_state])
    synced_at = models.DateTimeField(null=True, blank=True)
    replaces_previous = models.BooleanField(
        default=False, help_text="The file is a full copy: numbers no longer in it are removed."
    )
    total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Rows or lines in the file."
    )
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="The first errors: row (or line), field, message."
    )
    message = models.TextField(blank=True, help_text="Why the whole file failed, if it did.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="contacts") | ~Q(source=""), name="import_job_list_names_source"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.file_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.is_finished else None
        return min(100, round(100 * self.processed / self.total))


class ImportedContact(models.Model):
    """A contact named by a row of a contacts import (created, updated or unchanged), so
    that "the contacts of that file" can be selected later, e.g. to add them to a campaign."""

    import_job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="contacts")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="imports")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["import_job", "contact"], name="imported_contact_once_per_job"
            )
        ]

    def __str__(self):
        return f"{self.contact} from {self.import_job}"


class TargetingJob(models.Model):
    """Contacts being added to a campaign in bulk (`campaigns.targeting`), and its progress.

    The selection is stored, not the contacts: explicit ids, a contact filter, or every
    contact of the organisation, read back in batches by whoever runs the job."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="targeting_jobs"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targeting_jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    contact_ids = models.JSONField(
        null=True, blank=True, help_text="The contacts chosen one by one, if they were."
    )
    contact_filter = models.JSONField(
        null=True, blank=True, help_text="The contacts chosen by a filter, if they were."
    )
    all_contacts = models.BooleanField(
        default=False, help_text="Every contact of the organisation."
    )
    total = models.PositiveIntegerField(default=0, help_text="Contacts selected.")
    processed = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0, help_text="New targets of the campaign.")
    # Contacts are read in primary-key order: a job resumed after a lost worker starts here.
    last_contact_id = models.BigIntegerField(default=0)
    message = models.TextField(blank=True, help_text="Why the job failed, if it did.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "campaign audience job"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(contact_ids__isnull=False, contact_filter__isnull=True, all_contacts=False)
                    | Q(contact_ids__isnull=True, contact_filter__isnull=False, all_contacts=False)
                    | Q(contact_ids__isnull=True, contact_filter__isnull=True, all_contacts=True)
                ),
                name="targeting_job_one_selection",
            ),
        ]

    def __str__(self):
        return f"Contacts added to {self.campaign} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.processed / self.total))


class BudgetAlert(models.Model):
    """A budget reached 80 % or 100 % in one period. Unique per budget, period and threshold,
    so racing workers record (and notify) it once."""

    class Scope(models.TextChoices):
        CAMPAIGN = "campaign", "Campaign budget"
        DAILY = "daily", "Daily budget"
        MONTHLY = "monthly", "Monthly budget"

    class Threshold(models.IntegerChoices):
        WARNING = 80, "80 %"
        EXHAUSTED = 100, "100 %"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="budget_alerts"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="budget_alerts"
    )
    scope = models.CharField(max_length=10, choices=Scope.choices)
    period = models.CharField(
        max_length=10, blank=True, help_text="The day or month, in the organisation's time zone."
    )
    threshold = models.PositiveSmallIntegerField(choices=Threshold.choices)
    budget = models.DecimalField(**ledger_money)
    spent = models.DecimalField(**ledger_money)
    reserved = models.DecimalField(
        **ledger_money, default=0, help_text="Held by calls in flight when the alert was raised."
    )
    currency = models.CharField(max_length=3, default="USD")
    created_at = models.DateTimeField()
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the email and the live push went out."
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Two partial constraints rather than one with NULLS NOT DISTINCT, which SQLite
            # (the demo) cannot enforce.
            models.UniqueConstraint(
                fields=["organization", "scope", "campaign", "period", "threshold"],
                condition=Q(campaign__isnull=False),
                name="budget_alert_once_per_period",
            ),
            models.UniqueConstraint(
                fields=["organization", "scope", "period", "threshold"],
                condition=Q(campaign__isnull=True),
                name="organization_budget_alert_once_per_period",
            ),
            models.CheckConstraint(
                condition=Q(scope="campaign", campaign__isnull=False)
                | ~Q(scope="campaign") & Q(campaign__isnull=True),
                name="budget_alert_campaign_scope_names_campaign",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(notified_at__isnull=True),
                name="budget_alert_pending_idx",
            )
        ]

    def __str__(self):
        where = f" of {self.campaign}" if self.campaign_id else ""
        period = f" ({self.period})" if self.period else ""
        return f"{self.get_scope_display()}{where}{period}: {self.threshold} %"
