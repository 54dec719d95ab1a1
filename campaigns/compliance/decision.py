"""What the engine answers: one result per rule, and the decision they combine into."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache


class Verdict(StrEnum):
    ALLOW = "allow"
    DEFER = "defer"
    DENY = "deny"


class Reason(StrEnum):
    """Stable reason codes from docs/compliance.md, shown to operators and stored on targets."""

    NO_CONSENT = "no_consent"
    CONSENT_REVOKED = "consent_revoked"
    SUPPRESSED = "suppressed"
    NATIONAL_DNC = "national_dnc"
    STATE_DNC = "state_dnc"
    STALE_REGISTRY = "stale_registry"
    UNKNOWN_LOCATION = "unknown_location"
    BAD_CALLER_ID = "bad_caller_id"
    ABANDON_RATE = "abandon_rate"
    OUTSIDE_HOURS = "outside_hours"
    DAY_NOT_ALLOWED = "day_not_allowed"
    HOLIDAY = "holiday"
    FREQUENCY_CAP = "frequency_cap"
    CAMPAIGN_WINDOW = "campaign_window"
    BUDGET = "over_budget"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's answer on its own, for the admin's "why is this contact not called?"."""

    name: str
    verdict: Verdict
    reason: Reason | None = None
    next_allowed_at: datetime | None = None
    detail: str = ""


@lru_cache(maxsize=4096)
def allowed(name: str, detail: str) -> RuleResult:
    return RuleResult(name, Verdict.ALLOW, None, None, detail)


def denied(name: str, reason: Reason, detail: str) -> RuleResult:
    return RuleResult(name, Verdict.DENY, reason, None, detail)


def deferred(name: str, reason: Reason, until: datetime | None, detail: str) -> RuleResult:
    return RuleResult(name, Verdict.DEFER, reason, until, detail)


@dataclass(frozen=True, slots=True)
class Decision:
    """The combined answer for one number at one instant.

    `next_allowed_at` is set for `defer`: the earliest instant at which every rule
    allows the call. It is None only when the budget is exhausted with no known reset.
    `ruleset`, `zones` and `states` are written on the call record.
    """

    verdict: Verdict
    reason: Reason | None
    next_allowed_at: datetime | None
    ruleset: str
    zones: tuple[str, ...]
    states: tuple[str, ...]
    detail: str = ""

    @property
    def is_allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW
