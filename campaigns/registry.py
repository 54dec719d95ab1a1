"""Suppression lists from files: do-not-call registry copies and internal lists.

A file holds one number per line, millions of lines for the national registry. It is read
line by line and never held in memory: valid numbers are streamed in batches into a
temporary table (PostgreSQL `COPY`; plain inserts elsewhere), then moved into
`Suppression` with one insert-select that skips numbers already listed. Bad lines are
counted and the first ones reported; they never stop the import.

The switch is atomic: the new numbers, the removal of numbers a full copy no longer
lists, and the `RegistrySync` row that moves the staleness clock are committed together,
so a failed import leaves the previous copy in force.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO
from uuid import uuid4

from django.db import connection, transaction

from campaigns.models import USPS_STATES, Organization, RegistrySync, Suppression
from voiceops.phones import InvalidPhoneNumber, normalize_phone

BATCH_LINES = 10_000
MAX_REPORTED_LINES = 100
LISTS = (
    Suppression.Source.NATIONAL_REGISTRY,
    Suppression.Source.STATE_LIST,
    Suppression.Source.INTERNAL,
)
REGISTRIES = (Suppression.Source.NATIONAL_REGISTRY, Suppression.Source.STATE_LIST)


class RegistryFileError(ValueError):
    """The import cannot start: wrong list, state or date. Nothing was written."""


@dataclass(frozen=True)
class BadLine:
    line: int
    message: str

    def __str__(self):
        return f"line {self.line}: {self.message}"

    def as_dict(self) -> dict:
        return {"row": self.line, "field": "phone", "message": self.message}


@dataclass
class RegistryReport:
    total: int = 0
    processed: int = 0
    numbers: int = 0
    created: int = 0
    removed: int = 0
    bad_line_count: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    sync_id: int | None = None

    @property
    def already_listed(self) -> int:
        return self.numbers - self.created

    def add_bad_line(self, bad: BadLine) -> None:
        self.bad_line_count += 1
        if len(self.bad_lines) < MAX_REPORTED_LINES:
            self.bad_lines.append(bad)


def count_lines(file: BinaryIO) -> int:
    lines, last = 0, b"\n"
    while block := file.read(1 << 20):
        lines += block.count(b"\n")
        last = block[-1:]
    file.seek(0)
    return lines + (last != b"\n")


class NanpNormalizer:
    """`normalize_phone` for a registry's millions of bare ten-digit NANP numbers, faster.

    In the numbering-plan metadata every NANP number pattern fixes at most the first six
    digits (area code and exchange) and leaves the last four free, so once one number of
    an exchange is valid, all of it is: the full parser runs once per exchange. Anything
    else (other formats, other regions, invalid exchanges) takes the full parser, which
    also words the error. `test_registry` checks the two agree.
    """

    def __init__(self, region: str):
        self.region = region
        self.valid_exchanges: set[str] = set()

    def __call__(self, text: str) -> str:
        digits = text[1:] if len(text) == 11 and text[0] == "1" else text
        is_bare = self.region == "US" and len(digits) == 10 and digits.isdigit()
        if is_bare and digits[:6] in self.valid_exchanges:
            return "+1" + digits
        normalized = normalize_phone(text, region=self.region)
        if is_bare and normalized == "+1" + digits:
            self.valid_exchanges.add(digits[:6])
        return normalized


def numbers_in(file: BinaryIO, region: str, report: RegistryReport) -> Iterator[str]:
    """E.164 numbers from the file's lines; blank lines and `#` comments are skipped,
    bad lines counted in the report."""
    normalize = NanpNormalizer(region)
    for number, raw in enumerate(file, start=1):
        report.processed = number
        try:
            text = raw.decode("utf-8").strip().removeprefix("\ufeff")
        except UnicodeDecodeError:
            report.add_bad_line(BadLine(number, "the line is not UTF-8 text"))
            continue
        if not text or text.startswith("#"):
            continue
        try:
            # Registry downloads write "area code,number"; the comma is only a separator.
            yield normalize(text.replace(",", ""))
        except InvalidPhoneNumber as error:
            report.add_bad_line(BadLine(number, str(error)))


def batches(numbers: Iterator[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for number in numbers:
        batch.append(number)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def load_batch(cursor, table: str, batch: list[str]) -> None:
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} (phone) FROM STDIN") as copy:
            copy.write("\n".join(batch) + "\n")
    else:
        cursor.executemany(f"INSERT INTO {table} (phone) VALUES (%s)", [(n,) for n in batch])


def check_list(source: str, state: str, synced_at: datetime | None) -> None:
    if source not in LISTS:
        raise RegistryFileError(
            f"{source!r} is not a list that is imported from a file; use one of "
            f"{', '.join(LISTS)} (opt-outs are recorded one by one, with their revocation)."
        )
    if source == Suppression.Source.STATE_LIST and state not in USPS_STATES:
        raise RegistryFileError(f"A state list needs its USPS state code; got {state!r}.")
    if source != Suppression.Source.STATE_LIST and state:
        raise RegistryFileError(f"Only a state list names a state; got {state!r}.")
    if source in REGISTRIES and synced_at is None:
        raise RegistryFileError("A registry copy needs the registry's own date for it.")
    if synced_at is not None and (synced_at.tzinfo is None or synced_at.utcoffset() is None):
        raise RegistryFileError(f"The sync date must carry a time zone; got {synced_at!r}.")


def registry_import(
    *,
    organization_id: int,
    file: BinaryIO,
    source: str,
    state: str = "",
    synced_at: datetime | None = None,
    replaces_previous: bool = False,
    at: datetime,
    on_progress: Callable[[RegistryReport], None] | None = None,
) -> RegistryReport:
    """Import a list file into the organisation's suppressions (seekable binary `file`).

    With `replaces_previous` (a full registry copy), numbers of this list and state that
    the file no longer holds are removed. Registry imports record a `RegistrySync` with
    `synced_at`. Safe to run again: numbers already listed are left as they are.
    """
    check_list(source, state, synced_at)
    organization = Organization.objects.get(pk=organization_id)
    report = RegistryReport(total=count_lines(file))
    if on_progress:
        on_progress(report)
    reason = f"{Suppression.Source(source).label} {state}".strip()
    if synced_at:
        reason += f" of {synced_at:%Y-%m-%d}"
    table = f"registry_import_{uuid4().hex}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} (phone varchar(20) NOT NULL)")
        try:
            for batch in batches(numbers_in(file, organization.country, report), BATCH_LINES):
                load_batch(cursor, table, batch)
                if on_progress:
                    on_progress(report)
            with transaction.atomic():
                move_into_suppressions(
                    cursor,
                    table,
                    organization,
                    source,
                    state,
                    reason,
                    replaces_previous,
                    at,
                    report,
                )
                if source in REGISTRIES:
                    report.sync_id = RegistrySync.objects.create(
                        organization=organization,
                        source=source,
                        state=state,
                        synced_at=synced_at,
                        numbers=report.numbers,
                    ).pk
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    if on_progress:
        on_progress(report)
    return report


def move_into_suppressions(
    cursor,
    table: str,
    organization: Organization,
    source: str,
    state: str,
    reason: str,
    replaces_previous: bool,
    at: datetime,
    report: RegistryReport,
) -> None:
    cursor.execute(f"CREATE INDEX {table}_phone ON {table} (phone)")
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")
    cursor.execute(f"SELECT COUNT(DISTINCT phone) FROM {table}")
    report.numbers = cursor.fetchone()[0]
    suppression = Suppression._meta.db_table
    types = ("bigint", "varchar(20)", "varchar(2)", "varchar(300)", "timestamp with time zone")
    if connection.vendor == "postgresql":
        constants = ", ".join(f"CAST(%s AS {name})" for name in types)
    else:
        constants = ", ".join("%s" for _ in types)
    cursor.execute(
        f"INSERT INTO {suppression} (organization_id, source, state, reason, added_at, phone) "
        # "WHERE true" tells SQLite's parser that ON CONFLICT is not a join constraint.
        f"SELECT DISTINCT {constants}, phone FROM {table} WHERE true ON CONFLICT DO NOTHING",
        [
            organization.pk,
            source,
            state,
            reason[:300],
            connection.ops.adapt_datetimefield_value(at),
        ],
    )
    report.created = cursor.rowcount
    if replaces_previous:
        cursor.execute(
            f"DELETE FROM {suppression} WHERE organization_id = %s AND source = %s AND state = %s "
            f"AND NOT EXISTS (SELECT 1 FROM {table} WHERE {table}.phone = {suppression}.phone)",
            [organization.pk, source, state],
        )
        report.removed = cursor.rowcount
