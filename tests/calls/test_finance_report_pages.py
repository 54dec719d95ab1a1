"""The finance report page and its CSVs as finance reads them: the CSV holds what the page
shows, hostile names stay inert, operators are refused, another organisation never shows;
and the ledger list's sums and CSV follow its filter."""

import csv
import io
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from calls.models import CostComponent, RateCard
from tests.calls.finance_world import (
    FIRST,
    HOSTILE_CAMPAIGN,
    HOSTILE_CONTACT,
    LAST,
    build_world,
    ledger_lines,
    ledger_sums,
)
from tests.factories import member_of
from tests.pages import text_of
from voiceops.csv_export import neutralised

pytestmark = pytest.mark.django_db

REPORT = reverse("admin:calls_campaigndailycost_report")
FILTER = {"first": FIRST.isoformat(), "last": LAST.isoformat(), "grouping": "day"}
SECTIONS = ["periods", "campaigns", "kinds", "outcomes", "carrier", "budgets"]


class _Tables(HTMLParser):
    """The report's tables as a person reads them: cell texts, row by row, per table."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.current = None
        self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self.current = self.tables.setdefault(attrs["data-table"], [])
        elif self.current is not None and tag == "tr":
            self.current.append([])
        elif self.current is not None and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.current = None
        elif self.cell is not None and tag in ("td", "th"):
            self.current[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page_tables(response) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser.tables


def csv_of(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def world():
    return build_world()


def test_every_csv_holds_what_the_page_shows_for_the_same_filter(client, world):
    client.force_login(member_of("finance", "fiona", organization=world.organization))

    page = client.get(REPORT, FILTER)

    assert page.status_code == 200
    shown = page_tables(page)
    assert sorted(shown) == sorted(SECTIONS)  # no per-organisation table for a member
    for section in SECTIONS:
        download = client.get(
            reverse("admin:calls_campaigndailycost_report_csv", args=[section]), FILTER
        )
        assert download.status_code == 200
        rows = shown[section][:1] if len(shown[section][1]) == 1 else shown[section]
        assert csv_of(download) == [[str(neutralised(cell)) for cell in row] for row in rows]
    # The total the page shows is the ledger's, to the cent.
    total = ledger_sums(ledger_lines(world.organization))["total"]
    footer = shown["periods"][-1]
    assert footer[0] == "Total"
    assert Decimal(footer[5]) == total.quantize(Decimal("0.01"))
    assert f"{total.quantize(Decimal('0.01'))} USD" in text_of(page)


def test_hostile_names_stay_inert_in_the_page_and_every_csv(client, world):
    client.force_login(member_of("finance", "fiona", organization=world.organization))

    page = client.get(REPORT, FILTER)
    campaigns = csv_of(
        client.get(reverse("admin:calls_campaigndailycost_report_csv", args=["campaigns"]), FILTER)
    )
    carrier = csv_of(
        client.get(reverse("admin:calls_campaigndailycost_report_csv", args=["carrier"]), FILTER)
    )
    ledger = csv_of(client.get(reverse("admin:calls_costentry_export")))

    html = page.content.decode()
    assert HOSTILE_CONTACT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE_CONTACT in text_of(page)  # shown as text, not run
    assert [row[0] for row in campaigns if "HYPERLINK" in row[0]] == ["'" + HOSTILE_CAMPAIGN]
    assert carrier[1][3] == HOSTILE_CONTACT  # text in a spreadsheet: it starts with "<"
    assert carrier[1][2] == "'" + HOSTILE_CAMPAIGN
    assert all(not cell.startswith(("=", "+", "@")) for row in ledger for cell in row)
    assert any(row[3] == "'" + HOSTILE_CAMPAIGN for row in ledger)


def test_operators_are_refused_the_report_its_csvs_and_the_ledger(client, world):
    client.force_login(member_of("operator", "olivia", organization=world.organization))

    answers = [
        client.get(REPORT, FILTER).status_code,
        *(
            client.get(
                reverse("admin:calls_campaigndailycost_report_csv", args=[section]), FILTER
            ).status_code
            for section in SECTIONS
        ),
        client.get(reverse("admin:calls_costentry_export")).status_code,
        client.get(reverse("admin:calls_costentry_changelist")).status_code,
    ]

    assert answers == [403] * len(answers)


def test_another_organisations_costs_never_show_to_a_member(client, world):
    client.force_login(member_of("admin", "ada", organization=world.organization))

    page = text_of(client.get(REPORT, FILTER))
    ledger = csv_of(client.get(reverse("admin:calls_costentry_export")))
    campaigns = csv_of(
        client.get(reverse("admin:calls_campaigndailycost_report_csv", args=["campaigns"]), FILTER)
    )
    every_organisation = client.get(
        reverse("admin:calls_campaigndailycost_report_csv", args=["organizations"]), FILTER
    )

    assert every_organisation.status_code == 404
    assert "Rival" not in page
    assert not any("Rival" in cell for row in ledger + campaigns for cell in row)
    ours = {line.pk for line in ledger_lines(world.organization, first=FIRST.replace(day=1),
                                             last=LAST.replace(day=30))}  # fmt: skip
    assert {int(row[0]) for row in ledger[1:]} == ours


def test_a_superuser_seeing_every_organisation_gets_the_per_organisation_table(
    client, world, django_user_model
):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root-1234"))

    tables = page_tables(client.get(REPORT, FILTER))

    organisations = {row[0] for row in tables["organizations"][1:-1]}
    assert organisations == {"Bayview Dental", "Rival Clinic"}


def test_a_range_that_ends_before_it_starts_is_explained_and_its_csv_refused(client, world):
    client.force_login(member_of("finance", "fiona", organization=world.organization))
    backwards = {**FILTER, "first": LAST.isoformat(), "last": FIRST.isoformat()}

    page = client.get(REPORT, backwards)
    download = client.get(
        reverse("admin:calls_campaigndailycost_report_csv", args=["periods"]), backwards
    )

    assert "The range starts on 2026-11-12 after it ends on 2026-11-11." in text_of(page)
    assert download.status_code == 400
    assert "starts on 2026-11-12 after it ends on 2026-11-11" in download.content.decode()


def test_the_ledger_list_sums_and_exports_the_lines_of_its_filter(client, world):
    client.force_login(member_of("finance", "fiona", organization=world.organization))
    query = {
        "campaign": str(world.reminders.pk),
        "component": CostComponent.CARRIER_MINUTE,
        "call__created_at_from": FIRST.isoformat(),
        "call__created_at_to": LAST.isoformat(),
    }

    listing = client.get(reverse("admin:calls_costentry_changelist"), query)
    download = csv_of(client.get(reverse("admin:calls_costentry_export"), query))

    expected = [
        line
        for line in ledger_lines(world.organization, campaign=world.reminders)
        if line.component == CostComponent.CARRIER_MINUTE
    ]
    assert expected
    assert set(listing.context["cl"].queryset.values_list("pk", flat=True)) == {
        line.pk for line in expected
    }
    total = sum(line.amount for line in expected)
    sums = listing.context["ledger_sums"]
    assert [(row["currency"], row["lines"], row["amount"]) for row in sums] == [
        ("USD", len(expected), total)
    ]
    assert f"{len(expected)} lines shown by this filter" in text_of(listing)
    assert download[0][:3] == ["Line", "Call", "Call started (UTC)"]
    assert {int(row[0]) for row in download[1:]} == {line.pk for line in expected}
    assert sum(Decimal(row[10]) for row in download[1:]) == total
    assert {row[6] for row in download[1:]} == {"Carrier minutes"}


def test_rate_cards_list_their_model_with_human_labels(client):
    client.force_login(member_of("finance", "fiona"))

    text = text_of(client.get(reverse("admin:calls_ratecard_changelist")))

    models = set(RateCard.objects.exclude(model="").values_list("model", flat=True))
    assert models
    assert all(model in text for model in models)
    assert "Model audio input" in text
    assert "per million tokens" in text
    assert "audio_input" not in text.replace("Model audio input", "")
