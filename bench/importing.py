"""Rows per second for the contact CSV import and the streaming registry import, and the
registry import's peak memory (it must not grow with the file).

Run: `.venv/bin/python -m bench.importing [--contacts N] [--registry-lines N]`

Uses a throwaway database (`bench_<name>`, created and dropped) on the server the test
environment names (DATABASE_URL, default PostgreSQL on 127.0.0.1). Wall-clock time on a
shared machine: read the figures as orders of magnitude.
"""

import argparse
import io
import os
import resource
import tempfile
import time
from datetime import UTC, datetime

import tests.environment  # noqa: F401  (the same environment as the test suite)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

SYNCED = datetime(2026, 11, 10, tzinfo=UTC)


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def registry_file(lines: int):
    """One number per line, a bad line every 10,000, written without holding the file."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    block = []
    for line in range(1, lines + 1):
        block.append("555-12\n" if line % 10_000 == 0 else f"{2012000000 + line * 7}\n")
        if len(block) == 50_000:
            file.write("".join(block).encode())
            block = []
    file.write("".join(block).encode())
    file.seek(0)
    return file


def contacts_csv(rows: int) -> bytes:
    header = (
        "phone,name,state,postal_code,language,consent_purpose,consent_written,"
        "consent_source,consent_evidence,consent_captured_at,appointment,clinic\n"
    )
    body = "".join(
        f"305{2000000 + row},Contact {row},FL,33101,en,informational,no,web form,"
        f"form #{row},2026-01-05T10:00:00-05:00,Tue 9am,Downtown\n"
        for row in range(rows)
    )
    return (header + body).encode()


def bench_registry(organization, lines: int) -> None:
    from campaigns.registry import registry_import

    with registry_file(lines) as file:
        size_mib = file.seek(0, io.SEEK_END) / 2**20
        file.seek(0)
        before = maxrss_mib()
        started = time.perf_counter()
        report = registry_import(
            organization_id=organization.pk,
            file=file,
            source="national_registry",
            synced_at=SYNCED,
            at=SYNCED,
        )
        elapsed = time.perf_counter() - started
    print(
        f"registry: {lines:,} lines ({size_mib:.1f} MiB) in {elapsed:.1f} s = "
        f"{lines / elapsed:,.0f} lines/s; {report.created:,} suppressions, "
        f"{report.bad_line_count:,} bad lines; peak RSS {before:.0f} -> {maxrss_mib():.0f} MiB"
    )


def bench_insert_strategies(organization, numbers: int) -> None:
    """The database part alone: COPY + insert-select against bulk_create(ignore_conflicts)."""
    from campaigns.models import Suppression
    from campaigns.registry import BATCH_LINES, batches, load_batch

    phones = [f"+1415{2000000 + index}" for index in range(numbers)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_numbers (phone varchar(20) NOT NULL)")
        started = time.perf_counter()
        for batch in batches(iter(phones), BATCH_LINES):
            load_batch(cursor, "bench_numbers", batch)
        cursor.execute(
            "INSERT INTO campaigns_suppression (organization_id, phone, source, state, reason, "
            "added_at) SELECT DISTINCT %s::bigint, phone, 'internal', '', '', now() "
            "FROM bench_numbers ON CONFLICT DO NOTHING",
            [organization.pk],
        )
        copy_elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_numbers")
    Suppression.objects.filter(source="internal").delete()
    started = time.perf_counter()
    for batch in batches(iter(phones), BATCH_LINES):
        Suppression.objects.bulk_create(
            [
                Suppression(organization=organization, phone=phone, source="internal")
                for phone in batch
            ],
            ignore_conflicts=True,
        )
    bulk_elapsed = time.perf_counter() - started
    print(
        f"insert {numbers:,} normalised numbers: COPY + insert-select "
        f"{numbers / copy_elapsed:,.0f} rows/s; bulk_create(ignore_conflicts) "
        f"{numbers / bulk_elapsed:,.0f} rows/s"
    )


def bench_contacts(organization, rows: int) -> None:
    from campaigns.importing import contacts_import

    data = contacts_csv(rows)
    for label in ("first import", "re-import (all unchanged)"):
        started = time.perf_counter()
        report = contacts_import(organization_id=organization.pk, file=io.BytesIO(data))
        elapsed = time.perf_counter() - started
        print(
            f"contacts, {label}: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s "
            f"({report.created} created, {report.unchanged} unchanged, {report.rejected} refused)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--registry-lines", type=int, default=1_000_000)
    parser.add_argument("--insert-numbers", type=int, default=200_000)
    arguments = parser.parse_args()

    setup_test_environment()
    database = connection.settings_dict
    database.setdefault("TEST", {})["NAME"] = f"bench_{database['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from tests.factories import OrganizationFactory

        bench_registry(OrganizationFactory(name="Registry bench"), arguments.registry_lines)
        bench_insert_strategies(OrganizationFactory(name="Insert bench"), arguments.insert_numbers)
        bench_contacts(OrganizationFactory(name="Contacts bench"), arguments.contacts)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
