"""Whether a campaign can do what it is set up to do, checked at save and at launch.

One place for the rules, used by the model's `clean` (the admin form and the API), by
`campaign_launch` (the admin's Launch button and `POST /api/campaigns/{id}/launch/`):

- a survey campaign needs a survey with questions and an agent with the
  `record_survey_answer` tool, or it calls everyone and records nothing;
- an agent with `transfer_to_human` needs a number to transfer to;
- the template variables the agent uses (`{{ appointment }}`) should be on the contacts:
  at launch the targets lacking one are counted and shown as a warning, even when none has
  it. A warning, not a refusal: such a call is still lawful and still says who calls and
  why, only without the detail; the operator sees the count as the campaign starts and can
  pause it, fix the contacts and resume.
"""

import re
from dataclasses import dataclass, field

from django.db.models import Q

from agents.models import Agent, Tool

# `{{ appointment }}`, `{{ appointment|default:"soon" }}`: the name before any filter or dot.
_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_]\w*)")
# Names the call fills in itself, never from the contact's variables.
_BUILT_IN_NAMES = {"contact", "organization", "campaign"}


@dataclass(frozen=True)
class Problem:
    """Something that stops the campaign from working; `field` is the form field to fix."""

    field: str | None
    message: str


@dataclass(frozen=True)
class LaunchCheck:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return [problem.message for problem in self.problems]


def agent_template_variables(agent: Agent) -> list[str]:
    """The contact variables the agent's texts use, in the order a reader meets them."""
    texts = (agent.instructions, agent.greeting, agent.voicemail_message)
    names = [name for text in texts for name in _TEMPLATE_VARIABLE.findall(text or "")]
    return list(dict.fromkeys(name for name in names if name not in _BUILT_IN_NAMES))


def campaign_setup_problems(*, kind: str, agent: Agent | None, survey) -> list[Problem]:
    """What in the campaign's settings stops it from working (empty: nothing)."""
    from campaigns.models import Campaign

    problems = []
    if kind == Campaign.Kind.SURVEY:
        if survey is None:
            problems.append(Problem("survey", "A survey campaign needs a survey."))
        elif survey.pk and not survey.questions.exists():
            problems.append(
                Problem("survey", f"The survey {survey.name!r} has no questions; add some first.")
            )
        if agent is not None and Tool.RECORD_SURVEY_ANSWER not in (agent.tools or []):
            problems.append(
                Problem(
                    "agent",
                    f"The agent {agent.name!r} cannot record survey answers, so this survey "
                    "campaign would collect none: tick "
                    f"“{Tool.RECORD_SURVEY_ANSWER.label}” in the agent's tools, or choose an "
                    "agent that has it.",
                )
            )
    can_transfer = agent is not None and Tool.TRANSFER_TO_HUMAN in (agent.tools or [])
    if can_transfer and not agent.transfer_number:
        problems.append(
            Problem(
                "agent",
                f"The agent {agent.name!r} may transfer calls to a person but has no "
                "transfer number: set one on the agent, or untick "
                f"“{Tool.TRANSFER_TO_HUMAN.label}”.",
            )
        )
    return problems


def agent_tools_problems(*, agent: Agent, tools: list[str]) -> list[Problem]:
    """Unticking a tool the agent's live survey campaigns need would make them collect
    nothing from the next call on: refused while a draft, running or paused one uses it."""
    from campaigns.models import Campaign

    if not agent.pk or Tool.RECORD_SURVEY_ANSWER in tools:
        return []
    live = Campaign.objects.filter(
        agent=agent,
        kind=Campaign.Kind.SURVEY,
        status__in=[Campaign.Status.DRAFT, Campaign.Status.RUNNING, Campaign.Status.PAUSED],
    ).order_by("name")
    names = list(live.values_list("name", flat=True)[:5])
    if not names:
        return []
    return [
        Problem(
            "tools",
            f"“{Tool.RECORD_SURVEY_ANSWER.label}” is needed by the survey campaign(s) "
            f"{', '.join(repr(name) for name in names)}, which use this agent; keep it "
            "ticked, or give those campaigns another agent first.",
        )
    ]


def targets_lacking_variable(campaign, name: str) -> int:
    """Targets of the campaign with the variable `name` neither on the target nor on its
    contact (a target's variables override its contact's at call time)."""
    return (
        campaign.targets.exclude(Q(variables__has_key=name) | Q(contact__variables__has_key=name))
        .order_by()
        .count()
    )


def campaign_launch_check(*, campaign) -> LaunchCheck:
    """The setup problems (a launch refuses them), and for each template variable the
    agent uses, a warning counting the targets that lack it."""
    agent = campaign.agent if campaign.agent_id else None
    survey = campaign.survey if campaign.survey_id else None
    problems = campaign_setup_problems(kind=campaign.kind, agent=agent, survey=survey)
    warnings = []
    total = campaign.targets.count()
    if agent is not None and total:
        for name in agent_template_variables(agent):
            lacking = targets_lacking_variable(campaign, name)
            if lacking:
                warnings.append(
                    f"{lacking} of {total} contact(s) have no “{name}” variable, which the "
                    f"agent {agent.name!r} uses ({{{{ {name} }}}}): on those calls it will say "
                    "nothing in its place. Add it to the contacts (a column of the import) "
                    "or take it out of the agent's texts."
                )
    return LaunchCheck(problems=problems, warnings=warnings)
