"""Loaded by pytest before Django (`-p tests.environment` in pyproject): the environment the
test suite runs in, unless the caller already set a variable. Tests run against real
PostgreSQL and Redis, with production security defaults relaxed only for plain-HTTP test
servers."""

import os

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

for name, value in DEFAULTS.items():
    os.environ.setdefault(name, value)
