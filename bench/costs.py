"""Seconds to report a month of costs per campaign per day over 1,000,000 calls.

Run: `.venv/bin/python -m bench.costs [--calls N] [--campaigns N] [--repeat N]`

Generates one organisation's month of priced calls (20 campaigns, five attempts per
target, four ledger lines per call) with insert-selects in a throwaway database
(`bench_<name>`, created and dropped) on the server the test environment names
(DATABASE_URL, default PostgreSQL on 127.0.0.1). Then it times:
- building the daily roll-up from the priced calls (`daily_costs_rebuild`, done once);
- the finance selector `campaign_daily_costs` for the month (what a report page runs);
- for comparison, the same aggregate read straight from the ledger;
- the whole finance report page's tables for the month (`calls.admin_reports.report_tables`:
  the roll-up's tables, and the cost by kind of call, per outcome and the carrier
  differences, which read the month's priced calls).
It checks that the roll-up and the ledger agree to the millionth. Wall-clock time on a
shared machine: read the figures as orders of magnitude.
"""

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

import tests.environment  # noqa: F401  (the same environment as the test suite)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

MONTH_START = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # midnight in New York
MONTH_SECONDS = 30 * 24 * 3600
ATTEMPTS = 5
LEDGER = {  # component -> (quantity, unit, unit price) in SQL over the call row `c`
    "carrier_minute": ("ceil(c.duration_seconds / 60.0)", "minute", "0.014"),
    "media_stream_minute": ("ceil(c.duration_seconds / 60.0)", "minute", "0.004"),
    "amd": ("1", "call", "0.0075"),
    "audio_output": ("c.audio_output_tokens", "million_tokens", "64"),
}
PER_UNIT = {"minute": 1, "call": 1, "million_tokens": 1_000_000}


def insert_select(cursor, model, given: dict[str, str], source: str, params=()) -> None:
    """INSERT INTO <model> SELECT …: `given` maps columns to SQL; every other column gets the
    model's default, so the generator keeps up with the model's fields."""
    columns, values, arguments = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in given:
            continue
        columns.append(field.column)
        if field.column in given:
            values.append(given[field.column])
        else:
            values.append("%s")
            arguments.append(field.get_db_prep_save(field.get_default(), connection))
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {source}",
        [*arguments, *params],
    )


def generate(*, calls: int, campaigns: int):
    from calls.models import Call, CostEntry, RateCard
    from campaigns.models import Contact, Target
    from tests.factories import AgentFactory, CampaignFactory, OrganizationFactory

    organization = OrganizationFactory(name="Cost bench", time_zone="America/New_York")
    agent = AgentFactory(organization=organization)
    made = [CampaignFactory(organization=organization, agent=agent) for _ in range(campaigns)]
    first_campaign = made[0].pk
    targets = calls // ATTEMPTS
    contacts = targets // campaigns
    rates = dict(RateCard.objects.filter(model="").values_list("component", "pk"))
    now = "now()"
    with connection.cursor() as cursor:
        started = time.perf_counter()
        insert_select(
            cursor,
            Contact,
            {
                "organization_id": str(organization.pk),
                "phone": "'+1305' || lpad(g.i::text, 7, '0')",
                "created_at": now,
                "updated_at": now,
            },
            "generate_series(0, %s) AS g(i)",
            [contacts - 1],
        )
        cursor.execute("SELECT min(id) FROM campaigns_contact")
        first_contact = cursor.fetchone()[0]
        insert_select(
            cursor,
            Target,
            {
                "campaign_id": f"{first_campaign} + g.i %% {campaigns}",
                "contact_id": f"{first_contact} + g.i / {campaigns}",
                "status": "'done'",
                "attempts": str(ATTEMPTS),
                "created_at": now,
                "updated_at": now,
            },
            "generate_series(0, %s) AS g(i)",
            [targets - 1],
        )
        cursor.execute("SELECT min(id) FROM campaigns_target")
        first_target = cursor.fetchone()[0]
        telephony = (
            "round(ceil(d.seconds / 60.0) * 0.014, 6) + round(ceil(d.seconds / 60.0) * 0.004, 6)"
            " + 0.0075"
        )
        model_cost = "round(d.tokens * 64 / 1000000.0, 6)"
        started_at = (
            f"'{MONTH_START.isoformat()}'::timestamptz"
            f" + (g.i::float8 / {calls}) * interval '{MONTH_SECONDS} seconds'"
        )
        insert_select(
            cursor,
            Call,
            {
                "organization_id": str(organization.pk),
                "direction": "'outbound'",
                "target_id": f"{first_target} + g.i / {ATTEMPTS}",
                "attempt": f"g.i %% {ATTEMPTS} + 1",
                "agent_id": str(agent.pk),
                "from_number": "'+12025550100'",
                "to_number": "'+13055550000'",
                "status": "'completed'",
                "created_at": started_at,
                "answered_at": started_at,
                "ended_at": started_at,
                "settled_at": started_at,
                "priced_at": started_at,
                "duration_seconds": "d.seconds",
                "audio_output_tokens": "d.tokens",
                "cost_telephony": telephony,
                "cost_model": model_cost,
                "cost_total": f"{telephony} + {model_cost}",
            },
            "generate_series(0, %s) AS g(i), LATERAL (SELECT"
            " 10 + (g.i::bigint * 7919) %% 290 AS seconds,"
            " (g.i::bigint * 104729) %% 5000 AS tokens) d",
            [calls - 1],
        )
        for component, (quantity, unit, price) in LEDGER.items():
            insert_select(
                cursor,
                CostEntry,
                {
                    "call_id": "c.id",
                    "component": f"'{component}'",
                    "quantity": quantity,
                    "unit": f"'{unit}'",
                    "unit_price": price,
                    "amount": f"round({quantity} * {price} / {PER_UNIT[unit]}.0, 6)",
                    "rate_card_id": str(rates[component]),
                    "created_at": now,
                },
                "calls_call c WHERE c.organization_id = %s",
                [organization.pk],
            )
        cursor.execute("ANALYZE")
        elapsed = time.perf_counter() - started
    lines = CostEntry.objects.count()
    print(
        f"generated {calls:,} calls ({targets:,} targets, {campaigns} campaigns) and "
        f"{lines:,} ledger lines in {elapsed:.0f} s"
    )
    return organization


def ledger_aggregate(organization_id: int, *, year: int, month: int) -> dict:
    """The month per campaign per day, summed from the ledger lines themselves."""
    import zoneinfo

    from django.db.models import Sum
    from django.db.models.functions import TruncDate

    from calls.models import CostEntry
    from calls.reports import month_bounds
    from campaigns.models import Organization

    zone = zoneinfo.ZoneInfo(Organization.objects.get(pk=organization_id).time_zone)
    first, last = month_bounds(year=year, month=month)
    groups = (
        CostEntry.objects.filter(call__organization_id=organization_id)
        .annotate(day=TruncDate("call__created_at", tzinfo=zone))
        .filter(day__range=(first, last))
        .values("call__target__campaign_id", "day")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(group["call__target__campaign_id"], group["day"]): group["total"] for group in groups}


def timed(function, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    arguments = parser.parse_args()

    setup_test_environment()
    database = connection.settings_dict
    database.setdefault("TEST", {})["NAME"] = f"bench_{database['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from calls.daily_costs import daily_costs_rebuild
        from calls.reports import campaign_daily_costs

        organization = generate(calls=arguments.calls, campaigns=arguments.campaigns)

        started = time.perf_counter()
        rows = daily_costs_rebuild(organization_id=organization.pk)
        print(
            f"roll-up built from the priced calls: {rows:,} rows in {time.perf_counter() - started:.1f} s"
        )

        times, report = timed(
            lambda: campaign_daily_costs(organization_id=organization.pk, year=2026, month=11),
            arguments.repeat,
        )
        calls = sum(row.calls for row in report)
        print(
            f"campaign_daily_costs, November: {len(report):,} rows covering {calls:,} calls; "
            f"first {times[0] * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms, "
            f"max {max(times) * 1000:.1f} ms"
        )

        ledger_times, ledger = timed(
            lambda: ledger_aggregate(organization.pk, year=2026, month=11), 2
        )
        print(
            f"the same from the ledger ({sum(1 for _ in ledger):,} groups): "
            f"{min(ledger_times):.2f} s"
        )
        from_rollup = {(row.campaign_id, row.day): row.total for row in report}
        agree = from_rollup == ledger
        print(f"roll-up equals ledger: {agree} (total {sum(ledger.values(), Decimal(0)):,.6f} USD)")
        if not agree:
            raise SystemExit("The roll-up and the ledger disagree.")

        from datetime import date

        from calls.admin_reports import report_tables
        from calls.reports import ReportFilter
        from tenancy.scoping import Tenant

        tenant = Tenant(organization=organization, role="finance")
        month = ReportFilter(first=date(2026, 11, 1), last=date(2026, 11, 30))
        page_times, tables = timed(
            lambda: report_tables(tenant=tenant, report=month, at=MONTH_START),
            max(arguments.repeat // 2, 1),
        )
        print(
            f"finance report page, November ({len(tables)} tables): "
            f"median {statistics.median(page_times) * 1000:.0f} ms, "
            f"max {max(page_times) * 1000:.0f} ms"
        )
        from calls.admin_reports import SECTIONS, report_sections

        for key in report_sections(tenant):
            section_times, _ = timed(
                lambda key=key: SECTIONS[key](tenant=tenant, report=month, at=MONTH_START), 3
            )
            print(f"  {key}: median {statistics.median(section_times) * 1000:.0f} ms")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
