"""`costagent replay`: plan recorded cycles again and compare with what was decided. Pure but for the planner.

Every planned cycle's audit record keeps the whole state and guardrails its planner was given
(`CycleRecord.replay`). Replaying hands that state to a chosen planner (the rules planner, or Claude with
a chosen model; the prompt is the installed one), optionally under other guardrails, clamps the proposal
with the production validator, and compares the decision with the recorded one: the agreement rate, each
changed decision with both reasonings, and the clamp rules that fire now and did not then. It is the
regression test for a prompt, model, planner or guardrails change, run offline on recorded states.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from costagent.clamp import clamp_decision
from costagent.guardrails import Guardrails
from costagent.models import CycleRecord, PipelineState, PlanResult, ValidDecision
from costagent.review.report import format_counts
from costagent.review.trail import cycles

CHANGES_LISTED = 20  # changed decisions shown one by one; the counts cover them all


class Planner(Protocol):
    def plan(self, state: PipelineState, guardrails: Guardrails) -> PlanResult: ...


@dataclass(frozen=True)
class ReplayedCycle:
    cycle_id: str
    cycle_time: str
    recorded: str  # the decision as one line: ACTION count x type capacity
    replayed: str
    agree: bool
    recorded_reasoning: str
    replayed_reasoning: str
    recorded_planner: str | None
    replayed_planner: str
    recorded_clamps: list[str]
    replayed_clamps: list[str]
    new_clamps: list[str]  # rules that fire on the replay and did not on the record


@dataclass
class ReplayReport:
    planner: str
    guardrails: str  # "recorded" or the file given
    replayed: int
    skipped: int
    skipped_reason: dict[str, int]
    agreement_rate: float
    agreed: int
    action_changes: dict[str, int]  # "WAIT -> CHECKPOINT": count
    new_clamp_triggers: dict[str, int]
    fallbacks: dict[str, int]  # the replay planner's own fallbacks (Claude unusable), by reason
    changes: list[ReplayedCycle] = field(default_factory=list)
    prompt_versions_recorded: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe(decision: ValidDecision) -> str:
    return (
        f"{decision.action.value} {decision.instance_count} x {decision.instance_type} "
        f"{decision.capacity_type.value}" + (" +checkpoint" if decision.should_checkpoint else "")
    )


def same_decision(a: ValidDecision, b: ValidDecision) -> bool:
    """Agreement is on what the executor would do; reasoning texts may differ."""
    return (a.action, a.instance_type, a.capacity_type, a.instance_count, a.should_checkpoint) == (
        b.action,
        b.instance_type,
        b.capacity_type,
        b.instance_count,
        b.should_checkpoint,
    )


def _change_kind(change: ReplayedCycle) -> str:
    before, after = change.recorded.split()[0], change.replayed.split()[0]
    return f"{before} -> {after}" if before != after else f"{before} -> {after} (other target)"


def replay_records(
    records: list[CycleRecord],
    planner: Planner,
    planner_name: str,
    guardrails: Guardrails | None = None,
    guardrails_label: str = "recorded",
) -> ReplayReport:
    """Replay every planned cycle that kept its state; `guardrails` replaces the recorded ones if given."""
    replayed: list[ReplayedCycle] = []
    skipped: Counter[str] = Counter()
    fallbacks: Counter[str] = Counter()
    prompt_versions: Counter[str] = Counter()
    for record in cycles(records):
        if record.decision is None:
            skipped["no decision recorded (the cycle failed before clamping)"] += 1
            continue
        if record.replay is None:
            skipped["no state kept (recorded before replay inputs were stored)"] += 1
            continue
        if record.llm is not None:
            prompt_versions[record.llm.prompt_version] += 1
        limits = guardrails or record.replay.guardrails
        plan = planner.plan(record.replay.state, limits)
        if plan.fallback_reason:
            fallbacks[plan.fallback_reason] += 1
        clamped = clamp_decision(plan.proposal, record.replay.state, limits)
        recorded_rules = sorted({c.rule for c in record.clamps})
        replayed_rules = sorted({c.rule for c in clamped.clamps})
        replayed.append(
            ReplayedCycle(
                cycle_id=record.cycle_id,
                cycle_time=record.cycle_time.isoformat(),
                recorded=describe(record.decision),
                replayed=describe(clamped.decision),
                agree=same_decision(record.decision, clamped.decision),
                recorded_reasoning=record.decision.reasoning,
                replayed_reasoning=clamped.decision.reasoning,
                recorded_planner=record.planner,
                replayed_planner=plan.planner,
                recorded_clamps=recorded_rules,
                replayed_clamps=replayed_rules,
                new_clamps=[rule for rule in replayed_rules if rule not in recorded_rules],
            )
        )
    agreed = sum(1 for r in replayed if r.agree)
    changed = [r for r in replayed if not r.agree]
    # One example of each kind of change first, then the rest in time order, so a few hundred identical
    # changes do not hide the one that differs.
    firsts: dict[str, ReplayedCycle] = {}
    for change in changed:
        firsts.setdefault(_change_kind(change), change)
    listed = list(firsts.values()) + [c for c in changed if c not in firsts.values()]
    return ReplayReport(
        planner=planner_name,
        guardrails=guardrails_label,
        replayed=len(replayed),
        skipped=sum(skipped.values()),
        skipped_reason=dict(skipped),
        agreement_rate=round(agreed / len(replayed), 4) if replayed else 0.0,
        agreed=agreed,
        action_changes=dict(Counter(_change_kind(r) for r in changed)),
        new_clamp_triggers=dict(Counter(rule for r in replayed for rule in r.new_clamps)),
        fallbacks=dict(fallbacks),
        changes=listed[:CHANGES_LISTED],
        prompt_versions_recorded=dict(prompt_versions),
    )


def render_replay(report: ReplayReport, width: int = 52) -> str:
    lines = [
        f"costagent replay: {report.replayed} recorded cycles through {report.planner} "
        f"(guardrails: {report.guardrails})",
        f"agreement:          {report.agreement_rate:.1%} "
        f"({report.agreed} of {report.replayed} decisions the same)",
        f"changed actions:    {format_counts(report.action_changes)}",
        f"new clamp triggers: {format_counts(report.new_clamp_triggers)}",
    ]
    if report.fallbacks:
        lines.append(f"replay fallbacks:   {format_counts(report.fallbacks)}")
    if report.prompt_versions_recorded:
        lines.append(f"recorded prompts:   {format_counts(report.prompt_versions_recorded)}")
    if report.skipped:
        lines.append(f"skipped:            {report.skipped} ({format_counts(report.skipped_reason)})")
    for change in report.changes:
        lines += [
            "",
            f"{change.cycle_time}  {change.cycle_id.split('#', 1)[-1]}",
            f"  recorded ({change.recorded_planner}): {change.recorded}",
            f"  replayed ({change.replayed_planner}): {change.replayed}"
            + (f"   new clamps: {', '.join(change.new_clamps)}" if change.new_clamps else ""),
        ]
        lines += _side_by_side(change.recorded_reasoning, change.replayed_reasoning, width)
    return "\n".join(lines)


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines or ["(none)"]


def _side_by_side(left: str, right: str, width: int) -> list[str]:
    a, b = _wrap(left, width), _wrap(right, width)
    rows = [f"  {'recorded reasoning':<{width}} | replayed reasoning"]
    for index in range(max(len(a), len(b))):
        x = a[index] if index < len(a) else ""
        y = b[index] if index < len(b) else ""
        rows.append(f"  {x:<{width}} | {y}".rstrip())
    return rows
