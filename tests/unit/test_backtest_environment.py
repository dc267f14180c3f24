"""The benchmark environment reproduces bench/traces/README.md's rules, and the policies behave as named."""

from __future__ import annotations

import pytest

from costagent.backtest.baselines import Greedy, OnDemandOnly, UniformProgress
from costagent.backtest.environment import IDLE, Kind, Observation, Placement, Scenario, ZoneTrace, simulate
from costagent.backtest.planner_policy import PlannerPolicy
from costagent.backtest.traces import DEFAULT_TRACES_DIR, TraceError, load_trace, scenario_from_files

HOUR = 3600
SINGLE = DEFAULT_TRACES_DIR / "cant-be-late"
MULTI = DEFAULT_TRACES_DIR / "cant-be-late-multi"


def scenario(
    available: list[int], *, job_h: float = 2, deadline_h: float = 4, overhead_s: int = 180
) -> Scenario:
    zone = ZoneTrace("z", tuple(bool(v) for v in available))
    return Scenario((zone,), 600, round(job_h * HOUR), round(deadline_h * HOUR), overhead_s)


@pytest.mark.parametrize("overhead_hours", [0.05, 0.20])
def test_on_demand_only_costs_the_calibration_figure_on_every_window(overhead_hours: float) -> None:
    # bench/traces/README.md: on-demand only costs 147.39 on every variant with the 0.05 h overhead.
    expected = 147.39 if overhead_hours == 0.05 else 147.90
    for path in sorted((SINGLE / "us-west-2b_v100_8").glob("*.json"))[:5]:
        run = scenario_from_files([path], job_hours=48, deadline_hours=52, overhead_hours=overhead_hours)
        assert simulate(run, OnDemandOnly()).cost == pytest.approx(expected)


def test_spot_all_the_way_pays_the_overhead_once_and_the_spot_price() -> None:
    # 2 h of work in 600 s ticks: 180 s overhead, so 13 ticks (12 * 600 - 180 < 7200 <= 13 * 600 - 180).
    result = simulate(scenario([1] * 30), Greedy(), keep_history=True)
    assert result.finish_seconds == 13 * 600
    assert result.progress_seconds[:2] == [420, 1020] and result.progress_seconds[-1] == 2 * HOUR
    assert result.cost == pytest.approx(13 * 0.9731 * 600 / HOUR)
    assert (result.launches, result.preemptions) == (1, 0)


def test_preemption_stops_progress_and_a_relaunch_pays_the_overhead_again() -> None:
    # Spot for 3 ticks, gone for 2, back: greedy idles through the gap and relaunches.
    result = simulate(scenario([1, 1, 1, 0, 0] + [1] * 30, deadline_h=6), Greedy(), keep_history=True)
    assert result.preemptions == 1
    assert result.launches == 2
    assert [p.kind for p in result.history[:6]] == [Kind.SPOT] * 3 + [Kind.NONE] * 2 + [Kind.SPOT]


def test_guarantee_forces_on_demand_when_the_slack_is_gone() -> None:
    # Never any spot, 2 h of work, 2.2 h to the deadline: greedy idles until the environment steps in.
    result = simulate(scenario([0] * 40, deadline_h=2.2), Greedy())
    assert result.met_deadline
    assert result.forced_ticks > 0


def test_uniform_progress_runs_on_demand_when_behind_and_no_spot() -> None:
    run = scenario([0] * 40, deadline_h=3)
    policy = UniformProgress()
    policy.reset(run)
    behind = Observation(run, 6, 3600, (False,), (0.9731,), IDLE, IDLE, 0, 0)
    assert policy.decide(behind).kind is Kind.ON_DEMAND


def test_moving_zones_is_a_new_launch() -> None:
    zones = (ZoneTrace("a", (True, True, False) + (False,) * 40), ZoneTrace("b", (True,) * 43))
    run = Scenario(zones, 600, 2 * HOUR, 5 * HOUR, 180)
    result = simulate(run, Greedy(), keep_history=True)
    assert result.history[2] == Placement(Kind.SPOT, 1)  # a is gone at tick 2: greedy moves to b
    assert result.launches == 2


def test_costagent_rules_meets_every_deadline_on_tight_real_windows() -> None:
    for path in sorted((SINGLE / "us-west-2b_v100_1").glob("*.json"))[:6]:
        run = scenario_from_files([path], job_hours=48, deadline_hours=52, overhead_hours=0.20)
        assert simulate(run, PlannerPolicy()).met_deadline, path.name


def test_costagent_rules_sees_no_future_availability() -> None:
    # Two traces identical up to tick 100: the decisions up to there must be identical.
    base = [1, 0, 0, 1, 1, 1, 0] * 15 + [1] * 20
    early = scenario(base[:100] + [0] * 60, job_h=10, deadline_h=22)
    late = scenario(base[:100] + [1] * 60, job_h=10, deadline_h=22)
    first = simulate(early, PlannerPolicy(), keep_history=True).history[:100]
    second = simulate(late, PlannerPolicy(), keep_history=True).history[:100]
    assert first == second


def test_multi_zone_files_of_one_period_form_one_scenario() -> None:
    files = [MULTI / "us-east-1a_v100_1" / "0.json", MULTI / "us-west-2a_v100_1" / "0.json"]
    run = scenario_from_files(files, job_hours=24, deadline_hours=36, overhead_hours=0.05)
    assert [zone.name for zone in run.zones] == ["us-east-1a_v100_1", "us-west-2a_v100_1"]
    assert run.gap_seconds == 195
    assert run.zones[0].spot_prices is not None


def test_a_file_that_is_not_a_trace_is_refused_with_the_format_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text('{"metadata": {"gap_seconds": 600}, "data": [1, 2]}')
    with pytest.raises(TraceError, match="0/1"):
        load_trace(bad)


def test_zones_of_one_run_must_share_the_tick_length() -> None:
    files = [SINGLE / "us-west-2a_k80_1" / "0.json", MULTI / "us-east-1a_v100_1" / "0.json"]
    with pytest.raises(TraceError, match="share gap_seconds"):
        scenario_from_files(files, job_hours=24, deadline_hours=36, overhead_hours=0.05)
