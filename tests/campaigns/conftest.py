"""Fixtures for the audience tests: users by role, uploads kept out of the project tree,
and Celery tasks run in the test's process."""

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import FileSystemStorage
from rest_framework.test import APIClient

from campaigns.models import ImportJob
from tests.factories import member_of
from voiceops.celery import app


@pytest.fixture(autouse=True)
def uploads_in_a_temporary_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(
        ImportJob._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path)
    )


@pytest.fixture
def tasks_run_here(monkeypatch):
    """Tasks run in this process when enqueued, as a worker would run them (wrap the request
    in `django_capture_on_commit_callbacks(execute=True)` to enqueue on commit)."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


@pytest.fixture
def operator(db) -> User:
    return member_of("operator", "olivia")


@pytest.fixture
def finance(db) -> User:
    return member_of("finance", "fred")


@pytest.fixture
def operator_api(operator) -> APIClient:
    client = APIClient()
    client.force_authenticate(operator)
    return client
