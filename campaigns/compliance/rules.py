"""The rules of docs/compliance.md, in order. Each judges one concern on its own.

A rule takes the facts, an instant and the evaluation context and returns a
`RuleResult`. Rules never look at each other; `evaluation.py` combines them.
`TIME_RULES` are the rules whose answer can change as time passes without the facts
changing: the ones searched for a common allowed instant.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .caps import caps_binding, worst_breach
from .decision import Reason, RuleResult, allowed, deferred, denied
from .facts import Facts
from .hours import (
    DayRule,
    DayRules,
    campaign_day_rule,
    closed_rule,
    earliest_open,
    legal_day_rule,
    zone_info,
)
from .ruleset import Ruleset
from .zones import Location


@dataclass(frozen=True, slots=True)
class Context:
    ruleset: Ruleset
    location: Location

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.ruleset.search_horizon_days)


Rule = Callable[[Facts, datetime, Context], RuleResult]


def stamp(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds")


def consent(facts: Facts, at: datetime, context: Context) -> RuleResult:
    if facts.purpose == "telemarketing":
        if facts.consent == "express_written" and facts.seller_named:
            return allowed("consent", "written consent naming the seller")
        return denied(
            "consent",
            Reason.NO_CONSENT,
            f"telemarketing needs written consent naming the seller; have {facts.consent!r}"
            + ("" if facts.seller_named else ", seller not named"),
        )
    if facts.consent in ("express", "express_written"):
        return allowed("consent", f"{facts.consent} consent for this {facts.purpose} call")
    return denied("consent", Reason.NO_CONSENT, f"no consent for this {facts.purpose} call")


def revocation(facts: Facts, at: datetime, context: Context) -> RuleResult:
    if facts.consent_revoked:
        return denied("revocation", Reason.CONSENT_REVOKED, "the consent was revoked")
    return allowed("revocation", "consent not revoked")


def suppression(facts: Facts, at: datetime, context: Context) -> RuleResult:
    if facts.suppressed:
        return denied("suppression", Reason.SUPPRESSED, "on the organisation's suppression list")
    return allowed("suppression", "not on the suppression list")


def registry_age(facts: Facts, at: datetime, context: Context) -> RuleResult:
    if facts.purpose != "telemarketing":
        return allowed("registry_age", "registries bind telemarketing only")
    max_age = timedelta(days=context.ruleset.national_registry_max_age_days)
    synced_at = facts.national_dnc_synced_at
    if synced_at is None:
        return denied(
            "registry_age", Reason.STALE_REGISTRY, "the national registry was never synced"
        )
    if at - synced_at > max_age:
        return denied(
            "registry_age",
            Reason.STALE_REGISTRY,
            f"national registry copy from {stamp(synced_at)} is older than {max_age.days} days",
        )
    return allowed("registry_age", f"national registry copy from {stamp(synced_at)}")


def national_dnc(facts: Facts, at: datetime, context: Context) -> RuleResult:
    if facts.purpose != "telemarketing" or not facts.national_dnc:
        return allowed("national_dnc", "not listed, or not a telemarketing call")
    if facts.has_written_consent_naming_seller:
        return allowed("national_dnc", "listed, but written consent names the seller")
    return denied("national_dnc", Reason.NATIONAL_DNC, "listed on the national registry")


def state_dnc(facts: Facts, at: datetime, context: Context) -> RuleResult:
    if facts.purpose != "telemarketing" or not facts.state_dnc:
        return allowed("state_dnc", "not listed, or not a telemarketing call")
    if facts.has_written_consent_naming_seller:
        return allowed("state_dnc", "listed, but written consent names the seller")
    return denied("state_dnc", Reason.STATE_DNC, "listed on a state do-not-call list")


def frequency_cap(facts: Facts, at: datetime, context: Context) -> RuleResult:
    if not facts.attempts:
        return allowed("frequency_cap", "no earlier attempts")
    caps = caps_binding(context.ruleset.version, facts.purpose, context.location.states)
    breach = worst_breach(facts.attempts, at, caps)
    if breach is None:
        return allowed("frequency_cap", f"{len(facts.attempts)} earlier attempts fit every cap")
    return deferred(
        "frequency_cap",
        Reason.FREQUENCY_CAP,
        breach.until,
        f"{breach.counted} attempts in the last {breach.cap.per_hours} h "
        f"(cap {breach.cap.calls}: {breach.cap.why}); next at {stamp(breach.until)}",
    )


def location(facts: Facts, at: datetime, context: Context) -> RuleResult:
    found = context.location
    if not found.is_known:
        return denied("location", Reason.UNKNOWN_LOCATION, found.problem or "unknown location")
    return allowed("location", f"zones {', '.join(found.zones)}; states {', '.join(found.states)}")


def window_rule(name: str, day_rules: DayRules, at: datetime, context: Context) -> RuleResult:
    """Open when every candidate zone's window is open; else deferred to when they all are."""
    zones = context.location.zones
    if not context.location.is_known:
        return denied(name, Reason.UNKNOWN_LOCATION, "no candidate zone to check the hours in")
    closures = [
        (zone, rule) for zone in zones if (rule := closed_rule(at, zone, day_rules)) is not None
    ]
    if not closures:
        return allowed(name, f"open in {', '.join(zones)}")
    zone, closure = min(closures, key=lambda pair: CLOSURE_PRECEDENCE[pair[1].reason])
    local = at.astimezone(zone_info(zone))
    why = f"{local:%a %H:%M} in {zone}: {closure.why}"
    until = earliest_open(at, zones, day_rules, context.horizon)
    if until is None:
        return denied(name, closure.reason, f"{why}; no opening within {context.horizon.days} days")
    return deferred(name, closure.reason, until, f"{why}; next open {stamp(until)}")


CLOSURE_PRECEDENCE = {
    Reason.HOLIDAY: 0,
    Reason.DAY_NOT_ALLOWED: 1,
    Reason.OUTSIDE_HOURS: 2,
    Reason.CAMPAIGN_WINDOW: 3,
}


def calling_hours(facts: Facts, at: datetime, context: Context) -> RuleResult:
    version, states = context.ruleset.version, context.location.states

    def day_rules(day: date) -> DayRule:
        return legal_day_rule(
            version, day, states, facts.purpose, facts.has_consent, facts.declared_days
        )

    return window_rule("calling_hours", day_rules, at, context)


def campaign_window(facts: Facts, at: datetime, context: Context) -> RuleResult:
    if facts.window is None and facts.weekdays is None:
        return allowed("campaign_window", "the campaign sets no window")
    version = context.ruleset.version

    def day_rules(day: date) -> DayRule:
        return campaign_day_rule(version, day, facts.window, facts.weekdays)

    return window_rule("campaign_window", day_rules, at, context)


def campaign_health(facts: Facts, at: datetime, context: Context) -> RuleResult:
    """Dialing stops while the campaign's 30-day abandonment rate is above its threshold.
    A defer, not a deny: the targets are called once the rate is back within it. The rate
    can only fall when the oldest abandoned call leaves the window (the campaign places no
    calls meanwhile), so the targets wait until then and are judged afresh."""
    abandonment = facts.abandonment
    if abandonment is None or not abandonment.is_exceeded:
        return allowed("campaign_health", "abandonment within limits")
    if abandonment.recovers_at is not None and at >= abandonment.recovers_at:
        return allowed("campaign_health", "the abandoned calls have left the 30-day window")
    return deferred(
        "campaign_health",
        Reason.ABANDON_RATE,
        abandonment.recovers_at,
        f"{abandonment.abandoned} of the campaign's {abandonment.answered} calls answered by a "
        f"person in the last 30 days were abandoned (no agent audio within 2 s): "
        f"{abandonment.rate_percent:.1f} %, above the {abandonment.pause_percent:g} % at which "
        "dialing stops (the legal limit is 3 %)"
        + (
            f"; re-checked at {stamp(abandonment.recovers_at)}"
            if abandonment.recovers_at is not None
            else ""
        ),
    )


def caller_id(facts: Facts, at: datetime, context: Context) -> RuleResult:
    if not facts.caller_id_owned:
        return denied(
            "caller_id", Reason.BAD_CALLER_ID, "the from number is not one of the organisation's"
        )
    return allowed("caller_id", "the from number is the organisation's own")


def budget(facts: Facts, at: datetime, context: Context) -> RuleResult:
    resets_at = facts.budget_resets_at
    if not facts.over_budget or (resets_at is not None and at >= resets_at):
        return allowed("budget", "within budget")
    if resets_at is None:
        return deferred("budget", Reason.BUDGET, None, "over budget; no known reset")
    return deferred("budget", Reason.BUDGET, resets_at, f"over budget until {stamp(resets_at)}")


RULES: tuple[Rule, ...] = (
    consent,
    revocation,
    suppression,
    registry_age,
    national_dnc,
    state_dnc,
    frequency_cap,
    location,
    calling_hours,
    campaign_window,
    campaign_health,
    caller_id,
    budget,
)
TIME_RULES: tuple[Rule, ...] = (
    frequency_cap,
    calling_hours,
    campaign_window,
    campaign_health,
    budget,
)
