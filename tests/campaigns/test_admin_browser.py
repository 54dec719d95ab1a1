"""An operator's view in a real browser (headless Chromium): log in, open a campaign's
preview and a contact's explanation. Screenshots land in var/screenshots/."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from campaigns.revocation import consent_revoke
from tests.factories import CampaignFactory, ConsentFactory, TargetFactory, member_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


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
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{live_server.url}/admin/login/")
            page.fill("#id_username", "olivia")
            page.fill("#id_password", "pw-operator-123-long")
            page.click("input[type=submit]")
            expect(page.locator("#user-tools")).to_contain_text("olivia")

            page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
            page.click("text=Preview")
            page.fill("#id_at", "2026-11-17T16:00")
            page.click("input[value=Preview]")
            expect(page.locator("#callable")).to_have_text("1")
            expect(page.locator("#deferred")).to_have_text("1")
            expect(page.locator("#denied")).to_have_text("1")
            expect(page.locator("#deferred-reasons")).to_contain_text("outside_hours")
            expect(page.locator("#denied-reasons")).to_contain_text("consent_revoked")
            page.screenshot(path=SCREENSHOTS / "campaign_preview.png", full_page=True)

            page.goto(f"{live_server.url}/admin/campaigns/contact/{honolulu.contact_id}/change/")
            page.click("text=Compliance explanation")
            page.fill("#id_at", "2026-11-17T16:00")
            page.click("input[value=Explain]")
            expect(page.locator("#verdict")).to_have_text("defer")
            expect(page.locator("#reason")).to_have_text("outside_hours")
            expect(page.locator("#next-allowed")).to_contain_text("Tue 2026-11-17 19:01 UTC")
            expect(page.locator("#next-allowed")).to_contain_text("09:01 HST in Pacific/Honolulu")
            expect(page.locator("#rules")).to_contain_text("calling_hours")
            page.screenshot(path=SCREENSHOTS / "contact_explanation.png", full_page=True)
        finally:
            browser.close()
