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
    "sweep-stuck-calls": {"task": "calls.tasks.sweep_stuck_calls", "schedule": 60.0},
}

app.conf.imports = ("voiceops.tasks",)
app.autodiscover_tasks()
