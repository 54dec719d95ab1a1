from django.contrib import admin

from agents.models import Agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "organization",
        "voice",
        "language",
        "max_call_seconds",
        "max_cost_per_call",
    ]
    list_filter = ["organization", "voice", "language"]
    search_fields = ["name"]
