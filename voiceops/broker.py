"""The broker: a Redis transport that survives a broker restart, and an enqueue that a
broker outage cannot break.


When the broker connection drops, the worker closes it and reconnects. A task that finishes
afterwards (tasks acknowledge late) acknowledges its message on the closed connection, and
kombu's Redis channel then fails with `AttributeError: 'NoneType' object has no attribute
'hostname'`, an error the worker does not expect, so it exits for good (seen with both the
thread and the prefork pool). Here a closed connection is a connection error where kombu
handles those, and an acknowledgement on it is skipped: the message stays unacknowledged
and is delivered again after the visibility timeout, which is safe because every task is
idempotent.


Every follow-up enqueued here depends on a fact already committed to the database, and a
periodic job finds that fact again if the message is lost (`calls.followups` for finished
calls, the webhook sweep for events). So a broker that cannot be reached is logged, not
raised: the request or task that committed the fact still succeeds.
"""

import logging

from celery import current_app
from kombu.exceptions import OperationalError
from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)


class Channel(redis.Channel):
    def _is_closed(self) -> bool:
        return self.connection.client is None

    def _connparams(self, asynchronous=False):
        if self._is_closed():
            raise RedisConnectionError("The broker connection was closed.")
        return super()._connparams(asynchronous=asynchronous)

    def basic_ack(self, delivery_tag, multiple=False):
        if self._is_closed():
            log.warning("Message %s not acknowledged: its broker connection closed; it will "
                        "be delivered again.", delivery_tag)  # fmt: skip
            return None
        return super().basic_ack(delivery_tag, multiple=multiple)

    def basic_reject(self, delivery_tag, requeue=False):
        if self._is_closed():
            log.warning("Message %s not rejected: its broker connection closed; it will be "
                        "delivered again.", delivery_tag)  # fmt: skip
            return None
        return super().basic_reject(delivery_tag, requeue=requeue)


class Transport(redis.Transport):
    Channel = Channel


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
