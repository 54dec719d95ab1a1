"""Enqueueing a task without letting a broker outage break the caller.

Every follow-up enqueued here depends on a fact already committed to the database, and a
periodic job finds that fact again if the message is lost (`calls.followups` for finished
calls, the webhook sweep for events). So a broker that cannot be reached is logged, not
raised: the request or task that committed the fact still succeeds.
"""

import logging

from celery import current_app
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def enqueue(task_name: str, *, args: list, queue: str | None = None) -> bool:
    """Send `task_name(*args)`; True if the broker took it, False (logged) if it could not
    be reached."""
    options = {"queue": queue} if queue else {}
    try:
        # No result is awaited: without ignore_result, sending subscribes to the result
        # backend, which retries for many seconds when Redis is down.
        current_app.send_task(task_name, args=args, ignore_result=True, **options)
    except (OperationalError, OSError) as error:
        log.error(
            "Broker unreachable; %s%s not enqueued (the periodic reconciler will redo it): %s",
            task_name,
            tuple(args),
            error,
        )
        return False
    return True
