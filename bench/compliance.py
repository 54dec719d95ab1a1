"""Decisions per second per core for `campaigns.compliance.evaluate`.

Run: `.venv/bin/python -m bench.compliance [--decisions N] [--seed S]`

One process, CPU time. Two mixes of 2,000 numbers (informational, survey and
telemarketing; split area codes; addresses on file; campaign windows; 0-3 earlier
attempts):
- "around the clock": instants spread over 60 days, so most decisions are deferrals
  that search for the next instant every rule allows (the expensive path);
- "business hours": weekday afternoons in the US, what due targets mostly look like.
Numbers repeat, as due targets do tick after tick, so per-number caches are warm;
the first evaluation of each number (cold caches) is reported separately.
"""

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from campaigns.compliance import Facts, evaluate

AREA_CODES = (
    "212", "305", "850", "512", "915", "405", "860", "206", "602", "928", "808", "907",
    "208", "701", "605", "615", "225", "601", "215", "401", "801", "317", "504", "702",
)  # fmt: skip
STATES = (None, None, None, "FL", "TX", "CA", "NY", "LA", "UT", "AL")


def realistic_facts(rng: random.Random, numbers: int) -> list[Facts]:
    facts = []
    for index in range(numbers):
        phone = f"+1{rng.choice(AREA_CODES)}{rng.randint(200, 999)}{index % 10_000:04d}"
        purpose = rng.choices(("informational", "survey", "telemarketing"), (6, 3, 1))[0]
        attempts = tuple(
            datetime(2026, 6, 1, tzinfo=UTC) - timedelta(hours=rng.uniform(0, 30))
            for _ in range(rng.choice((0, 0, 0, 1, 2, 3)))
        )
        facts.append(
            Facts(
                phone=phone,
                purpose=purpose,
                consent="express_written" if purpose == "telemarketing" else "express",
                seller_named=True,
                national_dnc_synced_at=datetime(2026, 7, 1, tzinfo=UTC),
                state=rng.choice(STATES),
                attempts=attempts,
                window=rng.choice((None, (clock(9), clock(17)), (clock(10), clock(19)))),
                weekdays=rng.choice((None, None, frozenset(range(5)))),
                caller_id_owned=True,
            )
        )
    return facts


def around_the_clock(rng: random.Random, count: int) -> list[datetime]:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    return [start + timedelta(minutes=rng.randint(0, 60 * 24 * 60)) for _ in range(count)]


def business_hours(rng: random.Random, count: int) -> list[datetime]:
    days = [datetime(2026, 6, 1, tzinfo=UTC) + timedelta(days=day) for day in range(60)]
    weekdays = [day for day in days if day.weekday() < 5]
    # 18:00-21:00 UTC is 14:00-17:00 Eastern and 11:00-14:00 Pacific.
    return [
        rng.choice(weekdays) + timedelta(hours=18, minutes=rng.randint(0, 180))
        for _ in range(count)
    ]


def measure(label: str, pairs: list[tuple[Facts, datetime]]) -> None:
    verdicts: Counter[str] = Counter()
    started = time.process_time()
    for facts, at in pairs:
        verdicts[evaluate(facts, at).verdict] += 1
    elapsed = time.process_time() - started
    mix = ", ".join(f"{verdict} {count}" for verdict, count in sorted(verdicts.items()))
    print(
        f"{label:>16}: {len(pairs) / elapsed:>8,.0f} decisions/s per core, "
        f"{elapsed / len(pairs) * 1e6:6.1f} µs per decision  ({mix})"
    )


def run(decisions: int, seed: int) -> None:
    rng = random.Random(seed)
    facts = realistic_facts(rng, 2_000)

    started = time.process_time()
    for one in facts:
        evaluate(one, datetime(2026, 6, 1, 18, tzinfo=UTC))
    cold = (time.process_time() - started) / len(facts)
    print(f"first evaluation of a number (cold caches): {cold * 1e6:.0f} µs")

    for label, instants in (
        ("around the clock", around_the_clock(rng, 500)),
        ("business hours", business_hours(rng, 500)),
    ):
        measure(label, [(rng.choice(facts), rng.choice(instants)) for _ in range(decisions)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    run(arguments.decisions, arguments.seed)


if __name__ == "__main__":
    main()
