"""Contacts and their consent from a CSV file, upserted by phone number.

One row is one contact, with at most one consent record per purpose. A row's contact and
consents are written together; a bad row is reported (row, column, message) and the good
rows are imported. Re-importing the same file changes nothing. The whole file is refused,
before anything is written, when it is not UTF-8, has no phone column, or is not CSV.

Row numbers are those a spreadsheet shows: the header is row 1, the first contact row 2.
An empty cell means "no information": it never clears what is on file. Columns that are not
known fields become the contact's template variables (merged into those on file).
"""

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from campaigns.models import (
    USPS_STATES,
    Consent,
    Contact,
    ImportedContact,
    Organization,
    Purpose,
)
from voiceops.languages import InvalidLanguage, normalize_language
from voiceops.phones import InvalidPhoneNumber, normalize_phone

# Known columns by canonical name, with the header spellings accepted for each (compared
# after lower-casing and turning spaces and punctuation into underscores).
COLUMNS = {
    "phone": {"phone", "phone_number", "number", "mobile", "telephone"},
    "name": {"name", "full_name"},
    "state": {"state"},
    "postal_code": {"postal_code", "zip", "zip_code", "postcode"},
    "language": {"language", "lang"},
    "consent_purpose": {"consent_purpose", "purpose"},
    "consent_written": {"consent_written", "written", "is_written", "written_consent"},
    "consent_seller_named": {"consent_seller_named", "seller_named", "seller"},
    "consent_source": {"consent_source", "source"},
    "consent_evidence": {"consent_evidence", "evidence"},
    "consent_captured_at": {"consent_captured_at", "captured_at", "consented_at", "consent_date"},
}
CONSENT_DETAILS = (
    "consent_written",
    "consent_seller_named",
    "consent_source",
    "consent_evidence",
    "consent_captured_at",
)
MAX_LENGTHS = {
    "name": 200,
    "postal_code": 10,
    "language": 16,
    "consent_seller_named": 200,
    "consent_source": 100,
}
YES = {"yes", "y", "true", "t", "1", "x"}
NO = {"no", "n", "false", "f", "0", ""}
CHUNK_ROWS = 500
MAX_REPORTED_ERRORS = 1000
CONTACT_FIELDS = ("name", "state", "postal_code", "language")


class ImportFileError(Exception):
    """The whole file is refused; nothing was written."""


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def __str__(self):
        return (
            f"row {self.row}, {self.field}: {self.message}"
            if self.field
            else (f"row {self.row}: {self.message}")
        )

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportReport:
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)

    def reject(self, errors: list[RowError]) -> None:
        """Count one refused row and keep its messages (the first ones of the file)."""
        self.rejected += 1
        self.errors.extend(errors[: max(0, MAX_REPORTED_ERRORS - len(self.errors))])


@dataclass(frozen=True)
class ConsentValues:
    purpose: str
    is_written: bool
    seller_named: str
    source: str
    evidence: str
    captured_at: datetime


@dataclass
class ContactRow:
    row: int
    phone: str
    fields: dict[str, str]
    variables: dict[str, str]
    consents: list[ConsentValues]


@dataclass(frozen=True)
class Layout:
    """Where each known column is in the file, its header as written, and the rest."""

    known: dict[str, int]
    headers: dict[str, str]
    variables: dict[str, int]
    width: int


def header_key(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


def check_width(header: list[str]) -> None:
    """Refuse a header with more columns than CONTACT_CSV_MAX_COLUMNS."""
    limit = settings.CONTACT_CSV_MAX_COLUMNS
    if len(header) > limit:
        raise ImportFileError(
            f"The file has {len(header):,} columns; a contact file may have at most {limit:,} "
            "(CONTACT_CSV_MAX_COLUMNS). Keep the known columns and the template variables your "
            "agents use, and remove the others."
        )


def contact_file_check(file: BinaryIO) -> None:
    """Refuse, before the file is stored, a contact file whose header is too wide.

    Reads only the first record and rewinds; every other whole-file check (encoding, CSV,
    the phone column) is left to the import, which reports it on the job.
    """
    try:
        header = next((cells for cells in text_rows(file) if not is_blank(cells)), [])
    except ImportFileError:
        header = []
    finally:
        file.seek(0)
    check_width(header)


def read_layout(header: list[str]) -> Layout:
    check_width(header)
    canonical = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
    known: dict[str, int] = {}
    headers: dict[str, str] = {}
    variables: dict[str, int] = {}
    for index, raw in enumerate(header):
        written = raw.strip()
        if not written:
            continue  # a trailing comma in the header, or an unnamed column
        name = canonical.get(header_key(written))
        if name is None:
            if written in variables:
                raise ImportFileError(f"The column {written!r} appears twice in the header.")
            variables[written] = index
        elif name in known:
            raise ImportFileError(
                f"The columns {headers[name]!r} and {written!r} both give the {name}; keep one."
            )
        else:
            known[name], headers[name] = index, written
    if "phone" not in known:
        raise ImportFileError(
            "The file has no phone column. The first row must name the columns, one of them "
            f"'phone'; found: {', '.join(repr(cell) for cell in header) or 'nothing'}."
        )
    return Layout(known, headers, variables, len(header))


def decoded_lines(file: BinaryIO) -> Iterator[str]:
    """The file's lines as UTF-8 text, without a byte-order mark; decoding line by line
    lets an encoding error name the line it is on."""
    for number, raw in enumerate(file, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ImportFileError(
                f"The file is not UTF-8 text: line {number} has a byte UTF-8 cannot read "
                f"({raw[error.start : error.start + 1]!r}). Save it as 'CSV UTF-8' and upload "
                "it again."
            ) from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def text_rows(file: BinaryIO) -> Iterator[list[str]]:
    """The file's CSV records."""
    reader = csv.reader(decoded_lines(file))
    try:
        yield from reader
    except csv.Error as error:
        raise ImportFileError(f"Line {reader.line_num} is not valid CSV: {error}.") from None


def is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def count_rows(file: BinaryIO) -> int:
    """Check the whole file decodes and parses; count its records that are not blank
    (the header included)."""
    try:
        filled = sum(not is_blank(cells) for cells in text_rows(file))
    finally:
        file.seek(0)
    if filled == 0:
        raise ImportFileError("The file is empty; the first row must name the columns.")
    return filled


def parse_yes_no(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    raise ValueError(f"{value!r} is not yes or no")


def parse_instant(value: str, zone: ZoneInfo, now: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date and time; write it as 2026-01-05T14:30 (ISO 8601), with "
            "an offset such as -05:00 or read in the organisation's time zone"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    if parsed > now:
        raise ValueError(f"{value!r} is in the future")
    return parsed


class RowParser:
    """Turns one CSV record into a ContactRow, or into the errors that keep it out."""

    def __init__(self, layout: Layout, organization: Organization, now: datetime):
        self.layout = layout
        self.region = organization.country
        self.zone = ZoneInfo(organization.time_zone)
        self.now = now
        self.first_row_of_phone: dict[str, int] = {}

    def parse(self, row: int, cells: list[str]) -> tuple[ContactRow | None, list[RowError]]:
        layout = self.layout
        if len(cells) > layout.width and any(cell.strip() for cell in cells[layout.width :]):
            return None, [
                RowError(row, "", f"it has {len(cells)} cells but the header names {layout.width}")
            ]
        values = {name: self.cell(cells, index) for name, index in layout.known.items()}
        errors: list[RowError] = []

        def fail(name: str, message: str) -> None:
            errors.append(RowError(row, layout.headers[name], message))

        phone = ""
        try:
            phone = normalize_phone(values["phone"], region=self.region)
        except InvalidPhoneNumber as error:
            fail("phone", str(error))
        if phone:
            first = self.first_row_of_phone.setdefault(phone, row)
            if first != row:
                fail("phone", f"{phone} already appears on row {first}; list each contact once")
        for name, limit in MAX_LENGTHS.items():
            if len(values.get(name, "")) > limit:
                fail(name, f"is {len(values[name])} characters long; at most {limit} fit")
        state = values.get("state", "").upper()
        if state and state not in USPS_STATES:
            fail("state", f"{values['state']!r} is not a USPS state code such as 'TX'")
        language = ""
        if values.get("language"):
            try:
                language = normalize_language(values["language"])
            except InvalidLanguage as error:
                fail("language", str(error))
        consents = self.consents(values, fail)
        if errors:
            return None, errors
        fields = {name: values[name] for name in CONTACT_FIELDS if values.get(name)}
        if state:
            fields["state"] = state
        if language:
            fields["language"] = language
        variables = {
            name: value
            for name, index in layout.variables.items()
            if (value := self.cell(cells, index))
        }
        return ContactRow(row, phone, fields, variables, consents), []

    @staticmethod
    def cell(cells: list[str], index: int) -> str:
        return cells[index].strip() if index < len(cells) else ""

    def consents(self, values: dict[str, str], fail) -> list[ConsentValues]:
        purposes_cell = values.get("consent_purpose", "")
        if not purposes_cell:
            if any(values.get(name) for name in CONSENT_DETAILS):
                fail("consent_purpose", "is empty, but the row gives consent details")
            return []
        purposes = [word for word in re.split(r"[\s,;|]+", purposes_cell.lower()) if word]
        unknown = [purpose for purpose in purposes if purpose not in Purpose.values]
        if unknown:
            fail(
                "consent_purpose",
                f"{unknown[0]!r} is not a purpose; use {', '.join(Purpose.values)}",
            )
            return []
        is_written = False
        try:
            is_written = parse_yes_no(values.get("consent_written", ""))
        except ValueError as error:
            fail("consent_written", str(error))
        source = values.get("consent_source", "")
        if "consent_source" not in values:
            fail("consent_purpose", "a consent needs a consent_source column (where it was given)")
        elif not source:
            fail("consent_source", "is empty; say where the consent was given, e.g. 'web form'")
        captured_at = None
        if "consent_captured_at" not in values:
            fail("consent_purpose", "a consent needs a consent_captured_at column (when given)")
        elif not values["consent_captured_at"]:
            fail("consent_captured_at", "is empty; say when the consent was given")
        else:
            try:
                captured_at = parse_instant(values["consent_captured_at"], self.zone, self.now)
            except ValueError as error:
                fail("consent_captured_at", str(error))
        if captured_at is None or not source:
            return []
        return [
            ConsentValues(
                purpose=purpose,
                is_written=is_written,
                seller_named=values.get("consent_seller_named", ""),
                source=source,
                evidence=values.get("consent_evidence", ""),
                captured_at=captured_at,
            )
            for purpose in dict.fromkeys(purposes)
        ]


CONSENT_FIELDS = ("is_written", "seller_named", "source", "evidence", "captured_at")


def write_rows(
    organization: Organization,
    rows: list[ContactRow],
    now: datetime,
    headers: dict[str, str],
    import_job_id: int | None = None,
) -> tuple[dict[str, int], list[RowError]]:
    """Upsert the rows' contacts and consents in one transaction; rows whose consent was
    revoked after the file's capture date are refused rather than written. With an import
    job, every accepted row's contact is recorded as one of the job's."""
    outcome = {"created": 0, "updated": 0, "unchanged": 0}
    errors: list[RowError] = []
    with transaction.atomic():
        existing = {
            contact.phone: contact
            for contact in Contact.objects.select_for_update().filter(
                organization=organization, phone__in=[row.phone for row in rows]
            )
        }
        consents_on_file = {
            (consent.contact_id, consent.purpose): consent
            for consent in Consent.objects.select_for_update().filter(
                contact__in=list(existing.values())
            )
        }
        accepted = []
        for row in rows:
            contact = existing.get(row.phone)
            refusal = contact and restored_revocation(row, contact, consents_on_file, headers)
            if refusal:
                errors.append(refusal)
            else:
                accepted.append(row)

        new_contacts, changed_contacts, row_changed = [], [], {}
        for row in accepted:
            contact = existing.get(row.phone)
            if contact is None:
                contact = Contact(organization=organization, phone=row.phone, **row.fields)
                contact.variables = row.variables
                new_contacts.append(contact)
                existing[row.phone] = contact
                continue
            merged = {**contact.variables, **row.variables}
            changed = merged != contact.variables or any(
                getattr(contact, name) != value for name, value in row.fields.items()
            )
            if changed:
                for name, value in row.fields.items():
                    setattr(contact, name, value)
                contact.variables, contact.updated_at = merged, now
                changed_contacts.append(contact)
            row_changed[row.row] = changed
        Contact.objects.bulk_create(new_contacts)
        Contact.objects.bulk_update(changed_contacts, [*CONTACT_FIELDS, "variables", "updated_at"])

        new_consents, changed_consents = [], []
        for row in accepted:
            contact = existing[row.phone]
            for values in row.consents:
                consent = consents_on_file.get((contact.pk, values.purpose))
                if consent is None:
                    new_consents.append(consent_from(contact, values))
                    row_changed[row.row] = True
                elif consent.revoked_at is None and any(
                    getattr(consent, name) != getattr(values, name) for name in CONSENT_FIELDS
                ):
                    for name in CONSENT_FIELDS:
                        setattr(consent, name, getattr(values, name))
                    changed_consents.append(consent)
                    row_changed[row.row] = True
        Consent.objects.bulk_create(new_consents)
        Consent.objects.bulk_update(changed_consents, list(CONSENT_FIELDS))
        if import_job_id is not None:
            ImportedContact.objects.bulk_create(
                [
                    ImportedContact(import_job_id=import_job_id, contact=existing[row.phone])
                    for row in accepted
                ],
                ignore_conflicts=True,
            )

    new_phones = {contact.phone for contact in new_contacts}
    for row in accepted:
        if row.phone in new_phones:
            outcome["created"] += 1
        elif row_changed.get(row.row):
            outcome["updated"] += 1
        else:
            outcome["unchanged"] += 1
    return outcome, errors


def consent_from(contact: Contact, values: ConsentValues) -> Consent:
    return Consent(
        contact=contact,
        purpose=values.purpose,
        **{name: getattr(values, name) for name in CONSENT_FIELDS},
    )


def restored_revocation(
    row: ContactRow, contact: Contact, consents_on_file: dict, headers: dict[str, str]
) -> RowError | None:
    """A revoked consent stays revoked: a file claiming consent given after the revocation
    needs an operator to look at it, so the row is refused (fail closed)."""
    for values in row.consents:
        consent = consents_on_file.get((contact.pk, values.purpose))
        if consent and consent.revoked_at and values.captured_at > consent.revoked_at:
            return RowError(
                row.row,
                headers["consent_captured_at"],
                f"{values.purpose} consent of {row.phone} was revoked on "
                f"{consent.revoked_at:%Y-%m-%d %H:%M} UTC ({consent.revoked_via}); an import "
                "cannot restore it",
            )
    return None


def write_chunk(
    organization: Organization,
    rows: list[ContactRow],
    now: datetime,
    headers: dict[str, str],
    report: ImportReport,
    import_job_id: int | None = None,
) -> None:
    """Write a chunk at once; when the database refuses it, write row by row so that only
    the offending rows are reported and the rest still go in."""
    try:
        outcome, errors = write_rows(organization, rows, now, headers, import_job_id)
    except DatabaseError as error:
        if len(rows) == 1:
            message = str(error).strip().splitlines()[0] if str(error).strip() else "error"
            report.reject([RowError(rows[0].row, "", f"the database refused it: {message}")])
            return
        for row in rows:
            write_chunk(organization, [row], now, headers, report, import_job_id)
        return
    report.created += outcome["created"]
    report.updated += outcome["updated"]
    report.unchanged += outcome["unchanged"]
    for error in errors:
        report.reject([error])


def contacts_import(
    *,
    organization_id: int,
    file: BinaryIO,
    on_progress: Callable[[ImportReport], None] | None = None,
    import_job_id: int | None = None,
) -> ImportReport:
    """Import contacts and consent from a seekable binary CSV file; with `import_job_id`,
    the contacts of the file are recorded as the job's (`ImportedContact`).

    Idempotent: an unchanged row writes nothing. Raises ImportFileError, before writing,
    when the file as a whole cannot be read.
    """
    organization = Organization.objects.get(pk=organization_id)
    report = ImportReport(total=count_rows(file) - 1)
    if on_progress:
        on_progress(report)
    now = timezone.now()
    records = enumerate(text_rows(file), start=1)
    header = next(cells for _, cells in records if not is_blank(cells))
    layout = read_layout(header)
    parser = RowParser(layout, organization, now)
    chunk: list[ContactRow] = []
    for row_number, cells in records:
        if is_blank(cells):
            continue
        report.processed += 1
        contact_row, errors = parser.parse(row_number, cells)
        if errors:
            report.reject(errors)
        else:
            chunk.append(contact_row)
        if len(chunk) >= CHUNK_ROWS or report.processed % CHUNK_ROWS == 0:
            if chunk:
                write_chunk(organization, chunk, now, layout.headers, report, import_job_id)
                chunk = []
            if on_progress:
                on_progress(report)
    if chunk:
        write_chunk(organization, chunk, now, layout.headers, report, import_job_id)
    if on_progress:
        on_progress(report)
    return report
