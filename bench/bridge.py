"""Media bridge load: N concurrent calls through one daphne process. CPU per call, added
latency each way, speech_started → clear, and frames lost.

Run: `.venv/bin/python -m bench.bridge [--calls 25,50,100] [--seconds 15] [--profile]`
(or `python -m bench bridge …`). The default sweep takes about a minute.

For each N: a throwaway PostgreSQL database (`voiceops_bench_bridge_<pid>`, created once,
dropped at the end) gets N answered outbound calls; one daphne process serves the real
`voiceops.asgi:application` (Redis db 12 for its channel layer); a lean instrumented
Realtime stand-in runs in its own process (`bench.bridge_model`), and this process plays
Twilio for every call (`bench.bridge_callers`). Daphne's CPU is therefore the bridge's
alone: CPU per call = daphne CPU seconds / (calls x seconds measured), and calls per core
is its inverse. Each caller frame and each agent delta is stamped and timed where it was
sent and where it arrived, so "added latency" is the whole hop through daphne: loopback
twice and both ends' event loops included, an upper bound of the bridge's own share.

The machine is shared and has two cores running three busy processes: read the ratios
(CPU per call, µs per payload) rather than the absolute times, and the latencies as what
they are on a loaded machine ("machine busy" says how loaded). `--profile` runs daphne
under cProfile and prints where its time went; its overhead inflates the CPU figures.
"""

import argparse
import asyncio
import gc
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import tests.environment  # noqa: F401  (the test suite's environment: secret key, database)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

import django

django.setup()

import numpy as np  # noqa: E402
import redis  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from bench import bridge_report  # noqa: E402
from bench.bridge_callers import CallerCrowd, CallTicket  # noqa: E402
from bench.bridge_model import API_KEY  # noqa: E402
from calls.media_tokens import media_token_issue  # noqa: E402
from tests.stack import ROOT, database_url, free_port  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/12"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROFILE_DIR = ROOT / "var" / "bench"


# The calls.


def calls_create(count: int, *, first_number: int, barge_in_every: int) -> list[CallTicket]:
    """`count` answered outbound reminder calls of one campaign, and their stream tokens."""
    from agents.models import Agent
    from calls.models import Call, CallStatus
    from campaigns.models import Consent, Contact, Target
    from tests.factories import AgentFactory, CampaignFactory, OrganizationFactory

    organization = OrganizationFactory()
    agent: Agent = AgentFactory(
        organization=organization,
        greeting="Can you confirm your appointment on {{ appointment }}?",
        model="gpt-realtime",
    )
    campaign = CampaignFactory(organization=organization, agent=agent)
    numbers = [f"+1305{first_number + index:07d}" for index in range(count)]
    contacts = Contact.objects.bulk_create(
        Contact(organization=organization, phone=number, name=f"Pat Doe {index}", state="FL")
        for index, number in enumerate(numbers)
    )
    Consent.objects.bulk_create(
        Consent(
            contact=contact,
            purpose="informational",
            source="web form",
            captured_at=datetime(2026, 1, 5, 15, tzinfo=UTC),
        )
        for contact in contacts
    )
    targets = Target.objects.bulk_create(
        Target(campaign=campaign, contact=contact, variables={"appointment": "Tuesday at nine"})
        for contact in contacts
    )
    calls = Call.objects.bulk_create(
        Call(
            organization=organization,
            direction=Call.Direction.OUTBOUND,
            target=target,
            attempt=1,
            agent=agent,
            from_number=campaign.caller_id.number,
            to_number=target.contact.phone,
            status=CallStatus.IN_PROGRESS,
            carrier_sid=f"CA{first_number + index:032x}",
        )
        for index, target in enumerate(targets)
    )
    return [
        CallTicket(
            index=index,
            call_sid=call.carrier_sid,
            token=media_token_issue(call_id=call.pk, call_sid=call.carrier_sid),
            is_barging=index % barge_in_every == 0,
        )
        for index, call in enumerate(calls)
    ]


# The processes.


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads (`/proc/<pid>/stat`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of every core since boot (`/proc/stat`)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


class BenchProcesses:
    """The model stand-in and daphne, started for one run and always stopped."""

    def __init__(self, work_dir: Path, *, profile_to: Path | None):
        self.work_dir = work_dir
        self.profile_to = profile_to
        self.model_results = work_dir / "model.npz"
        self.model: subprocess.Popen | None = None
        self.daphne: subprocess.Popen | None = None
        self.port = 0
        self.daphne_log = work_dir / "daphne.log"

    def start(self) -> str:
        """Start both; returns the media stream URL."""
        self.model = subprocess.Popen(
            [sys.executable, "-m", "bench.bridge_model", "--results", str(self.model_results)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        model_base_url = self.model.stdout.readline().strip()
        if not model_base_url:
            raise RuntimeError("the bench model did not start")
        redis.Redis.from_url(REDIS_URL).flushdb()  # the bench's own database number
        self.port = free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": REDIS_URL,
            "OPENAI_BASE_URL": model_base_url,
            "OPENAI_API_KEY": API_KEY,
            "TWILIO_ACCOUNT_SID": "",
            "TWILIO_AUTH_TOKEN": "",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        profiler = ["-m", "cProfile", "-o", str(self.profile_to)] if self.profile_to else []
        daphne = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        with self.daphne_log.open("wb") as log:
            self.daphne = subprocess.Popen(
                [sys.executable, *profiler, *daphne, "voiceops.asgi:application"],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_for_daphne(seconds=60)
        return f"ws://127.0.0.1:{self.port}/ws/media/"

    def _wait_for_daphne(self, *, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.daphne.poll() is not None:
                raise RuntimeError(f"daphne exited:\n{self.daphne_log.read_text()[-3000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"daphne did not listen on {self.port}")

    def cpu(self) -> tuple[float, float, float, float, float]:
        busy, total = machine_cpu_seconds()
        return (
            process_cpu_seconds(self.daphne.pid),
            process_cpu_seconds(self.model.pid),
            time.process_time(),
            busy,
            total,
        )

    def log_tail(self, lines: int = 30) -> str:
        """The end of daphne's output if it logged anything worse than a warning."""
        text = self.daphne_log.read_text(errors="replace") if self.daphne_log.exists() else ""
        if "ERROR" not in text and "Traceback" not in text:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> dict[str, np.ndarray]:
        """Stop daphne, then the model; returns what the model recorded."""
        for process in (self.daphne, self.model):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if not self.model_results.exists():
            raise RuntimeError("the bench model wrote no results")
        with np.load(self.model_results) as recorded:
            return dict(recorded)


# One run.


def run_once(
    count: int, *, seconds: float, barge_in_every: int, first_number: int, profile: bool
) -> bridge_report.Figures:
    tickets = calls_create(count, first_number=first_number, barge_in_every=barge_in_every)
    profile_to = PROFILE_DIR / f"daphne-{count}-calls.prof" if profile else None
    if profile_to is not None:
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as work_dir:
        processes = BenchProcesses(Path(work_dir), profile_to=profile_to)
        samples = []
        try:
            url = processes.start()
            crowd = CallerCrowd(tickets, url)
            # This process's own collector pauses would delay receipts and count as the
            # bridge's latency: everything alive now is left out of collections.
            gc.collect()
            gc.freeze()
            callers = asyncio.run(
                crowd.run(
                    measure_seconds=seconds,
                    on_window_edge=lambda: samples.append(processes.cpu()),
                )
            )
        finally:
            model = processes.stop()
            gc.unfreeze()
            complaints = processes.log_tail()
    if complaints:
        print(f"daphne logged errors; its last lines:\n{complaints}", file=sys.stderr)
    (daphne, model_cpu, own, busy, total) = np.subtract(samples[1], samples[0])
    figures = bridge_report.figures_from(
        calls=count,
        barging_calls={ticket.index for ticket in tickets if ticket.is_barging},
        callers=callers,
        model=model,
        cpu=bridge_report.CpuSeconds(
            daphne=daphne, model=model_cpu, callers=own, machine_busy=busy, machine_total=total
        ),
    )
    if profile_to is not None:
        print_profile(profile_to)
    return figures


def print_profile(path: Path, lines: int = 25) -> None:
    print(f"\ndaphne profile ({path}), by own time:")
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bridge", description=__doc__.split(".")[0]
    )
    parser.add_argument(
        "--calls", default="25,50,100", help="concurrent calls; a comma-separated list sweeps"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window per run")
    parser.add_argument(
        "--barge-in-every", type=int, default=4, help="one caller in this many talks over the agent"
    )
    parser.add_argument("--profile", action="store_true", help="run daphne under cProfile")
    arguments = parser.parse_args()
    counts = [int(count) for count in arguments.calls.split(",")]

    setup_test_environment()
    database = connection.settings_dict
    database.setdefault("TEST", {})["NAME"] = f"voiceops_bench_bridge_{os.getpid()}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    runs = []
    try:
        print(bridge_report.HEADER)
        print(bridge_report.UNITS)
        first_number = 2_000_000
        for count in counts:
            figures = run_once(
                count,
                seconds=arguments.seconds,
                barge_in_every=arguments.barge_in_every,
                first_number=first_number,
                profile=arguments.profile,
            )
            first_number += count
            runs.append(figures)
            print(bridge_report.row(figures))
            print(bridge_report.details(figures), flush=True)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(bridge_report.verdict(runs))


if __name__ == "__main__":
    main()
