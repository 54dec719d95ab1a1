"""An organisation's admin in a real browser (headless Chromium): the carrier account's
limits on the organisation page, a reserve larger than the lines refused in words, and
targets that wait for a line explained in words. Screenshots land in var/test-artifacts/."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from campaigns.lifecycle import campaign_launch
from campaigns.models import Organization
from campaigns.scheduling import campaign_tick
from tests.factories import TUESDAY_AFTERNOON, member_of, reminder_campaign

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts"


def test_an_admin_sets_the_lines_and_reads_why_targets_wait(live_server):
    campaign = reminder_campaign(["confirm"] * 4, max_concurrent_calls=4)
    organization = campaign.organization
    Organization.objects.filter(pk=organization.pk).update(line_capacity=3, inbound_reserve=1)
    campaign_launch(campaign_id=campaign.pk, user_id=None, at=TUESDAY_AFTERNOON)
    campaign_tick(campaign_id=campaign.pk, at=TUESDAY_AFTERNOON, enqueue_dial=lambda _: None)
    member_of("admin", "ada", organization=organization)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{live_server.url}/admin/login/")
            page.fill("#id_username", "ada")
            page.fill("#id_password", "pw-admin-123-long")
            page.click("[type=submit]")

            page.goto(f"{live_server.url}/admin/campaigns/organization/{organization.pk}/change/")
            expect(page.locator("label[for=id_line_capacity]")).to_contain_text("Concurrent calls")
            expect(page.locator("label[for=id_inbound_reserve]")).to_contain_text(
                "Lines kept for inbound calls"
            )
            page.fill("#id_inbound_reserve", "5")
            page.click("[name=_continue]")
            expect(page.locator("body")).to_contain_text("At most the 3 concurrent calls")
            page.screenshot(path=ARTIFACTS / "organization_capacity_error.png", full_page=True)

            page.goto(f"{live_server.url}/admin/campaigns/target/?status__exact=pending")
            waiting = page.locator("#result_list tbody tr")
            expect(waiting).to_have_count(2)
            for row in range(2):
                expect(waiting.nth(row)).to_contain_text("Waiting for a free line")
            page.screenshot(path=ARTIFACTS / "targets_waiting_for_a_line.png", full_page=True)
        finally:
            browser.close()

    assert Organization.objects.get(pk=organization.pk).inbound_reserve == 1
