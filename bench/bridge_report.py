"""From the timestamps of one bridge run to the figures the benchmark prints.

Each payload is matched by its stamp between the process that sent it and the one that
received it; only payloads sent inside the measured window count, and a payload counts as
lost if it had not arrived by the end of the drain that follows the window.
"""

from dataclasses import dataclass

import numpy as np

from bench.bridge_callers import CallerRecords


@dataclass(frozen=True)
class Goal:
    """What one process must do at a number of concurrent calls."""

    p99_ms: float  # added latency, each way
    clear_p99_ms: float | None = None  # speech_started → clear
    cpu_share_of_reference: float | None = None  # CPU per call-second ÷ the reference's


GOALS = {100: Goal(p99_ms=10.0, clear_p99_ms=5.0, cpu_share_of_reference=1.0), 150: Goal(30.0)}
# Beyond the goal: this share of the reference bridge's CPU per call-second.
STRETCH_CPU_SHARE = 2 / 3
# A `clear` more than this long after a `speech_started` answers something else.
BARGE_IN_MATCH_SECONDS = 2.0
# A median hop this slow is a queue, not a relay.
FALLEN_BEHIND_MEDIAN_MS = 20.0


@dataclass(frozen=True)
class CpuSeconds:
    server: float  # the bridge's server process (and its children)
    model: float
    callers: float
    machine_busy: float  # all cores together
    machine_total: float


@dataclass(frozen=True)
class Figures:
    server: str  # which bridge served the run
    calls: int
    streamed: int  # calls that were admitted and heard their greeting
    closed_early: int
    window_seconds: float
    cpu: CpuSeconds
    to_model_ms: np.ndarray
    to_carrier_ms: np.ndarray
    barge_in_ms: np.ndarray
    frames_sent: int
    frames_lost: int
    audio_sent: int
    audio_lost: int
    audio_after_barge_in: int  # deltas the bridge should have dropped but played
    barge_ins: int  # speech_started by a barging caller
    clears: int
    send_lateness_p99_ms: float

    @property
    def cpu_ms_per_call_second(self) -> float:
        return self.cpu.server * 1000 / (self.streamed * self.window_seconds)

    @property
    def calls_per_core(self) -> float:
        return 1000 / self.cpu_ms_per_call_second if self.cpu.server else float("inf")

    @property
    def server_core_share(self) -> float:
        return self.cpu.server / self.window_seconds

    @property
    def machine_busy_share(self) -> float:
        return self.cpu.machine_busy / self.cpu.machine_total if self.cpu.machine_total else 0.0

    @property
    def has_fallen_behind(self) -> bool:
        """The server could not keep up and frames queued in it: its CPU per call then reads low
        (work left undone) and the latencies are mostly queueing."""
        median = float(np.median(self.to_model_ms)) if len(self.to_model_ms) else 0.0
        return median > FALLEN_BEHIND_MEDIAN_MS

    @property
    def cpu_us_per_payload(self) -> float:
        """Bridge CPU per payload relayed, both directions together."""
        relayed = len(self.to_model_ms) + len(self.to_carrier_ms)
        return self.cpu.server * 1e6 / relayed if relayed else float("nan")


def _keys(source: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    return (source.astype(np.uint64) << np.uint64(32)) | sequence.astype(np.uint64)


def _arrival(sent_keys: np.ndarray, received_keys: np.ndarray, received_at: np.ndarray):
    """For each sent key: whether it arrived, and when (NaN if not)."""
    order = np.argsort(received_keys)
    keys, times = received_keys[order], received_at[order]
    where = np.searchsorted(keys, sent_keys)
    inside = where < len(keys)
    found = np.zeros(len(sent_keys), dtype=bool)
    found[inside] = keys[where[inside]] == sent_keys[inside]
    arrived = np.full(len(sent_keys), np.nan)
    arrived[found] = times[where[found]]
    return found, arrived


def _array(values, dtype) -> np.ndarray:
    return np.frombuffer(values, dtype=dtype) if len(values) else np.zeros(0, dtype=dtype)


def figures_from(
    *,
    server: str,
    calls: int,
    barging_calls: set[int],
    callers: CallerRecords,
    model: dict[str, np.ndarray],
    cpu: CpuSeconds,
) -> Figures:
    start, end = callers.window

    frame_at = _array(callers.frame_at, np.float64)
    in_window = (frame_at >= start) & (frame_at < end)
    sent_keys = _keys(
        _array(callers.frame_call, np.uint32)[in_window],
        _array(callers.frame_sequence, np.uint32)[in_window],
    )
    frame_found, arrived = _arrival(
        sent_keys, _keys(model["frame_call"], model["frame_sequence"]), model["frame_at"]
    )
    to_model_ms = (arrived[frame_found] - frame_at[in_window][frame_found]) * 1000

    delta_at = model["delta_at"]
    in_window = (delta_at >= start) & (delta_at < end)
    delta_keys = _keys(model["delta_session"], model["delta_sequence"])[in_window]
    is_muted = model["delta_is_muted"][in_window].astype(bool)
    found, arrived = _arrival(
        delta_keys,
        _keys(_array(callers.media_session, np.uint32), _array(callers.media_sequence, np.uint32)),
        _array(callers.media_at, np.float64),
    )
    to_carrier_ms = (arrived[found & ~is_muted] - delta_at[in_window][found & ~is_muted]) * 1000

    barge_in_ms, barge_ins = _barge_in_delays(callers, model, barging_calls, start, end)
    clear_at = _array(callers.clear_at, np.float64)
    lateness = _array(callers.frame_lateness, np.float64)[(frame_at >= start) & (frame_at < end)]
    return Figures(
        server=server,
        calls=calls,
        streamed=calls - len(callers.refused),
        closed_early=len(callers.closed_early),
        window_seconds=end - start,
        cpu=cpu,
        to_model_ms=to_model_ms,
        to_carrier_ms=to_carrier_ms,
        barge_in_ms=barge_in_ms,
        frames_sent=len(sent_keys),
        frames_lost=int((~frame_found).sum()),
        audio_sent=int((~is_muted).sum()),
        audio_lost=int((~found & ~is_muted).sum()),
        audio_after_barge_in=int((found & is_muted).sum()),
        barge_ins=barge_ins,
        clears=int(((clear_at >= start) & (clear_at < end)).sum()),
        send_lateness_p99_ms=float(np.percentile(lateness, 99) * 1000) if len(lateness) else 0.0,
    )


def _barge_in_delays(callers, model, barging_calls, start, end) -> tuple[np.ndarray, int]:
    """Delay from each barging caller's `speech_started` (model send time) to the `clear`
    that followed on the same call; and how many such speech starts there were."""
    clears: dict[int, list[float]] = {}
    for call, at in zip(callers.clear_call, callers.clear_at, strict=True):
        clears.setdefault(call, []).append(at)
    delays = []
    barge_ins = 0
    for call, at in zip(model["speech_call"], model["speech_at"], strict=True):
        if int(call) not in barging_calls or not start <= at < end:
            continue
        barge_ins += 1
        later = [clear for clear in clears.get(int(call), ()) if at <= clear]
        if later and min(later) - at <= BARGE_IN_MATCH_SECONDS:
            delays.append(min(later) - at)
    return np.array(delays) * 1000, barge_ins


def _percentiles(values_ms: np.ndarray) -> str:
    if not len(values_ms):
        return "       -"
    p50, p99 = np.percentile(values_ms, [50, 99])
    return f"{p50:5.1f}/{p99:6.1f}"


HEADER = (
    "server     calls  CPU ms/call-s  calls/core  server core  µs/payload  "
    "carrier→model  model→carrier  speech→clear  lost in/out  machine busy"
)
UNITS = (
    "                                             (1 = 100%)               "
    "p50/p99 ms     p50/p99 ms     p50/p99 ms"
)


def row(figures: Figures) -> str:
    return (
        f"{figures.server:<9.9s}  {figures.streamed:5d}  {figures.cpu_ms_per_call_second:13.2f}  "
        f"{figures.calls_per_core:10.0f}  {figures.server_core_share:11.2f}  "
        f"{figures.cpu_us_per_payload:10.0f}  {_percentiles(figures.to_model_ms):>13}  "
        f"{_percentiles(figures.to_carrier_ms):>13}  {_percentiles(figures.barge_in_ms):>12}  "
        f"{figures.frames_lost:5d}/{figures.audio_lost:<5d}  {figures.machine_busy_share:11.0%}"
    )


def details(figures: Figures) -> str:
    lines = [
        f"  {figures.calls} calls, {figures.window_seconds:.1f} s measured: "
        f"{figures.frames_sent:,} caller frames and {figures.audio_sent:,} agent deltas sent; "
        f"{figures.clears} clears for {figures.barge_ins} barge-ins "
        f"({len(figures.barge_in_ms)} matched)",
        f"  CPU seconds: {figures.server} {figures.cpu.server:.2f}, model {figures.cpu.model:.2f}, "
        f"callers {figures.cpu.callers:.2f}; caller frames sent up to "
        f"{figures.send_lateness_p99_ms:.1f} ms late (p99)",
    ]
    problems = []
    if figures.has_fallen_behind:
        problems.append(
            f"{figures.server} fell behind (CPU per call reads low, latency is queueing)"
        )
    if figures.streamed < figures.calls:
        problems.append(f"{figures.calls - figures.streamed} calls refused")
    if figures.closed_early:
        problems.append(f"{figures.closed_early} calls hung up by the server")
    if figures.audio_after_barge_in:
        problems.append(f"{figures.audio_after_barge_in} agent deltas played after a barge-in")
    if figures.barge_ins > len(figures.barge_in_ms):
        problems.append(f"{figures.barge_ins - len(figures.barge_in_ms)} barge-ins without clear")
    if problems:
        lines.append("  PROBLEMS: " + "; ".join(problems))
    return "\n".join(lines)


def verdict(runs: list[Figures], *, server: str, reference: str | None) -> str:
    """One line per number of calls that has a goal (`GOALS`), judged on the medians of
    `server`'s repeats; its CPU is compared with `reference` (the first outside bridge) run
    in the same sweep. Without a reference the CPU part of a goal is not judged."""
    lines = []
    for count, goal in sorted(GOALS.items()):
        mine = [figures for figures in runs if figures.server == server and figures.calls == count]
        if not mine:
            continue
        theirs = [f for f in runs if f.server == reference and f.calls == count]
        shortfalls = []
        held = []
        for label, read in (
            ("carrier→model", lambda figures: _p(figures.to_model_ms, 99)),
            ("model→carrier", lambda figures: _p(figures.to_carrier_ms, 99)),
        ):
            p99 = _median(mine, read)
            (held if p99 <= goal.p99_ms else shortfalls).append(f"{label} p99 {p99:.1f} ms")
        if goal.clear_p99_ms is not None:
            p99 = _median(mine, lambda figures: _p(figures.barge_in_ms, 99))
            (held if p99 <= goal.clear_p99_ms else shortfalls).append(
                f"speech→clear p99 {p99:.1f} ms"
            )
        lost = sum(figures.frames_lost + figures.audio_lost for figures in mine)
        (shortfalls if lost else held).append(f"{lost} payloads lost")
        unanswered = sum(max(f.barge_ins - len(f.barge_in_ms), 0) for f in mine)
        if unanswered:
            shortfalls.append(f"{unanswered} barge-ins without clear")
        stretch = ""
        if goal.cpu_share_of_reference is not None and theirs:
            share = _median(mine, _cpu) / _median(theirs, _cpu)
            text = f"CPU per call-second {share:.2f}x {reference}'s"
            (held if share <= goal.cpu_share_of_reference else shortfalls).append(text)
            stretch = f"; stretch ({STRETCH_CPU_SHARE:.2f}x {reference}'s CPU) " + (
                "met" if share <= STRETCH_CPU_SHARE else "not met"
            )
        goal_text = f"p99 ≤ {goal.p99_ms:.0f} ms both ways" + (
            f", speech→clear p99 ≤ {goal.clear_p99_ms:.0f} ms" if goal.clear_p99_ms else ""
        )
        if goal.cpu_share_of_reference is not None:
            goal_text += ", CPU per call at most the reference's"
        goal_text += ", nothing lost"
        if shortfalls:
            lines.append(
                f"NOT MET at {count} calls ({goal_text}): " + "; ".join(shortfalls) + stretch
            )
        else:
            lines.append(f"MET at {count} calls ({goal_text}): " + "; ".join(held) + stretch)
    return "\n".join(lines)


def _cpu(figures: Figures) -> float:
    return figures.cpu_ms_per_call_second


def _median(runs: list[Figures], read) -> float:
    return float(np.median([read(figures) for figures in runs]))


def _p(values_ms: np.ndarray, q: float) -> float:
    return float(np.percentile(values_ms, q)) if len(values_ms) else float("nan")


# The figures compared side by side: label, how to read it from one run.
COMPARED = (
    ("CPU ms/call-s", lambda figures: figures.cpu_ms_per_call_second),
    ("carrier→model p50", lambda figures: _p(figures.to_model_ms, 50)),
    ("carrier→model p99", lambda figures: _p(figures.to_model_ms, 99)),
    ("model→carrier p50", lambda figures: _p(figures.to_carrier_ms, 50)),
    ("model→carrier p99", lambda figures: _p(figures.to_carrier_ms, 99)),
    ("speech→clear p99", lambda figures: _p(figures.barge_in_ms, 99)),
    ("payloads lost", lambda figures: figures.frames_lost + figures.audio_lost),
)


def comparison(runs: list[Figures], *, baseline: str) -> str:
    """Medians over repeats of each figure, per server and number of calls, and the ratio of
    `baseline`'s median to each other server's (below 1: the baseline does better)."""
    servers = list(dict.fromkeys(figures.server for figures in runs))
    counts = sorted({figures.calls for figures in runs})
    lines = ["", "Medians of repeats (ratio: " + baseline + " ÷ the other, in the same run):"]
    for count in counts:
        lines.append(f"  {count} calls")
        medians = {}
        for server in servers:
            repeats = [f for f in runs if f.server == server and f.calls == count]
            if repeats:
                medians[server] = [
                    float(np.median([read(figures) for figures in repeats])) for _, read in COMPARED
                ]
        width = max(len(label) for label, _ in COMPARED)
        lines.append("    " + " " * width + "".join(f"{server[:12]:>14}" for server in medians))
        for index, (label, _) in enumerate(COMPARED):
            values = "".join(f"{medians[server][index]:14.2f}" for server in medians)
            ratios = []
            if baseline in medians:
                for server in medians:
                    if server == baseline:
                        continue
                    other = medians[server][index]
                    mine = medians[baseline][index]
                    ratios.append(f"{mine / other:.2f}x {server}" if other else f"— {server}")
            lines.append(f"    {label:<{width}}{values}   " + ", ".join(ratios))
        spreads = {
            server: [
                f.cpu_ms_per_call_second for f in runs if f.server == server and f.calls == count
            ]
            for server in medians
        }
        lines.append(
            "    CPU spread over repeats: "
            + "; ".join(
                f"{server} {min(values):.2f} to {max(values):.2f}"
                for server, values in spreads.items()
            )
        )
    return "\n".join(lines)
