"""The fault suite's running product and servers: the web process, a Celery worker and beat against a
private PostgreSQL cluster and Redis server (tests.faults.services), which the tests stop,
restart and kill. Each test adds its figures to a report printed at the end of the run."""

import json
import os
from pathlib import Path

import pytest

from tests.stack import ROOT, Stack

if not os.environ.get("VOICEOPS_PRIVATE_SERVICES"):
    # Never against the shared servers: the suite stops and restarts them.
    raise pytest.UsageError(
        "The fault suite runs on private PostgreSQL and Redis servers: run `make test-faults` "
        "(python -m pytest -p tests.faults.services tests/faults)."
    )

REPORT_PATH = ROOT / "var" / "faults-report.json"
FIGURES: list[dict] = []


@pytest.fixture(scope="session")
def services():
    from tests.faults.services import services

    return services


@pytest.fixture(scope="session")
def fault_stack_processes(
    services, django_db_setup, django_db_blocker, carrier, model, clock_offset, tmp_path_factory
):
    with django_db_blocker.unblock():
        running = Stack(
            carrier=carrier,
            model=model,
            offset=clock_offset,
            log_dir=tmp_path_factory.mktemp("fault-stack"),
        ).start()
    yield running
    running.stop()


@pytest.fixture
def fault_stack(fault_stack_processes):
    yield fault_stack_processes
    fault_stack_processes.check_alive()
    fault_stack_processes.quiesce()


@pytest.fixture
def figures():
    """The figures of this test's fault, for the report (README "Fault tolerance")."""
    row: dict = {}
    yield row
    if row:
        FIGURES.append(row)


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    totals = {
        "faults injected": sum(row["faults"] for row in FIGURES),
        "calls placed": sum(row["calls placed"] for row in FIGURES),
        "targets lost": sum(row["targets lost"] for row in FIGURES),
        "numbers double-dialed": sum(row["numbers double-dialed"] for row in FIGURES),
        "follow-ups recovered": sum(row["follow-ups recovered"] for row in FIGURES),
        "longest recovery (s)": max(row["recovery seconds"] for row in FIGURES),
    }
    terminalreporter.section("fault suite figures")
    for row in FIGURES:
        terminalreporter.write_line(json.dumps(row))
    terminalreporter.write_line(json.dumps(totals))
    Path(REPORT_PATH).parent.mkdir(exist_ok=True)
    Path(REPORT_PATH).write_text(json.dumps({"runs": FIGURES, "totals": totals}, indent=2))
