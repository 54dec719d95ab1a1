"""The campaign form in the admin: weekdays as checkboxes, retry delays per outcome in hours
and minutes (both stored as before: a list of weekday numbers, seconds per retry key), and
only the fields the campaign's status lets change (`campaigns.editable`) left editable."""

from django import forms
from unfold.widgets import INPUT_CLASSES, UnfoldAdminCheckboxSelectMultipleWidget

from calls.outcomes import DEFAULT_RETRY_SECONDS
from campaigns.editable import EVERY_EDITABLE, campaign_editable_fields
from campaigns.models import Campaign
from voiceops import labels

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]
# The retry policy's keys (calls/outcomes.py `retry_key`), each with its own delay.
RETRY_KEYS = ["no_answer", "busy", "failed", "voicemail", "no_outcome"]
MAX_RETRY_HOURS = 30 * 24


def retry_field_name(key: str) -> str:
    return f"retry_{key}"


class HoursMinutesWidget(forms.MultiWidget):
    template_name = "campaigns/widgets/hours_minutes.html"

    def __init__(self, attrs=None):
        narrow = {"class": " ".join(INPUT_CLASSES), "style": "max-width: 7rem"}
        super().__init__(
            [
                forms.NumberInput(attrs={**narrow, "min": 0, "max": MAX_RETRY_HOURS}),
                forms.NumberInput(attrs={**narrow, "min": 0, "max": 59}),
            ],
            attrs,
        )

    def decompress(self, value):
        if value is None:
            return [None, None]
        return [value // 3600, value % 3600 // 60]


class HoursMinutesField(forms.MultiValueField):
    """A delay typed as hours and minutes, cleaned to whole seconds."""

    widget = HoursMinutesWidget

    def __init__(self, **kwargs):
        fields = (
            forms.IntegerField(
                min_value=0,
                max_value=MAX_RETRY_HOURS,
                error_messages={"max_value": f"At most {MAX_RETRY_HOURS} hours (30 days)."},
            ),
            forms.IntegerField(
                min_value=0, max_value=59, error_messages={"max_value": "Minutes go up to 59."}
            ),
        )
        super().__init__(fields, require_all_fields=False, required=False, **kwargs)

    def compress(self, data_list):
        if not data_list or all(value in (None, "") for value in data_list):
            return None
        hours, minutes = (value or 0 for value in data_list)
        return hours * 3600 + minutes * 60


class CampaignForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text="Days on which the callee may be called, in their own time zone.",
        error_messages={"required": "Pick at least one weekday."},
    )

    class Meta:
        model = Campaign
        # retry_delays is written from the hours-and-minutes fields, in clean().
        fields = [*sorted(EVERY_EDITABLE - {"retry_delays"}), "organization"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        delays = self.instance.retry_delays if self.instance.pk else None
        delays = delays if isinstance(delays, dict) else Campaign().retry_delays
        for key in RETRY_KEYS:
            self.initial.setdefault(retry_field_name(key), delays.get(key))
        if self.instance.pk:
            frozen = EVERY_EDITABLE - campaign_editable_fields(self.instance)
            why = f"Fixed while the campaign is {self.instance.get_status_display().lower()}."
            for name in frozen:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = why
            if "retry_delays" in frozen:
                for key in RETRY_KEYS:
                    self.fields[retry_field_name(key)].disabled = True

    def clean(self):
        cleaned = super().clean()
        delays = dict(self.instance.retry_delays or {}) if self.instance.pk else {}
        for key in RETRY_KEYS:
            name = retry_field_name(key)
            if name not in self.changed_data:
                # Unchanged: keep the stored seconds exactly (the API may store 90 s).
                if not self.instance.pk:
                    value = self.initial.get(name)
                    if value is not None:
                        delays[key] = value
                continue
            value = cleaned.get(name)
            if value is None:
                delays.pop(key, None)
            else:
                delays[key] = value
        self.instance.retry_delays = delays
        return cleaned


for _key in RETRY_KEYS:
    # Declared on the class (not per instance) so that the admin may name them in fieldsets.
    CampaignForm.base_fields[retry_field_name(_key)] = CampaignForm.declared_fields[
        retry_field_name(_key)
    ] = HoursMinutesField(
        label=f"After “{labels.reason_label(_key).lower()}”",
        help_text=f"Empty: {DEFAULT_RETRY_SECONDS // 3600} hour.",
    )


def retry_fieldset_fields() -> list[str]:
    return [retry_field_name(key) for key in RETRY_KEYS]


def hours_and_minutes(seconds: int) -> str:
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part) or f"{seconds} s"


def retry_delays_in_words(campaign: Campaign) -> str:
    delays = campaign.retry_delays if isinstance(campaign.retry_delays, dict) else {}
    return "; ".join(
        f"{labels.reason_label(key)}: "
        f"{hours_and_minutes(int(delays.get(key, DEFAULT_RETRY_SECONDS)))}"
        for key in RETRY_KEYS
    )


def weekdays_in_words(campaign: Campaign) -> str:
    names = dict(WEEKDAYS)
    return ", ".join(names[day] for day in sorted(campaign.weekdays or []) if day in names)
