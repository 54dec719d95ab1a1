"""Pages in a real browser: Debian's headless Chromium driven by Playwright, logged in as a
member, with screenshots saved under var/screenshots/ to be looked at."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@contextmanager
def browser_page(width: int = 1400, height: int = 900) -> Iterator[Page]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def log_in(page: Page, base_url: str, username: str, role: str) -> None:
    """Log in a user made by `tests.factories.member_of(role, username)`."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{role}-123-long")
    page.click("button[type=submit]")
    expect(page).not_to_have_url(f"{base_url}/admin/login/")


def screenshot(page: Page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
