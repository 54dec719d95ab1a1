"""The fault suite: a campaign through the sandbox with a real worker, beat and web process on
private PostgreSQL and Redis servers, while the servers stop and the worker dies. After each
fault: no target lost, no number dialed twice, every ended call settled and priced."""

import io
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from twilio.request_validator import RequestValidator

from calls.models import Call, CallEvent, CallStatus
from calls.tasks import dial, price_call, settle_target
from campaigns.models import Target
from tests.conftest import CarrierView
from tests.faults.recovery import (
    assert_nothing_lost,
    campaign_calls,
    fault_campaign,
    reconnect,
    wait_for_recovery,
)
from tests.wait import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

POSTGRES_OUTAGE_SECONDS = 10
LOST_REQUESTS = 2


def post_signed_status(stack, carrier, call_id: int, sid: str) -> int:
    """What the carrier does on a status change: a signed form POST to the live web server."""
    path = reverse("calls:status", args=[call_id])
    url = stack.public_base_url + path
    form = {"CallSid": sid, "AccountSid": carrier.account_sid, "CallStatus": "ringing",
            "SequenceNumber": "1"}  # fmt: skip
    signature = RequestValidator(carrier.auth_token).compute_signature(url, form)
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode(), headers={"X-Twilio-Signature": signature}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def worker_is_healthy() -> bool:
    try:
        call_command("worker_health", timeout=2, stdout=io.StringIO())
    except CommandError:
        return False
    return True


def test_it_loses_nothing_when_postgresql_stops_for_ten_seconds_mid_campaign(
    fault_stack, services, carrier, lawful_clock, figures
):
    view = CarrierView(carrier)
    campaign = fault_campaign(calls_per_second="0.5")
    first = wait_until(
        lambda: campaign_calls(campaign).filter(carrier_sid__isnull=False).first(),
        stack=fault_stack,
        what="the first call placed",
    )
    retries_before = fault_stack.log_count("worker", "meets an outage")

    services.postgres.stop()
    webhook_status = post_signed_status(fault_stack, carrier, first.pk, first.carrier_sid)
    time.sleep(POSTGRES_OUTAGE_SECONDS)
    services.postgres.start()
    cleared = time.monotonic()
    reconnect()

    recovery = wait_for_recovery(fault_stack, campaign, fault_cleared_at=cleared)
    assert webhook_status == 503  # the carrier may retry; a 500 would say nothing useful
    figures.update(
        fault="PostgreSQL stopped for 10 s",
        faults=1,
        **assert_nothing_lost(view, campaign),
        **{
            "follow-ups recovered": fault_stack.log_count("worker", "meets an outage")
            - retries_before,
            "recovery seconds": recovery,
        },
    )


@pytest.mark.parametrize("pool", ["threads", "prefork"])
def test_it_loses_nothing_when_redis_restarts_mid_campaign(
    fault_stack, services, carrier, lawful_clock, figures, pool
):
    """The demo and the tests run the thread pool; deployments run prefork."""
    if fault_stack.worker_pool != pool:
        fault_stack.restart_worker(pool=pool)
    view = CarrierView(carrier)
    campaign = fault_campaign(calls_per_second="0.5")
    wait_until(
        lambda: campaign_calls(campaign).filter(carrier_sid__isnull=False).exists(),
        stack=fault_stack,
        what="the first call placed",
    )
    retries_before = fault_stack.log_count("worker", "meets an outage")

    services.redis.restart()
    cleared = time.monotonic()

    recovery = wait_for_recovery(fault_stack, campaign, fault_cleared_at=cleared)
    fault_stack.check_alive()  # the worker survived the broker's restart
    figures.update(
        fault=f"Redis restarted ({pool} pool)",
        faults=1,
        **assert_nothing_lost(view, campaign),
        **{
            "follow-ups recovered": fault_stack.log_count("worker", "meets an outage")
            - retries_before,
            "recovery seconds": recovery,
        },
    )


def test_it_reclaims_the_calls_of_a_worker_killed_mid_dial_and_dials_each_once(
    fault_stack, carrier, lawful_clock, figures
):
    view = CarrierView(carrier)
    campaign = fault_campaign(calls_per_second="0.3")

    def held_by_the_worker():
        # Claimed and waiting for a pacing token, or with the carrier request under way.
        held = campaign_calls(campaign).filter(
            status=CallStatus.DIALING, carrier_sid__isnull=True, dial_lease_until__isnull=False
        )
        return list(held.values_list("pk", flat=True)) if held.count() >= 2 else None

    held = wait_until(held_by_the_worker, stack=fault_stack, what="two calls mid-dial")
    fault_stack.kill_worker()
    killed = time.monotonic()
    with pytest.raises(CommandError, match="No worker answered"):
        call_command("worker_health", timeout=2)  # the health check notices
    fault_stack.start_worker()  # as a supervisor restarts it
    wait_until(worker_is_healthy, stack=fault_stack, what="the restarted worker healthy")

    def moved_on():
        stuck = Call.objects.filter(pk__in=held, status=CallStatus.DIALING, carrier_sid=None)
        return not stuck.exists()

    # A dead worker's claim is taken over within ~30 s: its 20 s lease, then the reclaimer's
    # 10 s beat. A call whose request it had already sent is looked up at the carrier ~80 s
    # after the request (70 s of grace: the dial task's time limit and more, then the beat).
    # The bound here is a liveness bound with room for a slow machine.
    wait_until(moved_on, timeout=150, stack=fault_stack, what="the dead worker's calls reclaimed")
    reclaimed_after = round(time.monotonic() - killed, 1)
    recovery = wait_for_recovery(fault_stack, campaign, fault_cleared_at=killed)
    outcome = assert_nothing_lost(view, campaign)
    figures.update(
        fault="worker killed (kill -9) while calls were dialing",
        faults=1,
        **outcome,
        **{
            "follow-ups recovered": len(held),
            "recovery seconds": recovery,
            "calls reclaimed after (s)": reclaimed_after,
        },
    )


def test_it_dials_once_each_number_whose_dial_request_twilio_lost(
    fault_stack, carrier, lawful_clock, figures
):
    view = CarrierView(carrier)
    carrier.lost_create_requests = LOST_REQUESTS
    started = time.monotonic()
    try:
        # Numbers no other test dials: the carrier's list of calls to them holds only ours.
        campaign = fault_campaign(calls_per_second="1", first_index=100)
        recovery = wait_for_recovery(fault_stack, campaign, fault_cleared_at=started)
    finally:
        carrier.lost_create_requests = 0
    outcome = assert_nothing_lost(view, campaign)
    events = CallEvent.objects.filter(call__target__campaign=campaign)
    # Each lost request timed out, the carrier's list showed no such call, and the call was
    # dialed again on the same attempt.
    assert events.filter(kind="carrier_timeout").count() == LOST_REQUESTS
    assert events.filter(kind="dial_not_received").count() == LOST_REQUESTS
    assert not campaign_calls(campaign).filter(hangup_reason="dial_interrupted").exists()
    figures.update(
        fault="Twilio lost dial requests (no answer, no call placed)",
        faults=LOST_REQUESTS,
        **outcome,
        **{"follow-ups recovered": LOST_REQUESTS, "recovery seconds": recovery},
    )


def test_it_dials_once_and_prices_once_whatever_is_delivered_twice_or_concurrently(
    fault_stack, carrier, lawful_clock, figures
):
    view = CarrierView(carrier)
    started = time.monotonic()
    campaign = fault_campaign(calls_per_second="0.5")
    duplicated: set[int] = set()

    def duplicate_deliveries():
        """For every booked call: a second first delivery and a retry delivery of `dial`;
        for every ended call: settle and price delivered twice more, at once."""
        for call in campaign_calls(campaign):
            if call.pk not in duplicated:
                duplicated.add(call.pk)
                dial.apply_async(args=[call.pk], queue="dial")
                dial.apply_async(args=[call.pk], queue="dial", retries=1)
            if call.ended_at and ("ended", call.pk) not in duplicated:
                duplicated.add(("ended", call.pk))
                for _ in range(2):
                    settle_target.apply_async(args=[call.pk], queue="default")
                    price_call.apply_async(args=[call.pk], queue="postcall")
        finished = Target.objects.filter(campaign=campaign, status=Target.Status.PENDING)
        return not finished.exists() and all(
            ("ended", pk) in duplicated
            for pk in campaign_calls(campaign)
            .filter(ended_at__isnull=False)
            .values_list("pk", flat=True)
        )

    wait_until(duplicate_deliveries, timeout=180, interval=0.1, stack=fault_stack,
               what="every task delivered again")  # fmt: skip
    recovery = wait_for_recovery(fault_stack, campaign, fault_cleared_at=started)
    outcome = assert_nothing_lost(view, campaign)
    for target in Target.objects.filter(campaign=campaign):
        assert target.attempts == target.calls.count()
    dials = sum(isinstance(key, int) for key in duplicated)
    figures.update(
        fault="dial, settle and price delivered again, concurrently with the first delivery",
        faults=2 * dials + 4 * (len(duplicated) - dials),
        **outcome,
        **{"follow-ups recovered": 0, "recovery seconds": recovery},
    )
