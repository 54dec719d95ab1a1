"""The demo's terminal view: live progress of its campaigns, then each call's outcome and
cost, how long its caller waited for the agent, its post-call analysis (summary, sentiment, follow-up) and the survey's answers."""

import os
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import django
from django.db.models import Q

# Targets due again within this long are waited for; later retries end the demo's wait.
SOON = timedelta(minutes=3)


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")
    django.setup()


def watch(*, campaign_ids: list[int], now, check_alive, poll_seconds: float = 1.0) -> None:
    """Print progress until no call is live, unpriced or unanalysed and no target is due
    soon, then the results."""
    _setup()
    from django.db import close_old_connections

    from calls.analysis import calls_awaiting_analysis
    from calls.models import Call
    from campaigns.models import Campaign, Target
    from campaigns.scheduling import ACTIVE_CALL_STATUSES

    last_counts, last_printed = "", 0.0
    while True:
        check_alive()
        close_old_connections()
        targets = Counter(
            Target.objects.filter(campaign_id__in=campaign_ids).values_list("status", flat=True)
        )
        calls = Call.objects.filter(target__campaign_id__in=campaign_ids)
        live = calls.filter(status__in=ACTIVE_CALL_STATUSES).count()
        # Calls refused before the carrier had them (over budget, say) cost nothing to price.
        unpriced = (
            calls.filter(priced_at__isnull=True, carrier_sid__isnull=False)
            .exclude(status__in=ACTIVE_CALL_STATUSES)
            .count()
        )
        unanalysed = calls_awaiting_analysis().filter(target__campaign_id__in=campaign_ids).count()
        due_soon = Target.objects.filter(
            campaign_id__in=campaign_ids,
            campaign__status=Campaign.Status.RUNNING,  # a paused campaign calls nobody
            status=Target.Status.PENDING,
            next_attempt_at__lte=now() + SOON,
        ).count()
        counts = (
            f"targets: {targets['pending']} pending, {targets['calling']} calling, "
            f"{targets['done']} done, {targets['closed']} closed | calls: {calls.count()} placed, {live} live"
        )
        # A line when something changed, and every 15 s while nothing does.
        if counts != last_counts or time.monotonic() - last_printed > 15:
            print(f"[{now():%H:%M:%S} UTC] {counts}", flush=True)
            last_counts, last_printed = counts, time.monotonic()
        settled = not (live or unpriced or unanalysed or due_soon or targets["calling"])
        if calls.exists() and settled:
            break
        time.sleep(poll_seconds)
    for campaign_id in campaign_ids:
        print_results(campaign_id=campaign_id, at=now())
    print_budget_alerts(campaign_id=campaign_ids[0])


def _local(at: datetime | None, zones: list[str]) -> str:
    if at is None:
        return ""
    zone = ZoneInfo(zones[0]) if zones else ZoneInfo("UTC")
    return at.astimezone(zone).strftime("%a %H:%M %Z")


def print_results(*, campaign_id: int, at: datetime) -> None:
    from calls.models import Call
    from campaigns.models import Campaign, Target

    campaign = Campaign.objects.get(pk=campaign_id)
    print(f"\n== {campaign.name} ==")
    print("\nCalls")
    header = f"  {'contact':<15} {'number':<13} {'st':<3} {'status':<11} {'outcome':<21} {'secs':>4} {'cost':>9}"
    print(header)
    calls = Call.objects.filter(target__campaign_id=campaign_id).select_related("target__contact")
    total = 0
    for call in calls.order_by("pk"):
        contact = call.target.contact
        total += call.cost_total
        print(
            f"  {contact.name:<15} {call.to_number:<13} {contact.state:<3} {call.status:<11} "
            f"{(call.outcome or call.hangup_reason or '-'):<21} {call.duration_seconds or 0:>4} "
            f"${call.cost_total:>8.4f}"
        )
    print(f"  {'total':<72} ${total:>8.4f}")
    print_latency(campaign_id=campaign_id, at=at)
    print("\nTargets not settled by a call")
    for target in (
        Target.objects.filter(campaign_id=campaign_id)
        .exclude(status=Target.Status.DONE)
        .select_related("contact")
    ):
        when = ""
        if target.next_attempt_at:
            zones = (
                target.calls.order_by("-pk").values_list("compliance_zones", flat=True).first()
                or []
            )
            when = f", next attempt {target.next_attempt_at:%H:%M} UTC ({_local(target.next_attempt_at, zones)})"
        print(
            f"  {target.contact.name:<15} {target.status}: {target.last_reason or target.outcome}{when}"
        )
    print_analysis(campaign=campaign)
    if campaign.survey_id:
        print_survey(campaign=campaign)


def _ms(value) -> str:
    return "-" if value is None else f"{value} ms"


def print_latency(*, campaign_id: int, at: datetime) -> None:
    """Each answered call's first audio after the answer and its turns' latency (from the
    caller's end of speech to the agent's first audio sent), then the campaign's, and its
    abandonment rate at `at` (the demo's simulated clock)."""
    from calls.latency import call_latency_summary, campaign_abandonment, campaign_latency
    from calls.models import Call

    print("\nLatency (first audio after the answer; turns from the caller's end of speech)")
    print(f"  {'contact':<15} {'first audio':>11} {'played':>9} {'turns':>5} {'p50':>9} {'p99':>9}")
    calls = (
        Call.objects.filter(campaign_id=campaign_id, media_started_at__isnull=False)
        .select_related("target__contact")
        .order_by("pk")
    )
    for call in calls:
        latency = call_latency_summary(call)
        turns = latency["turn_sent_ms"]
        print(
            f"  {call.target.contact.name:<15} {_ms(latency['first_audio_sent_ms']):>11} "
            f"{_ms(latency['first_audio_played_ms']):>9} {latency['turns']:>5} "
            f"{_ms(turns['p50']):>9} {_ms(turns['p99']):>9}"
            + ("  abandoned (no agent audio within 2 s)" if latency["is_abandoned"] else "")
        )
    overall = campaign_latency(campaign_id=campaign_id)
    first, turns = overall["first_audio_sent_ms"], overall["turn_sent_ms"]
    print(
        f"  campaign: first audio p50 {_ms(first['p50'])}, p99 {_ms(first['p99'])} over "
        f"{overall['calls']} calls; turns p50 {_ms(turns['p50'])}, p99 {_ms(turns['p99'])} over "
        f"{overall['turns']} turns"
    )
    abandonment = campaign_abandonment(campaign_id=campaign_id, at=at)
    print(
        f"  abandoned: {abandonment['abandoned']} of {abandonment['answered']} calls answered "
        f"by a person in 30 days ({abandonment['rate_percent']} %; dialing stops above "
        f"{abandonment['pause_percent']} %)"
    )


def _wrapped(text: str, *, indent: int, width: int = 96) -> str:
    import textwrap

    return textwrap.fill(
        text, width=width, initial_indent=" " * indent, subsequent_indent=" " * indent
    )


def print_analysis(*, campaign) -> None:
    """Each answered call's summary, sentiment and follow-up, as the analysis model read it."""
    from calls.models import Call, CallStatus

    calls = (
        Call.objects.filter(target__campaign=campaign, status=CallStatus.COMPLETED)
        .exclude(answered_at=None)
        .select_related("target__contact")
        .order_by("pk")
    )
    print("\nPost-call analysis")
    for call in calls:
        name = call.target.contact.name
        if call.analysis_error:
            print(f"  {name:<15} analysis failed: {call.analysis_error}")
            continue
        if call.analysed_at is None:
            print(f"  {name:<15} (no transcript to analyse)")
            continue
        score = f"{call.sentiment_score:+.1f}" if call.sentiment_score is not None else ""
        disputed = (
            f" (the analysis read {call.analysis_outcome})" if call.is_outcome_disputed else ""
        )
        print(f"  {name:<15} {call.sentiment} {score}, outcome {call.outcome}{disputed}")
        print(_wrapped(call.summary, indent=18))
        if call.is_follow_up_needed:
            print(_wrapped(f"Follow-up: {call.follow_up_reason}", indent=18))
        if call.callback_requested_at:
            print(f"{'':18}Callback requested for {call.callback_requested_at:%a %d %b %H:%M %Z}")


def _shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def print_survey(*, campaign) -> None:
    """Each question's answers, per call and tallied."""
    from calls.models import SurveyAnswer
    from calls.survey_answers import survey_tallies

    tallies = survey_tallies(organization_id=campaign.organization_id, survey_id=campaign.survey_id)
    answers = SurveyAnswer.objects.filter(call__target__campaign=campaign).select_related(
        "call__target__contact"
    )
    print(f"\nSurvey answers ({campaign.survey.name})")
    for question in campaign.survey.questions.order_by("position"):
        counts = ", ".join(
            f"{_shown(value)}: {calls}" for value, calls in tallies.get(question.pk, {}).items()
        )
        print(f"  {question.position}. {question.text} [{question.get_kind_display()}]")
        for answer in answers.filter(question=question):
            note = (
                f" (analysis heard {_shown(answer.analysis_value)})" if answer.is_disputed else ""
            )
            print(f"{'':6}{answer.call.target.contact.name}: {_shown(answer.value)}{note}")
        print(f"{'':6}tally over every call of this survey: {counts or 'no answers'}")


def print_budget_alerts(*, campaign_id: int) -> None:
    """The budgets the campaign reached, each alert once, and who was told."""
    from campaigns.budget_alerts import alert_recipients
    from campaigns.models import BudgetAlert, Campaign

    campaign = Campaign.objects.get(pk=campaign_id)
    alerts = BudgetAlert.objects.filter(organization_id=campaign.organization_id).filter(
        Q(campaign_id=campaign_id) | Q(campaign__isnull=True, created_at__gte=campaign.created_at)
    )
    print("\nBudget alerts")
    if not alerts.exists():
        print("  none")
    for alert in alerts.order_by("created_at", "threshold"):
        print(
            f"  [{alert.created_at:%H:%M:%S} UTC] {alert.get_scope_display()}"
            f"{' ' + alert.period if alert.period else ''}: {alert.threshold} % "
            f"(spent ${alert.spent:.4f} of ${alert.budget:.2f})"
        )
    recipients = alert_recipients(campaign.organization_id)
    if alerts.exists() and recipients:
        print(f"  emailed to {', '.join(recipients)} (printed in the worker's log)")
    if campaign.paused_reason:
        print(
            f"  campaign {campaign.get_status_display().lower()}: {campaign.get_paused_reason_display()}"
        )
