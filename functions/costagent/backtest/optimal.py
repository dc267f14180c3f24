"""The omniscient optimum: the cheapest run of a scenario for a policy that knows the whole future trace.

A dynamic program over (tick, what ran in the previous tick, restart overhead still to pay, work done)
under exactly the environment's rules (`environment.simulate`): per-tick billing of whatever runs, the
final tick included; preemption at a tick boundary; a new launch (another capacity type or another zone)
replaces any pending overhead; progress capped at the job; the deadline guarantee, which binds the
optimum like every policy (`Scenario.must_run_on_demand`, then `environment._guaranteed`, then a spot
request without capacity idles). That guarantee keeps a spot instance past its overhead, which then idles
if preempted, so a policy can still miss the deadline by a tick (greedy does on a few windows); the
optimum never does, a late finish being infeasible here.

Exactness. Every quantity is a whole number of seconds, so work done lives on the lattice of multiples of
gcd(gap, overhead) (60 s or 120 s in cant-be-late, 15 s in cant-be-late-multi), and the program is exact
on both trace sets, one zone or several: `exact` is always True and `lower_bound` equals `cost`. No
approximation was needed (the whole multi-zone suite takes about 25 s on one core). Two reductions keep
the state small, both exact:
- The pending overhead matters only through the levels it takes at tick boundaries (overhead minus whole
  ticks, floored at 0: 720 s at 195 s ticks gives 525, 330, 135, 0), and only after a running tick (after
  an idle tick any run is a new launch, which resets it).
- On-demand is one state whatever its zone: it costs the same everywhere, the guarantee keeps it in the
  zone where it runs (or puts it where the request says when nothing runs), and moving it to another zone
  is a relaunch that pays the overhead for nothing. From on-demand, less pending overhead and more work
  done is never worse (a run from there can copy any run from the worse state: the guarantee binds it
  only when it binds the worse one too, and then imposes the same choice), so that move is never needed.
  The tests compare the program with an exhaustive search over every request sequence, on-demand in
  every zone included.

The schedule is read back forward from the values (on a tie: keep what runs, else spot, on-demand, idle);
replayed through `simulate` (`ScheduledPolicy`) it bills exactly `cost` and finishes by the deadline.
Only the units that can still finish in time and that the elapsed time can have reached are computed. A
large table (long multi-zone runs) is kept at checkpoints, and the read-back recomputes the segment ahead
of it only on the units it can reach from where it is, a few per cent of the full sweep.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from costagent.backtest.environment import (
    IDLE,
    SECONDS_PER_HOUR,
    Kind,
    Observation,
    Placement,
    Scenario,
)

# Above this the value table is kept at checkpoints and recomputed per segment for the read-back: every
# single-zone run stays below (no recomputation), most multi-zone runs go above (less memory, and faster).
STORED_VALUES_MAX_BYTES = 16 * 2**20
COST_AGREEMENT_TOLERANCE = 1e-9  # program's optimum vs the read-back schedule's bill, both in dollars


@dataclass(frozen=True)
class OptimalResult:
    cost: float  # dollars; math.inf when no schedule meets the deadline
    schedule: tuple[Placement, ...]  # what runs in each tick until the job is done
    exact: bool
    lower_bound: float | None  # no schedule is cheaper than this


@dataclass
class ScheduledPolicy:
    """Replay a fixed schedule: the placement to request at each tick, idle after its end."""

    schedule: Sequence[Placement] = ()
    name: str = "scheduled"

    def reset(self, scenario: Scenario) -> None:
        pass

    def decide(self, observation: Observation) -> Placement:
        return self.schedule[observation.tick] if observation.tick < len(self.schedule) else IDLE


@dataclass
class OptimalPolicy:
    """The omniscient optimum as a policy: solve the scenario at reset, then replay the schedule."""

    name: str = "optimal"
    result: OptimalResult | None = field(default=None, init=False)  # of the last scenario reset
    _replay: ScheduledPolicy = field(default_factory=ScheduledPolicy, init=False, repr=False)

    def reset(self, scenario: Scenario) -> None:
        self.result = optimal_schedule(scenario)
        self._replay = ScheduledPolicy(self.result.schedule)

    def decide(self, observation: Observation) -> Placement:
        return self._replay.decide(observation)


@dataclass(frozen=True)
class _Lattice:
    """Work done in units of `unit_seconds`; pending overhead as levels at tick boundaries."""

    unit_seconds: int
    finished: int  # the first unit count that completes the job
    tick_units: int  # a whole tick of progress
    levels: tuple[int, ...]  # pending seconds after a running tick; levels[0] follows a launch, the last is 0
    launch_units: int  # progress of a launch's first tick
    continue_units: tuple[int, ...]  # progress of a tick that keeps running, per level
    continue_level: tuple[int, ...]  # the level after that tick

    @classmethod
    def of(cls, scenario: Scenario) -> _Lattice:
        gap, overhead = scenario.gap_seconds, scenario.overhead_seconds
        unit = math.gcd(gap, overhead)
        levels = [max(overhead - gap, 0)]
        while levels[-1] > 0:
            levels.append(max(levels[-1] - gap, 0))
        return cls(
            unit_seconds=unit,
            finished=-(-scenario.job_seconds // unit),
            tick_units=gap // unit,
            levels=tuple(levels),
            launch_units=max(gap - overhead, 0) // unit,
            continue_units=tuple(max(gap - level, 0) // unit for level in levels),
            continue_level=tuple(levels.index(max(level - gap, 0)) for level in levels),
        )


class _Program:
    """The value table: V[tick][state, units] = cheapest bill (sum of hourly prices) from that tick on.

    `units` is work done; a state is what ran during the previous tick (`last` in the environment) and the
    overhead level after it. Row 0 is idle; then, per level, one block of columns: on-demand, then spot
    in each zone (the layout lets one numpy operation cover every zone).
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.lattice = lattice = _Lattice.of(scenario)
        self.zones = len(scenario.zones)
        self.columns = self.zones + 1
        self.level_count = len(lattice.levels)
        self.states = 1 + self.level_count * self.columns
        gap = scenario.gap_seconds
        # The last tick boundary at which finishing meets the deadline and the environment still looks.
        self.horizon = horizon = max(min(scenario.deadline_seconds // gap, scenario.ticks - 1), 0)
        available = np.array([zone.available[:horizon] for zone in scenario.zones], dtype=bool)
        spot = np.array([[zone.spot_price(tick) for tick in range(horizon)] for zone in scenario.zones])
        self.prices = np.empty((horizon, self.columns))  # per tick: on-demand, then spot (inf: no capacity)
        self.prices[:, 0] = scenario.on_demand_price
        self.prices[:, 1:] = np.where(available, spot, np.inf).reshape(self.zones, horizon).T
        by_tick = available.T.tolist()
        self.unavailable_columns = [[1 + z for z, up in enumerate(row) if not up] for row in by_tick]
        self.price_rows: list[list[float]] = self.prices.tolist()
        self.forced_below = [self._forced_below(tick) for tick in range(horizon)]
        self.width = lattice.finished + lattice.tick_units + 1  # room for a tick's progress past the end

    def _forced_below(self, tick: int) -> int:
        """The guarantee holds exactly for work done below this many units (it weakens as work is done).

        must_run_on_demand: ceil((job - done + d) / gap) >= L with L = floor((deadline - t) / gap), that is
        job - done + d > (L - 1) * gap."""
        scenario, unit = self.scenario, self.lattice.unit_seconds
        gap = scenario.gap_seconds
        left_ticks = (scenario.deadline_seconds - tick * gap) // gap
        bound = scenario.job_seconds + scenario.overhead_seconds - (left_ticks - 1) * gap
        return min(max(-(-bound // unit), 0), self.lattice.finished)

    def band(self, tick: int) -> tuple[int, int]:
        """Units worth computing at `tick`: reachable by then, and not too few to finish by the horizon."""
        lattice, gap = self.lattice, self.scenario.gap_seconds
        shortfall = self.scenario.job_seconds - (self.horizon - tick) * gap
        low = max(-(-shortfall // lattice.unit_seconds), 0)
        high = min(lattice.finished - 1, tick * gap // lattice.unit_seconds)
        return low, high

    def terminal(self) -> np.ndarray:
        values = np.full((self.states, self.width), np.inf)
        values[:, self.lattice.finished :] = 0.0
        return values

    def step(self, tick: int, after: np.ndarray, values: np.ndarray, low: int, high: int) -> None:
        """values[:, low..high] := V[tick] from after = V[tick + 1], and inf just below `low`.

        Reads `after` from `low` to `high` plus a tick of progress, nothing else."""
        lattice, columns, end = self.lattice, self.columns, high + 1
        values[:, max(low - lattice.tick_units, 0) : low] = np.inf
        if high < low:
            return
        forced = min(max(self.forced_below[tick] - low, 0), end - low)
        price = self.prices[tick][:, None]
        start = low + lattice.launch_units
        launch = after[1 : 1 + columns, start : start + end - low] + price  # row 0 on-demand, then spot
        idle = after[0, low:end]
        choices = _fresh_choices(launch, np.minimum(idle, launch[0]))
        values[0, low:end] = choices[0]
        values[0, low : low + forced] = launch[0, :forced]  # the guarantee: nothing runs, so on-demand
        for level in range(self.level_count):
            rows = 1 + level * columns
            following = 1 + lattice.continue_level[level] * columns
            start = low + lattice.continue_units[level]
            block = values[rows : rows + columns, low:end]
            np.add(after[following : following + columns, start : start + end - low], price, out=block)
            np.minimum(block[:, forced:], choices[:, forced:], out=block[:, forced:])
            # Under the guarantee on-demand stays, and so does spot past its overhead (idle without
            # capacity); spot still paying its overhead is replaced by on-demand.
            if not forced:
                continue
            if lattice.levels[level]:
                block[1:, :forced] = launch[0, :forced]
            elif unavailable := self.unavailable_columns[tick]:
                block[unavailable, :forced] = idle[:forced]


def _fresh_choices(launch: np.ndarray, stay: np.ndarray) -> np.ndarray:
    """Row 0: the best of idling and every launch; row 1 + z: the same without spot in zone z, which for
    an instance already on spot in zone z is not a launch (its keeping is priced apart).

    `launch`: on-demand then spot per zone (inf without capacity); `stay`: idle or launch on-demand."""
    spot = launch[1:]
    zones = spot.shape[0]
    choices = np.empty_like(launch)
    if zones == 1:
        np.minimum(stay, spot[0], out=choices[0])
        choices[1] = stay
        return choices
    # before[z]: best of zones 0..z; beyond[z]: best of zones z.. (row by row: numpy's accumulate along
    # the first axis is many times slower)
    before, beyond = spot.copy(), spot.copy()
    for zone in range(1, zones):
        np.minimum(before[zone - 1], spot[zone], out=before[zone])
        np.minimum(beyond[zones - zone], spot[zones - 1 - zone], out=beyond[zones - 1 - zone])
    np.minimum(before[-1], stay, out=choices[0])
    choices[1] = beyond[1]
    choices[zones] = before[zones - 2]
    np.minimum(before[: zones - 2], beyond[2:], out=choices[2:zones])
    np.minimum(choices[1:], stay, out=choices[1:])
    return choices


class _ValueTable:
    """V[tick] for the read-back: all of it when small; otherwise checkpoints every `segment_ticks`, and
    the segment ahead of the read-back recomputed on the units it can still reach (a cone a tick of
    progress wider per tick), which costs a few per cent of the full sweep."""

    def __init__(self, program: _Program) -> None:
        self.program = program
        horizon = program.horizon
        self.bands_of = [program.band(tick) for tick in range(horizon)]
        stored_bytes = 8 * program.states * sum(max(high - low + 1, 0) for low, high in self.bands_of)
        self.keep_all = stored_bytes <= STORED_VALUES_MAX_BYTES
        self.segment_ticks = max(math.isqrt(horizon), 1)
        self.bands: dict[int, tuple[int, np.ndarray]] = {}
        self.checkpoints: dict[int, np.ndarray] = {}
        after = program.terminal()
        scratch = after.copy()
        for tick in range(horizon - 1, -1, -1):
            low, high = self.bands_of[tick]
            program.step(tick, after, scratch, low, high)
            after, scratch = scratch, after
            if self.keep_all:
                self.bands[tick] = (low, after[:, low : high + 1].copy())
            elif tick % self.segment_ticks == 0:
                self.checkpoints[tick] = after.copy()
        self.start = float(after[0, 0])  # idle at tick 0 with nothing done
        self._buffers = (after, scratch)

    def prepare(self, tick: int, units: int) -> None:
        """Called by the read-back at each tick with its work done, before any `value(tick + 1, ...)`."""
        if self.keep_all or tick % self.segment_ticks:
            return
        program, lattice = self.program, self.program.lattice
        stop = min(tick + self.segment_ticks, program.horizon)
        source = self.checkpoints[stop] if stop in self.checkpoints else program.terminal()
        after, scratch = self._buffers
        reach = units + (stop - tick) * lattice.tick_units + 1
        after[:, units:reach] = source[:, units:reach]
        self.bands.clear()
        for step_tick in range(stop - 1, tick, -1):
            low, high = self.bands_of[step_tick]
            low, high = max(low, units), min(high, units + (step_tick - tick) * lattice.tick_units)
            program.step(step_tick, after, scratch, low, high)
            after, scratch = scratch, after
            self.bands[step_tick] = (low, after[:, low : high + 1].copy())

    def values_at(self, tick: int) -> Callable[[int, int], float]:
        """V[tick] as a function of (state, units): beyond the job free, below the band infeasible."""
        finished = self.program.lattice.finished
        if tick >= self.program.horizon:
            return lambda state, units: 0.0 if units >= finished else math.inf
        if tick in self.checkpoints:
            low, values = 0, self.checkpoints[tick]
        else:
            low, values = self.bands[tick]

        def value(state: int, units: int) -> float:
            if units >= finished:
                return 0.0
            return float(values[state, units - low]) if units >= low else math.inf

        return value


def optimal_schedule(scenario: Scenario) -> OptimalResult:
    """The cheapest schedule that meets the deadline under the environment's rules, and its cost."""
    program = _Program(scenario)
    if program.lattice.finished == 0:
        return OptimalResult(cost=0.0, schedule=(), exact=True, lower_bound=0.0)
    table = _ValueTable(program)
    optimum = table.start * scenario.gap_seconds / SECONDS_PER_HOUR
    if math.isinf(optimum):
        return OptimalResult(cost=math.inf, schedule=(), exact=True, lower_bound=math.inf)
    schedule = _read_back(program, table)
    cost_units = 0.0
    for tick, placement in enumerate(schedule):  # summed as `simulate` sums it, for a bit-exact replay
        cost_units += scenario.price(placement, tick)
    cost = cost_units * scenario.gap_seconds / SECONDS_PER_HOUR
    if not math.isclose(cost, optimum, rel_tol=COST_AGREEMENT_TOLERANCE, abs_tol=COST_AGREEMENT_TOLERANCE):
        raise RuntimeError(f"optimal schedule bills {cost} but the program's optimum is {optimum}: a bug")
    return OptimalResult(cost=cost, schedule=tuple(schedule), exact=True, lower_bound=cost)


def _read_back(program: _Program, table: _ValueTable) -> list[Placement]:
    """Follow the cheapest choice from the start, tick by tick, as the environment would play it.

    A placement is a column here: -1 idle, 0 on-demand, 1 + z spot in zone z."""
    lattice, columns = program.lattice, program.columns
    levels, continue_level, continue_units = lattice.levels, lattice.continue_level, lattice.continue_units
    last, zone, level, units = -1, 0, 0, 0  # zone: where the last placement ran
    schedule: list[Placement] = []
    for tick in range(program.horizon):
        if units >= lattice.finished:
            break
        table.prepare(tick, units)
        value = table.values_at(tick + 1)
        prices = program.price_rows[tick]
        current = -1 if last > 0 and prices[last] == math.inf else last
        keep, launch = (continue_level[level], continue_units[level]), (0, lattice.launch_units)
        choices: list[tuple[int, int, int]]  # column, level after the tick, units of progress
        if units < program.forced_below[tick]:  # environment._guaranteed, then no capacity idles
            if last > 0 and levels[level] == 0:
                choices = [(current, *keep)] if current > 0 else [(-1, 0, 0)]
            else:
                choices = [(0, *(keep if current == 0 else launch))]
        else:  # on a tie: keep what runs, else spot, on-demand, idle (the earliest progress, for safety)
            preferred = ([current] if current >= 0 else []) + [*range(1, columns), 0]
            choices = [
                (column, *(keep if column == current else launch))
                for column in dict.fromkeys(preferred)
                if prices[column] != math.inf
            ]
            choices.append((-1, 0, 0))
        best, chosen = math.inf, choices[0]
        for column, next_level, progress in choices:
            if column < 0:
                cost = value(0, units)
            else:
                cost = prices[column] + value(1 + next_level * columns + column, units + progress)
            if cost < best:
                best, chosen = cost, (column, next_level, progress)
        column, next_level, progress = chosen
        if column > 0:
            zone = column - 1
        # On-demand stays where the instance runs (as the guarantee does) or, new, where the last one ran.
        schedule.append(IDLE if column < 0 else Placement(Kind.SPOT if column else Kind.ON_DEMAND, zone))
        last, level, units = column, next_level, units + progress
    return schedule
