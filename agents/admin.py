from django.contrib import admin

from agents.models import Agent
from tenancy.admin_scoping import ScopedAdmin


@admin.register(Agent)
class AgentAdmin(ScopedAdmin):
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
