"""Post-call analysis tasks per minute per Celery worker, against the sandbox model.

Run: `.venv/bin/python -m bench.analysis [--calls N] [--concurrency 1,4,8]`

Seeds N finished, priced calls with transcripts (reminders and three-question surveys) in
a throwaway database (`bench_<name>`, created and dropped) on the server DATABASE_URL
names, starts the sandbox model in this process and one real Celery worker process
(thread pool, queue `postcall`) per concurrency level, enqueues `analyze_call` for every
call and times until every call is analysed. Each task reads the call, sends one
Structured Outputs request through the `openai` SDK, stores the analysis and survey
answers and re-prices the call. The sandbox answers in about a millisecond, so the figure
is our side's cost per analysis; with the real model, each task waits seconds on it and
throughput is set by concurrency and the model's rate limits. Wall-clock time on a shared
machine: read the figures as orders of magnitude.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tests.environment  # noqa: F401  (the same environment as the test suite)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk-bench-analysis"
ANSWERED = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
STALL_SECONDS = 60  # no call analysed for this long: a task failed (see the worker's log)
REMINDER = [
    ("agent", "Hello, this is an automated AI assistant calling on behalf of Bayview Dental."),
    ("agent", "Can you confirm your appointment on Tuesday at nine?"),
    ("caller", "yes i will be there"),
    ("agent", "Thank you. Goodbye."),
]
SURVEY = [
    ("agent", "Question 1 of 3: Would you recommend us to a friend?"),
    ("caller", "yes"),
    ("agent", "Question 2 of 3: On a scale from one to ten, how would you rate your visit?"),
    ("caller", "seven"),
    ("agent", "Question 3 of 3: Should we call you in the morning, afternoon or evening?"),
    ("caller", "evening"),
    ("agent", "Thank you. Goodbye."),
]


def seed(calls: int) -> list[int]:
    """Finished, priced calls, half reminders and half surveys."""
    from calls.models import CallStatus, Turn
    from campaigns.models import Campaign
    from tests.factories import CallFactory, CampaignFactory, TargetFactory, after_visit_survey

    reminders = CampaignFactory()
    surveyed = CampaignFactory(organization=reminders.organization)
    survey, _ = after_visit_survey(surveyed.organization)
    Campaign.objects.filter(pk=surveyed.pk).update(kind="survey", purpose="survey", survey=survey)
    ids = []
    for index in range(calls):
        campaign, lines = (reminders, REMINDER) if index % 2 else (surveyed, SURVEY)
        call = CallFactory(
            target=TargetFactory(campaign=campaign),
            status=CallStatus.COMPLETED,
            carrier_sid=f"CA{index:032x}",
            answered_at=ANSWERED,
            ended_at=ANSWERED + timedelta(seconds=45),
            media_ended_at=ANSWERED + timedelta(seconds=45),
            priced_at=ANSWERED + timedelta(seconds=50),
            duration_seconds=45,
            audio_output_tokens=900,
        )
        Turn.objects.bulk_create(
            Turn(call=call, speaker=speaker, text=text, started_ms=turn * 2000)
            for turn, (speaker, text) in enumerate(lines)
        )
        ids.append(call.pk)
    return ids


def reset(ids: list[int]) -> None:
    from calls.models import Call, CostEntry, SurveyAnswer

    SurveyAnswer.objects.filter(call_id__in=ids).delete()
    CostEntry.objects.filter(call_id__in=ids).delete()
    Call.objects.filter(pk__in=ids).update(
        analysed_at=None, analysis_error="", outcome="", is_outcome_from_analysis=False
    )


def start_worker(*, concurrency: int, model, log: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "OPENAI_BASE_URL": model.openai_base_url,
        "OPENAI_API_KEY": API_KEY,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "voiceops", "worker", "-Q", "postcall",
         "--pool", "threads", "--concurrency", str(concurrency), "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--hostname", f"bench-analysis-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_for_worker(app, worker: subprocess.Popen, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit("The Celery worker exited; see its log.")
        if app.control.ping(timeout=0.5):
            return
    raise SystemExit("The Celery worker did not answer a ping.")


def run(ids: list[int], *, concurrency: int, model, log: Path) -> float:
    """Seconds from enqueueing every call to every call analysed."""
    from calls.models import Call
    from calls.tasks import analyze_call
    from voiceops.celery import app

    reset(ids)
    app.control.purge()
    worker = start_worker(concurrency=concurrency, model=model, log=log)
    try:
        wait_for_worker(app, worker)
        requests_before = len(model.analysis_requests)
        started = time.perf_counter()
        for call_id in ids:
            analyze_call.apply_async(args=[call_id], queue="postcall")
        waiting, progressed_at = len(ids), time.monotonic()
        while waiting:
            if worker.poll() is not None:
                raise SystemExit(f"The Celery worker exited; see {log}.")
            left = Call.objects.filter(pk__in=ids, analysed_at__isnull=True).count()
            if left < waiting:
                waiting, progressed_at = left, time.monotonic()
            elif time.monotonic() - progressed_at > STALL_SECONDS:
                raise SystemExit(f"{left} calls stopped being analysed; see {log}.")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        failed = Call.objects.filter(pk__in=ids).exclude(analysis_error="").count()
        sent = len(model.analysis_requests) - requests_before
        if failed or sent != len(ids):
            raise SystemExit(f"{failed} analyses failed; {sent} requests for {len(ids)} calls.")
        return elapsed
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        app.control.purge()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", default="1,4,8", help="thread-pool sizes to try")
    arguments = parser.parse_args()

    from sandbox.model import ModelServer

    setup_test_environment()
    database = connection.settings_dict
    database.setdefault("TEST", {})["NAME"] = f"bench_{database['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    model = ModelServer(api_key=API_KEY)
    model.start()
    log_dir = ROOT / "var" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        ids = seed(arguments.calls)
        print(f"{len(ids)} finished calls (half reminders, half three-question surveys)")
        for concurrency in map(int, arguments.concurrency.split(",")):
            elapsed = run(
                ids,
                concurrency=concurrency,
                model=model,
                log=log_dir / f"bench-analysis-worker-{concurrency}.log",
            )
            print(
                f"one worker, {concurrency} thread{'s' if concurrency > 1 else ''}: "
                f"{len(ids)} analyses in {elapsed:.1f} s = {len(ids) / elapsed * 60:,.0f} "
                f"tasks/min ({elapsed / len(ids) * 1000:.1f} ms each)"
            )
    finally:
        model.stop()
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
