"""The checkpointing suite: how often a job on spot should save its work, on the real availability traces.

The seed's own problem, isolated from placement: one pipeline on one spot instance loses the work done
since its last checkpoint when the instance is preempted, and pays for every checkpoint it takes. The
suite replays each `bench/traces/cant-be-late` window under several checkpoint policies and reports what
each one lost, paid and took.

Rules of the model (times are whole seconds, so the arithmetic is exact):

- **Job.** `job_seconds` of compute must be done. Only spot is used (no on-demand fallback), so every
  policy sees the same capacity and the comparison isolates checkpointing.
- **Capacity.** Tick `i` covers `[i * gap, (i + 1) * gap)`; spot is available during it when `data[i] = 1`.
  An instance launches at the start of every available tick that follows an unavailable one (or starts
  the trace) and stays up through the consecutive available ticks. It is preempted at the start of the
  first unavailable tick. The end of the trace is not a preemption: the run stops there.
- **Launch.** Every launch, the first included (as in the main benchmark), pays `overhead_seconds` of
  restart overhead before computing; the job resumes from its last completed checkpoint.
- **Work.** While up and past its overhead, the instance alternates compute phases and checkpoints. At the
  start of each compute phase (after a launch or a completed checkpoint) the policy names the compute
  seconds until the next checkpoint, or none. A checkpoint takes `checkpoint_seconds` with no progress;
  when it completes, all the work done so far is safe. A checkpoint that completes exactly at the
  preemption instant counts; one cut short does not (its time is still checkpoint overhead).
- **Loss.** A preemption discards the compute done since the last completed checkpoint (lost compute).
- **End.** The run finishes the moment safe work plus unsaved work reaches `job_seconds` (no final
  checkpoint; finishing exactly at a preemption instant counts). Otherwise it ends unfinished with the
  trace, and its progress is what it had then, saved or not.
- **Cost.** Per-second billing of the instance's up time (overhead, checkpoints and compute) at the
  benchmark's constant spot price; waiting for spot costs nothing. Total time runs from the start of the
  trace to the finish (or the trace's end), idle waits included.

Accounts that hold for every run: compute = progress + lost; up = restart + checkpoint + compute;
total = up + idle.

Policies (`CheckpointPolicy`: one method, `next_interval_seconds(observed)`): `none` never checkpoints;
`fixed_30min` is the seed's guardrail, every 30 minutes of compute since the last checkpoint or launch;
`adaptive` is Daly's higher-order optimum over an online MTBF estimate. The estimate sees only the run so
far: instance-up seconds over preemptions observed, with one pseudo-preemption at a prior MTBF chosen so
that the first interval is about the manual rule's 30 minutes (the policy starts as the seed's rule and
departs from it only on evidence). Pure: trace files are read only by `run_checkpointing_suite`.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from costagent.backtest.environment import SECONDS_PER_HOUR, SPOT_PRICE_PER_HOUR
from costagent.backtest.traces import TraceError, load_trace
from costagent.guardrails import CHECKPOINT_OVERDUE_MINUTES

GAP_SECONDS = 600  # the cant-be-late traces' tick
JOB_HOURS = 24.0  # a day of compute: long enough to meet several preemptions on every trace set
CHECKPOINT_SECONDS = 60  # the demo's checkpoint cost: a few GB of state to S3 at ~100 MB/s, about a minute
OVERHEAD_HOURS = 0.05  # the main benchmark's restart overhead: boot, restore from S3, warm-up
MANUAL_INTERVAL_SECONDS = round(CHECKPOINT_OVERDUE_MINUTES * 60)  # the seed's rule, from its guardrail
PRIOR_WEIGHT_PREEMPTIONS = 1.0  # the prior counts as one observed preemption: the first real one moves it
SAME_SECONDS = 60  # comparing two runs, differences under one checkpoint's cost are timing noise


@dataclass(frozen=True)
class ObservedRun:
    """What a policy may know when it picks the next interval: the run so far, never the trace ahead."""

    up_seconds: int  # instance-up time so far, the exposure to preemption
    preemptions: int
    checkpoints: int
    saved_seconds: int  # work safe in the last completed checkpoint
    remaining_seconds: int  # work still to do from the saved point
    checkpoint_seconds: int  # what one checkpoint costs


class CheckpointPolicy(Protocol):
    @property
    def name(self) -> str: ...

    def next_interval_seconds(self, observed: ObservedRun) -> int | None:
        """Compute seconds until the next checkpoint (at least 1), or None for no checkpoint."""
        ...


@dataclass(frozen=True)
class NoCheckpoints:
    name: str = "none"

    def next_interval_seconds(self, observed: ObservedRun) -> int | None:
        return None


@dataclass(frozen=True)
class FixedInterval:
    interval_seconds: int = MANUAL_INTERVAL_SECONDS
    name: str = "fixed_30min"

    def next_interval_seconds(self, observed: ObservedRun) -> int | None:
        return self.interval_seconds


def young_interval_seconds(checkpoint_seconds: float, mtbf_seconds: float) -> float:
    """Young (1974): the first-order optimum, sqrt(2 C M)."""
    return math.sqrt(2 * checkpoint_seconds * mtbf_seconds)


def daly_interval_seconds(checkpoint_seconds: float, mtbf_seconds: float) -> float:
    """Daly (2006), the higher-order optimum of compute between checkpoints; M itself once C >= 2M."""
    c, m = checkpoint_seconds, mtbf_seconds
    if c >= 2 * m:
        return m
    ratio = c / (2 * m)
    return young_interval_seconds(c, m) * (1 + math.sqrt(ratio) / 3 + ratio / 9) - c


@functools.lru_cache(maxsize=64)
def mtbf_giving_interval(interval_seconds: float, checkpoint_seconds: float) -> float:
    """The MTBF at which Daly's optimum is `interval_seconds` (bisection: the optimum grows with M)."""
    low, high = interval_seconds / 2, max(interval_seconds, (interval_seconds + checkpoint_seconds) ** 2)
    for _ in range(100):
        middle = (low + high) / 2
        if daly_interval_seconds(checkpoint_seconds, middle) < interval_seconds:
            low = middle
        else:
            high = middle
    return high


@dataclass(frozen=True)
class YoungDalyAdaptive:
    """Daly's optimum over MTBF = (up seconds + w * prior) / (preemptions + w), re-estimated every phase.

    With no prior given, the prior MTBF is the one whose optimum is the manual rule's interval."""

    prior_mtbf_seconds: float | None = None
    prior_weight_preemptions: float = PRIOR_WEIGHT_PREEMPTIONS
    name: str = "adaptive"

    def mtbf_seconds(self, observed: ObservedRun) -> float:
        prior = self.prior_mtbf_seconds
        if prior is None:
            prior = mtbf_giving_interval(MANUAL_INTERVAL_SECONDS, observed.checkpoint_seconds)
        weight = self.prior_weight_preemptions
        return (observed.up_seconds + weight * prior) / (observed.preemptions + weight)

    def next_interval_seconds(self, observed: ObservedRun) -> int | None:
        interval = daly_interval_seconds(observed.checkpoint_seconds, self.mtbf_seconds(observed))
        return max(1, round(interval))


def default_policies() -> tuple[CheckpointPolicy, ...]:
    return (NoCheckpoints(), FixedInterval(), YoungDalyAdaptive())


@dataclass(frozen=True)
class CheckpointRun:
    """One policy on one availability trace; every duration in whole seconds."""

    policy: str
    finished: bool
    total_seconds: int  # start of the trace to the finish, or to the trace's end when unfinished
    up_seconds: int
    compute_seconds: int
    progress_seconds: int  # work done at the end: the whole job when finished
    lost_seconds: int  # compute discarded by preemptions
    checkpoint_overhead_seconds: int  # completed and cut-short checkpoints
    restart_overhead_seconds: int
    checkpoints: int  # completed
    interrupted_checkpoints: int
    preemptions: int
    launches: int
    intervals_seconds: tuple[int, ...] = field(default=(), repr=False)  # asked by the policy, in order
    spot_price_per_hour: float = SPOT_PRICE_PER_HOUR

    @property
    def idle_seconds(self) -> int:
        return self.total_seconds - self.up_seconds

    @property
    def cost(self) -> float:
        return self.up_seconds * self.spot_price_per_hour / SECONDS_PER_HOUR

    @property
    def mean_interval_seconds(self) -> float | None:
        return statistics.fmean(self.intervals_seconds) if self.intervals_seconds else None


def simulate_checkpointing(
    available: Sequence[bool],
    policy: CheckpointPolicy,
    *,
    job_seconds: int,
    checkpoint_seconds: int = CHECKPOINT_SECONDS,
    overhead_seconds: int = round(OVERHEAD_HOURS * SECONDS_PER_HOUR),
    gap_seconds: int = GAP_SECONDS,
) -> CheckpointRun:
    """Run one job through one availability trace under `policy`, by the rules in the module docstring."""
    saved = compute = lost = checkpointing = restarting = up_before = 0
    checkpoints = interrupted = preemptions = launches = 0
    intervals: list[int] = []
    finish: int | None = None
    unsaved = 0
    for start_tick, end_tick in up_segments(available):
        launches += 1
        up_from, up_until = start_tick * gap_seconds, end_tick * gap_seconds
        t = min(up_from + overhead_seconds, up_until)
        restarting += t - up_from
        unsaved = 0
        while t < up_until:
            observed = ObservedRun(
                up_seconds=up_before + t - up_from,
                preemptions=preemptions,
                checkpoints=checkpoints,
                saved_seconds=saved,
                remaining_seconds=job_seconds - saved,
                checkpoint_seconds=checkpoint_seconds,
            )
            interval = policy.next_interval_seconds(observed)
            if interval is not None:
                if interval < 1:
                    raise ValueError(
                        f"Policy {policy.name} asked for a {interval} s interval; ask for 1 s or more."
                    )
                intervals.append(interval)
            phase = job_seconds - saved if interval is None else min(interval, job_seconds - saved)
            ran = min(phase, up_until - t)
            t, compute, unsaved = t + ran, compute + ran, unsaved + ran
            if saved + unsaved >= job_seconds:
                finish = t
                break
            if t == up_until:
                break
            saving = min(checkpoint_seconds, up_until - t)
            t, checkpointing = t + saving, checkpointing + saving
            if saving < checkpoint_seconds:
                interrupted += 1
                break
            saved, unsaved, checkpoints = saved + unsaved, 0, checkpoints + 1
        up_before += t - up_from
        if finish is not None:
            break
        if end_tick < len(available):
            preemptions += 1
            lost, unsaved = lost + unsaved, 0
    return CheckpointRun(
        policy=policy.name,
        finished=finish is not None,
        total_seconds=finish if finish is not None else len(available) * gap_seconds,
        up_seconds=up_before,
        compute_seconds=compute,
        progress_seconds=job_seconds if finish is not None else saved + unsaved,
        lost_seconds=lost,
        checkpoint_overhead_seconds=checkpointing,
        restart_overhead_seconds=restarting,
        checkpoints=checkpoints,
        interrupted_checkpoints=interrupted,
        preemptions=preemptions,
        launches=launches,
        intervals_seconds=tuple(intervals),
    )


def up_segments(available: Sequence[bool]) -> Iterator[tuple[int, int]]:
    """Maximal runs of available ticks, as [start, end) tick indices."""
    start: int | None = None
    for tick, up in enumerate(available):
        if up and start is None:
            start = tick
        elif not up and start is not None:
            yield start, tick
            start = None
    if start is not None:
        yield start, len(available)


# The report: per window, per policy, then aggregates.


@dataclass(frozen=True)
class TraceWindow:
    zone_trace: str
    window: str
    available: tuple[bool, ...]
    gap_seconds: int = GAP_SECONDS


@dataclass(frozen=True)
class WindowResult:
    zone_trace: str
    window: str
    run: CheckpointRun

    def to_json(self) -> dict[str, Any]:
        run = self.run
        interval = run.mean_interval_seconds
        return {
            "zone_trace": self.zone_trace,
            "window": self.window,
            "policy": run.policy,
            "finished": run.finished,
            "total_hours": round(run.total_seconds / SECONDS_PER_HOUR, 4),
            "idle_hours": round(run.idle_seconds / SECONDS_PER_HOUR, 4),
            "cost": round(run.cost, 4),
            "progress_hours": round(run.progress_seconds / SECONDS_PER_HOUR, 4),
            "lost_compute_minutes": round(run.lost_seconds / 60, 2),
            "checkpoint_overhead_minutes": round(run.checkpoint_overhead_seconds / 60, 2),
            "restart_overhead_minutes": round(run.restart_overhead_seconds / 60, 2),
            "checkpoints": run.checkpoints,
            "interrupted_checkpoints": run.interrupted_checkpoints,
            "preemptions": run.preemptions,
            "mean_interval_minutes": None if interval is None else round(interval / 60, 2),
        }


class Outcome(str, Enum):
    """Adaptive against the manual rule on one window, by lost compute and checkpoint overhead."""

    WINS = "less_loss_no_more_overhead"
    SAME_LOSS = "same_loss_no_more_overhead"
    BUYS_LESS_LOSS = "less_loss_more_overhead"
    SAVES_OVERHEAD = "more_loss_less_overhead"
    WORSE = "no_less_loss_more_overhead"


OUTCOME_REASONS = {
    Outcome.WINS: "the goal: less work lost for no more checkpoint time",
    Outcome.SAME_LOSS: "within a minute: few or no preemptions, or only short up-periods",
    Outcome.BUYS_LESS_LOSS: "MTBF under ~7.5 h: interval < 30 min, more checkpoints, less loss",
    Outcome.SAVES_OVERHEAD: "rare preemptions: interval > 30 min, fewer checkpoints, more loss",
    Outcome.WORSE: "preemptions fell late in adaptive's intervals, or short up-periods lost either way",
}


def compare(adaptive: CheckpointRun, fixed: CheckpointRun) -> Outcome:
    """Less means by `SAME_SECONDS` or more: a few seconds either way is where a preemption fell."""
    loss_saved = fixed.lost_seconds - adaptive.lost_seconds
    no_more_overhead = adaptive.checkpoint_overhead_seconds < fixed.checkpoint_overhead_seconds + SAME_SECONDS
    if loss_saved >= SAME_SECONDS:
        return Outcome.WINS if no_more_overhead else Outcome.BUYS_LESS_LOSS
    if loss_saved > -SAME_SECONDS and no_more_overhead:
        return Outcome.SAME_LOSS
    return Outcome.SAVES_OVERHEAD if no_more_overhead else Outcome.WORSE


@dataclass(frozen=True)
class PolicySummary:
    """One policy over all windows; time and cost over the windows every policy finished."""

    policy: str
    windows: int
    finished: int
    mean_lost_minutes: float
    median_lost_minutes: float
    mean_checkpoint_minutes: float
    median_checkpoint_minutes: float
    mean_restart_minutes: float
    mean_wasted_minutes: float  # lost compute plus checkpoint overhead: what Young/Daly minimises
    mean_checkpoints: float
    mean_preemptions: float
    mean_progress_hours: float
    all_finished_windows: int  # the windows the time and cost figures are over
    mean_hours: float | None
    median_hours: float | None
    mean_cost: float | None
    median_cost: float | None
    cost_per_job_hour: float | None  # all windows: total cost over total progress, fair to unfinished runs


@dataclass(frozen=True)
class HeadToHead:
    """Adaptive against the manual rule on a group of windows (all, or one zone trace's)."""

    group: str
    windows: int
    up_hours_per_preemption: float | None  # under the manual rule; Daly's interval is 30 min at ~7.5 h
    mean_adaptive_interval_minutes: float | None
    outcomes: dict[str, int]  # windows by `Outcome` value
    mean_lost_minutes_saved: float  # fixed's lost minus adaptive's, per window
    mean_extra_checkpoint_minutes: float  # adaptive's checkpoint overhead minus fixed's, per window
    less_waste: int  # windows where adaptive's lost + checkpoint minutes are lower by a minute or more
    both_finished: int
    less_time: int  # of the windows both finished
    fixed_mean_hours: float | None  # over the windows both finished
    adaptive_mean_hours: float | None
    fixed_mean_cost: float | None
    adaptive_mean_cost: float | None


@dataclass(frozen=True)
class CheckpointingReport:
    job_hours: float
    checkpoint_seconds: int
    overhead_hours: float
    spot_price_per_hour: float
    results: tuple[WindowResult, ...]
    summaries: tuple[PolicySummary, ...]
    head_to_head: HeadToHead | None  # adaptive against fixed_30min when both ran, over all windows
    zones: tuple[HeadToHead, ...]  # the same, per zone trace

    @property
    def windows(self) -> int:
        return len({(result.zone_trace, result.window) for result in self.results})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: parameters, aggregates, then one row per window and policy."""
        return {
            "suite": "checkpointing",
            "job_hours": self.job_hours,
            "checkpoint_seconds": self.checkpoint_seconds,
            "overhead_hours": self.overhead_hours,
            "spot_price_per_hour": self.spot_price_per_hour,
            "windows": self.windows,
            "summaries": [asdict(summary) for summary in self.summaries],
            "adaptive_vs_fixed_30min": None if self.head_to_head is None else asdict(self.head_to_head),
            "outcome_reasons": {outcome.value: reason for outcome, reason in OUTCOME_REASONS.items()},
            "zones": [asdict(zone) for zone in self.zones],
            "results": [result.to_json() for result in self.results],
        }


def build_report(
    windows: Sequence[TraceWindow],
    *,
    job_hours: float = JOB_HOURS,
    checkpoint_seconds: int = CHECKPOINT_SECONDS,
    overhead_hours: float = OVERHEAD_HOURS,
    policies: Sequence[CheckpointPolicy] | None = None,
) -> CheckpointingReport:
    """Every policy on every window, and the aggregates. Compares `adaptive` with `fixed_30min` when the
    policies include both (the defaults do)."""
    policies = default_policies() if policies is None else policies
    job_seconds = round(job_hours * SECONDS_PER_HOUR)
    overhead_seconds = round(overhead_hours * SECONDS_PER_HOUR)
    results = tuple(
        WindowResult(
            window.zone_trace,
            window.window,
            simulate_checkpointing(
                window.available,
                policy,
                job_seconds=job_seconds,
                checkpoint_seconds=checkpoint_seconds,
                overhead_seconds=overhead_seconds,
                gap_seconds=window.gap_seconds,
            ),
        )
        for window in windows
        for policy in policies
    )
    runs = {((r.zone_trace, r.window), r.run.policy): r.run for r in results}
    keys = [(w.zone_trace, w.window) for w in windows]
    all_finished = {key for key in keys if all(runs[key, p.name].finished for p in policies)}
    summaries = tuple(
        _summary([runs[key, p.name] for key in keys], p.name, all_finished, keys) for p in policies
    )
    head_to_head: HeadToHead | None = None
    zones: tuple[HeadToHead, ...] = ()
    if {"adaptive", "fixed_30min"} <= {p.name for p in policies}:
        pairs = [(key, runs[key, "adaptive"], runs[key, "fixed_30min"]) for key in keys]
        head_to_head = _head_to_head("all", [(a, f) for _, a, f in pairs])
        zones = tuple(
            _head_to_head(zone, [(a, f) for key, a, f in pairs if key[0] == zone])
            for zone in sorted({zone for zone, _ in keys})
        )
    return CheckpointingReport(
        job_hours=job_hours,
        checkpoint_seconds=checkpoint_seconds,
        overhead_hours=overhead_hours,
        spot_price_per_hour=SPOT_PRICE_PER_HOUR,
        results=results,
        summaries=summaries,
        head_to_head=head_to_head,
        zones=zones,
    )


def _summary(
    runs: Sequence[CheckpointRun],
    policy: str,
    all_finished: set[tuple[str, str]],
    keys: Sequence[tuple[str, str]],
) -> PolicySummary:
    common = [run for run, key in zip(runs, keys, strict=True) if key in all_finished]
    lost = [run.lost_seconds / 60 for run in runs]
    saving = [run.checkpoint_overhead_seconds / 60 for run in runs]
    hours = [run.total_seconds / SECONDS_PER_HOUR for run in common]
    costs = [run.cost for run in common]
    progress_hours = sum(run.progress_seconds for run in runs) / SECONDS_PER_HOUR
    return PolicySummary(
        policy=policy,
        windows=len(runs),
        finished=sum(run.finished for run in runs),
        mean_lost_minutes=statistics.fmean(lost),
        median_lost_minutes=statistics.median(lost),
        mean_checkpoint_minutes=statistics.fmean(saving),
        median_checkpoint_minutes=statistics.median(saving),
        mean_restart_minutes=statistics.fmean(run.restart_overhead_seconds / 60 for run in runs),
        mean_wasted_minutes=statistics.fmean(a + b for a, b in zip(lost, saving, strict=True)),
        mean_checkpoints=statistics.fmean(run.checkpoints for run in runs),
        mean_preemptions=statistics.fmean(run.preemptions for run in runs),
        mean_progress_hours=progress_hours / len(runs),
        all_finished_windows=len(common),
        mean_hours=_mean(hours),
        median_hours=statistics.median(hours) if hours else None,
        mean_cost=_mean(costs),
        median_cost=statistics.median(costs) if costs else None,
        cost_per_job_hour=sum(run.cost for run in runs) / progress_hours if progress_hours else None,
    )


def _head_to_head(group: str, pairs: Sequence[tuple[CheckpointRun, CheckpointRun]]) -> HeadToHead:
    outcomes = dict.fromkeys((outcome.value for outcome in Outcome), 0)
    for adaptive, fixed in pairs:
        outcomes[compare(adaptive, fixed).value] += 1
    fixed_preemptions = sum(f.preemptions for _, f in pairs)
    intervals = [interval for a, _ in pairs for interval in a.intervals_seconds]
    both = [(a, f) for a, f in pairs if a.finished and f.finished]
    return HeadToHead(
        group=group,
        windows=len(pairs),
        up_hours_per_preemption=(
            sum(f.up_seconds for _, f in pairs) / SECONDS_PER_HOUR / fixed_preemptions
            if fixed_preemptions
            else None
        ),
        mean_adaptive_interval_minutes=statistics.fmean(intervals) / 60 if intervals else None,
        outcomes=outcomes,
        mean_lost_minutes_saved=statistics.fmean((f.lost_seconds - a.lost_seconds) / 60 for a, f in pairs),
        mean_extra_checkpoint_minutes=statistics.fmean(
            (a.checkpoint_overhead_seconds - f.checkpoint_overhead_seconds) / 60 for a, f in pairs
        ),
        less_waste=sum(
            a.lost_seconds + a.checkpoint_overhead_seconds + SAME_SECONDS
            <= f.lost_seconds + f.checkpoint_overhead_seconds
            for a, f in pairs
        ),
        both_finished=len(both),
        less_time=sum(a.total_seconds < f.total_seconds for a, f in both),
        fixed_mean_hours=_mean([f.total_seconds / SECONDS_PER_HOUR for _, f in both]),
        adaptive_mean_hours=_mean([a.total_seconds / SECONDS_PER_HOUR for a, _ in both]),
        fixed_mean_cost=_mean([f.cost for _, f in both]),
        adaptive_mean_cost=_mean([a.cost for a, _ in both]),
    )


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


# The shell: trace files in, table out.


def load_cant_be_late_windows(traces_dir: Path) -> list[TraceWindow]:
    """Every `<zone_trace>/<window>.json` under `traces_dir` (`bench/traces` or its `cant-be-late`)."""
    root = traces_dir / "cant-be-late" if (traces_dir / "cant-be-late").is_dir() else traces_dir
    files = sorted(root.glob("*/*.json"), key=lambda path: (path.parent.name, _window_order(path.stem)))
    if not files:
        raise TraceError(
            f"No cant-be-late trace windows under {traces_dir}; "
            "pass bench/traces or bench/traces/cant-be-late."
        )
    loaded = [load_trace(path) for path in files]
    return [TraceWindow(t.zone.name, t.window, t.zone.available, t.gap_seconds) for t in loaded]


def _window_order(stem: str) -> tuple[int, int, str]:
    return (0, int(stem), "") if stem.isdigit() else (1, 0, stem)


def run_checkpointing_suite(
    traces_dir: Path,
    *,
    job_hours: float = JOB_HOURS,
    checkpoint_seconds: int = CHECKPOINT_SECONDS,
    overhead_hours: float = OVERHEAD_HOURS,
) -> CheckpointingReport:
    """The suite over every cant-be-late window: no checkpoints, the 30-minute rule, and adaptive."""
    return build_report(
        load_cant_be_late_windows(traces_dir),
        job_hours=job_hours,
        checkpoint_seconds=checkpoint_seconds,
        overhead_hours=overhead_hours,
    )


def format_checkpointing_table(report: CheckpointingReport) -> str:
    """The aggregates for a terminal: one row per policy, then adaptive against the manual rule."""
    common = report.summaries[0].all_finished_windows if report.summaries else 0
    lines = [
        f"checkpointing suite: {report.windows} windows, job {report.job_hours:g} h, checkpoint "
        f"{report.checkpoint_seconds} s, restart overhead {report.overhead_hours:g} h, spot "
        f"${report.spot_price_per_hour}/h billed per second, spot only",
        "",
        f"{'policy':<12} {'finished':>8} {'lost min':>15} {'ckpt min':>15} {'restart':>7} {'wasted':>7} "
        f"{'ckpts':>5} {'preempt':>7} {'hours':>13} {'cost $':>13} {'$/job-h':>7}",
        f"{'':<12} {'':>8} {'mean / median':>15} {'mean / median':>15} {'min':>7} {'min':>7} "
        f"{'':>5} {'':>7} {'mean / median':>13} {'mean / median':>13} {'':>7}",
    ]
    for s in report.summaries:
        lines.append(
            f"{s.policy:<12} {f'{s.finished}/{s.windows}':>8} "
            f"{_pair(s.mean_lost_minutes, s.median_lost_minutes, 1):>15} "
            f"{_pair(s.mean_checkpoint_minutes, s.median_checkpoint_minutes, 1):>15} "
            f"{s.mean_restart_minutes:>7.1f} {s.mean_wasted_minutes:>7.1f} "
            f"{s.mean_checkpoints:>5.1f} {s.mean_preemptions:>7.1f} "
            f"{_pair(s.mean_hours, s.median_hours, 1):>13} {_pair(s.mean_cost, s.median_cost, 2):>13} "
            f"{_number(s.cost_per_job_hour, 3):>7}"
        )
    lines.append(
        f"minutes and counts: means per window; hours and cost: the {common} windows every policy finished; "
        "$/job-h: all cost over all progress"
    )
    head = report.head_to_head
    if head is None:
        return "\n".join(lines)
    lines += [
        "",
        f"adaptive against fixed_30min over {head.windows} windows (lost compute, checkpoint overhead):",
        *(
            f"  {outcome.value:<28} {head.outcomes[outcome.value]:>4} "
            f"({head.outcomes[outcome.value] / head.windows:>4.0%})  {OUTCOME_REASONS[outcome]}"
            for outcome in Outcome
        ),
        f"  lost + checkpoint minutes lower on {head.less_waste}/{head.windows} windows; of the "
        f"{head.both_finished} both finished, faster on {head.less_time}: "
        f"{_number(head.adaptive_mean_hours, 2)} h against {_number(head.fixed_mean_hours, 2)} h, "
        f"${_number(head.adaptive_mean_cost, 2)} against ${_number(head.fixed_mean_cost, 2)}",
        "",
        f"{'zone trace':<18} {'up h/preempt':>12} {'interval':>8} {'saved':>6} {'extra':>6}"
        + "".join(f" {_OUTCOME_COLUMNS[outcome]:>5}" for outcome in Outcome)
        + f" {'less waste':>10} {'faster':>7}",
    ]
    for zone in report.zones:
        lines.append(
            f"{zone.group:<18} {_number(zone.up_hours_per_preemption, 1):>12} "
            f"{_number(zone.mean_adaptive_interval_minutes, 1):>6} m "
            f"{zone.mean_lost_minutes_saved:>6.1f} {zone.mean_extra_checkpoint_minutes:>6.1f}"
            + "".join(f" {zone.outcomes[outcome.value]:>5}" for outcome in Outcome)
            + f" {f'{zone.less_waste}/{zone.windows}':>10} {f'{zone.less_time}/{zone.both_finished}':>7}"
        )
    lines.append(
        "interval: adaptive's mean; saved: lost minutes fixed minus adaptive; extra: checkpoint minutes "
        "adaptive minus fixed (means per window); faster: of the windows both finished"
    )
    return "\n".join(lines)


_OUTCOME_COLUMNS = {
    Outcome.WINS: "wins",
    Outcome.SAME_LOSS: "same",
    Outcome.BUYS_LESS_LOSS: "buys",
    Outcome.SAVES_OVERHEAD: "saves",
    Outcome.WORSE: "worse",
}


def _pair(mean: float | None, median: float | None, digits: int) -> str:
    return "-" if mean is None or median is None else f"{mean:.{digits}f} / {median:.{digits}f}"


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
