"""The Celery application: queues, routes, time limits and the beat schedule, in one place.

Queues: `dial` places calls (short, paced), `postcall` analyses and prices finished calls,
`default` everything else. Far-future work lives in the database (`Target.next_attempt_at`)
and is picked up by the ticker; the broker never holds long countdowns.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

app = Celery("voiceops")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.conf.task_queues = (Queue("default"), Queue("dial"), Queue("postcall"))
app.conf.task_routes = {
    "calls.tasks.dial": {"queue": "dial"},
    "calls.tasks.price_call": {"queue": "postcall"},
    "calls.tasks.analyze_call": {"queue": "postcall"},
}

# Every periodic job is listed here and nowhere else.
app.conf.beat_schedule = {
    "campaign-tick": {"task": "campaigns.tasks.tick", "schedule": 3.0},
    "resume-targeting-jobs": {"task": "campaigns.tasks.targeting_jobs_sweep", "schedule": 60.0},
    "reclaim-dials": {"task": "calls.tasks.reclaim_dials", "schedule": 10.0},
    "sweep-stuck-calls": {"task": "calls.tasks.sweep_stuck_calls", "schedule": 15.0},
    # Follow-ups of finished calls (settle, price) that a broker outage lost.
    "reconcile-call-followups": {"task": "calls.tasks.reconcile_followups", "schedule": 60.0},
    # Webhook retries, and events whose delivery task was lost.
    "sweep-webhooks": {"task": "calls.tasks.sweep_webhooks", "schedule": 15.0},
    "poll-carrier-prices": {"task": "calls.tasks.poll_carrier_prices", "schedule": 60.0},
    # Recordings and import files past their organisation's retention.
    "apply-retention": {"task": "calls.tasks.apply_retention", "schedule": 3600.0},
    "enforce-budgets": {"task": "campaigns.tasks.enforce_budgets", "schedule": 60.0},
    "notify-budget-alerts": {"task": "campaigns.tasks.notify_budget_alerts", "schedule": 60.0},
    "resume-budget-paused-campaigns": {
        "task": "campaigns.tasks.resume_budget_paused_campaigns",
        "schedule": 60.0,
    },
}

app.conf.imports = ("voiceops.tasks",)
app.autodiscover_tasks()
