"""The compliance rule engine: facts about one number in, one decision out.

Pure code: no ORM, no clock. The scheduler builds `Facts`, passes the current
instant, and acts on the `Decision`; `explain` shows every rule's own answer.
Rules are in docs/compliance.md; the state data is versioned under `data/`.
"""

from .decision import Decision, Reason, RuleResult, Verdict
from .evaluation import evaluate, explain
from .facts import Abandonment, Facts, InvalidFacts
from .ruleset import PINNED_VERSION, RulesetError, load_ruleset
from .zones import Location, locate

__all__ = [
    "PINNED_VERSION",
    "Abandonment",
    "Decision",
    "Facts",
    "InvalidFacts",
    "Location",
    "Reason",
    "RuleResult",
    "RulesetError",
    "Verdict",
    "evaluate",
    "explain",
    "load_ruleset",
    "locate",
]
