"""The interactive API docs in a real browser (headless Chromium): they render from the
installed packages, with no request leaving the machine. Screenshot in var/screenshots/."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_the_api_docs_render_with_every_asset_from_this_server(live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    server = urlsplit(live_server.url).netloc
    requested = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{live_server.url}/api/docs/")
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("VoiceOps API")
            launch = page.locator(".opblock-summary-path", has_text="/api/campaigns/{id}/launch/")
            expect(launch).to_be_visible()
            expect(page.locator(".swagger-ui .auth-wrapper .authorize")).to_be_visible()
            page.screenshot(path=SCREENSHOTS / "api_docs.png", full_page=False)
        finally:
            browser.close()

    network = [url for url in requested if not url.startswith("data:")]
    assert f"{live_server.url}/api/schema/" in network
    assert any(url.endswith("swagger-ui-bundle.js") for url in network)
    assert [url for url in network if urlsplit(url).netloc != server] == []
