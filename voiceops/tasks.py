"""Operational tasks that belong to no single domain."""

import socket

from celery import shared_task
from django.utils import timezone


@shared_task(ignore_result=False, time_limit=10, soft_time_limit=5)
def ping() -> dict:
    """Answer with the worker's host and the time: proves a worker consumes from the broker."""
    return {"worker": socket.gethostname(), "at": timezone.now().isoformat()}
