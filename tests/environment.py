"""Loaded by pytest before Django (`-p tests.environment` in pyproject): the environment the
test suite runs in, unless the caller already set a variable. Tests run against real
PostgreSQL and Redis, with production security defaults relaxed only for plain-HTTP test
servers.

Under pytest-xdist (`make test` runs the suite in parallel workers) every worker has a
database of its own (pytest-django suffixes the test database's name with the worker id)
and, set here, a Redis database of its own: the number in `REDIS_URL` plus the worker's
index (gw0 keeps it, gw1 adds 1, ...), so that one worker's Celery queues, cache and channel
layer never reach another's stack."""

import os
from urllib.parse import urlsplit, urlunsplit

DEFAULTS = {
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-django-checks-0123456789",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/voiceops",
    "REDIS_URL": "redis://127.0.0.1:6379/9",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
}

REDIS_DATABASES = 16  # Redis's default `databases`


def worker_redis_url(url: str, worker: str) -> str:
    """`url` with its database number moved up by the xdist worker's index ("gw1" adds 1)."""
    index = int(worker.removeprefix("gw"))
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise RuntimeError(f"parallel tests need a redis:// REDIS_URL with a number, not {url}")
    base = int(parts.path.strip("/") or 0)
    number = base + index
    if number >= REDIS_DATABASES:
        raise RuntimeError(
            f"xdist worker {worker} would use Redis database {number} ({url} plus {index}); "
            f"Redis has {REDIS_DATABASES}: run fewer workers or a lower base number"
        )
    return urlunsplit(parts._replace(path=f"/{number}"))


for name, value in DEFAULTS.items():
    os.environ.setdefault(name, value)

if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], worker)
