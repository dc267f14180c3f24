"""Plots of backtest results (matplotlib, the optional `backtest` extra; never in the Lambda package)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from costagent.backtest.environment import Kind, Scenario, simulate
from costagent.backtest.runner import VariantSummary, make_policy

KIND_LEVEL = {Kind.NONE: 0, Kind.SPOT: 1, Kind.ON_DEMAND: 2}


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the install
        raise SystemExit("plots need matplotlib: pip install 'costagent[backtest]'") from error
    return plt


def plot_suite(summaries: Sequence[VariantSummary], path: Path) -> None:
    """Mean cost per policy per variant, one group of bars per variant."""
    plt = _pyplot()
    policies = [p.policy for p in summaries[0].policies]
    width = 0.8 / len(policies)
    figure, axes = plt.subplots(figsize=(max(10, len(summaries) * 0.9), 5.5))
    for index, policy in enumerate(policies):
        costs = [s.by_policy()[policy].mean_cost for s in summaries]
        axes.bar([v + index * width for v in range(len(summaries))], costs, width, label=policy)
    axes.set_xticks([v + 0.4 - width / 2 for v in range(len(summaries))])
    axes.set_xticklabels([s.variant.replace(", ", "\n", 1) for s in summaries], rotation=90, fontsize=7)
    axes.set_ylabel("mean cost per run (USD)")
    axes.set_title(f"{summaries[0].suite}: mean cost by policy")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_timeline(
    scenario: Scenario, policies: Sequence[str], path: Path, claude_planner: Any = None
) -> None:
    """One run: spot availability per zone, what each policy ran, and its progress against the deadline."""
    plt = _pyplot()
    hours = [tick * scenario.gap_seconds / 3600 for tick in range(scenario.ticks)]
    figure, (availability, placement, progress) = plt.subplots(3, 1, figsize=(11, 8), sharex=True)
    for offset, zone in enumerate(scenario.zones):
        availability.step(hours, [up * 0.8 + offset for up in zone.available], where="post", label=zone.name)
    availability.set_ylabel("spot available")
    availability.set_yticks([])
    availability.legend(fontsize=7, loc="upper right")
    for offset, name in enumerate(policies):
        result = simulate(scenario, make_policy(name, claude_planner), keep_history=True)
        levels = [KIND_LEVEL[p.kind] + offset * 0.05 for p in result.history]
        placement.step(hours[: len(levels)], levels, where="post", label=f"{name} (${result.cost:.2f})")
        series = [done / 3600 for done in result.progress_seconds]
        progress.plot(hours[: len(series)], series, label=name)
    placement.set_yticks([0, 1, 2], ["idle", "spot", "on-demand"])
    placement.legend(fontsize=7, loc="upper right")
    deadline_hours = scenario.deadline_seconds / 3600
    progress.axvline(deadline_hours, color="black", linestyle="--", label="deadline")
    progress.axhline(scenario.job_seconds / 3600, color="grey", linestyle=":")
    progress.set_ylabel("work done (h)")
    progress.set_xlabel("hours since start")
    progress.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
