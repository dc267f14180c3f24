"""`costagent report`: what an observation period (or any period) of a pipeline's audit trail says. Pure.

Figures a reviewer needs before switching a pipeline to execute: decisions by action, clamps by rule with
their most frequent reasons (a rule that fires constantly means the planner and the guardrails disagree),
fallback and reuse rates, decision latency, Claude's tokens and their estimated cost per day, the actions
that would have run in observe mode, and each spot interruption with how quickly its checkpoint was asked.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from costagent.models import CycleRecord, LlmUsage, Mode, Outcome, TriggerKind
from costagent.review.trail import cycles

# Estimated Claude prices, USD per million tokens: (input, output, cache write, cache read). Anthropic's
# list prices by model family (anthropic.com/pricing, 2026); a model whose name matches no family is
# estimated at Sonnet's, and the report says so. Bedrock's on-demand prices for these models are the same.
LLM_PRICES_USD_PER_MTOK: dict[str, tuple[float, float, float, float]] = {
    "haiku": (1.0, 5.0, 1.25, 0.10),
    "sonnet": (3.0, 15.0, 3.75, 0.30),
    "opus": (5.0, 25.0, 6.25, 0.50),
}
DEFAULT_PRICE_FAMILY = "sonnet"
TOKENS_PER_MTOK = 1_000_000
# A spot warning gives two minutes. The checkpoint request must leave the workers most of them to write:
# asked within the first minute counts as in time.
CHECKPOINT_IN_TIME_SECONDS = 60.0
LATENCY_FIRST_BAND_MS = 50.0  # the histogram's first band; each next one doubles
TOP_REASONS_PER_RULE = 3  # the most frequent reasons shown for each clamp rule
WOULD_RUN_LISTED = 15  # the latest observe-mode actions listed one by one
NUMBER = re.compile(r"\d+(?:\.\d+)?")  # reasons differ in their figures; grouped with the figures masked


@dataclass(frozen=True)
class ClampRuleFigure:
    rule: str
    events: int
    cycles: int
    top_reasons: list[tuple[str, int]]  # one example text per masked reason, and its count


@dataclass(frozen=True)
class LlmDay:
    day: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    estimated_usd: float


@dataclass(frozen=True)
class WouldRun:
    """Observe-mode actions of one kind on one target, for one decided action: how often, first, last."""

    action: str
    kind: str
    target: str
    count: int
    first: str
    last: str


@dataclass(frozen=True)
class InterruptionFigure:
    cycle_time: str
    kind: str  # interruption | rebalance
    instance_id: str | None
    pool: str
    mode: str | None
    checkpoint: str  # done | would_run | failed | not_run | none
    request_seconds: float | None  # execution start to the checkpoint request, as the handlers timed it
    in_time: bool
    landed: str | None  # the next cycle's check of that checkpoint: landed | pending | failed


@dataclass(frozen=True)
class LatencyFigure:
    count: int
    median_ms: float | None
    p95_ms: float | None
    max_ms: float | None
    histogram: list[tuple[float, int]] = field(default_factory=list)  # (upper bound in ms, cycles)


@dataclass
class ObservationReport:
    pipeline_id: str
    since: str | None
    first_cycle: str | None
    last_cycle: str | None
    days_covered: float
    records: int
    cycles: int
    modes: dict[str, int]
    outcomes: dict[str, int]
    decisions_by_action: dict[str, int]
    clamped_cycles: int
    clamp_rate: float
    clamp_rules: list[ClampRuleFigure]
    planners: dict[str, int]
    fallback_rate: float
    fallback_reasons: dict[str, int]
    reuse_rate: float
    decision_latency: LatencyFigure
    plan_latency: LatencyFigure
    llm_calls: int
    llm_days: list[LlmDay]
    llm_estimated_usd: float
    llm_usd_per_day: float
    llm_price_note: str
    would_run_by_kind: dict[str, int]
    would_run: list[WouldRun]
    interruptions: list[InterruptionFigure]
    failed_cycles: int
    errors_by_step: dict[str, int]
    operator_actions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: a value that occurred, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def latency_histogram(values: list[float]) -> list[tuple[float, int]]:
    """Cycles per latency band, bands doubling from 50 ms: readable from 50 ms to minutes."""
    if not values:
        return []
    bounds = [LATENCY_FIRST_BAND_MS]
    while bounds[-1] < max(values):
        bounds.append(bounds[-1] * 2)
    counts = [0] * len(bounds)
    for value in values:
        counts[next(i for i, bound in enumerate(bounds) if value <= bound)] += 1
    return list(zip(bounds, counts, strict=True))


def latency_figure(values: list[float]) -> LatencyFigure:
    return LatencyFigure(
        count=len(values),
        median_ms=round(statistics.median(values), 1) if values else None,
        p95_ms=percentile(values, 0.95),
        max_ms=max(values) if values else None,
        histogram=latency_histogram(values),
    )


def price_family(model: str) -> str | None:
    lowered = model.lower()
    return next((family for family in LLM_PRICES_USD_PER_MTOK if family in lowered), None)


def estimated_usd(usage: LlmUsage) -> float:
    family = price_family(usage.model) or DEFAULT_PRICE_FAMILY
    input_price, output_price, write_price, read_price = LLM_PRICES_USD_PER_MTOK[family]
    return (
        usage.input_tokens * input_price
        + usage.output_tokens * output_price
        + usage.cache_creation_input_tokens * write_price
        + usage.cache_read_input_tokens * read_price
    ) / TOKENS_PER_MTOK


def _masked(reason: str) -> str:
    return NUMBER.sub("#", reason)


def clamp_rule_figures(planned: list[CycleRecord]) -> list[ClampRuleFigure]:
    events: Counter[str] = Counter()
    cycles_by_rule: dict[str, set[str]] = defaultdict(set)
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    example: dict[tuple[str, str], str] = {}
    for record in planned:
        for clamp in record.clamps:
            events[clamp.rule] += 1
            cycles_by_rule[clamp.rule].add(record.cycle_id)
            masked = _masked(clamp.reason)
            reasons[clamp.rule][masked] += 1
            example.setdefault((clamp.rule, masked), clamp.reason)
    figures = [
        ClampRuleFigure(
            rule=rule,
            events=count,
            cycles=len(cycles_by_rule[rule]),
            top_reasons=[
                (example[(rule, masked)], n)
                for masked, n in sorted(reasons[rule].items(), key=lambda kv: (-kv[1], kv[0]))[
                    :TOP_REASONS_PER_RULE
                ]
            ],
        )
        for rule, count in events.items()
    ]
    return sorted(figures, key=lambda f: (-f.events, f.rule))


def llm_days(planned: list[CycleRecord]) -> list[LlmDay]:
    by_day: dict[str, list[LlmUsage]] = defaultdict(list)
    for record in planned:
        if record.llm is not None:
            by_day[record.cycle_time.date().isoformat()].append(record.llm)
    return [
        LlmDay(
            day=day,
            calls=len(calls),
            input_tokens=sum(c.input_tokens for c in calls),
            output_tokens=sum(c.output_tokens for c in calls),
            cache_read_tokens=sum(c.cache_read_input_tokens for c in calls),
            cache_write_tokens=sum(c.cache_creation_input_tokens for c in calls),
            estimated_usd=round(sum(estimated_usd(c) for c in calls), 6),
        )
        for day, calls in sorted(by_day.items())
    ]


def _price_note(planned: list[CycleRecord]) -> str:
    models = sorted({r.llm.model for r in planned if r.llm is not None})
    if not models:
        return "no Claude calls"
    unknown = [m for m in models if price_family(m) is None]
    note = "estimated at Anthropic list prices per model family"
    if unknown:
        note += f"; {', '.join(unknown)} priced as {DEFAULT_PRICE_FAMILY}"
    return note


def _checkpoint_status(record: CycleRecord) -> str:
    actions = [a for a in (record.checkpoint.actions if record.checkpoint else []) if a.kind == "checkpoint"]
    if not actions:
        return "none"
    for status in ("done", "would_run", "failed", "not_run", "skipped"):
        if any(a.status == status for a in actions):
            return status
    return "none"


def _request_seconds(record: CycleRecord) -> float | None:
    if record.checkpoint is None:
        return None
    return round(
        (record.latencies_ms.get("trigger", 0.0) + record.latencies_ms.get("checkpoint", 0.0)) / 1000.0, 3
    )


def interruption_figures(planned: list[CycleRecord]) -> list[InterruptionFigure]:
    """Each spot signal, with its checkpoint request and what the next cycle found of that checkpoint."""
    figures = []
    for index, record in enumerate(planned):
        if record.trigger not in (TriggerKind.INTERRUPTION, TriggerKind.REBALANCE):
            continue
        status = _checkpoint_status(record)
        seconds = _request_seconds(record)
        landed = None
        for later in planned[index + 1 :]:
            checks = (later.state or {}).get("action_checks") or {}
            if checks.get("checkpoint"):
                landed = checks["checkpoint"]
                break
        figures.append(
            InterruptionFigure(
                cycle_time=record.cycle_time.isoformat(),
                kind=record.trigger.value,
                instance_id=record.instance_id,
                pool=f"{record.instance_type or '?'} {record.zone or '?'}",
                mode=record.mode.value if record.mode else None,
                checkpoint=status,
                request_seconds=seconds,
                in_time=status in ("done", "would_run")
                and seconds is not None
                and seconds <= CHECKPOINT_IN_TIME_SECONDS,
                landed=landed,
            )
        )
    return figures


def _would_run(planned: list[CycleRecord]) -> tuple[dict[str, int], list[WouldRun]]:
    kinds: Counter[str] = Counter()
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for record in planned:
        for action in list(record.checkpoint.actions if record.checkpoint else []) + list(record.actions):
            if action.status != "would_run" or action.kind == "none":
                continue
            kinds[action.kind] += 1
            decided = record.decision.action.value if record.decision else record.trigger.value
            groups[(decided, action.kind, action.target)].append(record.cycle_time.isoformat())
    listed = [
        WouldRun(action=a, kind=k, target=t, count=len(times), first=min(times), last=max(times))
        for (a, k, t), times in groups.items()
    ]
    listed.sort(key=lambda w: (-w.count, w.first))
    return dict(kinds), listed[:WOULD_RUN_LISTED]


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def build_report(
    records: list[CycleRecord], pipeline_id: str, since: datetime | None = None
) -> ObservationReport:
    """The report of one pipeline's records (already selected by pipeline and time, oldest first)."""
    planned = cycles(records)
    decided = [r for r in planned if r.decision is not None]
    times = [r.cycle_time for r in planned]
    planners = Counter(r.planner or "none" for r in planned if r.planner)
    with_planner = sum(planners.values())
    clamped = sum(1 for r in decided if r.clamps)
    days = llm_days(planned)
    total_usd = round(sum(d.estimated_usd for d in days), 6)
    span_days = (max(times) - min(times)).total_seconds() / 86400 if times else 0.0
    would_run_kinds, would_run = _would_run(planned)
    errors: Counter[str] = Counter(step for r in planned for step in r.errors)
    operator = [
        {
            "time": r.cycle_time.isoformat(),
            **(r.operator.model_dump(mode="json", exclude={"gate"}) if r.operator else {}),
            "outcome": r.outcome.value,
        }
        for r in records
        if r.trigger is TriggerKind.OPERATOR
    ]
    return ObservationReport(
        pipeline_id=pipeline_id,
        since=since.isoformat() if since else None,
        first_cycle=min(times).isoformat() if times else None,
        last_cycle=max(times).isoformat() if times else None,
        days_covered=round(span_days, 3),
        records=len(records),
        cycles=len(planned),
        modes=dict(Counter(r.mode.value for r in planned if r.mode)),
        outcomes=dict(Counter(r.outcome.value for r in planned)),
        decisions_by_action=dict(Counter(r.decision.action.value for r in decided if r.decision)),
        clamped_cycles=clamped,
        clamp_rate=_rate(clamped, len(decided)),
        clamp_rules=clamp_rule_figures(planned),
        planners=dict(planners),
        fallback_rate=_rate(planners.get("fallback", 0), with_planner),
        fallback_reasons=dict(Counter(r.fallback_reason for r in planned if r.fallback_reason)),
        reuse_rate=_rate(planners.get("cached", 0), with_planner),
        decision_latency=latency_figure(
            [
                r.latencies_ms["total_before_record"]
                for r in planned
                if "total_before_record" in r.latencies_ms
            ]
        ),
        plan_latency=latency_figure([r.latencies_ms["plan"] for r in planned if "plan" in r.latencies_ms]),
        llm_calls=sum(d.calls for d in days),
        llm_days=days,
        llm_estimated_usd=total_usd,
        llm_usd_per_day=round(total_usd / len(days), 6) if days else 0.0,
        llm_price_note=_price_note(planned),
        would_run_by_kind=would_run_kinds,
        would_run=would_run,
        interruptions=interruption_figures(planned),
        failed_cycles=sum(1 for r in planned if r.outcome is Outcome.FAILED),
        errors_by_step=dict(errors),
        operator_actions=operator,
    )


# --- the terminal table ----------------------------------------------------------------------------


def format_counts(counts: dict[str, int]) -> str:
    """`a 3, b 1`: most frequent first, ties by name; `none` when empty."""
    if not counts:
        return "none"
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _latency(figure: LatencyFigure) -> str:
    return f"median {_ms(figure.median_ms)}, p95 {_ms(figure.p95_ms)}, max {_ms(figure.max_ms)}"


def render_text(report: ObservationReport) -> str:
    r = report
    observing = r.modes.get(Mode.OBSERVE.value, 0)
    lines = [
        f"costagent report: pipeline {r.pipeline_id}"
        + (f", since {r.since}" if r.since else "")
        + f" ({r.cycles} cycles, {r.records} audit records)",
        f"period:              {r.first_cycle or '-'} to {r.last_cycle or '-'} ({r.days_covered:.2f} days)",
        f"modes:               {format_counts(r.modes)}",
        f"outcomes:            {format_counts(r.outcomes)}",
        f"decisions by action: {format_counts(r.decisions_by_action)}",
        f"planner:             {format_counts(r.planners)}",
        f"fallback rate:       {r.fallback_rate:.1%}"
        + (f" ({format_counts(r.fallback_reasons)})" if r.fallback_reasons else ""),
        f"reuse rate:          {r.reuse_rate:.1%} of planned cycles reused Claude's last decision",
        f"clamp rate:          {r.clamp_rate:.1%} ({r.clamped_cycles} cycles changed by the guardrails)",
    ]
    for rule in r.clamp_rules:
        lines.append(f"  {rule.rule:<26} {rule.events:>5} events in {rule.cycles} cycles")
        lines += [f"      {count:>5} x {reason}" for reason, count in rule.top_reasons]
    lines += [
        "decision latency:    " + _latency(r.decision_latency) + f" ({r.decision_latency.count} cycles)",
        "plan latency:        " + _latency(r.plan_latency),
        f"Claude:              {r.llm_calls} calls, ${r.llm_estimated_usd:.4f} estimated "
        f"(${r.llm_usd_per_day:.4f} per day; {r.llm_price_note})",
    ]
    for day in r.llm_days:
        lines.append(
            f"  {day.day}  {day.calls:>4} calls  in {day.input_tokens:>8,}  out {day.output_tokens:>7,}  "
            f"cache read {day.cache_read_tokens:>8,}  written {day.cache_write_tokens:>7,}  "
            f"${day.estimated_usd:.4f}"
        )
    if observing:
        lines.append(
            f"would have run:      {format_counts(r.would_run_by_kind)} (observe mode: nothing changed)"
        )
        lines += [
            f"  {w.count:>5} x {w.action:<10} {w.kind:<21} {w.target[:44]:<44} "
            f"{w.first[:16]} .. {w.last[:16]}"
            for w in r.would_run
        ]
    in_time = sum(1 for i in r.interruptions if i.in_time)
    lines.append(f"interruptions:       {len(r.interruptions)}, checkpoint asked in time for {in_time}")
    for i in r.interruptions:
        seconds = "-" if i.request_seconds is None else f"{i.request_seconds:.2f} s"
        verdict = "in time" if i.in_time else "NOT in time"
        landed = f", next cycle: {i.landed}" if i.landed else ""
        lines.append(
            f"  {i.cycle_time}  {i.kind} {i.instance_id or '?'} ({i.pool}): checkpoint {i.checkpoint} "
            f"after {seconds}, {verdict}{landed}"
        )
    lines.append(
        f"failed cycles:       {r.failed_cycles}"
        + (f" (errors by step: {format_counts(r.errors_by_step)})" if r.errors_by_step else "")
    )
    if r.operator_actions:
        lines.append("operator actions:")
        for action in r.operator_actions:
            change = (
                f"{action.get('from_mode')} -> {action.get('to_mode')}"
                if action.get("to_mode")
                else "sign-off"
            )
            lines.append(
                f"  {action['time']}  {action.get('kind')} by {action.get('by')}: {change}, "
                f"{action['outcome']}" + (f" ({action['note']})" if action.get("note") else "")
            )
    return "\n".join(lines)
