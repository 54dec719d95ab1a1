"""The agent's admin form: tools as checkboxes and turn detection as fields, never raw JSON.

Both are stored as before (`Agent.tools` a list of tool names, `Agent.turn_detection` the
Realtime API's object), so the API and the calls read them unchanged.
"""

from django import forms
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
)

from agents.models import Agent, Tool
from voiceops.labels import tool_help

TOOL_CHOICES = [(tool.value, f"{tool.label}: {tool_help(tool)}") for tool in Tool]


class TurnDetection:
    """How the model decides the caller has finished speaking."""

    SILENCE = "server_vad"
    MEANING = "semantic_vad"
    CHOICES = [
        (SILENCE, "After a pause in speech (silence detection)"),
        (MEANING, "When the sentence sounds finished (semantic detection)"),
    ]
    # Settings only silence detection takes; the Realtime API refuses them otherwise.
    SILENCE_ONLY = ("threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms")


class AgentForm(forms.ModelForm):
    tools = forms.MultipleChoiceField(
        label="What the agent may do",
        choices=TOOL_CHOICES,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        required=False,
        help_text="Ending the call and opting out are what a caller expects from any call.",
    )
    turn_type = forms.ChoiceField(
        label="Caller has finished speaking",
        choices=TurnDetection.CHOICES,
        widget=UnfoldAdminSelectWidget,
    )
    turn_threshold = forms.DecimalField(
        label="Speech sensitivity",
        min_value=0,
        max_value=1,
        decimal_places=2,
        required=False,
        widget=UnfoldAdminDecimalFieldWidget,
        help_text="0 to 1; higher ignores more background noise (silence detection only).",
    )
    turn_silence_ms = forms.IntegerField(
        label="Pause that ends a turn (ms)",
        min_value=0,
        required=False,
        widget=UnfoldAdminIntegerFieldWidget,
        help_text="Silence detection only; 500 ms feels natural on the phone.",
    )
    turn_padding_ms = forms.IntegerField(
        label="Audio kept before speech (ms)",
        min_value=0,
        required=False,
        widget=UnfoldAdminIntegerFieldWidget,
        help_text="Silence detection only.",
    )

    class Meta:
        model = Agent
        fields = [
            "organization",
            "name",
            "instructions",
            "greeting",
            "voicemail_message",
            "tools",
            "transfer_number",
            "opt_out_digit",
            "voice",
            "language",
            "model",
            "max_call_seconds",
            "max_cost_per_call",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        detection = self.instance.turn_detection if self.instance.pk else None
        detection = detection or Agent._meta.get_field("turn_detection").get_default()
        self.fields["turn_type"].initial = detection.get("type", TurnDetection.SILENCE)
        self.fields["turn_threshold"].initial = detection.get("threshold")
        self.fields["turn_silence_ms"].initial = detection.get("silence_duration_ms")
        self.fields["turn_padding_ms"].initial = detection.get("prefix_padding_ms")
        if not self.instance.pk:
            self.initial.setdefault("tools", Agent._meta.get_field("tools").get_default())

    def clean(self):
        cleaned = super().clean()
        from campaigns.launch_checks import agent_tools_problems

        if "tools" in cleaned:
            for problem in agent_tools_problems(agent=self.instance, tools=cleaned["tools"]):
                self.add_error(problem.field, problem.message)
        return cleaned

    def turn_detection(self) -> dict:
        """The Realtime API's turn detection object from the fields, keeping any setting the
        form does not show (set through the API) as it was."""
        data = self.cleaned_data
        kept = dict(self.instance.turn_detection or {}) if self.instance.pk else {}
        kept["type"] = data["turn_type"]
        if data["turn_type"] == TurnDetection.MEANING:
            return {
                key: value for key, value in kept.items() if key not in TurnDetection.SILENCE_ONLY
            }
        for key, field in (
            ("threshold", "turn_threshold"),
            ("silence_duration_ms", "turn_silence_ms"),
            ("prefix_padding_ms", "turn_padding_ms"),
        ):
            value = data.get(field)
            if value is None:
                kept.pop(key, None)
            else:
                kept[key] = float(value) if key == "threshold" else value
        return kept

    def _post_clean(self):
        # Before the model's validation, so `Agent.clean` and the field validators see the
        # values the form will store.
        if not self.errors:
            self.instance.turn_detection = self.turn_detection()
        super()._post_clean()
