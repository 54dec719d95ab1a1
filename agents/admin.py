from django.contrib import admin
from django.utils.html import format_html_join

from agents.admin_forms import AgentForm, TurnDetection
from agents.models import Agent, Tool
from tenancy.admin_scoping import ScopedAdmin
from voiceops.labels import tool_help


@admin.register(Agent)
class AgentAdmin(ScopedAdmin):
    form = AgentForm
    list_display = [
        "name",
        "organization",
        "voice",
        "language",
        "tool_names",
        "max_call_seconds",
        "max_cost_per_call",
    ]
    list_filter = ["organization", "voice", "language"]
    search_fields = ["name"]
    fieldsets = [
        (
            "What it says",
            {
                "classes": ["tab"],
                "fields": [
                    "organization",
                    "name",
                    "instructions",
                    "greeting",
                    "voicemail_message",
                ],
            },
        ),
        (
            "What it may do",
            {"classes": ["tab"], "fields": ["tools", "transfer_number", "opt_out_digit"]},
        ),
        (
            "Voice and turns",
            {
                "classes": ["tab"],
                "fields": [
                    "voice",
                    "language",
                    "model",
                    "turn_type",
                    "turn_threshold",
                    "turn_silence_ms",
                    "turn_padding_ms",
                ],
            },
        ),
        ("Limits", {"classes": ["tab"], "fields": ["max_call_seconds", "max_cost_per_call"]}),
    ]

    # Read-only viewers (finance) see the same tabs in words: the form's own fields (the
    # checkboxes, the turn fields) are not attributes of the agent to display.
    READ_ONLY_NAMES = {
        "tools": "tool_list",
        "turn_type": "turn_summary",
        "turn_threshold": None,
        "turn_silence_ms": None,
        "turn_padding_ms": None,
    }

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        self.READ_ONLY_NAMES.get(field, field)
                        for field in options["fields"]
                        if self.READ_ONLY_NAMES.get(field, field)
                    ],
                },
            )
            for name, options in fieldsets
        ]

    @admin.display(description="tools")
    def tool_names(self, agent):
        return ", ".join(Tool(name).label for name in agent.tools or [] if name in Tool.values)

    @admin.display(description="What the agent may do")
    def tool_list(self, agent):
        return (
            format_html_join(
                "",
                "<div>{}: {}</div>",
                (
                    (Tool(name).label, tool_help(name))
                    for name in agent.tools or []
                    if name in Tool.values
                ),
            )
            or "Nothing but talk"
        )

    @admin.display(description="Caller has finished speaking")
    def turn_summary(self, agent):
        detection = agent.turn_detection or {}
        label = dict(TurnDetection.CHOICES).get(detection.get("type"), detection.get("type"))
        details = [
            f"{text} {detection[key]}"
            for key, text in (
                ("threshold", "sensitivity"),
                ("silence_duration_ms", "pause (ms)"),
                ("prefix_padding_ms", "audio kept before speech (ms)"),
            )
            if key in detection
        ]
        return f"{label}" + (f"; {', '.join(details)}" if details else "")
