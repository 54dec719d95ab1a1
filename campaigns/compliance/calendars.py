"""Legal holidays per state: the `holidays` package plus the rule set's extra and declared days.

Building a `holidays` calendar takes milliseconds, so each (state, year) is built once
per process and kept as a frozenset of dates.
"""

from datetime import date
from functools import lru_cache

import holidays

from .ruleset import StateRow


@lru_cache(maxsize=4096)
def public_holidays(state: str, year: int) -> frozenset[date]:
    """The state's public holidays in a year, observed dates included."""
    try:
        calendar = holidays.country_holidays("US", subdiv=state, years=year)
    except NotImplementedError:
        # No calendar for this code: the federal holidays still apply.
        calendar = holidays.country_holidays("US", years=year)
    return frozenset(calendar)


def is_holiday(row: StateRow, day: date, declared_days: frozenset[tuple[str, date]]) -> bool:
    """Whether `day` is a legal holiday in the row's state.

    `declared_days` holds manual overrides as (state, date) pairs: days a governor
    declares, or declared emergencies.
    """
    return (
        day in public_holidays(row.code, day.year)
        or (day.month, day.day) in row.extra_month_days
        or day in row.declared_days
        or (row.code, day) in declared_days
    )
