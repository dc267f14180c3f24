"""The omniscient optimum: cheapest possible under the environment's rules, and achievable.

Achievable: its schedule, replayed through `simulate`, bills exactly its cost and meets the deadline.
Cheapest: it matches an exhaustive search over every request sequence on tiny scenarios, the obvious
answer on hand-made ones, and is never above a reference policy on the real traces."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costagent.backtest.baselines import Greedy, OnDemandOnly, UniformProgress
from costagent.backtest.environment import (
    IDLE,
    ON_DEMAND_PRICE_PER_HOUR,
    SPOT_PRICE_PER_HOUR,
    Kind,
    Placement,
    Scenario,
    ZoneTrace,
    simulate,
)
from costagent.backtest.optimal import OptimalPolicy, ScheduledPolicy, optimal_schedule
from costagent.backtest.traces import (
    DEFAULT_TRACES_DIR,
    MULTI_ZONE_JOB_HOURS,
    MULTI_ZONE_TRACE_SUFFIX,
    SINGLE_ZONE_JOB_HOURS,
    scenario_from_files,
    single_zone_variants,
)

HOUR = 3600
SPOT = Placement(Kind.SPOT, 0)
ON_DEMAND = Placement(Kind.ON_DEMAND, 0)
BASELINES = (OnDemandOnly, Greedy, UniformProgress)

# Real windows of varied availability (bench/traces/README.md): zone trace, window.
SINGLE_ZONE_WINDOWS = [
    ("us-west-2a_k80_1", "0"),  # 0.946 available over the set
    ("us-west-2a_v100_1", "145"),
    ("us-west-2b_v100_1", "61"),
    ("us-west-2b_k80_1", "107"),  # 0.197
]
SINGLE_ZONE_VARIANTS = [(52, 0.05), (52, 0.20), (70, 0.05), (70, 0.20)]  # deadline h, overhead h
MULTI_ZONE_WINDOWS = [
    (("us-east-1a", "us-east-1c"), 0),  # scarce and dear spot
    (("us-east-1a", "us-east-2b", "us-west-2c"), 3),
    (("us-west-2a", "us-west-2b", "us-west-2c", "us-east-2a", "us-east-2b"), 1),
]
MULTI_ZONE_VARIANTS = [(36, 0.05), (36, 0.20), (48, 0.05), (48, 0.20)]


def single_zone_scenario(
    zone_trace: str, window: str, deadline_hours: float, overhead_hours: float
) -> Scenario:
    path = DEFAULT_TRACES_DIR / "cant-be-late" / zone_trace / f"{window}.json"
    return scenario_from_files(
        [path], job_hours=SINGLE_ZONE_JOB_HOURS, deadline_hours=deadline_hours, overhead_hours=overhead_hours
    )


def multi_zone_scenario(
    zones: tuple[str, ...], window: int, deadline_hours: float, overhead_hours: float
) -> Scenario:
    root = DEFAULT_TRACES_DIR / "cant-be-late-multi"
    return scenario_from_files(
        [root / f"{zone}{MULTI_ZONE_TRACE_SUFFIX}" / f"{window}.json" for zone in zones],
        job_hours=MULTI_ZONE_JOB_HOURS,
        deadline_hours=deadline_hours,
        overhead_hours=overhead_hours,
    )


def hand_made(
    available: str,
    *,
    gap: int = 600,
    job: int,
    deadline: int,
    overhead: int = 0,
    prices: tuple[float, ...] | None = None,
) -> Scenario:
    """One zone; `available` reads like a trace: '1' spot has capacity during that tick, '0' not."""
    zone = ZoneTrace("hand-made", tuple(tick == "1" for tick in available), prices)
    return Scenario(
        (zone,), gap_seconds=gap, job_seconds=job, deadline_seconds=deadline, overhead_seconds=overhead
    )


def dollars(*hourly_prices: float, gap: int = 600) -> float:
    return sum(hourly_prices) * gap / HOUR


def assert_replays(scenario: Scenario) -> float:
    """The optimum's schedule, requested tick by tick, bills its cost and meets the deadline."""
    result = optimal_schedule(scenario)
    run = simulate(scenario, ScheduledPolicy(result.schedule), keep_history=True)
    assert run.met_deadline
    assert run.cost == result.cost
    assert tuple(run.history) == result.schedule
    assert result.exact and result.lower_bound == result.cost
    return result.cost


def assert_not_above_baselines(scenario: Scenario, optimum: float) -> None:
    """Not above any baseline run that meets the deadline. On-demand always does; greedy and Uniform
    Progress miss by a tick on a few single-zone windows (see the test of window 145 below)."""
    for baseline in BASELINES:
        run = simulate(scenario, baseline())
        if baseline is OnDemandOnly:
            assert run.met_deadline
        if run.met_deadline:
            assert optimum <= run.cost + 1e-9, baseline.name


# --- hand-made traces: the answer is obvious ---------------------------------------------------


def test_spot_available_throughout_runs_spot_throughout() -> None:
    scenario = hand_made("1" * 12, job=3000, deadline=4800, overhead=180)

    result = optimal_schedule(scenario)

    # 420 s of the first tick go to the overhead: 6 ticks of spot.
    assert result.schedule == (SPOT,) * 6
    assert result.cost == pytest.approx(dollars(*[SPOT_PRICE_PER_HOUR] * 6))


def test_spot_never_available_runs_on_demand_in_one_launch() -> None:
    scenario = hand_made("0" * 12, job=3000, deadline=4800, overhead=180)

    result = optimal_schedule(scenario)

    assert result.schedule == (ON_DEMAND,) * 6
    assert result.cost == pytest.approx(dollars(*[ON_DEMAND_PRICE_PER_HOUR] * 6))


def test_slack_waits_out_a_gap_in_spot_and_relaunches() -> None:
    scenario = hand_made("111001111111", job=3000, deadline=6000, overhead=180)

    result = optimal_schedule(scenario)

    # 3 ticks before the gap do 1620 s; 3 after it do the other 1380 s, overhead paid again.
    assert result.schedule == (SPOT, SPOT, SPOT, IDLE, IDLE, SPOT, SPOT, SPOT)
    assert result.cost == pytest.approx(dollars(*[SPOT_PRICE_PER_HOUR] * 6))


def test_bridges_a_gap_with_on_demand_when_waiting_would_hand_the_rest_to_the_guarantee() -> None:
    # One tick of slack: idling through the gap leaves none, and the guarantee then forces on-demand for
    # the three remaining ticks (which is what greedy gets). One on-demand tick keeps spot afterwards.
    scenario = hand_made("11011111", job=3000, deadline=3600)

    result = optimal_schedule(scenario)

    assert result.schedule == (SPOT, SPOT, ON_DEMAND, SPOT, SPOT)
    assert result.cost == pytest.approx(dollars(*[SPOT_PRICE_PER_HOUR] * 4, ON_DEMAND_PRICE_PER_HOUR))
    assert result.cost < simulate(scenario, Greedy()).cost


def test_no_slack_at_all_is_on_demand_by_the_guarantee_even_with_spot() -> None:
    scenario = hand_made("11111111", job=3000, deadline=3000)

    assert optimal_schedule(scenario).schedule == (ON_DEMAND,) * 5


def test_takes_the_cheaper_zone_when_both_have_spot_throughout() -> None:
    dear = ZoneTrace("dear", (True,) * 8, (1.2,) * 8)
    cheap = ZoneTrace("cheap", (True,) * 8, (0.9,) * 8)
    scenario = Scenario(
        (dear, cheap), gap_seconds=600, job_seconds=3000, deadline_seconds=4200, overhead_seconds=0
    )

    assert optimal_schedule(scenario).schedule == (Placement(Kind.SPOT, 1),) * 5


def test_a_deadline_shorter_than_the_job_has_no_schedule() -> None:
    result = optimal_schedule(hand_made("1" * 12, job=3000, deadline=2400))

    assert result.cost == math.inf
    assert result.schedule == ()


# --- tiny random scenarios: the same optimum as trying every request sequence ---------------------


@st.composite
def tiny_scenarios(draw: st.DrawFn) -> Scenario:
    zones = draw(st.integers(1, 2))
    gap = draw(st.sampled_from([2, 3, 4]))
    decision_ticks = draw(st.integers(2, 6 if zones == 1 else 4))
    trace_ticks = decision_ticks + 2
    traces = tuple(
        ZoneTrace(
            f"zone-{z}",
            tuple(draw(st.lists(st.booleans(), min_size=trace_ticks, max_size=trace_ticks))),
            tuple(
                draw(st.lists(st.sampled_from([0.5, 0.8, 1.3]), min_size=trace_ticks, max_size=trace_ticks))
            ),
        )
        for z in range(zones)
    )
    deadline = gap * decision_ticks + draw(st.integers(0, gap - 1))
    return Scenario(
        traces,
        gap_seconds=gap,
        job_seconds=draw(st.integers(1, deadline)),
        deadline_seconds=deadline,
        overhead_seconds=draw(st.integers(0, 3 * gap)),  # up to three ticks of pending overhead
        on_demand_price=2.0,
    )


def cheapest_by_exhaustive_search(scenario: Scenario) -> float:
    """Every sequence of requests (on-demand in any zone too) through the environment itself."""
    requests = [IDLE] + [
        Placement(kind, z) for kind in (Kind.SPOT, Kind.ON_DEMAND) for z in range(len(scenario.zones))
    ]
    ticks = scenario.deadline_seconds // scenario.gap_seconds
    costs = (
        simulate(scenario, ScheduledPolicy(sequence))
        for sequence in itertools.product(requests, repeat=ticks)
    )
    return min((run.cost for run in costs if run.met_deadline), default=math.inf)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_scenarios())
def test_matches_exhaustive_search_on_tiny_scenarios(scenario: Scenario) -> None:
    result = optimal_schedule(scenario)

    assert result.cost == pytest.approx(cheapest_by_exhaustive_search(scenario), rel=1e-12)
    if result.cost < math.inf:
        run = simulate(scenario, ScheduledPolicy(result.schedule))
        assert run.met_deadline and run.cost == result.cost


# --- real traces: achievable, and never above the reference policies ------------------------------


@pytest.mark.parametrize(("deadline_hours", "overhead_hours"), SINGLE_ZONE_VARIANTS)
@pytest.mark.parametrize(("zone_trace", "window"), SINGLE_ZONE_WINDOWS)
def test_single_zone_optimum_replays_and_beats_baselines(
    zone_trace: str, window: str, deadline_hours: float, overhead_hours: float
) -> None:
    scenario = single_zone_scenario(zone_trace, window, deadline_hours, overhead_hours)

    optimum = assert_replays(scenario)

    assert_not_above_baselines(scenario, optimum)


@pytest.mark.parametrize(("deadline_hours", "overhead_hours"), MULTI_ZONE_VARIANTS)
@pytest.mark.parametrize(("zones", "window"), MULTI_ZONE_WINDOWS)
def test_multi_zone_optimum_replays_and_beats_baselines(
    zones: tuple[str, ...], window: int, deadline_hours: float, overhead_hours: float
) -> None:
    scenario = multi_zone_scenario(zones, window, deadline_hours, overhead_hours)

    optimum = assert_replays(scenario)

    assert_not_above_baselines(scenario, optimum)


def test_never_above_any_baseline_on_all_240_single_zone_windows() -> None:
    (variant,) = [
        v
        for v in single_zone_variants()
        if v.name.startswith("mixed") and v.deadline_hours == 52 and v.overhead_hours == 0.05
    ]
    assert len(variant.scenarios) == 240

    for scenario in variant.scenarios:
        result = optimal_schedule(scenario)
        assert result.cost < math.inf, scenario.label
        assert_not_above_baselines(scenario, result.cost)


def test_meets_the_deadline_where_the_guarantee_lets_greedy_miss_by_a_tick() -> None:
    # The guarantee keeps greedy's spot instance (past its overhead) once the slack is gone; a preemption
    # then idles it for a tick, and on-demand afterwards finishes 600 s late. The optimum plans around it.
    scenario = single_zone_scenario("us-west-2a_v100_1", "145", 70, 0.05)

    greedy = simulate(scenario, Greedy())
    optimum = simulate(scenario, OptimalPolicy())

    assert not greedy.met_deadline and greedy.finish_seconds == scenario.deadline_seconds + 600
    assert optimum.met_deadline


def test_optimal_policy_plugs_into_simulate() -> None:
    scenario = multi_zone_scenario(("us-west-2a", "us-east-2a"), 2, 36, 0.20)

    run = simulate(scenario, OptimalPolicy())

    assert run.policy == "optimal"
    assert run.met_deadline
    assert run.cost == optimal_schedule(scenario).cost
