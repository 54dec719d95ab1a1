"""`evaluate` and `explain`: the rules of `rules.py` combined into one decision.

Combination: any rule that denies makes the decision a deny, with the reason of the
first denying rule in docs/compliance.md order. Otherwise any rule that defers makes it a
defer, with the first deferring rule's reason, and `next_allowed_at` is the earliest
instant at which every rule allows: the time-dependent rules are re-evaluated at the
latest of their own next instants until none of them defers (a fixed point).

Rules that can only deny (consent, lists, registry age, caller ID) are judged at `at`
alone: a registry copy that goes stale before `next_allowed_at` is caught when the
scheduler evaluates again then.

When no instant within the rule set's search horizon (366 days) satisfies every rule
at once, the facts themselves rule the call out (say, a campaign that calls only on
Sundays to a state that bans Sunday calls), so the decision is a deny with the first
deferring rule's reason. A budget with no known reset is the one defer without an
instant: the scheduler re-evaluates when the budget changes.
"""

from collections.abc import Sequence
from datetime import datetime

from .decision import Decision, Reason, RuleResult, Verdict, deferred, denied
from .facts import Facts, require_aware
from .rules import RULES, TIME_RULES, Context, stamp
from .ruleset import PINNED_VERSION, load_ruleset
from .zones import locate

COMMON_INSTANT = "common_instant"
# Each round moves the candidate forward to some rule's next opening; the horizon
# check ends the search long before this bound unless a rule misbehaves.
MAX_ROUNDS = 2_000


def context_for(facts: Facts, version: str) -> Context:
    return Context(load_ruleset(version), locate(facts.phone, facts.state, facts.postal_code))


def common_instant(
    facts: Facts, at: datetime, context: Context, deferrals: Sequence[RuleResult]
) -> RuleResult:
    """The earliest instant after `at` at which every rule allows, given the rules
    deferring at `at` (in order)."""
    reason: Reason | None = deferrals[0].reason
    if any(result.next_allowed_at is None for result in deferrals):
        return deferred(COMMON_INSTANT, reason, None, "no known instant: re-evaluate on change")
    candidate = max(result.next_allowed_at for result in deferrals)
    end = at + context.horizon
    for _ in range(MAX_ROUNDS):
        if candidate > end:
            break
        blocking = None
        for rule in TIME_RULES:
            result = rule(facts, candidate, context)
            if result.verdict is Verdict.ALLOW:
                continue
            blocking = result
            if result.verdict is Verdict.DENY or result.next_allowed_at is None:
                return RuleResult(
                    COMMON_INSTANT,
                    result.verdict,
                    reason,
                    None,
                    f"from {stamp(candidate)}: {result.detail}",
                )
            candidate = result.next_allowed_at
        if blocking is None:
            return deferred(
                COMMON_INSTANT, reason, candidate, f"every rule allows at {stamp(candidate)}"
            )
    return denied(
        COMMON_INSTANT,
        reason,
        f"no instant within {context.horizon.days} days at which every rule allows",
    )


def decide(results: Sequence[RuleResult], context: Context) -> Decision:
    """Combine rule results (as `explain` returns them) into the decision."""
    ruleset, found = context.ruleset.version, context.location
    for result in results:
        if result.verdict is Verdict.DENY:
            return Decision(
                Verdict.DENY, result.reason, None, ruleset, found.zones, found.states, result.detail
            )
    deferrals = [result for result in results if result.verdict is Verdict.DEFER]
    if not deferrals:
        return Decision(Verdict.ALLOW, None, None, ruleset, found.zones, found.states, "")
    first, final = deferrals[0], results[-1]
    return Decision(
        Verdict.DEFER,
        first.reason,
        final.next_allowed_at,
        ruleset,
        found.zones,
        found.states,
        f"{first.detail}; {final.detail}",
    )


def explain(facts: Facts, at: datetime, *, ruleset: str = PINNED_VERSION) -> list[RuleResult]:
    """Every rule's own result at `at`, in order, for "why is this contact not called?".

    When some rules defer and none denies, a last `common_instant` result gives the
    earliest instant at which every rule allows (or denies when there is none).
    """
    require_aware(at, "at")
    context = context_for(facts, ruleset)
    results = [rule(facts, at, context) for rule in RULES]
    if any(result.verdict is Verdict.DENY for result in results):
        return results
    deferrals = [result for result in results if result.verdict is Verdict.DEFER]
    if deferrals:
        results.append(common_instant(facts, at, context, deferrals))
    return results


def evaluate(facts: Facts, at: datetime, *, ruleset: str = PINNED_VERSION) -> Decision:
    """Whether a call to `facts.phone` may be initiated at `at`; pure, no clock, no I/O.

    Same decision as `decide(explain(facts, at))`, stopping at the first deny.
    """
    require_aware(at, "at")
    context = context_for(facts, ruleset)
    results = []
    for rule in RULES:
        result = rule(facts, at, context)
        if result.verdict is Verdict.DENY:
            return decide((result,), context)
        results.append(result)
    deferrals = [result for result in results if result.verdict is Verdict.DEFER]
    if deferrals:
        results.append(common_instant(facts, at, context, deferrals))
    return decide(results, context)
