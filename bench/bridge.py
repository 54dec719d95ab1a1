"""Media bridge load: N concurrent calls through one web process. CPU per call, added
latency each way, speech_started → clear, and frames lost; side by side with outside
bridges under the same load in the same run.

Run: `python -m bench.bridge [--calls 25,50,100] [--seconds 15] [--servers uvicorn,daphne]
[--repeats 2] [--compare "[NAME=]COMMAND" --compare-path PATH] [--py-spy | --profile]`
(or `python -m bench bridge …`). The default sweep takes about a minute.

For each N and server: a throwaway PostgreSQL database (`voiceops_bench_bridge_<pid>`,
created once, dropped at the end) gets N answered outbound calls (tokens are single-use, so
every run has its own); the server runs the real `voiceops.asgi:application` (`uvicorn` is
`python -m voiceops.web`, what ships; `daphne`; `uvicorn-2`, two processes on one port) with
Redis db 12 for its channel layer; a lean instrumented Realtime stand-in runs in its own
process (`bench.bridge_model`), and this process plays Twilio for every call
(`bench.bridge_callers`), signing each upgrade as Twilio does. The server's CPU (its whole
process group) is therefore the bridge's alone: CPU per call = server CPU seconds / (calls x
seconds measured), and calls per core is its inverse. Each caller frame and each agent
delta is stamped and timed where it was sent and where it arrived, so "added latency" is the
whole hop through the server: loopback twice and both ends' event loops included, an upper
bound of the bridge's own share.

An outside bridge (`--compare`) is started by a shell command in its own process group and
told `PORT`, `OPENAI_REALTIME_URL` (the stand-in) and `OPENAI_API_KEY`; `--compare-path`
gives its media path. The order of servers alternates between repeats, and the medians of
repeats are printed side by side with their ratios.

The last lines judge the goals (`bench.bridge_report.GOALS`) on the first VoiceOps server's
medians: at 100 calls p99 ≤ 10 ms each way, speech→clear p99 ≤ 5 ms and CPU per call-second
at most the first outside bridge's (the stretch: two-thirds of it); at 150 calls p99 ≤ 30 ms
each way; nothing lost at either.

The machine is shared and has two cores running three busy processes: read the ratios
(CPU per call, µs per payload) rather than the absolute times, and the latencies as what
they are on a loaded machine ("machine busy" says how loaded). `--py-spy` samples the
server while measured and prints where its time went; `--profile` runs it under cProfile,
whose overhead inflates the CPU figures.
"""

import argparse
import asyncio
import gc
import os
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
from twilio.request_validator import RequestValidator  # noqa: E402

from bench import bridge_report  # noqa: E402
from bench.bridge_callers import CallerCrowd, CallTicket  # noqa: E402
from bench.bridge_model import API_KEY  # noqa: E402
from calls.media_tokens import media_token_issue  # noqa: E402
from tests.stack import ROOT, database_url, free_port  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/12"
AUTH_TOKEN = "bench-twilio-auth-token"  # signs each media socket's upgrade, as Twilio does
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROFILE_DIR = ROOT / "var" / "bench"


# The calls.


def calls_create(count: int, *, first_number: int, barge_in_every: int) -> list[CallTicket]:
    """`count` answered outbound reminder calls of one campaign, and their stream tokens."""
    from agents.models import Agent, BargeIn
    from calls.models import Call, CallStatus
    from campaigns.models import Consent, Contact, Target
    from tests.factories import AgentFactory, CampaignFactory, OrganizationFactory

    organization = OrganizationFactory()
    agent: Agent = AgentFactory(
        organization=organization,
        greeting="Can you confirm your appointment on {{ appointment }}?",
        model="gpt-realtime",
        # The goal's speech_started → clear is the immediate mode's: with acknowledgements
        # ignored the agent talks on until the speech proves to be an interruption.
        barge_in=BargeIn.IMMEDIATE,
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


SERVER_COMMANDS = {
    # The same ASGI application under each server, one process, no permessage-deflate.
    "daphne": ["-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", "voiceops.asgi:application"],
    # What ships: `python -m voiceops.web` (uvicorn on uvloop, httptools, websockets-sansio).
    "uvicorn": ["-m", "voiceops.web", "--host", "127.0.0.1", "--port", "{port}"],
}
# Two processes on one port: uvicorn's workers share the listening socket, and the kernel
# hands each new connection to whichever process accepts it first.
SERVER_COMMANDS["uvicorn-2"] = [*SERVER_COMMANDS["uvicorn"], "--workers", "2"]
# The same, with uvicorn's older (legacy) `websockets` protocol on the carrier side.
SERVER_COMMANDS["uvicorn-legacy"] = [*SERVER_COMMANDS["uvicorn"], "--ws", "websockets"]
MEDIA_PATH = "/ws/media/"


@dataclass(frozen=True)
class Server:
    """A bridge under test: VoiceOps under one ASGI server, or an outside bridge started by a
    shell command (told `PORT`, `OPENAI_REALTIME_URL` and `OPENAI_API_KEY`)."""

    name: str
    command: str = ""  # a shell command for an outside bridge
    media_path: str = MEDIA_PATH

    @property
    def is_voiceops(self) -> bool:
        return not self.command


def process_group_cpu_seconds(group: int) -> float:
    """CPU of every process in a process group: a shell command's server is its child."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


class BenchProcesses:
    """The model stand-in and the bridge's server, started for one run and always stopped."""

    def __init__(self, work_dir: Path, server: Server, *, profile_to: Path | None):
        self.work_dir = work_dir
        self.server = server
        self.profile_to = profile_to
        self.model_results = work_dir / "model.npz"
        self.model: subprocess.Popen | None = None
        self.bridge: subprocess.Popen | None = None
        self.port = 0
        self.bridge_log = work_dir / "server.log"

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
        self.port = free_port()
        environment = {
            **os.environ,
            "PORT": str(self.port),
            "OPENAI_BASE_URL": model_base_url,
            "OPENAI_REALTIME_URL": model_base_url.replace("http://", "ws://") + "/realtime",
            "OPENAI_API_KEY": API_KEY,
            "PYTHONUNBUFFERED": "1",
        }
        with self.bridge_log.open("wb") as log:
            if self.server.is_voiceops:
                redis.Redis.from_url(REDIS_URL).flushdb()  # the bench's own database number
                environment.update(
                    DATABASE_URL=database_url(),
                    REDIS_URL=REDIS_URL,
                    TWILIO_ACCOUNT_SID="",
                    TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                    PUBLIC_BASE_URL=f"http://127.0.0.1:{self.port}",
                    LOG_LEVEL="WARNING",
                )
                profiler = ["-m", "cProfile", "-o", str(self.profile_to)] if self.profile_to else []
                arguments = [
                    part.format(port=self.port) for part in SERVER_COMMANDS[self.server.name]
                ]
                command = [sys.executable, *profiler, *arguments]
            else:
                command = ["/bin/sh", "-c", self.server.command]
            self.bridge = subprocess.Popen(
                command,
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, measured whole
            )
        self._wait_for_server(seconds=60)
        return f"ws://127.0.0.1:{self.port}{self.server.media_path}"

    def _wait_for_server(self, *, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.bridge.poll() is not None:
                raise RuntimeError(
                    f"{self.server.name} exited:\n{self.bridge_log.read_text()[-3000:]}"
                )
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.server.name} did not listen on {self.port}")

    def cpu(self) -> tuple[float, float, float, float, float]:
        busy, total = machine_cpu_seconds()
        return (
            process_group_cpu_seconds(self.bridge.pid),
            process_cpu_seconds(self.model.pid),
            time.process_time(),
            busy,
            total,
        )

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output if it logged anything worse than a warning."""
        text = self.bridge_log.read_text(errors="replace") if self.bridge_log.exists() else ""
        if "ERROR" not in text and "Traceback" not in text and "WARNING" not in text:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> dict[str, np.ndarray]:
        """Stop the server, then the model; returns what the model recorded."""
        if self.bridge is not None and self.bridge.poll() is None:
            os.killpg(self.bridge.pid, signal.SIGTERM)
            try:
                self.bridge.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.bridge.pid, signal.SIGKILL)
                self.bridge.wait()
        if self.model is not None and self.model.poll() is None:
            self.model.terminate()
            try:
                self.model.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.model.kill()
                self.model.wait()
        if not self.model_results.exists():
            raise RuntimeError("the bench model wrote no results")
        with np.load(self.model_results) as recorded:
            return dict(recorded)


# One run.


def run_once(
    count: int,
    server: Server,
    *,
    seconds: float,
    barge_in_every: int,
    first_number: int,
    profile: bool,
    py_spy: bool = False,
) -> bridge_report.Figures:
    tickets = calls_create(count, first_number=first_number, barge_in_every=barge_in_every)
    profile_to = None
    if profile and server.is_voiceops:
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
        profile_to = PROFILE_DIR / f"{server.name}-{count}-calls.prof"
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as work_dir:
        processes = BenchProcesses(Path(work_dir), server, profile_to=profile_to)
        samples = []
        sampler = None
        if py_spy:
            PROFILE_DIR.mkdir(parents=True, exist_ok=True)
            sampler = PySpy(
                PROFILE_DIR / f"{server.name}-{count}-calls.py-spy.txt", seconds=seconds
            )

        def on_window_edge() -> None:
            samples.append(processes.cpu())
            if sampler is not None and len(samples) == 1:
                sampler.start(processes)

        try:
            url = processes.start()
            signature = RequestValidator(AUTH_TOKEN).compute_signature(url, {})
            crowd = CallerCrowd(tickets, url, headers={"X-Twilio-Signature": signature})
            # This process's own collector pauses would delay receipts and count as the
            # bridge's latency: everything alive now is left out of collections.
            gc.collect()
            gc.freeze()
            callers = asyncio.run(
                crowd.run(
                    measure_seconds=seconds,
                    on_window_edge=on_window_edge,
                )
            )
        finally:
            model = processes.stop()
            gc.unfreeze()
            complaints = processes.log_tail()
    if complaints:
        print(
            f"{server.name} logged warnings or errors; its last lines:\n{complaints}",
            file=sys.stderr,
        )
    (bridge, model_cpu, own, busy, total) = np.subtract(samples[1], samples[0])
    figures = bridge_report.figures_from(
        server=server.name,
        calls=count,
        barging_calls={ticket.index for ticket in tickets if ticket.is_barging},
        callers=callers,
        model=model,
        cpu=bridge_report.CpuSeconds(
            server=bridge, model=model_cpu, callers=own, machine_busy=busy, machine_total=total
        ),
    )
    if profile_to is not None:
        print_profile(profile_to)
    if sampler is not None:
        print(sampler.report(), flush=True)
    return figures


class PySpy:
    """Samples the server during the measured window with py-spy (run as its own process,
    so the server pays only the sampling pauses), and reports where its time went."""

    def __init__(self, output: Path, *, seconds: float):
        self.output = output
        output.unlink(missing_ok=True)
        self.seconds = seconds
        self.process: subprocess.Popen | None = None

    def start(self, processes: "BenchProcesses") -> None:
        self.process = subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(processes.bridge.pid),
                "--subprocesses",
                "--duration",
                str(max(1, int(self.seconds))),
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                str(self.output),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def report(self, lines: int = 15) -> str:
        if self.process is not None:
            self.process.wait(timeout=60)
        if not self.output.exists():
            return "py-spy recorded nothing (is it installed, and may it attach?)"
        own: dict[str, int] = {}
        total = 0
        for line in self.output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            leaf = stack.rsplit(";", 1)[-1]
            own[leaf] = own.get(leaf, 0) + int(count)
            total += int(count)
        top = sorted(own.items(), key=lambda item: item[1], reverse=True)[:lines]
        return "  py-spy, own time:\n" + "\n".join(
            f"  {count / total:6.1%}  {leaf}" for leaf, count in top
        )


def print_profile(path: Path, lines: int = 25) -> None:
    print(f"\ndaphne profile ({path}), by own time:")
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(lines)


def servers_from(arguments) -> list[Server]:
    servers = [Server(name) for name in arguments.servers.split(",") if name]
    for name in (server.name for server in servers):
        if name not in SERVER_COMMANDS:
            raise SystemExit(f"no server {name!r}; one of: {', '.join(SERVER_COMMANDS)}")
    for index, command in enumerate(arguments.compare):
        name, _, rest = command.partition("=")
        if not rest or not name.isidentifier():
            name, rest = f"outside{index + 1}", command
        path = arguments.compare_path[index] if index < len(arguments.compare_path) else None
        servers.append(Server(name, command=rest, media_path=path or "/media-stream"))
    return servers


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
    parser.add_argument(
        "--servers",
        default="uvicorn",
        help=f"VoiceOps under these ASGI servers, comma-separated ({', '.join(SERVER_COMMANDS)})",
    )
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="[NAME=]COMMAND",
        help="an outside bridge started by this shell command, run under the same load in the "
        "same run; it is told PORT, OPENAI_REALTIME_URL and OPENAI_API_KEY (repeatable)",
    )
    parser.add_argument(
        "--compare-path",
        action="append",
        default=[],
        help="the media path of each outside bridge, in order (default /media-stream)",
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs per server and count")
    parser.add_argument("--profile", action="store_true", help="run VoiceOps under cProfile")
    parser.add_argument(
        "--py-spy", action="store_true", help="sample each server with py-spy while measured"
    )
    arguments = parser.parse_args()
    counts = [int(count) for count in arguments.calls.split(",")]
    servers = servers_from(arguments)

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
            for repeat in range(arguments.repeats):
                # Alternate the order between repeats: neither side always runs first.
                ordered = servers if repeat % 2 == 0 else servers[::-1]
                for server in ordered:
                    figures = run_once(
                        count,
                        server,
                        seconds=arguments.seconds,
                        barge_in_every=arguments.barge_in_every,
                        first_number=first_number,
                        profile=arguments.profile,
                        py_spy=arguments.py_spy,
                    )
                    first_number += count
                    runs.append(figures)
                    print(bridge_report.row(figures))
                    print(bridge_report.details(figures), flush=True)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    outside = [server.name for server in servers if not server.is_voiceops]
    print(
        bridge_report.verdict(
            runs, server=servers[0].name, reference=outside[0] if outside else None
        )
    )
    if len(servers) > 1 or arguments.repeats > 1:
        print(bridge_report.comparison(runs, baseline=servers[0].name))


if __name__ == "__main__":
    main()
