"""The console in a real browser against the real web process (uvicorn, so the progress
WebSocket works): the dashboard and the campaign page as an operator and as finance, the
campaign page changing live when a call ends, and End call hanging up at the sandbox
carrier. Screenshots land in var/screenshots/."""

import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from calls.models import Call, CallEvent, CallStatus
from calls.outcomes import call_settle_target
from calls.states import TERMINAL, call_transition
from calls.telephony import twilio
from campaigns.budget_alerts import budget_alert_push
from campaigns.models import BudgetAlert, Campaign, Target
from tests.browser import browser_page, log_in, screenshot
from tests.factories import (
    SANDBOX_CALLER_ID,
    CallFactory,
    CampaignFactory,
    TargetFactory,
    default_organization,
    member_of,
    persona_number,
)
from tests.stack import Stack
from tests.wait import wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="module")
def web(django_db_setup, django_db_blocker, carrier, model, tmp_path_factory):
    """The web process alone, on the test database, dialling the session's sandbox carrier.
    It serves the theme's assets as in production: collected, then served by WhiteNoise."""
    call_command("collectstatic", interactive=False, verbosity=0)
    with django_db_blocker.unblock():
        process = Stack(
            carrier=carrier, model=model, offset=0, log_dir=tmp_path_factory.mktemp("web")
        ).start(beat=False, worker=False)
    yield process
    process.stop()


def running_campaign() -> tuple[Campaign, Call]:
    organization = default_organization()
    organization.daily_budget = Decimal("25.00")
    organization.save()
    campaign = CampaignFactory(
        name="Flu shots", status=Campaign.Status.RUNNING, budget=Decimal("20.00")
    )
    TargetFactory(campaign=campaign, status=Target.Status.DONE, outcome="confirmed")
    TargetFactory(campaign=campaign, status=Target.Status.CLOSED, last_reason="max_attempts")
    TargetFactory.create_batch(2, campaign=campaign)
    call = CallFactory(
        target__campaign=campaign,
        target__status=Target.Status.CALLING,
        target__attempts=1,
        target__contact__name="Ada Lovelace",
        status=CallStatus.IN_PROGRESS,
        carrier_sid="CA" + "5" * 32,
        answered_at=timezone.now(),
        cost_total=Decimal("1.250000"),
    )
    return campaign, call


def settle_the_call(call: Call, *, to: str, **fields) -> None:
    """What the carrier's final callback and the settling task do: the call ends (with
    `fields`, e.g. its outcome or hangup reason), that settles the target, and the campaign's
    progress is published. In a thread of its own, as in a worker (Playwright's event loop
    runs in this one)."""

    def work():
        try:
            Call.objects.filter(pk=call.pk).update(**fields)
            call_transition(call_id=call.pk, to=to, at=timezone.now())
            call_settle_target(call_id=call.pk, at=timezone.now())
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()


def end_the_call(call: Call, *, outcome: str) -> None:
    settle_the_call(call, to=CallStatus.COMPLETED, outcome=outcome)


def fail_the_call(call: Call, *, reason: str) -> None:
    settle_the_call(call, to=CallStatus.FAILED, hangup_reason=reason)


@pytest.mark.parametrize("role", ["operator", "finance"])
def test_the_campaign_page_changes_when_a_call_ends_without_a_reload(web, role):
    member_of(role, role)
    campaign, call = running_campaign()

    with browser_page() as page:
        log_in(page, web.public_base_url, role, role)
        page.goto(f"{web.public_base_url}/admin/campaigns/campaign/{campaign.pk}/change/")
        live = page.locator("#campaign-live")
        expect(live).to_have_attribute("data-live", "connected")
        expect(page.locator("#progress-text")).to_have_text("2 of 5 settled (40 %)")
        expect(page.locator("#calls-in-progress")).to_have_text("1")
        expect(page.locator("#campaign-live #live-calls")).to_contain_text("Ada Lovelace")
        # The campaign's actions stand above the panel, leaving the header to its name.
        expect(page.locator("#header-inner")).to_contain_text("Campaigns")
        expect(page.locator("#header-inner")).to_contain_text("Flu shots")
        expect(page.locator("#header-inner")).not_to_contain_text("Preview")
        expect(page.locator("#campaign-actions")).to_contain_text("Preview")
        if role == "operator":
            expect(page.locator("#campaign-actions .lifecycle-pause")).to_be_visible()
        else:
            expect(page.locator("#campaign-actions button")).to_have_count(0)
        page.evaluate("window.sameDocument = true")
        screenshot(page, f"campaign_page_live_{role}_before")

        end_the_call(call, outcome="reschedule_requested")

        expect(page.locator("#progress-text")).to_have_text("3 of 5 settled (60 %)")
        expect(page.locator("#calls-in-progress")).to_have_text("0")
        expect(page.locator('[data-target-count="calling"]')).to_have_text("0")
        expect(page.locator('[data-target-count="done"]')).to_have_text("2")
        expect(page.locator("#outcomes")).to_contain_text("Asked to reschedule")
        expect(page.locator("#outcomes")).not_to_contain_text("reschedule_requested")
        expect(page.locator("#campaign-live #live-calls")).not_to_contain_text("Ada Lovelace")
        expect(page.locator("#campaign-live #live-calls")).to_contain_text("No call in progress")
        chart_labels = page.evaluate(
            "Chart.getChart(document.querySelector('#outcome-chart canvas')).data.labels"
        )
        assert chart_labels == ["Confirmed", "Asked to reschedule"]
        assert page.evaluate("window.sameDocument") is True  # no reload happened
        if role == "finance":
            expect(page.locator('#campaign-spend [data-spend="spent"]')).to_have_text("1.25 USD")
        else:
            expect(page.locator("#campaign-spend")).to_have_count(0)
        screenshot(page, f"campaign_page_live_{role}_after")


def push_an_alert(campaign: Campaign) -> None:
    """A budget reached 100 %, recorded and pushed as `budget_alerts` does, from a thread of
    its own (Playwright's event loop runs in this one)."""

    def work():
        try:
            alert = BudgetAlert.objects.create(
                organization=campaign.organization,
                campaign=campaign,
                scope=BudgetAlert.Scope.CAMPAIGN,
                threshold=100,
                budget=Decimal("20.00"),
                spent=Decimal("20.40"),
                created_at=timezone.now(),
            )
            budget_alert_push(BudgetAlert.objects.select_related("campaign").get(pk=alert.pk))
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()


@pytest.mark.parametrize("role", ["operator", "finance"])
def test_the_dashboard_as_operator_and_finance(web, role):
    member_of(role, role)
    campaign, call = running_campaign()
    # In a second running campaign: the home page's tables follow every campaign's pushes.
    failing = CallFactory(
        target__campaign=CampaignFactory(name="Dental checks", status=Campaign.Status.RUNNING),
        target__status=Target.Status.CALLING,
        target__contact__name="Grace Hopper",
        target__attempts=1,
        status=CallStatus.RINGING,
        carrier_sid="CA" + "6" * 32,
    )

    with browser_page() as page:
        log_in(page, web.public_base_url, role, role)
        page.goto(f"{web.public_base_url}/admin/")
        running = page.locator(f'#running-campaigns [data-live-campaign="{campaign.pk}"]')
        expect(running).to_contain_text("Flu shots")
        expect(running).to_have_attribute("data-live", "connected")
        expect(page.locator("#live-calls")).to_contain_text("Ada Lovelace")
        if role == "finance":
            expect(page.locator("#spend")).to_contain_text("1.25 USD")
            expect(page.locator("#spend")).to_contain_text("of 25.00 USD budget")
            expect(page.locator("[data-end-call]")).to_have_count(0)
            expect(page.locator("#alerts")).to_have_attribute("data-live", "connected")
            push_an_alert(campaign)
            expect(page.locator("#alerts")).to_contain_text(
                "100 %: Campaign budget “Flu shots”: 20.40 of 20.00 USD"
            )
        else:
            expect(page.locator("#spend")).to_have_count(0)
            expect(page.locator(f'[data-end-call="{call.pk}"]')).to_be_visible()
        screenshot(page, f"dashboard_{role}")

        page.evaluate("window.sameDocument = true")
        end_the_call(call, outcome="confirmed")
        expect(running.locator("[data-progress-text]")).to_have_text("3 of 5 settled (60 %)")
        expect(page.locator("#live-calls")).not_to_contain_text("Ada Lovelace")
        expect(page.locator("#live-calls")).to_contain_text("Grace Hopper")
        expect(page.locator("#failures")).to_contain_text("No call failed in the last 24 hours.")

        fail_the_call(failing, reason="carrier_timeout")
        expect(page.locator("#live-calls")).to_contain_text("No call in progress.")
        expect(page.locator("#failures")).to_contain_text("Grace Hopper")
        expect(page.locator("#failures")).to_contain_text("Carrier did not answer the dial request")
        assert page.evaluate("window.sameDocument") is True  # no reload happened
        screenshot(page, f"dashboard_{role}_after_updates")

        page.goto(f"{web.public_base_url}/admin/campaigns/campaign/")
        expect(page.locator("#result_list")).to_contain_text("Running")
        expect(page.locator("#result_list")).to_contain_text("3 of 5 (60 %)")
        screenshot(page, f"campaign_list_{role}")
        page.goto(f"{web.public_base_url}/admin/campaigns/campaign/{campaign.pk}/change/")
        page.click("text=Pacing and retries")
        screenshot(page, f"campaign_settings_{role}")

        if role == "finance":
            # The report lies under "Daily costs"' address; only "Reports" is lit.
            page.goto(f"{web.public_base_url}/admin/calls/campaigndailycost/report/")
            expect(page.locator("a.active")).to_have_count(1)
            expect(page.locator("a.active")).to_contain_text("Reports")
            expect(page.locator("#header-inner")).to_contain_text("Finance report")


def test_end_call_hangs_up_at_the_sandbox_carrier(web, carrier, carrier_settings):
    member_of("operator", "olivia")
    campaign, _ = running_campaign()
    ringing = CallFactory(
        target__campaign=campaign,
        target__contact__phone=persona_number("no_answer"),
        target__contact__name="Rita Ringing",
        status=CallStatus.DIALING,
    )
    # A call the carrier really places (to a callee who lets it ring), its callbacks sent to
    # the web process like any other call's.
    base = web.public_base_url
    placed = twilio.create_call(
        to=ringing.to_number,
        from_=SANDBOX_CALLER_ID,
        answer_url=f"{base}/twilio/calls/{ringing.pk}/answer",
        status_callback=f"{base}/twilio/calls/{ringing.pk}/status",
        amd_callback=f"{base}/twilio/calls/{ringing.pk}/amd",
        ring_timeout=600,
        time_limit=600,
    )
    Call.objects.filter(pk=ringing.pk).update(carrier_sid=placed.sid)
    call_transition(call_id=ringing.pk, to=CallStatus.INITIATED, at=timezone.now())

    with browser_page() as page:
        log_in(page, base, "olivia", "operator")
        page.goto(f"{base}/admin/")
        page.on("dialog", lambda dialog: dialog.accept())
        page.click(f'[data-end-call="{ringing.pk}"]')
        expect(page.locator(".messagelist, #messages, body")).to_contain_text(
            "is being ended by the carrier"
        )
        screenshot(page, "dashboard_end_call")

    carrier_call = carrier.calls[placed.sid]
    assert carrier_call.is_terminal
    assert any(
        entry.get("what") == "update call" and entry.get("params", {}).get("Status") == "completed"
        for entry in carrier_call.log_entries("http")
    )
    event = CallEvent.objects.get(call=ringing, kind="operator_hangup")
    assert event.data == {"by": "olivia"}
    # The carrier's signed status callback ends the call in the database, as for any ending.
    ended = wait_until(
        lambda: Call.objects.filter(pk=ringing.pk, status__in=TERMINAL).first(),
        stack=web,
        what="the carrier's final callback",
    )
    assert ended.hangup_reason == "ended_by_operator"
