"""The observation gate: whether a pipeline's shadow period earns it the switch to execute mode. Pure.

The seed's rule is "observe for two weeks, review, then automate". `evaluate_gate` turns it into checks on
the audit trail since the pipeline last entered observe mode: long enough and enough cycles, few
fallbacks and clamps, no invariant violated, every spot interruption checkpointed in time, and a review
signed off after the period began. `costagent promote --to execute` acts only when every check passes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from costagent.guardrails import Guardrails
from costagent.models import Action, CycleRecord, Mode, Outcome, TriggerKind
from costagent.review.report import interruption_figures
from costagent.review.trail import cycles

MIN_OBSERVATION_DAYS = 14.0  # the seed's two weeks of shadow mode: two of every weekly batch pattern
MIN_OBSERVED_CYCLES = 500  # a few days of one-minute cycles at the least, whatever the schedule
MAX_FALLBACK_RATE = 0.05  # more than one cycle in 20 on the fallback means the planner is not dependable
MAX_CLAMP_RATE = 0.10  # more than one in 10 changed by the guardrails: the planner and the limits disagree
SIGN_OFF_MAX_AGE_DAYS = 7.0  # a review older than a week no longer describes what the pipeline does


class GatePolicy(BaseModel):
    """Thresholds of the gate; defaults are the seed's rule. Lowering one is recorded with the verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_observation_days: float = Field(default=MIN_OBSERVATION_DAYS, ge=0)
    min_cycles: int = Field(default=MIN_OBSERVED_CYCLES, ge=0)
    max_fallback_rate: float = Field(default=MAX_FALLBACK_RATE, ge=0, le=1)
    max_clamp_rate: float = Field(default=MAX_CLAMP_RATE, ge=0, le=1)
    sign_off_max_age_days: float = Field(default=SIGN_OFF_MAX_AGE_DAYS, gt=0)

    def relaxed(self) -> list[str]:
        """The thresholds set below the defaults: a promotion under them says so in its record."""
        default = GatePolicy()
        looser = []
        if self.min_observation_days < default.min_observation_days:
            looser.append(
                f"min_observation_days {self.min_observation_days:g} < {default.min_observation_days:g}"
            )
        if self.min_cycles < default.min_cycles:
            looser.append(f"min_cycles {self.min_cycles} < {default.min_cycles}")
        if self.max_fallback_rate > default.max_fallback_rate:
            looser.append(f"max_fallback_rate {self.max_fallback_rate:g} > {default.max_fallback_rate:g}")
        if self.max_clamp_rate > default.max_clamp_rate:
            looser.append(f"max_clamp_rate {self.max_clamp_rate:g} > {default.max_clamp_rate:g}")
        if self.sign_off_max_age_days > default.sign_off_max_age_days:
            looser.append(
                f"sign_off_max_age_days {self.sign_off_max_age_days:g} > {default.sign_off_max_age_days:g}"
            )
        return looser


@dataclass(frozen=True)
class Violation:
    cycle_id: str
    invariant: str
    detail: str


@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool
    detail: str


@dataclass
class GateVerdict:
    pipeline_id: str
    evaluated_at: str
    window_start: str | None  # when the pipeline last entered observe mode (None: the whole trail)
    checks: list[GateCheck]
    violations: list[Violation] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)
    sign_off: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def failed(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.passed]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def render(self) -> str:
        lines = [
            f"observation gate for {self.pipeline_id} at {self.evaluated_at}: "
            + ("PASSED" if self.passed else "REFUSED")
        ]
        lines += [f"  [{'ok' if c.passed else 'NO'}] {c.name:<26} {c.detail}" for c in self.checks]
        lines += [f"      violation {v.invariant} in {v.cycle_id}: {v.detail}" for v in self.violations[:10]]
        if len(self.violations) > 10:
            lines.append(f"      ... and {len(self.violations) - 10} more")
        if self.relaxed:
            lines.append("  thresholds relaxed below the defaults: " + "; ".join(self.relaxed))
        return "\n".join(lines)


# --- invariants ------------------------------------------------------------------------------------


def invariant_violations(records: list[CycleRecord]) -> list[Violation]:
    """What must never happen, whatever the planner proposed: each is a bug or a bypassed guardrail."""
    found: list[Violation] = []
    for record in records:
        if record.trigger is TriggerKind.OPERATOR:
            continue
        done = [
            a
            for a in list(record.actions) + list(record.checkpoint.actions if record.checkpoint else [])
            if a.status == "done" and a.kind != "none"
        ]
        if record.mode is Mode.OBSERVE and done:
            found.append(
                Violation(
                    record.cycle_id,
                    "observe_changed_nothing",
                    f"{len(done)} action(s) done in observe mode: {done[0].kind} {done[0].target}",
                )
            )
        if record.duplicate_of is not None and done:
            found.append(
                Violation(
                    record.cycle_id,
                    "duplicate_never_acts",
                    f"a second delivery of {record.duplicate_of} ran {done[0].kind}",
                )
            )
        if (
            record.outcome is Outcome.ACTED
            and record.mode is Mode.OBSERVE
            and record.trigger is not TriggerKind.BUDGET_LIMIT
            and not done  # already reported above, with the action
        ):
            found.append(
                Violation(record.cycle_id, "observe_changed_nothing", "outcome acted in observe mode")
            )
        if record.decision is not None and record.replay is not None:
            found += _decision_within_guardrails(record, record.replay.guardrails)
        if record.decision is not None and record.decision.action in (Action.SCALE_DOWN, Action.MIGRATE):
            kinds = [a.kind for a in record.actions if a.status in ("done", "would_run")]
            removing = [k for k in kinds if k in ("terminate_instance", "update_group")]
            checkpointed = record.decision.should_checkpoint and "checkpoint" in kinds
            if checkpointed and removing and kinds.index("checkpoint") > kinds.index(removing[0]):
                found.append(
                    Violation(
                        record.cycle_id,
                        "checkpoint_before_removal",
                        "instances were removed before the checkpoint was asked",
                    )
                )
    return found


def _decision_within_guardrails(record: CycleRecord, guardrails: Guardrails) -> list[Violation]:
    decision = record.decision
    assert decision is not None
    problems = []
    if decision.instance_type not in guardrails.allowed_instance_types:
        problems.append(f"type {decision.instance_type} is not allowed")
    if not guardrails.min_instances <= decision.instance_count <= guardrails.max_instances:
        problems.append(
            f"count {decision.instance_count} outside "
            f"[{guardrails.min_instances}, {guardrails.max_instances}]"
        )
    return [Violation(record.cycle_id, "decision_within_guardrails", p) for p in problems]


# --- the gate --------------------------------------------------------------------------------------


def observation_window_start(records: list[CycleRecord]) -> datetime | None:
    """When the pipeline last entered observe mode by an operator's act (a rollback, or a first record)."""
    changes = [
        r
        for r in records
        if r.trigger is TriggerKind.OPERATOR
        and r.operator is not None
        and r.operator.to_mode is not None
        and r.outcome is Outcome.ACTED
    ]
    into_observe = [r.cycle_time for r in changes if r.operator and r.operator.to_mode is Mode.OBSERVE]
    return max(into_observe) if into_observe else None


def latest_sign_off(records: list[CycleRecord], after: datetime | None) -> CycleRecord | None:
    sign_offs = [
        r
        for r in records
        if r.trigger is TriggerKind.OPERATOR
        and r.operator is not None
        and r.operator.kind == "sign_off"
        and (after is None or r.cycle_time >= after)
    ]
    return max(sign_offs, key=lambda r: r.cycle_time) if sign_offs else None


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def evaluate_gate(
    records: list[CycleRecord], pipeline_id: str, now: datetime, policy: GatePolicy | None = None
) -> GateVerdict:
    """Every check on the pipeline's records since it last entered observe mode."""
    policy = policy or GatePolicy()
    own = [r for r in records if r.pipeline_id == pipeline_id]
    start = observation_window_start(own)
    window = [r for r in own if start is None or r.cycle_time >= start]
    observed = [r for r in cycles(window) if r.mode is Mode.OBSERVE]
    executed = [r for r in cycles(window) if r.mode is Mode.EXECUTE]
    planned = [r for r in observed if r.planner]
    decided = [r for r in observed if r.decision is not None]
    checks: list[GateCheck] = []

    times = [r.cycle_time for r in observed]
    days = (max(times) - min(times)).total_seconds() / 86400 if times else 0.0
    checks.append(
        GateCheck(
            "observation period",
            days >= policy.min_observation_days and bool(times),
            f"{days:.2f} days observed (from {min(times).isoformat() if times else '-'}), "
            f"at least {policy.min_observation_days:g} needed",
        )
    )
    checks.append(
        GateCheck(
            "observed cycles",
            len(observed) >= policy.min_cycles,
            f"{len(observed)} cycles in observe mode, at least {policy.min_cycles} needed",
        )
    )
    if executed:
        checks.append(
            GateCheck(
                "observe mode throughout",
                False,
                f"{len(executed)} cycles in this period ran in execute mode; "
                "roll back to observe and start again",
            )
        )
    fallback = _rate(sum(1 for r in planned if r.planner == "fallback"), len(planned))
    checks.append(
        GateCheck(
            "fallback rate",
            fallback <= policy.max_fallback_rate,
            f"{fallback:.1%} of planned cycles fell back to the rules planner, at most "
            f"{policy.max_fallback_rate:.0%} allowed",
        )
    )
    clamp = _rate(sum(1 for r in decided if r.clamps), len(decided))
    checks.append(
        GateCheck(
            "clamp rate",
            clamp <= policy.max_clamp_rate,
            f"{clamp:.1%} of decisions were changed by the guardrails, "
            f"at most {policy.max_clamp_rate:.0%} allowed",
        )
    )
    violations = invariant_violations(window)
    checks.append(
        GateCheck(
            "invariants",
            not violations,
            "none violated" if not violations else f"{len(violations)} violation(s), listed below",
        )
    )
    interruptions = interruption_figures(cycles(window))
    late = [i for i in interruptions if not i.in_time]
    checks.append(
        GateCheck(
            "interruptions checkpointed",
            not late,
            f"{len(interruptions) - len(late)} of {len(interruptions)} spot signals had their "
            "checkpoint asked in time"
            + (f"; not in time: {', '.join(i.cycle_time for i in late[:5])}" if late else ""),
        )
    )
    sign_off = latest_sign_off(own, start)
    sign_off_info = None
    if sign_off is None or sign_off.operator is None:
        checks.append(
            GateCheck(
                "sign-off",
                False,
                "no review signed off in this period: run `costagent signoff --pipeline "
                f"{pipeline_id} --by NAME --note ...` after reading `costagent report`",
            )
        )
    else:
        age_days = (now - sign_off.cycle_time).total_seconds() / 86400
        fresh = age_days <= policy.sign_off_max_age_days
        sign_off_info = {
            "by": sign_off.operator.by,
            "at": sign_off.cycle_time.isoformat(),
            "note": sign_off.operator.note,
        }
        checks.append(
            GateCheck(
                "sign-off",
                fresh,
                f"signed off by {sign_off.operator.by} at {sign_off.cycle_time.isoformat()}"
                + (
                    ""
                    if fresh
                    else f", {age_days:.1f} days ago: older than "
                    f"{policy.sign_off_max_age_days:g}, sign off again"
                ),
            )
        )
    return GateVerdict(
        pipeline_id=pipeline_id,
        evaluated_at=now.isoformat(),
        window_start=start.isoformat() if start else None,
        checks=checks,
        violations=violations,
        relaxed=policy.relaxed(),
        sign_off=sign_off_info,
    )
