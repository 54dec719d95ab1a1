import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from voiceops.env import env_bool, env_int, env_list, env_url

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": "k3y-" + "production-secret-value-with-enough-variety-0123456789",
    "ALLOWED_HOSTS": "voiceops.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/voiceops",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PUBLIC_BASE_URL": "https://voiceops.example.com",
}


def manage(*args, env):
    clean = {key: value for key, value in os.environ.items() if key not in _OURS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


_OURS = {
    "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL",
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECRET_KEY_FALLBACKS", "ABANDON_RATE_PAUSE_PERCENT",
}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL='localhost:6379' is not a URL with scheme"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS='a year' is not a whole number"),
        ("DATABASE_URL", "postgress://x", "DATABASE_URL is malformed"),
        ("ABANDON_RATE_PAUSE_PERCENT", "two", "is not a decimal number"),
        ("ABANDON_RATE_PAUSE_PERCENT", "5", "must be between 0 and 3 (the legal limit)"),
        ("ABANDON_RATE_PAUSE_PERCENT", "NaN", "must be between 0 and 3 (the legal limit)"),
    ],
)
def test_the_project_refuses_to_start_with_a_malformed_setting(name, value, message):
    result = manage("check", env={**PRODUCTION, name: value})

    assert result.returncode != 0
    assert message in result.stderr


def test_the_project_refuses_to_start_without_a_secret_key_unless_debugging():
    without_key = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}

    refused = manage("check", env=without_key)
    debugging = manage("check", env={**without_key, "DEBUG": "1"})

    assert "SECRET_KEY must be set in the environment" in refused.stderr
    assert debugging.returncode == 0, debugging.stderr


def test_the_deploy_check_prints_no_warning_with_production_values():
    result = manage("check", "--deploy", env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_strict_readers_accept_good_values_and_name_the_variable_otherwise(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    monkeypatch.setenv("COUNT", "12")
    monkeypatch.setenv("HOSTS", "a.example, b.example")
    monkeypatch.setenv("API", "https://api.example/v1/")
    assert env_bool("FLAG", False) is True
    assert env_int("COUNT", 0) == 12
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    assert env_url("API", None, schemes=("https",)) == "https://api.example/v1"

    monkeypatch.setenv("COUNT", "-1")
    with pytest.raises(ImproperlyConfigured, match="COUNT='-1' must be at least 0"):
        env_int("COUNT", 0, minimum=0)
    monkeypatch.setenv("HOSTS", "a.example,,b.example")
    with pytest.raises(
        ImproperlyConfigured, match=re.escape("HOSTS='a.example,,b.example' has an empty item")
    ):
        env_list("HOSTS", [])


SIGN = "from django.core import signing; print(signing.dumps('call 7', salt='rotation'))"
LOAD = (
    "from django.core import signing\n"
    "try: print(signing.loads({token!r}, salt='rotation'))\n"
    "except signing.BadSignature: print('refused')"
)


def test_a_rotated_secret_key_still_accepts_what_the_previous_one_signed_while_listed():
    old, new = "old-" + "k" * 50, "new-" + "n" * 50
    signed = manage("shell", "-c", SIGN, env={**PRODUCTION, "SECRET_KEY": old})
    token = signed.stdout.split()[-1]

    rotated = manage(
        "shell",
        "-c",
        LOAD.format(token=token),
        env={**PRODUCTION, "SECRET_KEY": new, "SECRET_KEY_FALLBACKS": old},
    )
    forgotten = manage(
        "shell", "-c", LOAD.format(token=token), env={**PRODUCTION, "SECRET_KEY": new}
    )

    assert signed.returncode == 0, signed.stderr
    assert rotated.stdout.splitlines()[-1] == "call 7", rotated.stderr
    assert forgotten.stdout.splitlines()[-1] == "refused", forgotten.stderr
