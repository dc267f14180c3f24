"""`make bench`: every backtest suite, the optimum's cost in time, and docs/benchmarks.md.

Method: each suite runs every default policy (on-demand only, greedy, Uniform Progress, costagent's rules
planner, the optimum) over every window of every variant, through `costagent.backtest` (the environment
of bench/traces/README.md); variants run in one process per core. Claude is skipped (one Messages API
call per tick); `costagent backtest --policy costagent_claude` runs it when a key is configured. The
checkpointing suite runs its three interval policies over the 240 single-zone windows. The handler
cold-start and per-cycle latency benchmarks (bench/cold_start.py, bench/cycle_latency.py) run after, and
their output is included verbatim. Wall times are for the whole suite on this machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from costagent.backtest import runner
from costagent.backtest.checkpointing import format_checkpointing_table, run_checkpointing_suite
from costagent.backtest.optimal import optimal_schedule
from costagent.backtest.plots import plot_suite, plot_timeline
from costagent.backtest.traces import (
    DEFAULT_TRACES_DIR,
    Variant,
    multi_zone_variants,
    scenario_from_files,
    single_zone_variants,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
IMAGES = ROOT / "docs" / "img"
OPTIMUM_SAMPLE_WINDOWS = 24  # windows timed for the optimum's cost per window, per suite
TIMELINE_TRACES = (
    "cant-be-late-multi/us-east-1a_v100_1/0.json",
    "cant-be-late-multi/us-east-1c_v100_1/0.json",
)


def _markdown_table(summaries: list[runner.VariantSummary]) -> str:
    policies = [p.policy for p in summaries[0].policies]
    header = "| variant | " + " | ".join(policies) + " | rules: gap closed |"
    lines = [header, "|---" * (len(policies) + 2) + "|"]
    for summary in summaries:
        cells = []
        by_policy = summary.by_policy()
        for name in policies:
            p = by_policy[name]
            misses = f" ({p.deadline_misses} missed)" if p.deadline_misses else ""
            score = f", score {p.score:.1f}" if p.score is not None else ""
            cells.append(f"{p.mean_cost:.2f}{score}{misses}")
        gap = by_policy[runner.COSTAGENT_RULES].gap_closed
        lines.append(f"| {summary.variant} | " + " | ".join(cells) + f" | {gap:.0%} |")
    return "\n".join(lines)


def _goals(summaries: list[runner.VariantSummary]) -> str:
    rules = [s.by_policy()[runner.COSTAGENT_RULES] for s in summaries]
    up = [s.by_policy()["uniform_progress"] for s in summaries]
    misses = sum(p.deadline_misses for p in rules)
    at_or_below = sum(r.mean_cost <= u.mean_cost + 1e-9 for r, u in zip(rules, up, strict=True))
    share = runner.mean_gap_closed(summaries, runner.COSTAGENT_RULES) or 0.0
    return (
        f"costagent's rules planner: {misses} deadline misses; mean cost at or below Uniform Progress on "
        f"{at_or_below} of {len(summaries)} variants; closes on average {share:.0%} of Uniform Progress's "
        "gap to the optimum."
    )


def _optimum_seconds_per_window(variants: list[Variant]) -> float:
    """Median time of the optimum over windows spread evenly through the suite."""
    scenarios = [s for v in variants for s in v.scenarios]
    timings = []
    for scenario in scenarios[:: max(1, len(scenarios) // OPTIMUM_SAMPLE_WINDOWS)][:OPTIMUM_SAMPLE_WINDOWS]:
        started = time.perf_counter()
        optimal_schedule(scenario)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _run(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-latency", action="store_true", help="skip the cold-start and latency benchmarks"
    )
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sections: list[str] = []
    for suite, variants in (
        ("cant-be-late", single_zone_variants(DEFAULT_TRACES_DIR)),
        ("cant-be-late-multi", multi_zone_variants(DEFAULT_TRACES_DIR)),
    ):
        t0 = time.perf_counter()
        summaries = runner.run_variants(variants, runner.DEFAULT_POLICIES)
        wall = time.perf_counter() - t0
        optimum = _optimum_seconds_per_window(variants)
        plot_suite(summaries, IMAGES / f"{suite}.png")
        runs = sum(len(v.scenarios) for v in variants)
        print(runner.format_table(summaries).splitlines()[-1], file=sys.stderr)
        sections.append(
            f"## {suite}\n\n{len(variants)} variants, {runs} runs per policy; suite wall time {wall:.0f} s "
            f"on {os.cpu_count()} processes; the optimum takes a median {optimum * 1000:.0f} ms per window."
            f"\n\n{_goals(summaries)}\n\nMean cost per run in USD (and the benchmark score for the "
            "single-zone suite; misses are runs that finished after the deadline):\n\n"
            f"{_markdown_table(summaries)}\n\n"
            f"![mean cost by policy](img/{suite}.png)\n"
        )
    t0 = time.perf_counter()
    report = run_checkpointing_suite(DEFAULT_TRACES_DIR)
    sections.append(
        f"## checkpointing\n\nWall time {time.perf_counter() - t0:.1f} s.\n\n"
        f"```\n{format_checkpointing_table(report)}\n```\n"
    )
    timeline = [DEFAULT_TRACES_DIR / name for name in TIMELINE_TRACES]
    scenario = scenario_from_files(timeline, job_hours=24, deadline_hours=36, overhead_hours=0.05)
    plot_timeline(scenario, runner.DEFAULT_POLICIES, IMAGES / "timeline.png")
    sections.append(
        "## One run\n\nus-east-1a and us-east-1c, window 0, 24 h of work, deadline 36 h, overhead 0.05 h: "
        "spot availability per zone, what each policy ran, and its progress against the deadline.\n\n"
        "![timeline](img/timeline.png)\n"
    )
    backtest_seconds = time.perf_counter() - started
    if not args.no_latency:
        python = sys.executable
        sections.append(f"## Lambda cold start\n\n```\n{_run([python, 'bench/cold_start.py'])}\n```\n")
        sections.append(f"## Per-cycle latency\n\n```\n{_run([python, 'bench/cycle_latency.py'])}\n```\n")
    total = time.perf_counter() - started
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    DOC.write_text(
        "# Benchmarks\n\nWritten by `make bench` (`bench/backtest.py`); do not edit by hand.\n\n"
        f"Machine: {machine}. Backtests {backtest_seconds:.0f} s, everything {total:.0f} s.\n\n"
        "## Method\n\n"
        "The backtests replay real spot availability (and, for the multi-zone suite, real per-tick prices) "
        "from bench/traces (Wu et al., NSDI'24, via FrontierCS; MIT, bench/traces/PROVENANCE.md) through an "
        "environment that follows bench/traces/README.md exactly: tick semantics, the environment's deadline "
        "guarantee, per-tick billing, the score. Availability set names follow that README (high = high "
        "availability; FrontierCS names the sets the other way round). Policies: on-demand only; greedy; "
        "Uniform Progress (Wu et al.); costagent's rules planner, the code the plan Lambda falls back to, "
        "driven through the planner interface and clamped by the production validator "
        "(`costagent.backtest.planner_policy`); the omniscient optimum by dynamic programming "
        '(`costagent.backtest.optimal`, method in its docstring). "Gap closed" is (C_UP - C) / (C_UP - '
        "C_opt) per variant. The checkpointing suite's model is in `costagent.backtest.checkpointing`.\n\n"
        + "\n".join(sections)
    )
    print(f"wrote {DOC.relative_to(ROOT)} in {total:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
