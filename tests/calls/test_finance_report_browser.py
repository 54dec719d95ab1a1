"""The finance report in a real browser (headless Chromium): a finance user sees the totals
and the stacked chart drawn from them, at 1,400 px without anything cut off; an operator
is refused. Screenshots land in var/screenshots/."""

import pytest
from playwright.sync_api import expect

from tests.browser import browser_page, log_in, screenshot
from tests.calls.finance_world import FIRST, LAST, build_world
from tests.factories import member_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

QUERY = f"?first={FIRST}&last={LAST}&grouping=day"


def test_finance_sees_the_report_with_its_chart(live_server):
    world = build_world()
    member_of("finance", "fiona", organization=world.organization)

    with browser_page(width=1400) as page:
        log_in(page, live_server.url, "fiona", "finance")
        page.goto(f"{live_server.url}/admin/calls/campaigndailycost/report/{QUERY}")

        expect(page.locator("#report-totals")).to_contain_text("Total spend")
        expect(page.locator("[data-table=periods]")).to_contain_text("2026-11-12")
        # Chart.js drew the three stacks, one bar per day, from non-zero data.
        drawn = page.evaluate(
            """() => {
                const chart = Chart.getChart(document.querySelector('#spend-chart canvas'));
                return {
                    labels: chart.data.labels,
                    stacks: chart.data.datasets.map((set) => set.label),
                    sum: chart.data.datasets.flatMap((set) => set.data).reduce((a, b) => a + b, 0),
                    height: chart.height,
                };
            }"""
        )
        assert drawn["labels"] == [str(FIRST), str(LAST)]
        assert drawn["stacks"] == ["Telephony (USD)", "Model (USD)", "Analysis (USD)"]
        assert drawn["sum"] > 0
        assert drawn["height"] > 100
        # Nothing wider than the window: no sideways scrolling at 1,400 px.
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1]
        screenshot(page, "finance_report_finance")

        page.goto(f"{live_server.url}/admin/calls/costentry/?campaign={world.reminders.pk}")
        expect(page.locator("#ledger-sums")).to_contain_text("shown by this filter")
        page.screenshot(
            path=screenshot(page, "finance_ledger_finance").with_name("finance_ledger_top.png")
        )


def test_an_operator_is_refused_the_report(live_server):
    world = build_world()
    member_of("operator", "olivia", organization=world.organization)

    with browser_page(width=1400) as page:
        log_in(page, live_server.url, "olivia", "operator")
        answer = page.goto(f"{live_server.url}/admin/calls/campaigndailycost/report/{QUERY}")

        assert answer.status == 403
        expect(page.locator("#report-refused")).to_contain_text(
            "finance and admin roles only; your role here is operator"
        )
        expect(page.locator("body")).not_to_contain_text("Total spend")
        screenshot(page, "finance_report_operator")


def test_a_superuser_over_every_organisation_sees_spend_per_organisation(
    live_server, django_user_model
):
    build_world()
    django_user_model.objects.create_superuser("root", password="pw-root-123-long")

    with browser_page(width=1400) as page:
        log_in(page, live_server.url, "root", "root")
        page.goto(f"{live_server.url}/admin/calls/campaigndailycost/report/{QUERY}")

        organisations = page.locator("[data-table=organizations]")
        expect(organisations).to_contain_text("Bayview Dental")
        expect(organisations).to_contain_text("Rival Clinic")
        expect(page.locator("[data-table=campaigns]")).to_contain_text("Rival reminders")
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1]
        screenshot(page, "finance_report_superuser")
