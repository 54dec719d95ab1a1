"""Template filters for `voiceops.labels`: `{% load labels %}` then `{{ code|reason_label }}`.
(In the campaigns app because `voiceops` is the project package, not an installed app.)"""

from django import template

from voiceops import labels

register = template.Library()

for _name in (
    "outcome_label",
    "reason_label",
    "call_status_label",
    "target_status_label",
    "campaign_status_label",
    "pause_reason_label",
    "answered_by_label",
    "cost_component_label",
    "hangup_reason_label",
    "verdict_label",
    "rule_label",
):
    register.filter(_name, getattr(labels, _name))
