"""Run policies over a suite's variants and summarise: mean cost, score, misses, share of the gap closed.

The share of the gap closed by a policy on a variant is (C_UP - C) / (C_UP - C_opt): 1 is the optimum,
0 is Uniform Progress, negative is worse than it. Variants run in parallel processes (one per core):
the planner policy builds a PipelineState each tick, which is what makes the suites take seconds.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from costagent.backtest.baselines import Greedy, OnDemandOnly, UniformProgress
from costagent.backtest.environment import Policy, RunResult, Scenario, simulate
from costagent.backtest.planner_policy import PlannerPolicy
from costagent.backtest.traces import Variant

# Score of the single-zone benchmark (bench/traces/README.md): 48 h on-demand and 48 h spot.
SCORE_ON_DEMAND_COST = 146.88
SCORE_SPOT_COST = 46.7088
GAP_CLOSED_MIN_GAP_USD = 0.005  # below half a cent, Uniform Progress already sits on the optimum

REFERENCE_POLICIES = ("on_demand", "greedy", "uniform_progress")
COSTAGENT_RULES = "costagent_rules"
COSTAGENT_CLAUDE = "costagent_claude"
OPTIMAL = "optimal"
ALL_POLICIES = (*REFERENCE_POLICIES, COSTAGENT_RULES, COSTAGENT_CLAUDE, OPTIMAL)
DEFAULT_POLICIES = (*REFERENCE_POLICIES, COSTAGENT_RULES, OPTIMAL)


def make_policy(name: str, claude_planner: Any = None) -> Policy:
    """A fresh policy by name; `costagent_claude` needs a Claude planner (ClaudePlanner)."""
    if name == "on_demand":
        return OnDemandOnly()
    if name == "greedy":
        return Greedy()
    if name == "uniform_progress":
        return UniformProgress()
    if name == COSTAGENT_RULES:
        return PlannerPolicy()
    if name == COSTAGENT_CLAUDE:
        if claude_planner is None:
            raise ValueError("costagent_claude needs a configured Claude planner")
        return PlannerPolicy(planner=claude_planner, name=COSTAGENT_CLAUDE)
    if name == OPTIMAL:
        from costagent.backtest.optimal import OptimalPolicy  # numpy: the backtest extra

        return OptimalPolicy()
    raise ValueError(f"unknown policy {name!r}; choose from {', '.join(ALL_POLICIES)}")


@dataclass
class PolicySummary:
    policy: str
    mean_cost: float
    deadline_misses: int
    runs: int
    mean_finish_hours: float | None
    score: float | None = None  # single-zone suite only
    gap_closed: float | None = None  # share of Uniform Progress's gap to the optimum, when both ran


@dataclass
class VariantSummary:
    suite: str
    variant: str
    deadline_hours: float
    overhead_hours: float
    policies: list[PolicySummary] = field(default_factory=list)

    def by_policy(self) -> dict[str, PolicySummary]:
        return {p.policy: p for p in self.policies}


def score(mean_cost: float) -> float:
    share = (SCORE_ON_DEMAND_COST - mean_cost) / (SCORE_ON_DEMAND_COST - SCORE_SPOT_COST)
    return min(max(share, 0.0), 1.0) * 100


def summarise(
    suite: str, variant: str, deadline: float, overhead: float, runs: dict[str, list[RunResult]]
) -> VariantSummary:
    summary = VariantSummary(suite, variant, deadline, overhead)
    means = {name: statistics.fmean(r.cost for r in results) for name, results in runs.items()}
    up, best = means.get("uniform_progress"), means.get(OPTIMAL)
    for name, results in runs.items():
        finishes = [r.finish_hours for r in results if r.finish_hours is not None]
        gap = None
        if up is not None and best is not None:
            gap = 1.0 if up - best < GAP_CLOSED_MIN_GAP_USD else (up - means[name]) / (up - best)
        summary.policies.append(
            PolicySummary(
                policy=name,
                mean_cost=means[name],
                deadline_misses=sum(not r.met_deadline for r in results),
                runs=len(results),
                mean_finish_hours=statistics.fmean(finishes) if finishes else None,
                score=score(means[name]) if suite == "cant-be-late" else None,
                gap_closed=gap,
            )
        )
    return summary


def run_scenarios(
    scenarios: Sequence[Scenario], policies: Sequence[str], claude_planner: Any = None
) -> dict[str, list[RunResult]]:
    runs: dict[str, list[RunResult]] = {}
    for name in policies:
        policy = make_policy(name, claude_planner)
        runs[name] = [simulate(scenario, policy) for scenario in scenarios]
    return runs


ScenarioKey = tuple[str, int, int, int, int]
CHUNK_SCENARIOS = 16  # scenarios per task handed to a worker process


def _key(scenario: Scenario) -> ScenarioKey:
    """Scenarios that share windows and parameters are the same run (the mixed set repeats the others)."""
    return (
        scenario.label or str(id(scenario)),
        scenario.gap_seconds,
        scenario.job_seconds,
        scenario.deadline_seconds,
        scenario.overhead_seconds,
    )


def _run_chunk(job: tuple[list[Scenario], tuple[str, ...]]) -> list[dict[str, RunResult]]:
    scenarios, policies = job
    runs = run_scenarios(scenarios, policies)
    return [{name: runs[name][index] for name in policies} for index in range(len(scenarios))]


def run_variants(
    variants: Sequence[Variant],
    policies: Sequence[str],
    *,
    workers: int | None = None,
    claude_planner: Any = None,
) -> list[VariantSummary]:
    """Every policy on every variant. Each distinct scenario runs once, in `workers` processes (default:
    one per core), unless Claude runs, whose client stays in this process."""
    unique: dict[ScenarioKey, Scenario] = {}
    for variant in variants:
        for scenario in variant.scenarios:
            unique.setdefault(_key(scenario), scenario)
    keys = list(unique)
    names = tuple(policies)
    workers = workers or os.cpu_count() or 1
    if claude_planner is not None or workers == 1:
        runs = run_scenarios([unique[k] for k in keys], names, claude_planner)
        results = {key: {name: runs[name][i] for name in names} for i, key in enumerate(keys)}
    else:
        chunks = [keys[i : i + CHUNK_SCENARIOS] for i in range(0, len(keys), CHUNK_SCENARIOS)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            outputs = pool.map(_run_chunk, [([unique[k] for k in chunk], names) for chunk in chunks])
            pairs = zip(chunks, outputs, strict=True)
            results = {key: run for chunk, output in pairs for key, run in zip(chunk, output, strict=True)}
    summaries = []
    for variant in variants:
        per_policy = {name: [results[_key(s)][name] for s in variant.scenarios] for name in names}
        summaries.append(
            summarise(variant.suite, variant.name, variant.deadline_hours, variant.overhead_hours, per_policy)
        )
    return summaries


def mean_gap_closed(summaries: Sequence[VariantSummary], policy: str) -> float | None:
    shares = [
        p.gap_closed for s in summaries for p in s.policies if p.policy == policy and p.gap_closed is not None
    ]
    return statistics.fmean(shares) if shares else None


def format_table(summaries: Sequence[VariantSummary]) -> str:
    """One block per variant: mean cost, score, misses, share of UP's gap closed, per policy."""
    lines: list[str] = []
    for summary in summaries:
        lines.append(
            f"{summary.suite}: {summary.variant} ({summary.policies[0].runs if summary.policies else 0} runs)"
        )
        lines.append(
            f"  {'policy':<18}{'mean cost':>11}{'score':>8}{'misses':>8}{'gap closed':>12}{'finish h':>10}"
        )
        for p in summary.policies:
            score_text = f"{p.score:.1f}" if p.score is not None else "-"
            gap_text = f"{p.gap_closed:.0%}" if p.gap_closed is not None else "-"
            finish = f"{p.mean_finish_hours:.1f}" if p.mean_finish_hours is not None else "-"
            lines.append(
                f"  {p.policy:<18}{p.mean_cost:>11.2f}{score_text:>8}{p.deadline_misses:>8}"
                f"{gap_text:>12}{finish:>10}"
            )
        lines.append("")
    names = [p.policy for p in summaries[0].policies] if summaries else []
    for name in names:
        share = mean_gap_closed(summaries, name)
        misses = sum(p.deadline_misses for s in summaries for p in s.policies if p.policy == name)
        gap_text = f", mean share of UP's gap closed {share:.0%}" if share is not None else ""
        lines.append(f"{name}: {misses} deadline misses in all{gap_text}")
    return "\n".join(lines)


def to_json(summaries: Sequence[VariantSummary]) -> dict[str, Any]:
    names = [p.policy for p in summaries[0].policies] if summaries else []
    return {
        "variants": [asdict(s) for s in summaries],
        "mean_gap_closed": {name: mean_gap_closed(summaries, name) for name in names},
    }
