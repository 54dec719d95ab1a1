"""An operator's view in a real browser (headless Chromium): log in, open a campaign's
preview and a contact's explanation. Screenshots land in var/screenshots/."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from campaigns.revocation import consent_revoke
from tests.browser import browser_page, log_in, screenshot
from tests.factories import CampaignFactory, ConsentFactory, TargetFactory, member_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_it_shows_an_operator_the_preview_and_an_explanation(live_server):
    member_of("operator", "olivia")
    campaign = CampaignFactory(name="Flu shots")
    miami = TargetFactory(campaign=campaign, contact__phone="+13055550101", contact__state="FL")
    ConsentFactory(contact=miami.contact)
    honolulu = TargetFactory(campaign=campaign, contact__phone="+18085550104", contact__state="")
    ConsentFactory(contact=honolulu.contact)
    opted_out = TargetFactory(campaign=campaign, contact__phone="+13055550106")
    ConsentFactory(contact=opted_out.contact)
    consent_revoke(
        organization_id=campaign.organization_id,
        phone="+13055550106",
        via="call",
        at=datetime(2026, 11, 1, tzinfo=UTC),
    )

    with browser_page() as page:
        log_in(page, live_server.url, "olivia", "operator")

        page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
        page.click("#campaign-actions >> text=Preview")
        page.fill("#id_at", "2026-11-17T16:00")
        page.click("input[value=Preview]")
        expect(page.locator("#callable")).to_have_text("1")
        expect(page.locator("#deferred")).to_have_text("1")
        expect(page.locator("#denied")).to_have_text("1")
        expect(page.locator("#deferred-reasons")).to_contain_text("Outside calling hours")
        expect(page.locator("#denied-reasons")).to_contain_text("Consent revoked")
        screenshot(page, "campaign_preview")

        page.goto(f"{live_server.url}/admin/campaigns/contact/{honolulu.contact_id}/change/")
        page.click("text=Compliance explanation")
        page.fill("#id_at", "2026-11-17T16:00")
        page.click("input[value=Explain]")
        expect(page.locator("#verdict")).to_have_text("Not yet: call later")
        expect(page.locator("#reason")).to_have_text("Outside calling hours")
        expect(page.locator("#next-allowed")).to_contain_text("Tue 2026-11-17 19:01 UTC")
        expect(page.locator("#next-allowed")).to_contain_text("09:01 HST in Pacific/Honolulu")
        expect(page.locator("#rules")).to_contain_text("Calling hours")
        expect(page.locator("#rules")).not_to_contain_text("calling_hours")
        screenshot(page, "contact_explanation")
