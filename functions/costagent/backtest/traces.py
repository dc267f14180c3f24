"""Trace files (bench/traces/README.md) and the benchmark suites built from them.

Naming of the single-zone availability sets follows bench/traces/README.md, where `high` is the set with
high spot availability (FrontierCS names the two sets the other way round).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from costagent.backtest.environment import Scenario, ZoneTrace

HOUR_SECONDS = 3600
# The repository's copy of the traces (bench/traces, with LICENSE and PROVENANCE.md); the CLI's
# --traces-dir overrides it.
DEFAULT_TRACES_DIR = Path(__file__).resolve().parents[3] / "bench" / "traces"

SINGLE_ZONE_SETS: dict[str, tuple[str, ...]] = {
    "high": ("us-west-2a_k80_1", "us-west-2a_v100_1", "us-west-2b_k80_8", "us-west-2a_k80_8"),
    "low": ("us-west-2b_k80_1", "us-west-2b_v100_8", "us-west-2a_v100_8", "us-west-2b_v100_1"),
}
SINGLE_ZONE_SETS["mixed"] = SINGLE_ZONE_SETS["high"] + SINGLE_ZONE_SETS["low"]
SINGLE_ZONE_JOB_HOURS = 48
SINGLE_ZONE_DEADLINES_HOURS = (52, 70)
OVERHEADS_HOURS = (0.05, 0.20)

MULTI_ZONE_SCENARIOS: dict[str, tuple[tuple[str, ...], int]] = {  # zones, number of windows (0..n-1)
    "2 zones, us-east-1": (("us-east-1a", "us-east-1c"), 8),
    "2 regions, east-west": (("us-east-2a", "us-west-2a"), 8),
    "3 regions": (("us-east-1a", "us-east-2b", "us-west-2c"), 6),
    "3 zones, us-east-1": (("us-east-1a", "us-east-1c", "us-east-1d"), 6),
    "5 regions": (("us-east-1a", "us-east-1f", "us-west-2a", "us-west-2b", "us-east-2b"), 4),
    "all 9 zones": (
        (
            "us-east-1a", "us-east-1c", "us-east-1d", "us-east-1f", "us-east-2a",
            "us-east-2b", "us-west-2a", "us-west-2b", "us-west-2c",
        ),
        2,
    ),
    "2 zones, us-west-2": (("us-west-2a", "us-west-2b"), 8),
    "3 zones, us-west-2": (("us-west-2a", "us-west-2b", "us-west-2c"), 6),
    "2 regions, west-east2": (("us-west-2a", "us-east-2a"), 8),
    "5 zones, west and east-2": (("us-west-2a", "us-west-2b", "us-west-2c", "us-east-2a", "us-east-2b"), 4),
}  # fmt: skip
MULTI_ZONE_JOB_HOURS = 24
MULTI_ZONE_DEADLINES_HOURS = (36, 48)
MULTI_ZONE_TRACE_SUFFIX = "_v100_1"


class TraceError(ValueError):
    """A trace file that does not follow bench/traces/README.md's format."""


@dataclass(frozen=True)
class LoadedTrace:
    zone: ZoneTrace
    gap_seconds: int
    window: str


@cache
def load_trace(path: Path) -> LoadedTrace:
    """One trace file: availability per tick, prices per tick if present, tick length."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        metadata = document["metadata"]
        data = document["data"]
        gap = int(metadata["gap_seconds"])
        prices = document.get("prices")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TraceError(f"{path}: not a trace file ({error}); see bench/traces/README.md") from error
    if gap <= 0 or not isinstance(data, list) or not data or any(v not in (0, 1) for v in data):
        raise TraceError(f"{path}: gap_seconds must be positive and data a non-empty list of 0/1")
    if prices is not None and (len(prices) != len(data) or any(float(p) < 0 for p in prices)):
        raise TraceError(f"{path}: prices must have one non-negative price per tick")
    zone = ZoneTrace(
        name=str(metadata.get("zone_trace", Path(path).parent.name)),
        available=tuple(bool(v) for v in data),
        spot_prices=tuple(float(p) for p in prices) if prices is not None else None,
    )
    return LoadedTrace(zone=zone, gap_seconds=gap, window=str(metadata.get("window", Path(path).stem)))


def scenario_from_files(
    paths: list[Path], *, job_hours: float, deadline_hours: float, overhead_hours: float, label: str = ""
) -> Scenario:
    """Several files are several zones of the same period: they must share the tick length."""
    loaded = [load_trace(Path(p)) for p in paths]
    gaps = {trace.gap_seconds for trace in loaded}
    if len(gaps) != 1:
        raise TraceError(f"traces of one run must share gap_seconds, got {sorted(gaps)}")
    return Scenario(
        zones=tuple(trace.zone for trace in loaded),
        gap_seconds=gaps.pop(),
        job_seconds=round(job_hours * HOUR_SECONDS),
        deadline_seconds=round(deadline_hours * HOUR_SECONDS),
        overhead_seconds=round(overhead_hours * HOUR_SECONDS),
        label=label,
    )


@dataclass(frozen=True)
class Variant:
    """One row of a suite's results: a name and the scenarios (windows) whose mean cost it reports."""

    suite: str
    name: str
    scenarios: tuple[Scenario, ...]
    deadline_hours: float
    overhead_hours: float


def _window_sort_key(path: Path) -> int:
    return int(path.stem) if path.stem.isdigit() else 0


def single_zone_variants(traces_dir: Path = DEFAULT_TRACES_DIR) -> list[Variant]:
    """cant-be-late: availability set x deadline x overhead, every window of the set's zone traces."""
    root = Path(traces_dir) / "cant-be-late"
    variants = []
    for set_name, zone_traces in SINGLE_ZONE_SETS.items():
        files = [
            f for zone in zone_traces for f in sorted((root / zone).glob("*.json"), key=_window_sort_key)
        ]
        if not files:
            raise TraceError(f"no trace files under {root} for the {set_name} set")
        for deadline in SINGLE_ZONE_DEADLINES_HOURS:
            for overhead in OVERHEADS_HOURS:
                scenarios = tuple(
                    scenario_from_files(
                        [f],
                        job_hours=SINGLE_ZONE_JOB_HOURS,
                        deadline_hours=deadline,
                        overhead_hours=overhead,
                        label=f"{f.parent.name}/{f.stem}",
                    )
                    for f in files
                )
                name = f"{set_name} availability, deadline {deadline} h, overhead {overhead:.2f} h"
                variants.append(Variant("cant-be-late", name, scenarios, deadline, overhead))
    return variants


def multi_zone_variants(traces_dir: Path = DEFAULT_TRACES_DIR) -> list[Variant]:
    """cant-be-late-multi: scenario x deadline x overhead, the scenario's aligned windows."""
    root = Path(traces_dir) / "cant-be-late-multi"
    variants = []
    for scenario_name, (zones, windows) in MULTI_ZONE_SCENARIOS.items():
        for deadline in MULTI_ZONE_DEADLINES_HOURS:
            for overhead in OVERHEADS_HOURS:
                scenarios = tuple(
                    scenario_from_files(
                        [root / f"{zone}{MULTI_ZONE_TRACE_SUFFIX}" / f"{window}.json" for zone in zones],
                        job_hours=MULTI_ZONE_JOB_HOURS,
                        deadline_hours=deadline,
                        overhead_hours=overhead,
                        label=f"{scenario_name}/{window}",
                    )
                    for window in range(windows)
                )
                name = f"{scenario_name}, deadline {deadline} h, overhead {overhead:.2f} h"
                variants.append(Variant("cant-be-late-multi", name, scenarios, deadline, overhead))
    return variants
