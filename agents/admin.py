from django.contrib import admin

from agents.admin_forms import AgentForm
from agents.models import Agent, Tool
from tenancy.admin_scoping import ScopedAdmin


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

    @admin.display(description="tools")
    def tool_names(self, agent):
        return ", ".join(Tool(name).label for name in agent.tools or [] if name in Tool.values)
