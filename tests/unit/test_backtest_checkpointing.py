"""The checkpointing suite: hand-made traces whose outcome is computed by hand, then real windows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costagent.backtest.checkpointing import (
    MANUAL_INTERVAL_SECONDS,
    CheckpointPolicy,
    CheckpointRun,
    FixedInterval,
    NoCheckpoints,
    ObservedRun,
    Outcome,
    TraceWindow,
    YoungDalyAdaptive,
    build_report,
    compare,
    daly_interval_seconds,
    format_checkpointing_table,
    load_cant_be_late_windows,
    simulate_checkpointing,
    young_interval_seconds,
)
from costagent.backtest.environment import SPOT_PRICE_PER_HOUR

TRACES_DIR = Path(__file__).resolve().parents[2] / "bench" / "traces"
HOUR = 3600
OVERHEAD = 180  # 0.05 h
CHECKPOINT = 60
MINUTE_TICKS = 60  # one-minute ticks put a preemption at any whole minute


def run(
    available: list[int], policy: CheckpointPolicy, *, job_seconds: int, gap_seconds: int = 600
) -> CheckpointRun:
    return simulate_checkpointing(
        [bool(up) for up in available],
        policy,
        job_seconds=job_seconds,
        checkpoint_seconds=CHECKPOINT,
        overhead_seconds=OVERHEAD,
        gap_seconds=gap_seconds,
    )


def observed(up_hours: float, preemptions: int) -> ObservedRun:
    return ObservedRun(
        up_seconds=round(up_hours * HOUR),
        preemptions=preemptions,
        checkpoints=0,
        saved_seconds=0,
        remaining_seconds=24 * HOUR,
        checkpoint_seconds=CHECKPOINT,
    )


def test_never_preempted_none_loses_nothing_and_pays_no_checkpoint() -> None:
    result = run([1] * 20, NoCheckpoints(), job_seconds=2 * HOUR)

    assert result.finished
    assert (result.lost_seconds, result.checkpoint_overhead_seconds, result.checkpoints) == (0, 0, 0)
    assert result.total_seconds == OVERHEAD + 2 * HOUR
    assert result.cost == pytest.approx((OVERHEAD + 2 * HOUR) / HOUR * SPOT_PRICE_PER_HOUR)


def test_never_preempted_fixed_rule_pays_a_minute_per_half_hour_and_no_final_checkpoint() -> None:
    result = run([1] * 20, FixedInterval(), job_seconds=2 * HOUR)

    assert result.checkpoints == 3  # at 30, 60 and 90 minutes of compute; the end needs none
    assert result.lost_seconds == 0
    assert result.total_seconds == OVERHEAD + 2 * HOUR + 3 * CHECKPOINT


def test_preemption_after_45_minutes_of_compute_costs_none_45_and_the_fixed_rule_14() -> None:
    up_minutes = 3 + 45  # the restart overhead, then 45 minutes of compute
    trace = [1] * up_minutes + [0]  # preempted at the start of the last tick

    without = run(trace, NoCheckpoints(), job_seconds=2 * HOUR, gap_seconds=MINUTE_TICKS)
    fixed = run(trace, FixedInterval(), job_seconds=2 * HOUR, gap_seconds=MINUTE_TICKS)

    assert (without.preemptions, without.lost_seconds) == (1, 45 * 60)
    assert (fixed.preemptions, fixed.checkpoints) == (1, 1)
    assert fixed.lost_seconds == 15 * 60 - CHECKPOINT  # the 15 minutes past the checkpoint, less its minute


def test_adaptive_starts_at_the_manual_rule_and_checkpoints_more_often_when_preemptions_are_frequent() -> (
    None
):
    adaptive = YoungDalyAdaptive()

    first = adaptive.next_interval_seconds(observed(0, 0))
    frequent = adaptive.next_interval_seconds(observed(10, 20))
    rare = adaptive.next_interval_seconds(observed(10, 1))

    assert first == MANUAL_INTERVAL_SECONDS
    assert frequent is not None and rare is not None
    assert frequent < first < rare


def test_adaptive_on_a_choppy_trace_takes_more_checkpoints_than_on_a_steady_one() -> None:
    choppy = ([1] * 6 + [0]) * 40  # an hour up, ten minutes down
    steady = [1] * (6 * 40) + [0] * 40  # the same up time, in one piece

    on_choppy = run(choppy, YoungDalyAdaptive(), job_seconds=40 * HOUR)
    on_steady = run(steady, YoungDalyAdaptive(), job_seconds=40 * HOUR)

    assert on_choppy.compute_seconds < on_steady.compute_seconds
    assert on_choppy.checkpoints > on_steady.checkpoints
    assert (
        max(on_choppy.intervals_seconds[-5:])
        < MANUAL_INTERVAL_SECONDS
        < min(on_steady.intervals_seconds[-5:])
    )


def test_a_checkpoint_cut_short_by_preemption_saves_nothing_but_its_time_is_overhead() -> None:
    # Ten-second ticks: up 2000 s = 180 restart + 1800 compute + 20 of the 60 s checkpoint.
    trace = [1] * 200 + [0] + [1] * 1000

    result = run(trace, FixedInterval(), job_seconds=HOUR, gap_seconds=10)

    assert result.interrupted_checkpoints == 1
    assert result.lost_seconds == 1800
    assert result.checkpoint_overhead_seconds == 20 + CHECKPOINT  # the cut one, then the one after restart
    assert result.finished


def test_a_checkpoint_completing_at_the_preemption_instant_counts() -> None:
    trace = [1] * 204 + [0] + [1] * 1000  # up 2040 s: the checkpoint ends exactly at the preemption

    result = run(trace, FixedInterval(), job_seconds=HOUR, gap_seconds=10)

    assert (result.interrupted_checkpoints, result.checkpoints, result.lost_seconds) == (0, 1, 0)
    assert result.compute_seconds == HOUR  # the second half resumes from the checkpoint, nothing redone


def test_job_unfinished_when_the_trace_ends_keeps_its_unsaved_progress_without_calling_it_lost() -> None:
    result = run([0, 0] + [1] * 10, NoCheckpoints(), job_seconds=24 * HOUR)

    assert not result.finished
    assert result.total_seconds == 12 * 600
    assert result.idle_seconds == 2 * 600
    assert result.progress_seconds == 10 * 600 - OVERHEAD
    assert result.lost_seconds == 0 and result.preemptions == 0


def test_waiting_for_spot_counts_in_time_but_not_in_cost() -> None:
    result = run([0] * 6 + [1] * 20, NoCheckpoints(), job_seconds=HOUR)

    assert result.total_seconds == HOUR + OVERHEAD + HOUR
    assert result.cost == pytest.approx((OVERHEAD + HOUR) / HOUR * SPOT_PRICE_PER_HOUR)


def test_adaptive_never_peeks_at_the_trace_ahead() -> None:
    prefix = ([1] * 9 + [0]) * 10
    calm_future = prefix + [1] * 300
    stormy_future = prefix + ([1, 1, 0]) * 100

    calm = run(calm_future, YoungDalyAdaptive(), job_seconds=80 * HOUR)
    stormy = run(stormy_future, YoungDalyAdaptive(), job_seconds=80 * HOUR)

    asked_in_prefix = len(run(prefix, YoungDalyAdaptive(), job_seconds=80 * HOUR).intervals_seconds)
    assert calm.intervals_seconds[:asked_in_prefix] == stormy.intervals_seconds[:asked_in_prefix]


def test_daly_is_young_less_the_checkpoint_when_checkpoints_are_cheap() -> None:
    mtbf = 1000 * HOUR
    assert daly_interval_seconds(1, mtbf) == pytest.approx(young_interval_seconds(1, mtbf) - 1, rel=1e-3)
    assert daly_interval_seconds(CHECKPOINT, 20) == 20  # checkpoints longer than the MTBF: M itself


def test_outcome_calls_a_win_only_less_loss_at_no_more_overhead_and_seconds_either_way_the_same() -> None:
    def made(lost_minutes: float, checkpoint_minutes: float) -> CheckpointRun:
        lost, saving = round(lost_minutes * 60), round(checkpoint_minutes * 60)
        return CheckpointRun("p", True, 0, 0, 0, 0, lost, saving, 0, 0, 0, 0, 1)

    assert compare(made(10, 47), made(20, 47)) is Outcome.WINS
    assert compare(made(10, 80), made(20, 47)) is Outcome.BUYS_LESS_LOSS
    assert compare(made(19.9, 47.5), made(20, 47)) is Outcome.SAME_LOSS
    assert compare(made(30, 30), made(20, 47)) is Outcome.SAVES_OVERHEAD
    assert compare(made(30, 80), made(20, 47)) is Outcome.WORSE


def test_real_windows_conserve_work_and_time_and_report_every_policy() -> None:
    windows = [w for w in load_cant_be_late_windows(TRACES_DIR) if w.window in {"0", "107"}]
    assert {w.zone_trace for w in windows} >= {"us-west-2a_k80_1", "us-west-2b_v100_8"}

    report = build_report(windows)

    assert len(report.results) == 3 * len(windows)
    for result in report.results:
        r = result.run
        assert r.compute_seconds == r.progress_seconds + r.lost_seconds
        assert r.up_seconds == r.restart_overhead_seconds + r.checkpoint_overhead_seconds + r.compute_seconds
        assert r.total_seconds == r.up_seconds + r.idle_seconds and r.idle_seconds >= 0
        assert r.preemptions <= r.launches <= r.preemptions + 1
        assert r.progress_seconds <= 24 * HOUR and (r.progress_seconds == 24 * HOUR) == r.finished
    assert [s.policy for s in report.summaries] == ["none", "fixed_30min", "adaptive"]
    assert report.head_to_head is not None and sum(report.head_to_head.outcomes.values()) == len(windows)
    json.dumps(report.to_json(), allow_nan=False)
    table = format_checkpointing_table(report)
    assert "fixed_30min" in table and "less_loss_no_more_overhead" in table


def test_a_missing_traces_dir_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pass bench/traces"):
        load_cant_be_late_windows(tmp_path)


def test_a_window_without_policies_to_compare_has_no_head_to_head() -> None:
    report = build_report([TraceWindow("z", "0", (True,) * 200)], policies=[NoCheckpoints()], job_hours=1)

    assert report.head_to_head is None
    assert "none" in format_checkpointing_table(report)
