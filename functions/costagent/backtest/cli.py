"""`costagent backtest`: the suites of bench/traces, or any trace files in the same format."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from costagent.backtest.traces import DEFAULT_TRACES_DIR, TraceError, scenario_from_files

SUITES = ("cant-be-late", "cant-be-late-multi", "checkpointing")


def add_backtest_command(commands: Any) -> None:
    from costagent.backtest.runner import ALL_POLICIES

    backtest = commands.add_parser(
        "backtest",
        help="replay policies on real spot traces: cost, deadline misses, share of the gap to the optimum",
        description="Run placement policies (on-demand only, greedy, Uniform Progress, costagent's rules "
        "planner, Claude when configured, and the omniscient optimum) through the benchmark environment of "
        "bench/traces/README.md. Either a whole suite, or your own trace files (--trace, several files = "
        "several zones of the same period).",
    )
    what = backtest.add_mutually_exclusive_group(required=True)
    what.add_argument("--suite", choices=SUITES, help="a benchmark suite over bench/traces")
    what.add_argument("--trace", type=Path, action="append", metavar="FILE", help="a trace file (repeatable)")
    backtest.add_argument(
        "--policy",
        action="append",
        choices=ALL_POLICIES,
        help="policies to run (repeatable; default: all but costagent_claude, which runs when asked and "
        "configured: one Messages API call per tick)",
    )
    backtest.add_argument("--job-hours", type=float, help="with --trace: hours of work")
    backtest.add_argument("--deadline-hours", type=float, help="with --trace: deadline, hours from the start")
    backtest.add_argument("--overhead-hours", type=float, help="with --trace: restart overhead in hours")
    backtest.add_argument("--traces-dir", type=Path, default=DEFAULT_TRACES_DIR, help="default bench/traces")
    backtest.add_argument("--workers", type=int, help="processes for the suites (default: one per core)")
    backtest.add_argument("--json", action="store_true", help="print the results as JSON")
    backtest.add_argument("--plot", type=Path, metavar="FILE.png", help="write plots (needs matplotlib)")
    backtest.set_defaults(handler=command_backtest)


def _claude_planner(requested: list[str]) -> tuple[Any, str | None]:
    """The Claude planner if asked for and configured, else None and why it is skipped."""
    from costagent.config import get_settings

    llm = get_settings().llm.model_copy(update={"reuse": False})
    if "costagent_claude" not in requested:
        return None, "not requested (--policy costagent_claude): every tick is one Messages API call"
    if not llm.configured:
        return None, "Claude is not configured (ANTHROPIC_API_KEY, or COSTAGENT_LLM_PROVIDER=bedrock)"
    from costagent.adapters.claude import make_claude_client
    from costagent.planner.claude import ClaudePlanner

    return ClaudePlanner.from_settings(make_claude_client(llm, region=get_settings().region), llm), None


def command_backtest(args: argparse.Namespace) -> int:
    from costagent.backtest import runner

    requested = list(args.policy or runner.DEFAULT_POLICIES)
    claude, skipped = _claude_planner(list(args.policy or []))
    policies = [p for p in requested if p != runner.COSTAGENT_CLAUDE or claude is not None]
    try:
        if args.trace:
            return _custom(args, policies, claude, skipped)
        return _suite(args, policies, claude, skipped)
    except TraceError as error:
        print(f"costagent backtest: {error}", file=sys.stderr)
        return 2


def _custom(args: argparse.Namespace, policies: list[str], claude: Any, skipped: str | None) -> int:
    from costagent.backtest import runner

    missing = [
        f"--{n}"
        for n in ("job-hours", "deadline-hours", "overhead-hours")
        if getattr(args, n.replace("-", "_")) is None
    ]
    if missing:
        print(f"costagent backtest: --trace needs {', '.join(missing)}", file=sys.stderr)
        return 2
    scenario = scenario_from_files(
        args.trace,
        job_hours=args.job_hours,
        deadline_hours=args.deadline_hours,
        overhead_hours=args.overhead_hours,
    )
    if runner.OPTIMAL not in policies:
        policies.append(runner.OPTIMAL)  # the limit is always part of a custom run's answer
    runs = runner.run_scenarios([scenario], policies, claude)
    results = [
        {
            "policy": name,
            "cost": round(result[0].cost, 6),
            "finish_hours": result[0].finish_hours,
            "met_deadline": result[0].met_deadline,
        }
        for name, result in runs.items()
    ]
    if args.json:
        print(
            json.dumps(
                {"results": results, "skipped": {"costagent_claude": skipped} if skipped else {}}, indent=2
            )
        )
    else:
        print(f"{len(scenario.zones)} zone(s), {scenario.ticks} ticks of {scenario.gap_seconds} s")
        for row in results:
            finish = f"{row['finish_hours']:.2f} h" if row["finish_hours"] is not None else "unfinished"
            verdict = "met" if row["met_deadline"] else "MISSED"
            print(f"  {row['policy']:<18} ${row['cost']:>9.2f}  finished {finish:<12} deadline {verdict}")
        if skipped:
            print(f"  costagent_claude skipped: {skipped}")
    if args.plot:
        from costagent.backtest.plots import plot_timeline

        plot_timeline(scenario, policies, args.plot, claude_planner=claude)
    return 0


def _suite(args: argparse.Namespace, policies: list[str], claude: Any, skipped: str | None) -> int:
    from costagent.backtest import runner
    from costagent.backtest.traces import multi_zone_variants, single_zone_variants

    if args.suite == "checkpointing":
        from costagent.backtest.checkpointing import format_checkpointing_table, run_checkpointing_suite

        report = run_checkpointing_suite(args.traces_dir)
        print(json.dumps(report.to_json(), indent=2) if args.json else format_checkpointing_table(report))
        return 0
    variants = (
        single_zone_variants(args.traces_dir)
        if args.suite == "cant-be-late"
        else multi_zone_variants(args.traces_dir)
    )
    summaries = runner.run_variants(variants, policies, workers=args.workers, claude_planner=claude)
    if args.json:
        document = runner.to_json(summaries)
        document["skipped"] = {"costagent_claude": skipped} if skipped else {}
        print(json.dumps(document, indent=2))
    else:
        print(runner.format_table(summaries))
        if skipped:
            print(f"costagent_claude skipped: {skipped}")
    if args.plot:
        from costagent.backtest.plots import plot_suite

        plot_suite(summaries, args.plot)
    return 0
