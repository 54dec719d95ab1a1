"""The call page and the call and contact lists in a real browser, as an operator (no
ledger, no cost column) and as finance (ledger with a total, cost column). Screenshots are
saved under var/screenshots/ to be looked at."""

import pytest
from playwright.sync_api import expect

from tests.browser import browser_page, log_in, screenshot
from tests.calls.test_call_page import a_finished_call
from tests.factories import member_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits_the_window(page) -> bool:
    """Nothing wider than the 1,400 px window: no column pushed off-screen."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_operator_sees_the_conversation_and_no_costs(live_server):
    call, _ = a_finished_call()
    member_of("operator", "olivia")

    with browser_page() as page:
        log_in(page, live_server.url, "olivia", "operator")
        page.goto(f"{live_server.url}/admin/calls/call/{call.pk}/change/")

        expect(page.locator("#call-outcome")).to_contain_text("Confirmed")
        expect(page.locator(".bubble-agent .bubble-interrupted")).to_have_text(
            "Interrupted by the caller after 3.2 s"
        )
        expect(page.locator("#call-recording audio")).to_be_visible()
        expect(page.locator("#call-ledger")).to_have_count(0)
        expect(page.locator("#call-technical table")).not_to_be_visible()
        assert fits_the_window(page)
        screenshot(page, "call_page_operator")

        page.goto(f"{live_server.url}/admin/calls/call/")
        expect(page.locator("#result_list")).to_contain_text("November reminders")
        expect(page.locator("#result_list th.column-cost")).to_have_count(0)
        assert fits_the_window(page)
        screenshot(page, "call_list_operator")

        page.goto(f"{live_server.url}/admin/campaigns/contact/")
        expect(page.locator("#result_list")).to_contain_text("Confirmed")
        assert fits_the_window(page)
        screenshot(page, "contact_list_operator")


def test_finance_sees_the_ledger_with_its_total_and_the_cost_column(live_server):
    call, _ = a_finished_call()
    member_of("finance", "fiona")

    with browser_page() as page:
        log_in(page, live_server.url, "fiona", "finance")
        page.goto(f"{live_server.url}/admin/calls/call/{call.pk}/change/")

        expect(page.locator("#call-ledger")).to_contain_text("Carrier minutes")
        expect(page.locator("#ledger-total")).to_have_text("0.061100 USD")
        page.click("#call-technical summary")
        expect(page.locator("#call-technical table")).to_contain_text("Audio output tokens")
        assert fits_the_window(page)
        screenshot(page, "call_page_finance")

        page.goto(f"{live_server.url}/admin/calls/call/")
        expect(page.locator("#result_list td.field-cost")).to_have_text("0.0611 USD")
        assert fits_the_window(page)
        screenshot(page, "call_list_finance")
