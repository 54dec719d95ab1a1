"""The one retry policy for tasks that meet an outage of the database or the broker.

A task whose follow-up must survive (dial, settle, price, analyse) is wrapped with
`retries_on_outage`: a database or broker error does not drop the task, it comes back with
exponential backoff until the outage is over or the retries run out. Only failures that can
recover are retried; anything else still fails loudly.

    @shared_task(bind=True, max_retries=OUTAGE_MAX_RETRIES)
    @retries_on_outage
    def price_call(self, call_id): ...
"""

import functools
import logging
import random

from django.db import InterfaceError, OperationalError, connections
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# Errors that mean "a service we depend on is unreachable", not "this input is wrong".
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    BrokerError,
    RedisConnectionError,
    RedisTimeoutError,
)

OUTAGE_MAX_RETRIES = 10
OUTAGE_FIRST_DELAY_SECONDS = 1.0
OUTAGE_MAX_DELAY_SECONDS = 60.0


def outage_backoff(retries: int) -> float:
    """Seconds before retry number `retries + 1`: 1, 2, 4 … capped at a minute, with jitter so
    that every task stopped by one outage does not come back at the same instant."""
    delay = min(OUTAGE_MAX_DELAY_SECONDS, OUTAGE_FIRST_DELAY_SECONDS * 2**retries)
    return delay * random.uniform(0.8, 1.2)


def retries_on_outage(task_function):
    """Wrap a bound Celery task so that an outage retries it with backoff (up to the task's
    own `max_retries` or `OUTAGE_MAX_RETRIES`, whichever is more, counting every retry)."""

    @functools.wraps(task_function)
    def run(self, *args, **kwargs):
        try:
            return task_function(self, *args, **kwargs)
        except OUTAGE_ERRORS as error:
            # A broken connection must not be reused by the retry in this worker thread.
            for connection in connections.all(initialized_only=True):
                connection.close_if_unusable_or_obsolete()
            limit = max(self.max_retries or 0, OUTAGE_MAX_RETRIES)
            if self.request.retries >= limit:
                log.error("%s gave up after %s retries: %s", self.name, self.request.retries, error)
                raise
            countdown = outage_backoff(self.request.retries)
            log.warning("%s meets an outage (%s); retrying in %.1f s", self.name, error, countdown)
            raise self.retry(exc=error, countdown=countdown, max_retries=limit) from error

    return run
